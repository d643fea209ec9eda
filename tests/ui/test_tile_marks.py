"""What a tile paints and offers by itself: the speaking ring, the signal bars and their
tooltip, the pin button on hover, the screen-share label; in English and Chinese."""

from __future__ import annotations

import av
import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QEnterEvent, QHelpEvent, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication, QToolTip
from pytestqt.qtbot import QtBot

from roomcall.sdk import NetworkGrade, NetworkQuality
from roomcall.ui import i18n, signal_bars
from roomcall.ui.frame_renderer import convert_for_display
from roomcall.ui.video_tile import VideoTile
from tests.waiting import scaled_ms

RING = QColor("#3ddc84")


def _tile(qtbot: QtBot, **kwargs: bool) -> VideoTile:
    tile = VideoTile("bob", **kwargs)
    qtbot.addWidget(tile)
    tile.resize(320, 240)
    tile.set_identity("Bob", False)
    tile.show()
    return tile


def _grey_frame(width: int, height: int) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.full((height, width, 3), 90, np.uint8), format="rgb24")


def _move(tile: VideoTile, at: QPoint) -> None:
    """The pointer moves to ``at`` over ``tile`` (mouse tracking is on)."""
    local = QPointF(at)
    QApplication.sendEvent(tile, QMouseEvent(
        QEvent.Type.MouseMove, local, QPointF(tile.mapToGlobal(at)), Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))


def _is_ring(image: QImage, x: int, y: int) -> bool:
    pixel = image.pixelColor(x, y)
    return abs(pixel.red() - RING.red()) < 8 and abs(pixel.green() - RING.green()) < 8 \
        and abs(pixel.blue() - RING.blue()) < 8


def test_ring_goes_round_the_picture_while_speaking(qtbot: QtBot) -> None:
    """Speaking paints a green ring at the picture's edge (not in the letterbox bars), and
    none once it stops; the placeholder gets the ring at the tile's edge."""
    tile = _tile(qtbot)
    tile.set_speaking(True)
    assert _is_ring(tile.grab().toImage(), 1, 120)  # placeholder: the tile's edge
    tile.show_frame(convert_for_display(_grey_frame(320, 180), *tile.box_size()))
    image = tile.grab().toImage()
    top = (240 - 180) // 2
    assert _is_ring(image, 160, top + 1) and _is_ring(image, 1, 120)
    assert not _is_ring(image, 160, top - 4)  # the bar above the picture stays plain
    tile.set_speaking(False)
    image = tile.grab().toImage()
    assert not _is_ring(image, 160, top + 1) and not _is_ring(image, 1, 120)


def test_signal_bars_show_the_worse_direction_and_say_both(qtbot: QtBot) -> None:
    """Bars light for the worse grade; hovering them tells both grades in words, in the
    interface's language."""
    tile = _tile(qtbot)
    assert tile.signal_bars == 0 and "not measured yet" in tile.signal_tooltip
    tile.set_network_quality(NetworkQuality(NetworkGrade.EXCELLENT, NetworkGrade.FAIR))
    assert tile.signal_bars == 2
    assert tile.signal_tooltip == "Network: sending excellent, receiving fair"
    lit = tile.grab().toImage()
    tile.set_network_quality(NetworkQuality(NetworkGrade.POOR, NetworkGrade.GOOD))
    assert tile.signal_bars == 1 and lit != tile.grab().toImage()
    assert signal_bars.bars(NetworkQuality(NetworkGrade.GOOD, NetworkGrade.UNKNOWN)) == 3
    centre = tile.bars_rect().center()
    _move(tile, centre)
    QApplication.sendEvent(tile, QHelpEvent(QEvent.Type.ToolTip, centre,
                                            tile.mapToGlobal(centre)))
    qtbot.waitUntil(lambda: QToolTip.text() == tile.signal_tooltip, timeout=scaled_ms(2))
    _move(tile, QPoint(160, 120))  # away from the bars: the media notice again ("" now)
    assert tile.toolTip() == tile.media_notice == ""
    try:
        assert i18n.install_language("zh_CN") == "zh_CN"
        assert tile.signal_tooltip == "网络：发送较差，接收良好"
    finally:
        assert i18n.install_language("en") == "en"


def test_pin_button_shows_on_hover_and_stays_while_pinned(qtbot: QtBot) -> None:
    """The pin button appears with the pointer over the tile and hides after; a pinned tile
    keeps it (saying Unpin) so it can be unpinned; clicking it asks to pin."""
    tile = _tile(qtbot)
    button = tile.controls.pin_button
    assert not button.isVisible()
    QApplication.sendEvent(tile, QEnterEvent(QPointF(50, 50), QPointF(50, 50),
                                             QPointF(tile.mapToGlobal(QPoint(50, 50)))))
    assert button.isVisible() and tile.rect().contains(button.geometry())
    QApplication.sendEvent(tile, QEvent(QEvent.Type.Leave))
    assert not button.isVisible()
    with qtbot.waitSignal(tile.pin_toggled, timeout=scaled_ms(1)) as asked:
        button.click()
    assert asked.args == ["bob"]
    tile.set_pinned(True)
    assert button.isVisible() and button.text() == "Unpin"


def test_screen_tile_is_labelled_as_the_members_screen(qtbot: QtBot) -> None:
    """A screen share's tile is "<name>'s screen" (translated), with no camera marks."""
    tile = _tile(qtbot, screen=True)
    plain = tile.grab().toImage()
    tile.set_muted(audio=True, video=True)
    assert tile.grab().toImage() == plain  # no microphone / camera marks on a screen
    assert tile.caption == "Bob's screen"
    try:
        assert i18n.install_language("zh_CN") == "zh_CN"
        assert tile.caption == "Bob 的屏幕"
        assert [a.text() for a in tile.context_menu().actions()] == ["固定", "全屏"]
    finally:
        assert i18n.install_language("en") == "en"
