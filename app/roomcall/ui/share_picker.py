"""The Share screen dialog (screens and windows, frame rate, size) and the sharing banner."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from roomcall.media.screen import ShareSettings
from roomcall.media.screen_targets import ShareTarget, UnavailableReason

FRAME_RATES = (5, 10, 15, 30)
"""Frame rates offered, frames/s (15 by default: text and slides need no more)."""
SIZES = ((1920, 1080), (1280, 720), (960, 540))
"""Largest sizes offered, the first by default (the picture keeps its aspect within)."""
THUMBNAIL = QSize(192, 108)
"""Largest thumbnail of a screen or window in the list."""
_TARGET_ROLE = Qt.ItemDataRole.UserRole


def unavailable_text(reason: UnavailableReason) -> str:
    """Why sharing cannot work here, in the person's language, with what to do."""
    tr = QCoreApplication
    texts = {
        UnavailableReason.WAYLAND: tr.translate(
            "SharePicker", "Screen sharing needs an X11 session. On Wayland only the desktop's "
            "screen-sharing portal can capture the screen, and roomcall cannot use it yet: "
            "choose an \"Xorg\" or \"X11\" session at login to share."),
        UnavailableReason.NO_DISPLAY: tr.translate(
            "SharePicker", "There is no X11 display to capture (DISPLAY is not set)."),
        UnavailableReason.NO_GRABBER: tr.translate(
            "SharePicker", "This build of roomcall has no screen capture for this system."),
        UnavailableReason.PLATFORM: tr.translate(
            "SharePicker", "Screen sharing is not supported on this operating system."),
    }
    return texts[reason]


