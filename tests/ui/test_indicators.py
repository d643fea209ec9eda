"""Who speaks, how each link is, and the call's figures, in a real call.

The host is a window on its embedded server; remote members are SDK clients with synthetic
sources. Levels, grades and figures come from the SDK measuring real aiortc streams."""

from __future__ import annotations

import asyncio
import time

from PySide6.QtGui import QGuiApplication

from roomcall.media.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from roomcall.sdk import NetworkGrade
from roomcall.ui.spotlight import ViewMode
from roomcall.ui.window import MainWindow
from tests.media.impair import ImpairedLink, Impairment
from tests.waiting import scaled

from .conftest import Windows, until
from .members import remote_member


def tone(amplitude: float) -> SyntheticAudioTrack:
    """A 440 Hz tone at ``amplitude`` (0: silence the test can turn up later)."""
    return SyntheticAudioTrack(amplitude=amplitude)


async def hosting(windows: Windows) -> MainWindow:
    host = windows.new("Alice")
    assert await host.host_room("Alice", "sync", False)
    return host


def ringed(host: MainWindow, user_id: str) -> bool:
    """Whether ``user_id``'s tile and member row both show that it speaks."""
    tile, row = host.grid.tile(user_id), host.panel.member_row(user_id)
    return tile is not None and row is not None and tile.speaking and row.speaking


def test_speaking_ring_follows_the_talker(windows: Windows) -> None:
    """A tone from Bob rings his tile and row; once Bob falls silent and Eve talks, the ring
    moves to her, and the speaker view follows her."""

    async def scenario() -> None:
        host = await hosting(windows)
        bob_voice, eve_voice = tone(0.3), tone(0.0)
        async with remote_member(host, "bob", "Bob", (bob_voice, "microphone")), \
                remote_member(host, "eve", "Eve", (eve_voice, "microphone")):
            host.view_switch.buttons[ViewMode.SPEAKER].click()
            await until(lambda: ringed(host, "bob"), scaled(20), "Bob's ring")
            assert not ringed(host, "eve")
            await until(lambda: host.grid.stage_key == "bob", what="Bob on stage")
            # A steady tone never blinks off (the hold covers the reports in between).
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:
                assert ringed(host, "bob") and not ringed(host, "eve")
                await asyncio.sleep(0.05)

            bob_voice.amplitude, eve_voice.amplitude = 0.0, 0.3
            await until(lambda: ringed(host, "eve") and not ringed(host, "bob"), scaled(20),
                        "the ring on Eve")
            await until(lambda: host.grid.stage_key == "eve", what="Eve on stage")
            row = host.panel.member_row("bob")
            assert row is not None and not row.speaking

    windows.run(scenario)


def test_signal_bars_fall_when_the_link_is_capped(windows: Windows) -> None:
    """On loopback Bob's tile shows good bars; once his uplink is capped below what he
    sends, the bars fall and the tooltip says so.

    The cap shapes the datagrams of Bob's real peer connection in user space (ICE, DTLS, RTP
    and RTCP alike), so the grade is what the SDK measures of them; this runs anywhere.
    ``tests/network/test_window_quality.py`` shows the same with a kernel cap on a home's
    line in the network test bed (root only)."""

    async def scenario() -> None:
        host = await hosting(windows)
        host_id = host.session.client.user_id  # type: ignore[union-attr]
        async with remote_member(
                host, "bob", "Bob",
                (SyntheticVideoTrack("Bob", width=320, height=240, fps=15), "camera"),
                (tone(0.3), "microphone")) as (bob, _):
            await until(lambda: (t := host.grid.tile("bob")) is not None
                        and t.signal_bars >= 3, scaled(20), "good bars on a clean link")
            tile = host.grid.tile("bob")
            assert tile is not None
            assert ("sending excellent" in tile.signal_tooltip
                    or "sending good" in tile.signal_tooltip)
            # Below even the lowest rung plus audio: the bottleneck's queue overflows.
            link = ImpairedLink(Impairment(rate=40_000, queue_delay=0.2))
            async with link.follow(lambda: bob.peer_connection(host_id)):
                await until(lambda: tile.signal_bars <= 2, scaled(20), "bars falling")
                assert tile.network_quality.uplink in (NetworkGrade.FAIR, NetworkGrade.POOR)
                assert ("sending fair" in tile.signal_tooltip
                        or "sending poor" in tile.signal_tooltip)
                assert link.dropped > 0

    windows.run(scenario)


def test_stats_panel_shows_the_call_and_copies_it(windows: Windows) -> None:
    """The panel lists Bob's video as it arrives (320x240, about 15 fps, a bitrate), the
    host's tracks as sent to Bob, refreshes while open, and Copy puts the same on the
    clipboard."""

    async def scenario() -> None:
        host = await hosting(windows)
        async with remote_member(
                host, "bob", "Bob",
                (SyntheticVideoTrack("Bob", width=320, height=240, fps=15), "camera")
        ) as (_bob, (video,)):
            await until(lambda: (t := host.grid.tile("bob")) is not None and t.has_video,
                        scaled(20), "Bob's video")
            panel = host.show_stats()
            assert panel is not None and panel.isVisible()

            def bob_video() -> list[str] | None:
                return panel.row_of(video.track_id)

            await until(lambda: (row := bob_video()) is not None and row[5] == "320×240"
                        and row[4] != "—" and 10 <= float(row[4]) <= 20, scaled(20),
                        "Bob's video in the panel")
            row = bob_video()
            assert row is not None and row[0] == "Bob" and row[2] == "received"
            assert int(row[3].split()[0]) > 20  # kbit/s
            stats = panel.stats
            assert stats is not None and stats.local
            assert all(t.peer_id == "bob" for t in stats.local)
            sent = panel.row_of(stats.local[0].track_id, "bob")
            assert sent is not None and sent[2] == "sent to Bob" and sent[0] == "Alice (you)"
            shown = panel.refreshes
            await until(lambda: panel.refreshes > shown, scaled(6), "a refresh while open")

            panel.copy_button.click()
            text = QGuiApplication.clipboard().text()
            assert "roomcall call statistics" in text and "320×240" in text
            assert "sent to Bob" in text and "Bob" in text
            panel.close()
            refreshed = panel.refreshes
            await asyncio.sleep(0)
            assert not panel.isVisible() and panel.refreshes == refreshed

    windows.run(scenario)
