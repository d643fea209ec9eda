"""One member's tile in the video grid: newest frame, name, host badge, mute marks, the
speaking ring; a remote screen share has a tile of its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QEnterEvent,
    QFont,
    QFontMetrics,
    QHideEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from roomcall.sdk import NetworkQuality, PeerState, TrackProfile
from roomcall.ui import signal_bars
from roomcall.ui.frame_renderer import RenderedFrame
from roomcall.ui.tile_controls import TileControls

LOW_LAYER_WIDTH = 320
"""Device pixels up to which a tile is served well by an SFU's low layer (320x240)."""
STALE_SECONDS = 1.5
"""A tile whose video stopped for this long (checked every half second) shows its placeholder,
never a frozen frame."""

_BACKGROUND = QColor("#202226")
_PLACEHOLDER = QColor("#2c2f36")
_BADGE = QColor("#e0a526")
_MUTED = QColor("#e0443e")
_SPEAKING = QColor("#3ddc84")
_NOTICE_COLOURS = {PeerState.FAILED: QColor("#ff8a80"), PeerState.RECOVERING: QColor("#f0c36d")}
_AVATAR_COLOURS = ("#4f7cff", "#2fa57a", "#c2508a", "#c0792e", "#7a5cd6", "#2b98b5")


class _Video:
    """What changes with every frame, kept off the widget.

    Setting an attribute on a Qt widget goes through Shiboken (several times the cost of a
    plain object's), and this runs for every frame of every tile.
    """

    __slots__ = ("frame", "shown")

    def __init__(self) -> None:
        self.frame: RenderedFrame | None = None
        self.shown = 0


@dataclass
class _Geometry:
    """Where things go for one tile size and one frame size (rebuilt when either changes)."""

    frame_w: int
    frame_h: int
    picture: QRect
    picture_at: QPoint
    bars: list[QRect]
    label: QImage
    label_at: QPointF
    bars_at: QPointF


