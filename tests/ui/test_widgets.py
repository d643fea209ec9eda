"""Widgets driven by bridge signals and small room views, with no server."""

from __future__ import annotations

import asyncio
import threading
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
import qasync
from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import TrackInfo
from roomcall.ui import i18n
from roomcall.ui.bridge import EVENTS, ClientBridge
from roomcall.ui.errors import describe_error
from roomcall.ui.frame_renderer import RenderedFrame, TrackRenderer, convert_for_display
from roomcall.ui.join_form import JoinForm
from roomcall.ui.room_panel import RoomPanel
from roomcall.ui.video_grid import VideoGrid, best_columns
from roomcall.ui.video_tile import VideoTile
from tests.waiting import scaled_ms


@dataclass(frozen=True)
class User:
    user_id: str
    user_data: str = ""
    permission: str = "user"
    tracks: tuple[TrackInfo, ...] = ()


@dataclass
class RoomView:
    """What the panel reads from the SDK, as plain values."""

    user_id: str
    permission: str
    users: list[User] = field(default_factory=list)
    connection_state: str = "CONNECTED"

    @property
    def remote_users(self) -> list[User]:
        return list(self.users)

    def get_remote_user(self, user_id: str) -> User | None:
        return next((u for u in self.users if u.user_id == user_id), None)


class Emitter:
    """Records ``on`` registrations the way RTCClient takes them."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[..., Any]] = {}

    def on(self, name: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        self.handlers[name] = handler
        return handler


def test_bridge_forwards_every_event_until_detached(qtbot: QtBot) -> None:
    """Each SDK event reaches the signal of the same name; after detach none does."""
    bridge = ClientBridge()
    emitter = Emitter()
    bridge.attach(emitter)
    assert set(emitter.handlers) == set(EVENTS)
    with qtbot.waitSignal(bridge.user_joined, timeout=scaled_ms(1)) as joined:
        emitter.handlers["user_joined"]("bob", "Bob")
    assert joined.args == ["bob", "Bob"]
    with qtbot.waitSignal(bridge.mute_state_changed, timeout=scaled_ms(1)) as muted:
        emitter.handlers["mute_state_changed"]("bob", "t1", True)
    assert muted.args == ["bob", "t1", True]
    bridge.detach()
    with qtbot.assertNotEmitted(bridge.user_left):
        emitter.handlers["user_left"]("bob")


def test_panel_lists_members_and_only_host_can_kick(qtbot: QtBot) -> None:
    """The list shows user_data and host badges; Kick and Make host show only for the host,
    never on another admin's row; clicking them asks for that member."""
    panel = RoomPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_local_name("Alice")
    view = RoomView("alice", "admin", [User("bob", "Bob"), User("cohost", "", "admin")])
    panel.refresh_members(view)
    assert panel.member_ids() == ["alice", "bob", "cohost"]
    bob, cohost, me = (panel.member_row(u) for u in ("bob", "cohost", "alice"))
    assert bob is not None and cohost is not None and me is not None
    assert bob.name_label.text() == "Bob" and cohost.name_label.text() == "cohost"
    assert me.badge.isVisibleTo(panel) and cohost.badge.isVisibleTo(panel)
    assert not bob.badge.isVisibleTo(panel)
    assert bob.kick_button.isVisibleTo(panel) and bob.host_button.isVisibleTo(panel)
    assert not cohost.kick_button.isVisibleTo(panel)
    assert not cohost.host_button.isVisibleTo(panel)
    assert not me.kick_button.isVisibleTo(panel)
    assert panel.invite_button.isVisibleTo(panel)
    with qtbot.waitSignal(panel.kick_requested, timeout=scaled_ms(1)) as kick:
        bob.kick_button.click()
    assert kick.args == ["bob"]
    with qtbot.waitSignal(panel.make_host_requested, timeout=1000) as hand_over:
        bob.host_button.click()
    assert hand_over.args == ["bob"]

    guest_view = RoomView("bob", "user", [User("alice", "Alice", "admin")])
    panel.refresh_members(guest_view)
    alice = panel.member_row("alice")
    assert alice is not None and not alice.kick_button.isVisibleTo(panel)
    assert not alice.host_button.isVisibleTo(panel)
    assert panel.member_row("cohost") is None
    assert not panel.invite_button.isVisibleTo(panel)


def test_panel_shows_reconnecting_state(qtbot: QtBot) -> None:
    """RECONNECTING is visible at a glance and Leave stays available."""
    panel = RoomPanel()
    qtbot.addWidget(panel)
    panel.show_state("RECONNECTING")
    assert "reconnecting" in panel.state_label.text()
    assert panel.leave_button.isEnabled()
    panel.show_state("DISCONNECTED")
    assert not panel.leave_button.isEnabled()


