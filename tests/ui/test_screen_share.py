"""Share screen in the window: the picker (screens, windows, frame rate, size, or why sharing
is unavailable), the banner with Stop, and a real share of an Xvfb screen to another window
over the embedded server."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from roomcall.media.pattern import decode_pattern, identity_code
from roomcall.media.screen import ShareSettings
from roomcall.media.screen_targets import ShareTarget, UnavailableReason
from roomcall.protocol.messages import TrackInfo
from roomcall.sdk import RemoteTrack
from roomcall.ui.room_panel import RoomPanel
from roomcall.ui.room_view import track_muted
from roomcall.ui.share_picker import ShareBanner, SharePicker, unavailable_text
from roomcall.ui.video_grid import screen_key
from tests.media.xvfb import ScreenPainter
from tests.waiting import scaled

from .conftest import Windows, until

SCREENS = [ShareTarget("screen", "screen:0", "HDMI-1", 1920, 1080, display=":0"),
           ShareTarget("screen", "screen:1", "DP-2", 2560, 1440, 1920, 0, display=":0"),
           ShareTarget("screen", "screen:all", "All screens", 4480, 1440, display=":0")]
WINDOWS = [ShareTarget("window", "window:0x2a", "Quarterly report - Editor", 900, 700,
                       display=":0", window_id=0x2A)]
LABEL = "alice-screen"


def test_picker_lists_screens_then_windows_with_defaults(qtbot: QtBot) -> None:
    """Screens come first with their sizes, then windows by title; 15 frames/s and up to
    1920x1080 are preselected, and Share emits the highlighted target with those settings."""
    picker = SharePicker(SCREENS + WINDOWS)
    qtbot.addWidget(picker)
    texts = [picker.targets.item(i).text() for i in range(picker.targets.count())]
    assert texts == ["Screens", "HDMI-1 (1920×1080)", "DP-2 (2560×1440)",
                     "All screens (4480×1440)", "Windows", "Quarterly report - Editor"]
    assert picker.selected() == SCREENS[0]
    assert picker.settings() == ShareSettings(fps=15, max_width=1920, max_height=1080)
    picker.select("window:0x2a")
    picker.fps_picker.setCurrentIndex(picker.fps_picker.findData(5))
    picker.size_picker.setCurrentIndex(1)
    with qtbot.waitSignal(picker.chosen) as chosen:
        picker.share_button.click()
    assert chosen.args == [WINDOWS[0], ShareSettings(fps=5, max_width=1280, max_height=720)]


def test_picker_shows_thumbnails(qtbot: QtBot) -> None:
    """A thumbnail handed to the picker appears beside its target only."""
    picker = SharePicker(SCREENS + WINDOWS)
    qtbot.addWidget(picker)
    assert picker.thumbnail_count() == 0
    picker.set_thumbnail("window:0x2a", np.full((54, 96, 3), 200, dtype=np.uint8))
    assert picker.thumbnail_count() == 1
    assert not picker.targets.item(picker.targets.count() - 1).icon().isNull()


def test_picker_headers_cannot_be_shared(qtbot: QtBot) -> None:
    """The "Screens" and "Windows" headings cannot be picked: Share is off on them."""
    picker = SharePicker(SCREENS)
    qtbot.addWidget(picker)
    picker.targets.setCurrentRow(0)  # the heading
    assert picker.selected() is None and not picker.share_button.isEnabled()
    picker.targets.setCurrentRow(1)
    assert picker.share_button.isEnabled()


def test_picker_says_why_sharing_is_unavailable(qtbot: QtBot) -> None:
    """On Wayland the dialog shows the reason instead of a list; Share is off and Cancel
    reads Close."""
    picker = SharePicker([], unavailable_text(UnavailableReason.WAYLAND))
    qtbot.addWidget(picker)
    picker.show()
    assert "X11" in picker.problem.text() and picker.problem.isVisible()
    assert not picker.targets.isVisible()
    assert not picker.share_button.isEnabled()
    assert picker.cancel_button.text() == "Close"


def test_picker_with_nothing_to_share_says_so(qtbot: QtBot) -> None:
    """An empty list (a display without screens or windows) says so and offers no Share."""
    picker = SharePicker([])
    qtbot.addWidget(picker)
    assert picker.problem.text() == "Nothing to share was found on this display."
    assert not picker.share_button.isEnabled()


def test_banner_and_panel_switch_with_sharing(qtbot: QtBot) -> None:
    """While sharing the panel shows the banner (the window's title when a window is shared)
    instead of Share screen; its Stop asks to stop; afterwards Share screen is back."""
    panel = RoomPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_state("CONNECTED")
    assert panel.share_button.isVisible() and panel.share_button.isEnabled()
    assert not panel.share_banner.isVisible()
    with qtbot.waitSignal(panel.share_requested):
        panel.share_button.click()
    panel.set_sharing(SCREENS[0])
    assert panel.share_banner.isVisible() and not panel.share_button.isVisible()
    assert panel.share_banner.text.text() == "You are sharing your screen"
    panel.set_sharing(WINDOWS[0])
    assert "Quarterly report - Editor" in panel.share_banner.text.text()
    with qtbot.waitSignal(panel.stop_share_requested):
        panel.share_banner.stop_button.click()
    panel.set_sharing(None)
    assert panel.share_button.isVisible() and not panel.share_banner.isVisible()
    panel.show_state("RECONNECTING")
    assert not panel.share_button.isEnabled()


@dataclass(frozen=True)
class Member:
    """A remote member as the window reads it."""

    user_id: str
    tracks: tuple[TrackInfo, ...]
    user_data: str = ""
    permission: str = "user"


def test_a_shared_screen_is_not_the_members_camera() -> None:
    """A member sharing their screen with the camera off shows as camera off."""
    sharing = Member("bob", (TrackInfo("t1", "video", "camera", muted=True),
                             TrackInfo("t2", "video", "screen")))
    assert track_muted(sharing, "video")
    camera_on = Member("bob", (TrackInfo("t1", "video", "camera"),
                               TrackInfo("t2", "video", "screen")))
    assert not track_muted(camera_on, "video")


def test_banner_stop_emits(qtbot: QtBot) -> None:
    """The banner's Stop button emits stop_requested."""
    banner = ShareBanner()
    qtbot.addWidget(banner)
    with qtbot.waitSignal(banner.stop_requested):
        banner.stop_button.click()


def test_share_and_stop_in_a_call(windows: Windows, display: str) -> None:
    """Alice presses Share screen, picks the Xvfb screen and Shares: her banner shows, Bob's
    client receives a track tagged "screen" carrying the code on that screen; Stop removes
    it for Bob, brings Share screen back and releases the capture."""

    async def scenario() -> None:
        host = windows.new("Alice")
        guest = windows.new("Bob")
        assert await host.host_room("Alice", "demo", False)
        link = host.host.invite("demo", "Bob")
        assert await guest.join_room("Bob", link, "")
        assert host.session is not None and guest.session is not None
        with ScreenPainter(display, "pattern", LABEL) as painter:
            painter.show(4)
            host.panel.share_button.click()
            await until(lambda: host.session is not None
                        and host.session.share_picker is not None, what="the picker")
            picker = host.session.share_picker
            assert picker is not None and picker.selected() is not None
            await until(lambda: picker.thumbnail_count() == picker.targets.count() - 2,
                        what="a thumbnail of the screen and of the window")
            assert picker.selected().kind == "screen"  # type: ignore[union-attr]
            assert any(picker.targets.item(i).text() == painter.title
                       for i in range(picker.targets.count()))
            picker.share_button.click()
            await until(lambda: host.panel.share_banner.isVisible(), what="the banner")
            track = host.session.screen_share.track
            assert track is not None

            def remote_screen() -> RemoteTrack | None:
                client = guest.session.client if guest.session else None
                return next((t for t in getattr(client, "remote_tracks", [])
                             if t.tag == "screen"), None)

            await until(lambda: remote_screen() is not None, scaled(20), "Bob gets the screen")
            remote = remote_screen()
            assert remote is not None
            host_id = host.session.client.user_id
            assert host_id is not None
            # Bob's window puts the share on its own tile (the stage layout shows it large).
            await until(lambda: guest.grid.tile(screen_key(host_id, remote.track_id))
                        is not None, what="Bob's screen tile")

            def code_on_screen() -> bool:
                # Bob's window renders the track too: read its newest frame, never take one.
                frame = remote.latest()
                info = decode_pattern(frame) if frame is not None else None
                return (info is not None and info.counter == 4
                        and info.identity == identity_code(LABEL))
            await until(code_on_screen, scaled(20), "the code on Alice's screen at Bob's")

            host.panel.share_banner.stop_button.click()
            await until(lambda: remote_screen() is None, scaled(10), "Bob's screen track gone")
            await until(lambda: host.panel.share_button.isVisible(), what="Share screen back")
            assert not host.panel.share_banner.isVisible()
            assert host.session.screen_share.track is None
            await until(lambda: track.released, what="capture released")

    windows.run(scenario)


def test_wayland_session_shows_the_reason(windows: Windows,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """In a Wayland session Share screen opens the dialog with the reason and nothing to
    share; closing it shares nothing."""
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")

    async def scenario() -> None:
        host = windows.new("Alice")
        assert await host.host_room("Alice", "demo", False)
        assert host.session is not None
        host.panel.share_button.click()
        await until(lambda: host.session is not None
                    and host.session.share_picker is not None, what="the picker")
        picker = host.session.share_picker
        assert picker is not None
        assert picker.problem.text() == unavailable_text(UnavailableReason.WAYLAND)
        assert not picker.share_button.isEnabled()
        picker.cancel_button.click()
        assert not host.session.screen_share.sharing
        assert not host.panel.share_banner.isVisible()

    windows.run(scenario)