class VideoTile(QWidget):
    """Shows one member's camera (or, with ``screen``, a remote member's shared screen): its
    newest video frame or a placeholder, with its name and state.

    The tile keeps only the last converted frame (for painting); what the member *is* (name,
    host, muted, speaking) is pushed in by the call session, which reads it from the SDK. The
    picture is always shown whole (letterboxed, never cropped).

    Signals:
        pin_toggled(key): the person asked to pin this tile (or to unpin it).
        full_screen_toggled(key): the person asked for this tile full screen (or back).
    """

    pin_toggled = Signal(str)
    full_screen_toggled = Signal(str)

    def __init__(self, user_id: str, *, key: str | None = None, local: bool = False,
                 screen: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.user_id = user_id
        self.key = key or user_id
        """The grid's key for this tile: the user id for a camera tile."""
        self.local = local
        self.is_screen = screen
        """True for a tile showing a shared screen."""
        self._pinned = False
        self._full_screen = False
        self._speaking = False
        self._quality = NetworkQuality()
        self._bars: QImage | None = None
        self._over_bars = False
        self._name = user_id
        self._host = False
        self._audio_muted = False
        self._video_muted = False
        self._peer_state: PeerState | None = None
        self._video = _Video()
        self._stale_count = 0
        self._progress_at = 0.0
        self._preferred = QSize(320, 240)
        self._label: QImage | None = None
        self._label_key: tuple[object, ...] = ()
        self._layout: _Geometry | None = None
        # One painter for every paint: begin() resets its settings, and reusing it spares
        # a wrapper object per frame.
        self._painter = QPainter()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.setMouseTracking(True)  # for the signal bars' tooltip
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._stale_timer = QTimer(self)
        self._stale_timer.setInterval(500)
        self._stale_timer.timeout.connect(self._check_stale)
        self._stale_timer.start()
        self.on_view_changed: Callable[[TrackProfile], None] | None = None
        """Called with :meth:`view_profile` whenever the tile is resized, shown or hidden
        (the call passes it on to the remote video shown here)."""
        self.controls = TileControls(self)

    # --- what the grid pushes in -----------------------------------------------------------

    def set_identity(self, name: str, host: bool) -> None:
        """The member's display name (user_data, else user_id) and whether it is the host."""
        if (name, host) != (self._name, self._host):
            self._name, self._host = name, host
            self._layout = None
            self._update_tooltip()
            self.update()

    def set_muted(self, *, audio: bool | None = None, video: bool | None = None) -> None:
        """Mark the member's microphone and/or camera as muted (None leaves it as it is)."""
        if audio is not None:
            self._audio_muted = audio
        if video is not None:
            self._video_muted = video
            if video:
                self.clear_video()
        self._layout = None
        self.update()

    def set_peer_state(self, state: PeerState | None) -> None:
        """The media path to this member (``peer_state_changed``): while it is RECOVERING or
        FAILED the placeholder says so, instead of looking like a camera that is off."""
        if state is not self._peer_state:
            self._peer_state = state
            self._update_tooltip()
            self.update()

    def set_network_quality(self, quality: NetworkQuality) -> None:
        """The member's link (``network_quality_changed``): the signal bars and tooltip."""
        if quality != self._quality:
            self._quality = quality
            self._bars = None
            self._update_tooltip()
            self.update()

    def set_speaking(self, speaking: bool) -> None:
        """Show or hide the speaking ring."""
        if speaking != self._speaking:
            self._speaking = speaking
            self.update()

    def set_pinned(self, pinned: bool) -> None:
        """Whether this tile is the one pinned on stage (the pin button says Unpin then)."""
        self._pinned = pinned
        self.controls.retranslate()

    def set_full_screen(self, full_screen: bool) -> None:
        """Whether this tile is shown full screen now (its menu offers the way back)."""
        self._full_screen = full_screen

    def show_frame(self, frame: RenderedFrame) -> None:
        """Paint ``frame`` (already scaled to fit this tile) at the next repaint.

        Runs on the GUI thread for every frame, so it only swaps a reference: the ``QImage``
        was built with the pixels (it does not own them: the ``RenderedFrame`` kept here keeps
        them alive). Staleness is judged from ``frames_shown`` by the half-second timer.
        """
        video = self._video
        video.frame = frame
        video.shown += 1
        layout = self._layout
        if layout is not None and layout.frame_w == frame.width and layout.frame_h == frame.height:
            self.update(layout.picture)  # same place as the last frame: repaint only it
        else:
            self.update()

    def clear_video(self) -> None:
        """Show the placeholder until the next frame."""
        if self._video.frame is not None:
            self._video.frame = None
            self.update()

    # --- what tests and the grid read -----------------------------------------------------

    @property
    def name(self) -> str:
        """The name shown on the tile."""
        return self._name

    @property
    def host(self) -> bool:
        """Whether the host badge is shown."""
        return self._host

    @property
    def caption(self) -> str:
        """What the tile's label says: the name, "(you)" on the local tile, "<name>'s screen"
        on a screen share."""
        if self.is_screen:
            return self.tr("{name}'s screen").format(name=self._name)
        return self._name + (self.tr(" (you)") if self.local else "")

    @property
    def signal_bars(self) -> int:
        """Lit signal bars: 0 (not measured yet) to 4 (excellent)."""
        return signal_bars.bars(self._quality)

    @property
    def signal_tooltip(self) -> str:
        """The signal bars' tooltip: sending and receiving grades in words."""
        return signal_bars.describe(self._quality)

    @property
    def network_quality(self) -> NetworkQuality:
        """The link last pushed in."""
        return self._quality

    @property
    def speaking(self) -> bool:
        """Whether the speaking ring is shown."""
        return self._speaking

    @property
    def pinned(self) -> bool:
        """Whether this tile is pinned on stage."""
        return self._pinned

    @property
    def full_screen(self) -> bool:
        """Whether this tile is shown full screen."""
        return self._full_screen

    def context_menu(self) -> QMenu:
        """The tile's menu: Pin / Unpin, Full screen / Exit full screen."""
        return self.controls.menu()

    @property
    def audio_muted(self) -> bool:
        """Whether the microphone-off mark is shown."""
        return self._audio_muted

    @property
    def video_muted(self) -> bool:
        """Whether the camera-off mark is shown."""
        return self._video_muted

    @property
    def peer_state(self) -> PeerState | None:
        """The media path's state last pushed in (None: not known, or the local tile)."""
        return self._peer_state

    @property
    def media_notice(self) -> str:
        """What the placeholder says about the media path ("" while it is fine)."""
        if self._peer_state is PeerState.FAILED:
            return self.tr("Can't connect video with {name}. Their network or yours blocks "
                           "direct calls; the server needs a relay (TURN) — see "
                           "Settings.").format(name=self._name)
        if self._peer_state is PeerState.RECOVERING:
            return self.tr("Reconnecting video…")
        return ""

    @property
    def has_video(self) -> bool:
        """True while a frame (not the placeholder) is shown."""
        return self._video.frame is not None

    @property
    def frames_shown(self) -> int:
        """Frames handed to this tile (for tests and the benchmark)."""
        return self._video.shown

    def current_image(self) -> QImage | None:
        """A copy of the frame shown now, or None while the placeholder shows."""
        frame = self._video.frame
        return None if frame is None else frame.image.copy()

    def box_size(self) -> tuple[int, int]:
        """The tile's size in device pixels: what the renderer scales frames to."""
        ratio = self.devicePixelRatioF()
        return (int(self.width() * ratio), int(self.height() * ratio))

    def view_profile(self) -> TrackProfile:
        """What of a remote video this tile needs: nothing while hidden, the low layer up to
        :data:`LOW_LAYER_WIDTH` device pixels wide, else the full picture."""
        if not self.isVisible():
            return TrackProfile.NONE
        return TrackProfile.HIGH if self.box_size()[0] > LOW_LAYER_WIDTH else TrackProfile.LOW

    def sizeHint(self) -> QSize:
        """The size the grid chose for this tile (4:3; 320x240 until it chose)."""
        return self._preferred

    def set_preferred_size(self, width: int, height: int) -> None:
        """The grid's choice of size for this tile."""
        if (width, height) != (self._preferred.width(), self._preferred.height()):
            self._preferred = QSize(width, height)
            self.updateGeometry()

    # --- painting --------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        """Frame 1:1 (it is pre-scaled off the GUI thread) or placeholder, then the label.

        Runs for every frame, so it only fills the letterbox bars, blits the frame and blits
        the label, which is drawn once into an image whenever it changes (text shaping and
        antialiased shapes cost more than the frame itself).
        """
        painter = self._painter
        painter.begin(self)
        try:
            frame = self._video.frame
            if frame is not None:
                geometry = self._layout
                if geometry is None or geometry.frame_w != frame.width \
                        or geometry.frame_h != frame.height:
                    geometry = self._geometry(frame)
                # A frame-only update covers just the picture: the bars are still on screen.
                if geometry.bars and not geometry.picture.contains(event.rect()):
                    for bar in geometry.bars:
                        painter.fillRect(bar, _BACKGROUND)
                painter.drawImage(geometry.picture_at, frame.image)
                painter.drawImage(geometry.label_at, geometry.label)
                painter.drawImage(geometry.bars_at, self._bars_image())
            else:
                rect = QRectF(self.rect())
                painter.fillRect(rect, _BACKGROUND)
                self._paint_placeholder(painter, rect)
                label = self._label_image(rect.width())
                label_height = label.height() / label.devicePixelRatio()
                painter.drawImage(QPointF(8, rect.height() - 8 - label_height), label)
                painter.drawImage(QPointF(8, 8), self._bars_image())
            if self._speaking:
                # Around the picture, not the letterbox bars; inside it, so a frame-only
                # update (which repaints just the picture) redraws the ring too.
                box = self._layout.picture if frame is not None and self._layout is not None \
                    else self.rect()
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
                painter.setPen(QPen(_SPEAKING, 3))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(QRectF(box).adjusted(1.5, 1.5, -1.5, -1.5))
        finally:
            painter.end()

    def _geometry(self, frame: RenderedFrame) -> _Geometry:
        """Where the picture, the bars around it and the label go, for this tile and frame.

        Cached until the tile's size, the frame's size or the label changes (``_layout`` is
        reset then), so a frame of the same size paints without any layout work.
        """
        ratio = self.devicePixelRatioF()
        w, h = round(frame.width / ratio), round(frame.height / ratio)
        left, top = (self.width() - w) // 2, (self.height() - h) // 2
        picture = QRect(left, top, w, h)
        bars = [QRect(0, 0, left, self.height()),
                QRect(left + w, 0, self.width() - left - w, self.height()),
                QRect(left, 0, w, top),
                QRect(left, top + h, w, self.height() - top - h)]
        label = self._label_image(w)
        label_at = QPointF(left + 8, top + h - 8 - label.height() / label.devicePixelRatio())
        self._layout = _Geometry(frame.width, frame.height, picture, picture.topLeft(),
                                 [b for b in bars if not b.isEmpty()], label, label_at,
                                 QPointF(left + 8, top + 8))
        return self._layout

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Lay the picture out again at the next paint."""
        self._layout = None
        self.controls.place()
        super().resizeEvent(event)
        self._view_changed()

    def showEvent(self, event: QShowEvent) -> None:
        """Shown again: its video is wanted again."""
        super().showEvent(event)
        self._view_changed()

    def hideEvent(self, event: QHideEvent) -> None:
        """Hidden (the window too): no video needed meanwhile."""
        super().hideEvent(event)
        self._view_changed()

    def _view_changed(self) -> None:
        if self.on_view_changed is not None:
            self.on_view_changed(self.view_profile())

    def enterEvent(self, event: QEnterEvent) -> None:
        """Show the pin button while the pointer is over the tile."""
        self.controls.hover(True)
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        """Hide the pin button again."""
        self.controls.hover(False)
        if self._over_bars:
            self._over_bars = False
            self._update_tooltip()
        super().leaveEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """A double-click shows the tile full screen (or leaves full screen)."""
        if event.button() == Qt.MouseButton.LeftButton:
            self.full_screen_toggled.emit(self.key)
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """The tile's menu at the pointer."""
        self.context_menu().exec(event.globalPos())

    def changeEvent(self, event: QEvent) -> None:
        """Redraw the label in the new language."""
        if event.type() == QEvent.Type.LanguageChange:
            self._label = None
            self._layout = None
            self._bars = None
            self._update_tooltip()
            self.controls.retranslate()
            self.update()
        super().changeEvent(event)

    def _paint_placeholder(self, painter: QPainter, rect: QRectF) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(rect.adjusted(2, 2, -2, -2), _PLACEHOLDER)
        notice = self.media_notice
        diameter = max(24.0, min(rect.width(), rect.height()) * (0.22 if notice else 0.36))
        centre_y = rect.center().y() - 8 - (diameter * 0.6 if notice else 0)
        circle = QRectF(rect.center().x() - diameter / 2, centre_y - diameter / 2,
                        diameter, diameter)
        colour = _AVATAR_COLOURS[sum(map(ord, self.user_id)) % len(_AVATAR_COLOURS)]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(colour))
        painter.drawEllipse(circle)
        font = QFont(self.font())
        font.setPixelSize(int(diameter * 0.42))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(circle, Qt.AlignmentFlag.AlignCenter, _initials(self._name))
        if notice and self._peer_state is not None:
            text_font = QFont(self.font())
            text_font.setPixelSize(13)
            painter.setFont(text_font)
            painter.setPen(_NOTICE_COLOURS[self._peer_state])
            box = QRectF(rect.left() + 12, circle.bottom() + 8, rect.width() - 24,
                         rect.bottom() - 40 - circle.bottom())
            painter.drawText(box, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                                      | Qt.TextFlag.TextWordWrap), notice)

    def _label_image(self, max_width: float) -> QImage:
        screen = self.is_screen
        key = (self._name, self._host, self._audio_muted and not screen,
               self._video_muted and not screen, int(max_width))
        if self._label is not None and self._label_key == key:
            return self._label
        font = QFont(self.font())
        font.setPixelSize(13)
        metrics = QFontMetrics(font)
        text = metrics.elidedText(self.caption, Qt.TextElideMode.ElideRight,
                                  int(max_width * 0.6))
        badge = self.tr("HOST") if self._host and not screen else ""
        audio_muted, video_muted = key[2], key[3]
        icons = int(bool(audio_muted)) + int(bool(video_muted))
        width = metrics.horizontalAdvance(text) + 16 + icons * 22
        if badge:
            width += metrics.horizontalAdvance(badge) + 14
        ratio = self.devicePixelRatioF()
        image = QImage(int((width + 1) * ratio), int(24 * ratio),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(font)
        pill = QRectF(0, 0, width, 24)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(pill, 12, 12)
        x = pill.left() + 8
        if badge:
            badge_rect = QRectF(x, pill.top() + 4, metrics.horizontalAdvance(badge) + 8, 16)
            painter.setBrush(_BADGE)
            painter.drawRoundedRect(badge_rect, 4, 4)
            small = QFont(font)
            small.setPixelSize(10)
            small.setBold(True)
            painter.setFont(small)
            painter.setPen(QColor("#1b1b1b"))
            painter.drawText(badge_rect, Qt.AlignmentFlag.AlignCenter, badge)
            painter.setFont(font)
            x = badge_rect.right() + 6
        painter.setPen(QColor("white"))
        text_rect = QRectF(x, pill.top(), metrics.horizontalAdvance(text) + 2, pill.height())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, text)
        x = text_rect.right() + 6
        if audio_muted:
            _paint_mic_off(painter, QPointF(x + 8, pill.center().y()))
            x += 22
        if video_muted:
            _paint_camera_off(painter, QPointF(x + 8, pill.center().y()))
        painter.end()
        self._label, self._label_key = image, key
        return image

    def _bars_image(self) -> QImage:
        if self._bars is None:
            self._bars = signal_bars.bars_image(self.signal_bars, self.devicePixelRatioF())
        return self._bars

    def _update_tooltip(self) -> None:
        self.setToolTip(self.signal_tooltip if self._over_bars else self.media_notice)

    def bars_rect(self) -> QRect:
        """Where the signal bars are painted now (their tooltip shows over it)."""
        geometry = self._layout
        at = geometry.bars_at if geometry is not None and self._video.frame is not None \
            else QPointF(8, 8)
        return QRect(at.toPoint(), QSize(*signal_bars.SIZE))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Over the signal bars the tooltip says both directions of the link in words;
        elsewhere what is wrong with the media path, if anything. (Mouse moves, not an
        ``event()`` override: that would put every paint event of every frame through
        Python once more.)"""
        over = self.bars_rect().contains(event.position().toPoint())
        if over != self._over_bars:
            self._over_bars = over
            self._update_tooltip()
        super().mouseMoveEvent(event)

    def _check_stale(self) -> None:
        video, now = self._video, time.monotonic()
        if video.shown != self._stale_count:
            self._stale_count, self._progress_at = video.shown, now
        elif video.frame is not None and now - self._progress_at > STALE_SECONDS:
            self.clear_video()


def _initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").replace("_", " ").split() if w]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper() if words[0].isascii() else words[0][:1]
    return (words[0][:1] + words[1][:1]).upper()


def _paint_mic_off(painter: QPainter, c: QPointF) -> None:
    pen = QPen(_MUTED, 1.8)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(QRectF(c.x() - 3, c.y() - 8, 6, 10), 3, 3)
    path = QPainterPath()
    path.moveTo(c.x() - 6, c.y() - 1)
    path.cubicTo(c.x() - 6, c.y() + 6, c.x() + 6, c.y() + 6, c.x() + 6, c.y() - 1)
    painter.drawPath(path)
    painter.drawLine(QPointF(c.x(), c.y() + 4), QPointF(c.x(), c.y() + 8))
    painter.drawLine(QPointF(c.x() - 7, c.y() - 8), QPointF(c.x() + 7, c.y() + 8))


def _paint_camera_off(painter: QPainter, c: QPointF) -> None:
    pen = QPen(_MUTED, 1.8)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(QRectF(c.x() - 8, c.y() - 5, 11, 10), 2, 2)
    path = QPainterPath()
    path.moveTo(c.x() + 3, c.y() - 1)
    path.lineTo(c.x() + 8, c.y() - 4)
    path.lineTo(c.x() + 8, c.y() + 4)
    path.lineTo(c.x() + 3, c.y() + 1)
    painter.drawPath(path)
    painter.drawLine(QPointF(c.x() - 8, c.y() - 8), QPointF(c.x() + 8, c.y() + 8))