def test_grid_layout_follows_members(qtbot: QtBot) -> None:
    """Tiles come and go with members, local first, and the column count fits the window."""
    assert best_columns(1, 800, 600) == 1
    assert best_columns(3, 1200, 400) == 3
    assert best_columns(4, 800, 600) == 2
    assert best_columns(9, 900, 700) == 3
    grid = VideoGrid()
    qtbot.addWidget(grid)
    grid.resize(1200, 450)
    grid.show()
    grid.add_tile("bob")
    grid.add_tile("me", local=True)
    grid.add_tile("cat")
    assert [t.user_id for t in grid.tiles()] == ["me", "bob", "cat"]
    assert grid.columns == 3
    grid.resize(500, 900)
    qtbot.waitUntil(lambda: grid.columns == 1, timeout=scaled_ms(2))
    grid.remove_tile("bob")
    assert [t.user_id for t in grid.tiles()] == ["me", "cat"]
    grid.clear()
    assert grid.tiles() == []


def yuv_frame(colour: tuple[int, int, int]) -> av.VideoFrame:
    rgb = np.zeros((480, 640, 3), np.uint8)
    rgb[:] = colour
    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")


def test_tile_shows_frames_and_placeholder(qtbot: QtBot) -> None:
    """A tile paints the newest frame, scaled to fit, and its placeholder when video stops
    or is muted; name, host badge and mute marks are kept."""
    tile = VideoTile("bob")
    qtbot.addWidget(tile)
    tile.resize(400, 400)
    tile.show()
    tile.set_identity("Bob", True)
    assert not tile.has_video
    tile.show_frame(convert_for_display(yuv_frame((200, 30, 30)), *tile.box_size()))
    image = tile.current_image()
    assert image is not None and (image.width(), image.height()) == (400, 300)
    red = image.pixelColor(200, 150)
    assert red.red() > 150 and red.green() < 80
    assert tile.grab().size().width() == 400  # paints without error
    tile.set_muted(video=True, audio=True)
    assert not tile.has_video and tile.video_muted and tile.audio_muted
    assert tile.name == "Bob" and tile.host
    tile.set_muted(video=False)
    tile.show_frame(convert_for_display(yuv_frame((30, 200, 30)), *tile.box_size()))
    assert tile.has_video
    # frames stopped: no frozen frame
    qtbot.waitUntil(lambda: not tile.has_video, timeout=scaled_ms(4))


class PaintRects(QObject):
    """Records the rectangle of every paint event a widget gets."""

    def __init__(self) -> None:
        super().__init__()
        self.rects: list[QRect] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.rects.append(QRect(event.rect()))  # type: ignore[attr-defined]
        return False


def test_frame_only_repaint_keeps_label_and_bars(qtbot: QtBot) -> None:
    """A new frame of the same size repaints only the picture, and what is on screen still
    has the letterbox bars, the new picture and the name label drawn over it."""
    tile = VideoTile("bob")
    qtbot.addWidget(tile)
    tile.resize(400, 400)
    tile.show()
    tile.set_identity("Bob", True)
    paints = PaintRects()
    tile.installEventFilter(paints)
    tile.show_frame(convert_for_display(yuv_frame((200, 30, 30)), *tile.box_size()))
    qtbot.waitUntil(lambda: bool(paints.rects), timeout=scaled_ms(2))
    paints.rects.clear()
    tile.show_frame(convert_for_display(yuv_frame((30, 200, 30)), *tile.box_size()))
    qtbot.waitUntil(lambda: bool(paints.rects), timeout=scaled_ms(2))
    assert paints.rects[-1] == QRect(0, 50, 400, 300)  # the picture only
    screen = tile.backingStore().paintDevice()
    assert isinstance(screen, QImage)
    centre, bar = screen.pixelColor(200, 200), screen.pixelColor(200, 10)
    assert centre.green() > 150 and centre.red() < 80
    assert bar == QColor("#202226")
    under_label = screen.pixelColor(12, 350 - 8 - 12)  # the pill's left end, over the picture
    assert under_label.green() < centre.green() - 40  # darkened: the label was redrawn


def test_placeholder_after_frames_stop_even_with_partial_repaints(qtbot: QtBot) -> None:
    """When frames stop, the placeholder replaces the last frame on screen, and the next
    frame brings the picture back."""
    tile = VideoTile("carol")
    qtbot.addWidget(tile)
    tile.resize(320, 240)
    tile.show()
    for colour in ((200, 30, 30), (30, 30, 200)):
        tile.show_frame(convert_for_display(yuv_frame(colour), *tile.box_size()))
    assert tile.frames_shown == 2 and tile.has_video
    qtbot.waitUntil(lambda: not tile.has_video, timeout=scaled_ms(4))
    qtbot.waitUntil(lambda: tile.backingStore().paintDevice().pixelColor(  # type: ignore
        160, 60).blue() < 120, timeout=scaled_ms(2))  # the placeholder, not the blue frame
    tile.show_frame(convert_for_display(yuv_frame((30, 30, 200)), *tile.box_size()))
    assert tile.has_video and tile.frames_shown == 3


