"""Host and guest windows in one process, on the host's embedded server, synthetic media."""

from __future__ import annotations

import asyncio
import gc

import av
import numpy as np
from aiortc import RTCPeerConnection
from PySide6.QtGui import QImage

from roomcall.media.pattern import decode_pattern, identity_code
from roomcall.sdk import RemoteTrack, TrackProfile
from roomcall.ui.end_call import Prompt
from roomcall.ui.host import lan_address
from roomcall.ui.invite import parse_invite
from roomcall.ui.kick import KICK_OUT
from roomcall.ui.video_tile import LOW_LAYER_WIDTH, VideoTile
from roomcall.ui.window import MainWindow
from tests.waiting import scaled

from .conftest import Windows, until


def pattern_of(tile: VideoTile) -> int | None:
    """The sender identity the tile's picture carries (None if none is readable)."""
    image = tile.current_image()
    return None if image is None else pattern_of_image(image)


def pattern_of_image(image: QImage) -> int | None:
    """The sender identity a picture carries (None if none is readable)."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(),
                                                              image.bytesPerLine())
    bgra = rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)
    info = decode_pattern(av.VideoFrame.from_ndarray(np.ascontiguousarray(bgra), format="bgra"))
    return None if info is None else info.identity


async def host_and_guest(windows: Windows) -> tuple[MainWindow, MainWindow, str, str]:
    host = windows.new("Alice")
    guest = windows.new("Bob")
    assert await host.host_room("Alice", "standup", False)
    link = host.host.invite("standup", "Bob")
    assert await guest.join_room("Bob", link, ""), guest.form.error.text()
    host_id = host.session.client.user_id  # type: ignore[union-attr]
    guest_id = guest.session.client.user_id  # type: ignore[union-attr]
    await until(lambda: host.panel.member_row(guest_id) is not None, what="guest listed")
    return host, guest, host_id, guest_id


def open_peer_connections() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects()
               if isinstance(o, RTCPeerConnection) and o.connectionState != "closed")


def test_guest_listed_and_both_see_each_others_video(
        windows: Windows) -> None:
    """The guest appears in the host's list with its name; each tile shows the other's
    live pattern."""

    async def scenario() -> None:
        host, guest, host_id, guest_id = await host_and_guest(windows)
        row = host.panel.member_row(guest_id)
        assert row is not None and row.name_label.text() == "Bob"
        assert host.panel.member_row(host_id) is not None
        assert guest.panel.member_row(host_id).badge.isVisibleTo(guest.panel)  # type: ignore
        remote_on_host = host.grid.tile(guest_id)
        remote_on_guest = guest.grid.tile(host_id)
        assert remote_on_host is not None and remote_on_guest is not None
        assert remote_on_host.name == "Bob" and remote_on_guest.name == "Alice"
        assert remote_on_guest.host and not remote_on_host.host
        await until(lambda: pattern_of(remote_on_host) == identity_code("Bob"), scaled(20),
                    "Bob's pattern on the host")
        await until(lambda: pattern_of(remote_on_guest) == identity_code("Alice"), scaled(20),
                    "Alice's pattern on the guest")
        first = remote_on_host.current_image()
        shown = remote_on_host.frames_shown
        await until(lambda: remote_on_host.frames_shown > shown + 3, what="more frames")
        assert remote_on_host.current_image() != first  # the picture moves

    windows.run(scenario)


def test_a_remote_video_is_asked_for_what_its_tile_shows(windows: Windows) -> None:
    """The guest's tile of the host asks the SDK for the full picture while it is large, the
    low layer once shrunk to its size or below, and nothing while the window is hidden (what
    an SFU then relays; in this mesh the pictures keep coming)."""

    async def scenario() -> None:
        _, guest, host_id, _ = await host_and_guest(windows)
        client = guest.session.client  # type: ignore[union-attr]

        def remote_video() -> RemoteTrack | None:
            return next((t for t in client.remote_tracks
                         if t.user_id == host_id and t.kind == "video"), None)
        await until(lambda: remote_video() is not None, scaled(20), "the host's video")
        track, tile = remote_video(), guest.grid.tile(host_id)
        assert track is not None and tile is not None
        guest.resize(1600, 1000)
        await until(lambda: tile.box_size()[0] > LOW_LAYER_WIDTH, what="a large tile")
        assert track.profile is TrackProfile.HIGH
        guest.resize(guest.minimumSizeHint().width(), guest.minimumSizeHint().height())
        await until(lambda: tile.box_size()[0] <= LOW_LAYER_WIDTH, what="a small tile")
        assert track.profile is TrackProfile.LOW
        guest.hide()
        await until(lambda: track.profile is TrackProfile.NONE, what="no video while hidden")
        guest.show()
        await until(lambda: track.profile is TrackProfile.LOW, what="video again when shown")

    windows.run(scenario)


def test_host_kicks_guest(windows: Windows) -> None:
    """Kick, confirmed: the guest is told the host removed it and is back on the join form;
    the host's list drops it; only the host has a Kick button."""

    async def scenario() -> None:
        host, guest, host_id, guest_id = await host_and_guest(windows)
        host_row = guest.panel.member_row(host_id)
        assert host_row is not None and not host_row.kick_button.isVisibleTo(guest.panel)
        guest_row = host.panel.member_row(guest_id)
        assert guest_row is not None and guest_row.kick_button.isVisibleTo(host.panel)
        guest_row.kick_button.click()
        prompt = host.session.prompt  # type: ignore[union-attr]
        assert isinstance(prompt, Prompt) and prompt.isVisible()
        prompt.choose("kick")
        await until(lambda: guest.pages.currentWidget() is guest.form, what="guest on form")
        assert "host removed you" in guest.form.notice.text()
        assert guest.form.notice.isVisibleTo(guest)
        await until(lambda: host.panel.member_row(guest_id) is None, what="guest dropped")
        assert host.grid.tile(guest_id) is None
        assert guest.session is None  # never rejoins by itself
        assert not host.session.kicker.pending  # type: ignore[union-attr]

    windows.run(scenario)


