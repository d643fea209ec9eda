"""A tile's own controls: the pin button shown on hover, and its context menu."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu, QToolButton

if TYPE_CHECKING:
    from roomcall.ui.video_tile import VideoTile


class TileControls(QObject):
    """The pin button in the tile's top right corner (visible while the pointer is over the
    tile, or while the tile is pinned) and the menu of the tile; both only emit the tile's
    ``pin_toggled`` / ``full_screen_toggled``."""

    def __init__(self, tile: VideoTile) -> None:
        super().__init__(tile)
        self._tile = tile
        self.pin_button = QToolButton(tile)
        """Pin / Unpin."""
        self.pin_button.setAutoRaise(False)
        self.pin_button.setStyleSheet(
            "QToolButton { background: rgba(0,0,0,160); color: white; border: none;"
            " border-radius: 4px; padding: 2px 8px; font-size: 12px; }"
            "QToolButton:hover { background: rgba(60,60,60,220); }")
        self.pin_button.clicked.connect(lambda: tile.pin_toggled.emit(tile.key))
        self.pin_button.hide()
        self.retranslate()

    def hover(self, inside: bool) -> None:
        """The pointer entered (True) or left the tile."""
        self.pin_button.setVisible(inside or self._tile.pinned)
        if inside:
            self.pin_button.raise_()

    def place(self) -> None:
        """Keep the button in the top right corner."""
        button = self.pin_button
        button.adjustSize()
        button.move(self._tile.width() - button.width() - 8, 8)

    def retranslate(self) -> None:
        """Texts in the current language, for the tile's pin state."""
        tile = self._tile
        self.pin_button.setText(self.tr("Unpin") if tile.pinned else self.tr("Pin"))
        self.pin_button.setToolTip(self.tr("Keep this tile on stage") if not tile.pinned
                                   else self.tr("Let the view choose what is on stage"))
        self.pin_button.setVisible(self.pin_button.underMouse() or tile.pinned)
        self.place()

    def menu(self) -> QMenu:
        """A new menu for the tile (the caller shows it; it is deleted with the tile)."""
        tile = self._tile
        menu = QMenu(tile)
        pin = menu.addAction(self.tr("Unpin") if tile.pinned else self.tr("Pin"))
        pin.triggered.connect(lambda: tile.pin_toggled.emit(tile.key))
        full = menu.addAction(self.tr("Exit full screen") if tile.full_screen
                              else self.tr("Full screen"))
        full.triggered.connect(lambda: tile.full_screen_toggled.emit(tile.key))
        menu.aboutToHide.connect(menu.deleteLater)
        return menu
