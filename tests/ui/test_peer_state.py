"""The tile and the member row say in words when a member's media is recovering or cannot
connect (``peer_state_changed``), instead of looking like a camera that is off."""

from __future__ import annotations

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from roomcall.sdk import PeerState
from roomcall.ui import i18n
from roomcall.ui.room_panel import RoomPanel
from roomcall.ui.video_tile import VideoTile
from tests.waiting import scaled, scaled_ms

from .conftest import Windows, until
from .test_call import host_and_guest
from .test_widgets import RoomView, User


def _picture(tile: VideoTile) -> QImage:
    return tile.grab().toImage()


def test_failed_and_recovering_tiles_do_not_look_like_camera_off(qtbot: QtBot) -> None:
    """FAILED and RECOVERING each paint their sentence over the placeholder: the picture
    differs from a camera-off tile's, and from each other; CONNECTED goes back to plain."""
    tile = VideoTile("bob")
    qtbot.addWidget(tile)
    tile.resize(320, 240)
    tile.set_identity("Bob", False)
    tile.show()
    tile.set_muted(video=True)
    camera_off = _picture(tile)
    tile.set_peer_state(PeerState.FAILED)
    assert tile.media_notice.startswith("Can't connect video with Bob.")
    assert "relay (TURN)" in tile.media_notice and "Settings" in tile.media_notice
    assert tile.toolTip() == tile.media_notice
    failed = _picture(tile)
    tile.set_peer_state(PeerState.RECOVERING)
    assert tile.media_notice == "Reconnecting video…"
    recovering = _picture(tile)
    assert camera_off != failed and failed != recovering and camera_off != recovering
    tile.set_peer_state(PeerState.CONNECTED)
    assert tile.media_notice == "" and _picture(tile) == camera_off


def test_member_row_names_the_problem(qtbot: QtBot) -> None:
    """The member's row says "Can't connect video" (why, in its tooltip) or "Reconnecting
    video…", and nothing once connected."""
    panel = RoomPanel()
    qtbot.addWidget(panel)
    panel.refresh_members(RoomView("alice", "user", [User("bob", "Bob")]))
    row = panel.member_row("bob")
    assert row is not None
    panel.set_member_peer_state("bob", PeerState.FAILED)
    assert row.media_status.text() == "Can't connect video"
    assert "TURN" in row.media_status.toolTip()
    panel.set_member_peer_state("bob", PeerState.RECOVERING)
    assert row.media_status.text() == "Reconnecting video…"
    panel.set_member_peer_state("bob", PeerState.CONNECTED)
    assert row.media_status.text() == ""


def test_peer_state_texts_are_translated(qtbot: QtBot) -> None:
    """In Chinese the tile and the row say the same in Chinese, switching live."""
    tile = VideoTile("bob")
    panel = RoomPanel()
    qtbot.addWidget(tile)
    qtbot.addWidget(panel)
    tile.set_identity("Bob", False)
    tile.set_peer_state(PeerState.FAILED)
    panel.refresh_members(RoomView("alice", "user", [User("bob", "Bob")]))
    panel.set_member_peer_state("bob", PeerState.RECOVERING)
    row = panel.member_row("bob")
    assert row is not None
    try:
        assert i18n.install_language("zh_CN") == "zh_CN"
        qtbot.waitUntil(lambda: row.media_status.text() == "正在重新连接视频…",
                        timeout=scaled_ms(2))
        assert tile.media_notice.startswith("无法与 Bob 建立视频连接。")
        assert tile.toolTip() == tile.media_notice
    finally:
        assert i18n.install_language("en") == "en"
    qtbot.waitUntil(lambda: row.media_status.text() == "Reconnecting video…",
                    timeout=scaled_ms(2))


def test_call_shows_peer_states_from_the_bridge(windows: Windows) -> None:
    """In a real call, the bridge's peer_state_changed reaches the member's tile and row."""

    async def scenario() -> None:
        _host, guest, host_id, _guest_id = await host_and_guest(windows)
        assert guest.session is not None
        tile = guest.grid.tile(host_id)
        row = guest.panel.member_row(host_id)
        assert tile is not None and row is not None
        guest.session.bridge.peer_state_changed.emit(host_id, PeerState.FAILED)
        assert tile.peer_state is PeerState.FAILED
        assert tile.media_notice.startswith("Can't connect video with Alice.")
        assert row.media_status.text() == "Can't connect video"
        guest.session.bridge.peer_state_changed.emit(host_id, PeerState.CONNECTED)
        assert tile.media_notice == "" and row.media_status.text() == ""
        await until(lambda: tile.has_video, scaled(20), "the host's video")

    windows.run(scenario)
