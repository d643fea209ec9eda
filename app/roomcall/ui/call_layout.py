"""How a call is laid out and marked: what is on stage, who speaks, each member's link.

The call session feeds it what the SDK says (tiles changed, levels, grades); it keeps the
person's choices (``roomcall.ui.spotlight``) and who speaks (``roomcall.ui.speaking``), and
pushes the outcome into the grid, the member list and the view switch.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from PySide6.QtCore import QObject

from roomcall.sdk import NetworkQuality
from roomcall.ui.room_panel import RoomPanel
from roomcall.ui.speaking import Speaking
from roomcall.ui.spotlight import Spotlight, ViewMode
from roomcall.ui.video_grid import VideoGrid
from roomcall.ui.view_switch import ViewSwitch


class CallLayout(QObject):
    """The stage, the speaking rings and the signal bars of one call."""

    def __init__(self, grid: VideoGrid, panel: RoomPanel, view_switch: ViewSwitch | None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._grid = grid
        self._panel = panel
        self._switch = view_switch
        self.spotlight = Spotlight()
        """The person's view and pin: what the grid puts on stage."""
        self.speaking = Speaking()
        """Who speaks, from the SDK's volume indication."""
        if view_switch is not None:
            view_switch.show_mode(ViewMode.GRID, sharing=False)

    def update(self) -> None:
        """The tiles changed: tell the spotlight what there is, lay the grid out as it
        decides."""
        grid = self._grid
        self.spotlight.update(tiles=grid.keys(), screens=[t.key for t in grid.screen_tiles()],
                              speaker=self.speaking.active_speaker)
        self._show_stage()

    def toggle_pin(self, key: str) -> None:
        """Pin the tile ``key`` on stage, or unpin it."""
        self.spotlight.toggle_pin(key)
        self._show_stage()

    def choose_view(self, mode: ViewMode) -> None:
        """The person picked a view on the switch."""
        self.spotlight.choose(mode)
        self._show_stage()

    def show_levels(self, levels: Mapping[str, float], local: str) -> None:
        """A ``volume_indication``: the ring on whoever speaks, and the speaker view following
        the active speaker (never ``local``)."""
        before = self.speaking.active_speaker
        self.speaking.feed(levels, time.monotonic(), local=local)
        speaking = self.speaking.speaking
        for tile in self._grid.tiles():
            tile.set_speaking(not tile.is_screen and tile.user_id in speaking)
        for user_id in self._panel.member_ids():
            self._panel.set_member_speaking(user_id, user_id in speaking)
        if self.speaking.active_speaker != before:
            self.update()

    def show_network_quality(self, user_id: str, quality: NetworkQuality) -> None:
        """A ``network_quality_changed``: the signal bars of ``user_id``'s tiles."""
        for tile in self._grid.tiles():
            if tile.user_id == user_id:
                tile.set_network_quality(quality)

    def forget(self, user_id: str) -> None:
        """``user_id`` left: it speaks no more (its tiles are gone already)."""
        self.speaking.forget([user_id])
        self.update()

    def forget_others(self, local: str) -> None:
        """Every remote member is gone (the session that knew them ended)."""
        self.speaking.forget([u for u in self.speaking.speaking if u != local])
        self.update()

    def _show_stage(self) -> None:
        spotlight = self.spotlight
        self._grid.set_stage(spotlight.stage)
        for tile in self._grid.tiles():
            if tile.pinned != (tile.key == spotlight.pinned):
                tile.set_pinned(tile.key == spotlight.pinned)
        if self._switch is not None:
            self._switch.show_mode(spotlight.mode, sharing=spotlight.sharing)
