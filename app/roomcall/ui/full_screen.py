"""One tile on its own, full screen, until the person presses Esc (or double-clicks it)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

from roomcall.ui.video_tile import VideoTile


class FullScreenView(QWidget):
    """A top-level window holding one tile, shown full screen.

    The tile is borrowed: :meth:`take_back` removes it from this window's layout so its owner
    can lay it out again; the owner does that when ``left`` fires.

    Signals:
        left(): the person left full screen (Esc, or the window was closed).
    """

    left = Signal()

    def __init__(self, tile: VideoTile) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.tile: VideoTile | None = tile
        self.setWindowTitle(tile.caption)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("#000000"))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(tile)
        tile.show()
        self._done = False

    def open(self) -> None:
        """Show full screen, with the keyboard focus (for Esc)."""
        self.showFullScreen()
        self.activateWindow()
        self.setFocus()

    def take_back(self) -> VideoTile | None:
        """Remove the tile from this window (None if it was taken already)."""
        tile, self.tile = self.tile, None
        if tile is not None:
            layout = self.layout()
            if layout is not None:
                layout.removeWidget(tile)
        return tile

    def leave(self) -> None:
        """Leave full screen: ``left`` fires once, then the window closes."""
        if not self._done:
            self._done = True
            self.left.emit()
        self.close()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc leaves full screen."""
        if event.key() == Qt.Key.Key_Escape:
            self.leave()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window (the window manager's button) leaves full screen too."""
        if not self._done:
            self._done = True
            self.left.emit()
        super().closeEvent(event)
