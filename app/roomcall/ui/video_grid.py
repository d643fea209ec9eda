"""The video grid: the local preview and one tile per remote member, laid out to fill space."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette, QResizeEvent
from PySide6.QtWidgets import QGridLayout, QWidget

from roomcall.ui.video_tile import VideoTile

TILE_ASPECT = 4 / 3


def best_columns(count: int, width: int, height: int, aspect: float = TILE_ASPECT) -> int:
    """The column count that gives ``count`` tiles of ``aspect`` the largest size.

    >>> best_columns(2, 1200, 500), best_columns(2, 500, 900), best_columns(4, 1000, 750)
    (2, 1, 2)
    """
    if count <= 1:
        return 1
    best, best_area = 1, -1.0
    for cols in range(1, count + 1):
        rows = math.ceil(count / cols)
        cell_w, cell_h = width / cols, height / rows
        tile_w = min(cell_w, cell_h * aspect)
        area = tile_w * (tile_w / aspect)
        if area > best_area + 1e-6:
            best, best_area = cols, area
    return best


class VideoGrid(QWidget):
    """Tiles by user id; the local tile (if any) comes first, remote tiles in join order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tiles: dict[str, VideoTile] = {}
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self._layout.setSpacing(8)
        self._columns = 0
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("#15161a"))
        self.setPalette(palette)
        self.setAutoFillBackground(True)

    def add_tile(self, user_id: str, *, local: bool = False) -> VideoTile:
        """The tile for ``user_id``, created if it does not exist yet."""
        tile = self._tiles.get(user_id)
        if tile is None:
            tile = VideoTile(user_id, local=local, parent=self)
            if local:
                self._tiles = {user_id: tile, **self._tiles}
            else:
                self._tiles[user_id] = tile
            self._relayout(force=True)
        return tile

    def remove_tile(self, user_id: str) -> None:
        """Drop ``user_id``'s tile (nothing happens if there is none)."""
        tile = self._tiles.pop(user_id, None)
        if tile is not None:
            self._layout.removeWidget(tile)
            tile.deleteLater()
            self._relayout(force=True)

    def tile(self, user_id: str) -> VideoTile | None:
        """``user_id``'s tile, or None."""
        return self._tiles.get(user_id)

    def tiles(self) -> list[VideoTile]:
        """All tiles in display order."""
        return list(self._tiles.values())

    def clear(self) -> None:
        """Remove every tile."""
        for user_id in list(self._tiles):
            self.remove_tile(user_id)

    @property
    def columns(self) -> int:
        """Columns of the current layout."""
        return self._columns

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-choose the column count and the tile size for the new size."""
        super().resizeEvent(event)
        self._relayout()
        self._size_tiles()

    def _relayout(self, force: bool = False) -> None:
        tiles = list(self._tiles.values())
        cols = best_columns(len(tiles), max(1, self.width()), max(1, self.height()))
        if cols == self._columns and not force:
            return
        self._columns = cols
        for tile in tiles:
            self._layout.removeWidget(tile)
        for index in range(self._layout.columnCount()):
            self._layout.setColumnStretch(index, 0)
        for index in range(self._layout.rowCount()):
            self._layout.setRowStretch(index, 0)
        rows = max(1, math.ceil(len(tiles) / cols))
        for index, tile in enumerate(tiles):
            row, col = divmod(index, cols)
            self._layout.addWidget(tile, row, col)
            tile.show()
        for col in range(cols):
            self._layout.setColumnStretch(col, 1)
        for row in range(rows):
            self._layout.setRowStretch(row, 1)
        self._size_tiles()

    def _size_tiles(self) -> None:
        """Give every tile the largest 4:3 size its cell allows, centred in the cell."""
        tiles = list(self._tiles.values())
        if not tiles or self._columns == 0:
            return
        rows = math.ceil(len(tiles) / self._columns)
        margins = self._layout.contentsMargins()
        spacing = self._layout.spacing()
        cell_w = (self.width() - margins.left() - margins.right()
                  - spacing * (self._columns - 1)) / self._columns
        cell_h = (self.height() - margins.top() - margins.bottom() - spacing * (rows - 1)) / rows
        tile_w = max(160, int(min(cell_w, cell_h * TILE_ASPECT)))
        tile_h = max(120, int(tile_w / TILE_ASPECT))
        for tile in tiles:
            # A size hint, not a fixed size: the minimum stays small so windows may shrink.
            tile.set_preferred_size(tile_w, tile_h)
            self._layout.setAlignment(tile, Qt.AlignmentFlag.AlignCenter)
