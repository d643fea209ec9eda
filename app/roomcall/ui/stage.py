"""The stage layout: one large tile, the other tiles in a strip below that scrolls."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QScrollBar, QVBoxLayout, QWidget

from roomcall.ui.video_tile import VideoTile

STRIP_TILE = (160, 120)
"""Size of a tile in the strip (4:3, as camera tiles)."""
_QWIDGETSIZE_MAX = 16_777_215


class StageLayout(QWidget):
    """Shows :meth:`arrange`'s large tile over a horizontal strip of the others.

    The strip is as tall as one strip tile (plus its scroll bar) and scrolls sideways when the
    tiles do not fit; it is hidden when the large tile is the only one.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._main: VideoTile | None = None
        self._others: list[VideoTile] = []
        self._main_box = QVBoxLayout()
        self._main_box.setContentsMargins(0, 0, 0, 0)
        self._strip_row = QHBoxLayout()
        self._strip_row.setContentsMargins(0, 0, 0, 0)
        self._strip_row.setSpacing(8)
        self._strip_row.addStretch(1)  # the strip's tiles go between the two stretches
        self._strip_row.addStretch(1)
        row = QWidget()
        row.setLayout(self._strip_row)
        row.setAutoFillBackground(False)
        self.strip = QScrollArea(self)
        """The strip of the other tiles."""
        self.strip.setWidget(row)
        self.strip.setWidgetResizable(True)
        self.strip.setFrameShape(QFrame.Shape.NoFrame)
        self.strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.strip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.strip.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget "
                                 "{ background: transparent; }")
        self.strip.setFixedHeight(STRIP_TILE[1] + self.strip.horizontalScrollBar().sizeHint()
                                  .height() + 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        layout.addLayout(self._main_box, 1)
        layout.addWidget(self.strip)
        self.strip.hide()

    @property
    def main(self) -> VideoTile | None:
        """The large tile, or None while nothing is on stage."""
        return self._main

    @property
    def others(self) -> list[VideoTile]:
        """The strip's tiles, in order."""
        return list(self._others)

    def scroll_bar(self) -> QScrollBar:
        """The strip's scroll bar (its maximum is above 0 when the strip overflows)."""
        return self.strip.horizontalScrollBar()

    def arrange(self, main: VideoTile, others: Sequence[VideoTile]) -> None:
        """Show ``main`` large and ``others`` in the strip (taking them from wherever they
        were)."""
        self.release()
        self._main, self._others = main, list(others)
        _unfix(main)
        self._main_box.addWidget(main)
        main.show()
        for index, tile in enumerate(self._others):
            tile.setFixedSize(*STRIP_TILE)
            self._strip_row.insertWidget(index + 1, tile)
            tile.show()
        self.strip.setVisible(bool(self._others))

    def release(self) -> list[VideoTile]:
        """Take every tile out of this layout (they keep their parent until re-laid out);
        returns them."""
        tiles = ([self._main] if self._main is not None else []) + self._others
        for tile in tiles:
            self._main_box.removeWidget(tile)
            self._strip_row.removeWidget(tile)
            _unfix(tile)
        self._main, self._others = None, []
        self.strip.hide()
        return tiles


def _unfix(tile: VideoTile) -> None:
    """Undo a strip's fixed size: the tile may grow again (the grid sizes it by hint)."""
    tile.setMinimumSize(*STRIP_TILE)
    tile.setMaximumSize(_QWIDGETSIZE_MAX, _QWIDGETSIZE_MAX)