class SharePicker(QDialog):
    """Pick a screen or window to share, its frame rate and largest size.

    Shows ``problem`` (why sharing is unavailable) instead of a list when it is not empty.

    Signals:
        chosen(target, settings): the person pressed Share.
    """

    chosen = Signal(object, object)

    def __init__(self, targets: Sequence[ShareTarget], problem: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModal(True)
        self.resize(460, 420)
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        if not problem and not targets:
            problem = self.tr("Nothing to share was found on this display.")
        self.problem = QLabel(problem, self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#d9453f;")
        self.problem.setVisible(bool(problem))
        self.targets = QListWidget(self)
        self.targets.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.targets.setIconSize(THUMBNAIL)
        self._screens_header = self._header()
        for target in (t for t in targets if t.kind == "screen"):
            self._add(target)
        self._windows_header = self._header() if any(t.kind == "window" for t in targets) \
            else None
        for target in (t for t in targets if t.kind == "window"):
            self._add(target)
        self.fps_picker = QComboBox(self)
        for fps in FRAME_RATES:
            self.fps_picker.addItem("", fps)
        self.fps_picker.setCurrentIndex(FRAME_RATES.index(ShareSettings().fps))
        self.size_picker = QComboBox(self)
        for size in SIZES:
            self.size_picker.addItem("", size)
        self._form = QFormLayout()
        self._fps_label, self._size_label = QLabel(self), QLabel(self)
        self._form.addRow(self._fps_label, self.fps_picker)
        self._form.addRow(self._size_label, self.size_picker)
        self.buttons = QDialogButtonBox(self)
        self.share_button = self.buttons.addButton("", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton("", QDialogButtonBox.ButtonRole.RejectRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.problem)
        layout.addWidget(self.targets, 1)
        layout.addLayout(self._form)
        layout.addWidget(self.buttons)
        usable = not problem and self.targets.count() > 1
        for widget in (self.targets, self.fps_picker, self.size_picker, self.share_button):
            widget.setEnabled(usable)
        self.targets.setVisible(not problem)
        first = next((i for i in range(self.targets.count())
                      if self.targets.item(i).data(_TARGET_ROLE) is not None), None)
        if first is not None:
            self.targets.setCurrentRow(first)
        self.targets.itemDoubleClicked.connect(lambda _item: self._accept())
        self.targets.currentItemChanged.connect(lambda *_: self._update_share_button())
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self._retranslate()

    def selected(self) -> ShareTarget | None:
        """The highlighted screen or window."""
        item = self.targets.currentItem()
        target = item.data(_TARGET_ROLE) if item is not None else None
        return target if isinstance(target, ShareTarget) else None

    def select(self, target_id: str) -> None:
        """Highlight the target with ``target_id``."""
        for row in range(self.targets.count()):
            target = self.targets.item(row).data(_TARGET_ROLE)
            if isinstance(target, ShareTarget) and target.id == target_id:
                self.targets.setCurrentRow(row)

    def set_thumbnail(self, target_id: str, rgb: npt.NDArray[np.uint8]) -> None:
        """Show ``rgb`` (an ``(h, w, 3)`` picture) beside the target with ``target_id``."""
        height, width, _ = rgb.shape
        data = np.ascontiguousarray(rgb)
        # QImage does not own the array's memory: copy into a pixmap while it is alive.
        image = QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        icon = QIcon(QPixmap.fromImage(image.copy()))
        for row in range(self.targets.count()):
            item = self.targets.item(row)
            target = item.data(_TARGET_ROLE)
            if isinstance(target, ShareTarget) and target.id == target_id:
                item.setIcon(icon)

    def thumbnail_count(self) -> int:
        """Targets shown with a thumbnail."""
        return sum(1 for row in range(self.targets.count())
                   if not self.targets.item(row).icon().isNull())

    def settings(self) -> ShareSettings:
        """The frame rate and largest size picked."""
        width, height = self.size_picker.currentData()
        return ShareSettings(fps=int(self.fps_picker.currentData()), max_width=int(width),
                             max_height=int(height))

    def _accept(self) -> None:
        target = self.selected()
        if target is None or not self.share_button.isEnabled():
            return
        self.chosen.emit(target, self.settings())
        self.accept()

    def _header(self) -> QListWidgetItem:
        item = QListWidgetItem(self.targets)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        return item

    def _add(self, target: ShareTarget) -> None:
        item = QListWidgetItem(self.targets)
        item.setData(_TARGET_ROLE, target)
        item.setToolTip(target.name)

    def _update_share_button(self) -> None:
        self.share_button.setEnabled(not self.problem.text() and self.selected() is not None)

    def changeEvent(self, event: QEvent) -> None:
        """Retranslate when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self.setWindowTitle(self.tr("Share screen"))
        self.intro.setText(self.tr("Choose a screen or a window to show everyone in the call."))
        self._screens_header.setText(self.tr("Screens"))
        if self._windows_header is not None:
            self._windows_header.setText(self.tr("Windows"))
        for row in range(self.targets.count()):
            item = self.targets.item(row)
            target = item.data(_TARGET_ROLE)
            if isinstance(target, ShareTarget):
                item.setText(self._describe(target))
        for index, fps in enumerate(FRAME_RATES):
            self.fps_picker.setItemText(index, self.tr("{fps} frames/s").format(fps=fps))
        for index, (width, height) in enumerate(SIZES):
            self.size_picker.setItemText(index, self.tr("Up to {width}×{height}").format(
                width=width, height=height))
        self._fps_label.setText(self.tr("Frame rate"))
        self._size_label.setText(self.tr("Size"))
        self.share_button.setText(self.tr("Share"))
        self.cancel_button.setText(self.tr("Close") if self.problem.text()
                                   else self.tr("Cancel"))

    def _describe(self, target: ShareTarget) -> str:
        if target.kind == "window":
            return target.name
        name = self.tr("All screens") if target.id == "screen:all" else target.name
        if target.width and target.height:
            return self.tr("{name} ({width}×{height})").format(
                name=name, width=target.width, height=target.height)
        return name


class ShareBanner(QFrame):
    """"You are sharing your screen" with a Stop button, shown while sharing.

    Signals:
        stop_requested(): the person pressed Stop.
    """

    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shareBanner")
        self.setStyleSheet("#shareBanner { background:#2f6fd6; border-radius:4px; }"
                           "QLabel { color:white; font-weight:bold; }")
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.stop_button = QPushButton(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.stop_button)
        self.stop_button.clicked.connect(self.stop_requested)
        self._window = ""
        self._retranslate()

    def show_target(self, target: ShareTarget) -> None:
        """Say what is shared (a window by its title)."""
        self._window = target.name if target.kind == "window" else ""
        self._retranslate()

    def changeEvent(self, event: QEvent) -> None:
        """Retranslate when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        if self._window:
            self.text.setText(self.tr("You are sharing a window: {title}").format(
                title=self._window))
        else:
            self.text.setText(self.tr("You are sharing your screen"))
        self.stop_button.setText(self.tr("Stop"))
