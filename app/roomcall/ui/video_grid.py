"""The call's tiles: the local preview, one tile per remote member and one per remote screen
share, laid out as a grid that fills the space or as a stage (one large tile over a strip)."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette, QResizeEvent
from PySide6.QtWidgets import QGridLayout, QStackedLayout, QWidget

from roomcall.ui.full_screen import FullScreenView
from roomcall.ui.stage import StageLayout
from roomcall.ui.video_tile import VideoTile

TILE_ASPECT = 4 / 3


def screen_key(user_id: str, track_id: str) -> str:
    """The grid's key of ``user_id``'s screen share ``track_id`` (camera tiles use the user
    id).

    >>> screen_key("bob", "t7")
    'bob/t7'
    """
    return f"{user_id}/{track_id}"


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
    """Tiles by key; the local tile (if any) comes first, then the others in arrival order.

    :meth:`set_stage` chooses the layout: None for the grid, a tile's key for the stage with
    that tile large. :meth:`show_full_screen` lends one tile to a full-screen window until the
    person leaves it. The grid only lays tiles out: what goes on stage is decided elsewhere
    (``roomcall.ui.spotlight``).

    Signals:
        pin_requested(key): a tile's pin button or menu was used.
        full_screen_changed(key): a tile went full screen, or "" once full screen was left.
    """

    pin_requested = Signal(str)
    full_screen_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tiles: dict[str, VideoTile] = {}
        self._stage_key: str | None = None
        self._full_screen: FullScreenView | None = None
        self._grid_page = QWidget(self)
        self._layout = QGridLayout(self._grid_page)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self._layout.setSpacing(8)
        self.stage = StageLayout(self)
        """The stage layout (shown while a tile is on stage)."""
        self._pages = QStackedLayout(self)
        self._pages.addWidget(self._grid_page)
        self._pages.addWidget(self.stage)
        self._columns = 0
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("#15161a"))
        self.setPalette(palette)
        self.setAutoFillBackground(True)

    def add_tile(self, user_id: str, *, local: bool = False) -> VideoTile:
        """The camera tile for ``user_id``, created if it does not exist yet."""
        tile = self._tiles.get(user_id)
        if tile is None:
            tile = self._add(VideoTile(user_id, local=local, parent=self), first=local)
        return tile

    def add_screen_tile(self, user_id: str, track_id: str) -> VideoTile:
        """The tile of ``user_id``'s screen share ``track_id``, created if need be."""
        key = screen_key(user_id, track_id)
        tile = self._tiles.get(key)
        if tile is None:
            tile = self._add(VideoTile(user_id, key=key, screen=True, parent=self))
        return tile

    def _add(self, tile: VideoTile, first: bool = False) -> VideoTile:
        if first:
            self._tiles = {tile.key: tile, **self._tiles}
        else:
            self._tiles[tile.key] = tile
        tile.pin_toggled.connect(self.pin_requested)
        tile.full_screen_toggled.connect(self._toggle_full_screen)
        self._relayout(force=True)
        return tile

    def remove_tile(self, key: str) -> None:
        """Drop the tile ``key`` (nothing happens if there is none)."""
        tile = self._tiles.pop(key, None)
        if tile is None:
            return
        if self._full_screen is not None and self._full_screen.tile is tile:
            self.leave_full_screen()
        if key == self._stage_key:
            self._stage_key = None
        self.stage.release()
        self._layout.removeWidget(tile)
        tile.hide()
        tile.deleteLater()
        self._relayout(force=True)

    def remove_user(self, user_id: str) -> None:
        """Drop every tile of ``user_id`` (camera and screen shares)."""
        for key in [k for k, t in self._tiles.items() if t.user_id == user_id]:
            self.remove_tile(key)

    def tile(self, key: str) -> VideoTile | None:
        """The tile ``key`` (a user id for a camera tile, :func:`screen_key` for a share)."""
        return self._tiles.get(key)

    def tiles(self) -> list[VideoTile]:
        """All tiles in display order."""
        return list(self._tiles.values())

    def keys(self) -> list[str]:
        """All tiles' keys in display order."""
        return list(self._tiles)

    def screen_tiles(self, user_id: str | None = None) -> list[VideoTile]:
        """The screen share tiles (of ``user_id`` only, if given), oldest first."""
        return [t for t in self._tiles.values()
                if t.is_screen and (user_id is None or t.user_id == user_id)]

    def clear(self) -> None:
        """Remove every tile."""
        for key in list(self._tiles):
            self.remove_tile(key)

    # --- layout ----------------------------------------------------------------------------

    @property
    def columns(self) -> int:
        """Columns of the grid layout."""
        return self._columns

    @property
    def stage_key(self) -> str | None:
        """The key of the tile on stage, or None while the grid shows."""
        return self._stage_key

    def set_stage(self, key: str | None) -> None:
        """Put the tile ``key`` on stage, or show the grid (None, or an unknown key)."""
        key = key if key in self._tiles else None
        if key != self._stage_key:
            self._stage_key = key
            self._relayout(force=True)

    # --- full screen -----------------------------------------------------------------------

    @property
    def full_screen_key(self) -> str | None:
        """The key of the tile shown full screen, or None."""
        view = self._full_screen
        return view.tile.key if view is not None and view.tile is not None else None

    @property
    def full_screen_view(self) -> FullScreenView | None:
        """The full-screen window while one is open."""
        return self._full_screen

    def show_full_screen(self, key: str) -> None:
        """Show the tile ``key`` full screen (another one shown so goes back first)."""
        tile = self._tiles.get(key)
        if tile is None or self.full_screen_key == key:
            return
        self.leave_full_screen()
        self.stage.release()
        self._layout.removeWidget(tile)
        view = FullScreenView(tile)
        view.left.connect(self.leave_full_screen)
        self._full_screen = view
        tile.set_full_screen(True)
        self._relayout(force=True)
        view.open()
        self.full_screen_changed.emit(key)

    def leave_full_screen(self) -> None:
        """Bring the full-screen tile back (nothing happens if none is)."""
        view, self._full_screen = self._full_screen, None
        if view is None:
            return
        tile = view.take_back()
        view.leave()
        view.deleteLater()
        if tile is not None:
            tile.set_full_screen(False)
            tile.setParent(self)
            self._relayout(force=True)
        self.full_screen_changed.emit("")

    def _toggle_full_screen(self, key: str) -> None:
        if self.full_screen_key == key:
            self.leave_full_screen()
        else:
            self.show_full_screen(key)

    # --- Qt --------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-choose the column count and the tile size for the new size."""
        super().resizeEvent(event)
        self._relayout()
        self._size_tiles()

    def _laid_out(self) -> list[VideoTile]:
        """The tiles this widget shows (all but the one lent to full screen)."""
        lent = self._full_screen.tile if self._full_screen is not None else None
        return [t for t in self._tiles.values() if t is not lent]

    def _relayout(self, force: bool = False) -> None:
        tiles = self._laid_out()
        main = self._tiles.get(self._stage_key) if self._stage_key is not None else None
        if main is not None and main in tiles:
            if not force and self.stage.main is main:
                return
            for tile in tiles:
                self._layout.removeWidget(tile)
            self.stage.arrange(main, [t for t in tiles if t is not main])
            self._pages.setCurrentWidget(self.stage)
            self._columns = 0
            return
        cols = best_columns(len(tiles), max(1, self.width()), max(1, self.height()))
        if cols == self._columns and not force:
            return
        self.stage.release()
        self._pages.setCurrentWidget(self._grid_page)
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
        """Give every grid tile the largest 4:3 size its cell allows, centred in the cell."""
        tiles = self._laid_out()
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