class PacedSource:
    """Hands out ``count`` frames, each once the previous one was rendered, then ends."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.sent = 0
        self.rendered = asyncio.Event()
        self.rendered.set()

    async def recv(self) -> av.VideoFrame:
        await asyncio.wait_for(self.rendered.wait(), 5)
        if self.sent == self.count:
            raise EOFError("ended")
        self.rendered.clear()
        self.sent += 1
        return yuv_frame((10 * self.sent, 40, 40))


def test_renderer_frees_replaced_frames_off_the_loop_thread(loop: qasync.QEventLoop) -> None:
    """Every frame reaches the receiver at display size, and frames the receiver replaced
    are freed on a worker thread, not on the loop's thread."""
    source = PacedSource(6)
    freed_on: dict[int, int] = {}
    shown: list[RenderedFrame] = []
    ended = asyncio.Event()

    def on_frame(frame: RenderedFrame) -> None:
        number = len(freed_on) + 1
        freed_on[number] = 0
        weakref.finalize(frame, lambda: freed_on.__setitem__(number, threading.get_ident()))
        shown[:] = [frame]  # keep only the newest, like a tile
        source.rendered.set()

    async def scenario() -> None:
        renderer = TrackRenderer(source, on_frame, lambda: (320, 320), ended.set)
        renderer.start()
        await asyncio.wait_for(ended.wait(), 10)
        assert renderer.frames_rendered == 6
        assert (shown[0].width, shown[0].height) == (320, 240)
        await renderer.stop()

    loop.run_until_complete(scenario())
    loop_thread = threading.get_ident()
    assert len(freed_on) == 6
    # Frames 1-4 were dropped by the jobs converting 3-6; 5 and 6 were still held at the end.
    assert all(freed_on[n] not in (0, loop_thread) for n in range(1, 5)), freed_on


def test_join_form_emits_requests(qtbot: QtBot) -> None:
    """Start room and Join carry what the person typed; errors and notices show."""
    form = JoinForm()
    qtbot.addWidget(form)
    form.show()
    form.name_edit.setText("Ann")
    form.room_edit.setText("Team sync")
    form.network_check.setChecked(True)
    with qtbot.waitSignal(form.host_requested, timeout=scaled_ms(1)) as host:
        form.host_button.click()
    assert host.args == ["Ann", "Team sync", True]
    form.prefill("roomcall://10.0.0.2:7880/x?token=a", "")
    with qtbot.waitSignal(form.join_requested, timeout=scaled_ms(1)) as join:
        form.join_button.click()
    assert join.args == ["Ann", "roomcall://10.0.0.2:7880/x?token=a", ""]
    form.show_error("bad")
    form.show_notice("removed")
    assert form.error.isVisible() and form.notice.isVisible()
    form.show_error("")
    assert not form.error.isVisible()


def test_error_texts_tell_what_to_do() -> None:
    """Codes become sentences a person can act on."""
    assert "Ask the host for a new one" in describe_error(ErrorCode.TOKEN_EXPIRED)
    assert "full" in describe_error(ErrorCode.ROOM_FULL)
    assert "ws://h:1" in describe_error(ErrorCode.AUTH_FAILED, "ws://h:1")
    assert "99999" in describe_error(99999)
    assert "Traceback" not in describe_error(None)


def test_language_switches_at_runtime(qtbot: QtBot) -> None:
    """Installing Chinese retranslates live widgets; English comes back the same way."""
    form = JoinForm()
    qtbot.addWidget(form)
    try:
        assert i18n.install_language("zh_CN") == "zh_CN"
        qtbot.waitUntil(lambda: form.join_button.text() == "加入", timeout=scaled_ms(2))
        assert describe_error(ErrorCode.ROOM_FULL) == "房间已满，请在有人离开后再试。"
    finally:
        assert i18n.install_language("en") == "en"
    qtbot.waitUntil(lambda: form.join_button.text() == "Join", timeout=scaled_ms(2))


def test_every_text_is_translated() -> None:
    """The Chinese catalogue has a finished translation for every source text."""
    tree = ET.parse(i18n.resources_dir() / "i18n" / "roomcall_zh_CN.ts")
    unfinished = [m.findtext("source") for m in tree.iter("message")
                  if not (m.findtext("translation") or "").strip()
                  or m.find("translation").get("type") == "unfinished"]  # type: ignore
    assert unfinished == []
