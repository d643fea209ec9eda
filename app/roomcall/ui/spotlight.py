"""What the call view puts on stage: a pinned tile, a remote screen share, the active speaker.

The rule, by priority: a tile the person pinned; else, in the presentation view, the newest
remote screen share; else, in the speaker view, the active speaker; else nothing (the grid).
A share that starts switches the view to the presentation; the person may switch back to the
grid (or the speaker view) and back again; once the last share ends the view returns to the
one the person had before it started.

:class:`Spotlight` holds only the person's choices (view, pin); which tiles and shares exist
is read from the grid, which the call session keeps as the SDK says the room is.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence

log = logging.getLogger(__name__)


class ViewMode(enum.Enum):
    """The call view the person chose (or a share chose for them)."""

    GRID = "grid"
    SPEAKER = "speaker"
    PRESENTATION = "presentation"


class Spotlight:
    """The person's view and pin, and the tile they put on stage.

    >>> s = Spotlight()
    >>> s.update(tiles=["me", "bob"], screens=["bob/t9"], speaker="bob")
    True
    >>> s.mode, s.stage
    (<ViewMode.PRESENTATION: 'presentation'>, 'bob/t9')
    >>> s.choose(ViewMode.GRID); s.stage is None
    True
    >>> _ = s.update(tiles=["me", "bob"], screens=[], speaker="bob"); s.mode
    <ViewMode.GRID: 'grid'>
    """

    def __init__(self) -> None:
        self._mode = ViewMode.GRID
        self._mode_before_share = ViewMode.GRID
        self._pinned: str | None = None
        self._tiles: tuple[str, ...] = ()
        self._screens: tuple[str, ...] = ()
        self._speaker: str | None = None
        self._stage: str | None = None

    @property
    def mode(self) -> ViewMode:
        """The view shown now."""
        return self._mode

    @property
    def pinned(self) -> str | None:
        """The key of the pinned tile, or None."""
        return self._pinned

    @property
    def stage(self) -> str | None:
        """The key of the tile on stage, or None for the grid."""
        return self._stage

    @property
    def sharing(self) -> bool:
        """True while at least one remote screen share is in the room."""
        return bool(self._screens)

    def choose(self, mode: ViewMode) -> bool:
        """The person picked a view (the presentation only while someone shares); True if
        the stage changed."""
        if mode is ViewMode.PRESENTATION and not self._screens:
            return False
        self._set_mode(mode)
        if self._screens:
            # Whatever the person picks during a share is what stays once it ends...
            self._mode_before_share = mode if mode is not ViewMode.PRESENTATION \
                else self._mode_before_share
        else:
            self._mode_before_share = mode
        return self._decide()

    def pin(self, key: str | None) -> bool:
        """Pin the tile ``key`` (None: unpin); True if the stage changed."""
        if key is not None and key not in self._tiles:
            return False
        self._pinned = key
        return self._decide()

    def toggle_pin(self, key: str) -> bool:
        """Pin ``key``, or unpin it if it is pinned; True if the stage changed."""
        return self.pin(None if self._pinned == key else key)

    def update(self, *, tiles: Sequence[str], screens: Sequence[str],
               speaker: str | None) -> bool:
        """The tiles there are, the remote screen shares among them (oldest first) and the
        active speaker's tile; True if the stage changed."""
        new_share = any(s not in self._screens for s in screens)
        self._tiles, self._screens = tuple(tiles), tuple(s for s in screens if s in tiles)
        self._speaker = speaker if speaker in self._tiles else None
        if self._pinned is not None and self._pinned not in self._tiles:
            self._pinned = None
        if new_share and self._screens and self._mode is not ViewMode.PRESENTATION:
            self._mode_before_share = self._mode
            self._set_mode(ViewMode.PRESENTATION)
        elif not self._screens and self._mode is ViewMode.PRESENTATION:
            self._set_mode(self._mode_before_share)
        return self._decide()

    def _set_mode(self, mode: ViewMode) -> None:
        if mode is not self._mode:
            log.info("call view %s -> %s", self._mode.value, mode.value)
            self._mode = mode

    def _decide(self) -> bool:
        stage: str | None = None
        if self._pinned is not None:
            stage = self._pinned
        elif self._mode is ViewMode.PRESENTATION and self._screens:
            stage = self._screens[-1]
        elif self._mode is ViewMode.SPEAKER and len(self._tiles) > 1:
            stage = self._speaker or next(iter(self._tiles[1:]), None)
        changed, self._stage = stage != self._stage, stage
        return changed