def test_host_enforces_kick_on_client_that_ignores_it(
        windows: Windows) -> None:
    """A guest app that ignores kickOut is removed by the server after the grace period."""

    async def scenario() -> None:
        host, guest, _host_id, guest_id = await host_and_guest(windows)
        session = guest.session
        assert session is not None
        session.bridge.message_received.disconnect()  # a modified client: deaf to kickOut
        host.session.kick(guest_id)  # type: ignore[union-attr]
        await until(lambda: guest.pages.currentWidget() is guest.form, what="guest removed")
        assert "host removed you" in guest.form.notice.text()
        await until(lambda: host.panel.member_row(guest_id) is None, what="guest dropped")

    windows.run(scenario)


def test_forged_kick_from_non_admin_changes_nothing(
        windows: Windows) -> None:
    """A kickOut sent by a plain member is ignored: the target stays in the call."""

    async def scenario() -> None:
        host, guest, _host_id, guest_id = await host_and_guest(windows)
        third = windows.new("Eve")
        assert await third.join_room("Eve", host.host.invite("standup", "Eve"), "")
        await until(lambda: len(guest.panel.member_ids()) == 3, what="three members")
        chat_before = len(guest.panel.chat.lines)
        await third.session.client.send_message(KICK_OUT, [guest_id])  # type: ignore
        await third.session.client.send_message('{"chat": "after"}', [guest_id])  # type: ignore
        await until(lambda: len(guest.panel.chat.lines) > chat_before, what="marker message")
        assert guest.session is not None and guest.pages.currentWidget() is guest.call_page
        assert guest_id in host.panel.member_ids()

    windows.run(scenario)


def test_leave_and_close_leave_nothing_behind(
        windows: Windows) -> None:
    """Leave tears down the call's tasks and peer connections; closing the window stops
    the embedded server."""

    async def scenario() -> None:
        host, guest, _host_id, guest_id = await host_and_guest(windows)
        await until(lambda: (t := host.grid.tile(guest_id)) is not None and t.has_video,
                    scaled(20), "video flowing")
        guest.panel.leave_button.click()
        await until(lambda: guest.session is None, what="guest left")
        assert guest.pages.currentWidget() is guest.form
        assert not guest.form.notice.isVisibleTo(guest) and not guest.form.error.isVisibleTo(guest)
        await until(lambda: host.panel.member_row(guest_id) is None, what="host sees leave")
        await windows.close_all()
        assert host.host.server is None
        await until(lambda: open_peer_connections() == 0, what="peer connections closed")

        def leftover() -> list[asyncio.Task[object]]:
            return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()
                    and not t.get_coro().__qualname__.startswith("Windows.")]

        assert not leftover(), f"tasks left behind: {leftover()}"

    windows.run(scenario)


def test_network_hosting_and_invite_dialog(windows: Windows) -> None:
    """Accepting network guests is an explicit choice: only then the server listens on all
    interfaces and invites carry this computer's LAN address; guests get no Invite."""

    async def scenario() -> None:
        host = windows.new("Alice")
        assert await host.host_room("Alice", "lan-room", False)
        assert host.host.server.config.host == "127.0.0.1"
        await host.leave()
        assert await host.host_room("Alice", "lan-room", True)
        assert host.host.server.config.host == "0.0.0.0"
        dialog = host.show_invite()
        assert dialog is not None and not dialog.local_note.isVisibleTo(dialog)
        dialog.guest_edit.setText("Bob")
        link = await dialog.create_personal_link()
        assert parse_invite(link).server_url == f"ws://{lan_address()}:{host.host.server.port}"
        dialog.close()
        guest = windows.new("Bob")
        assert await guest.join_room("Bob", link, ""), guest.form.error.text()
        assert guest.show_invite() is None
        assert not guest.invite_action.isEnabled() and host.invite_action.isEnabled()

    windows.run(scenario)


def test_camera_and_microphone_toggles_reach_the_other_side(windows: Windows) -> None:
    """Turning the camera off shows the placeholder and mute marks on the other side (never
    a frozen frame); turning it on brings the picture back."""

    async def scenario() -> None:
        host, guest, host_id, _guest_id = await host_and_guest(windows)
        tile = guest.grid.tile(host_id)
        assert tile is not None
        await until(lambda: tile.has_video, scaled(20), "the host's video")
        host.panel.camera_button.click()
        host.panel.microphone_button.click()
        await until(lambda: tile.video_muted and tile.audio_muted and not tile.has_video,
                    what="mute marks and placeholder")
        own = host.grid.tile(host_id)
        assert own is not None
        # The host's own marks follow the server's answer, which may come after the guest's.
        await until(lambda: own.video_muted and not own.has_video
                    and host.panel.camera_button.text() == "Camera off", what="own marks")
        host.panel.camera_button.click()
        await until(lambda: not tile.video_muted and tile.has_video, scaled(20), "video back")

    windows.run(scenario)
