"""Make-before-break between topologies: the tracks of a member that arrive on the topology
the route now wants, while the old one still carries that member's media.

When the room's route changes (mesh to SFU past the threshold, one Janus to another after a
failure) each member's media keeps coming the old way until the new way delivers: a
:class:`Handover` holds the new tracks (drained, so aiortc queues nothing) and says when a
member is :meth:`~Handover.ready` to move: every track the signalling announced for it has
arrived the new way, and media flows on one of them (or none can: all muted or not shown).
Then the media session switches the member's tracks over and only then closes the old path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiortc.mediastreams import MediaStreamTrack

    from roomcall.media.drain import TrackDrain
    from roomcall.protocol.messages import TrackInfo

Key = tuple[str, str]
"""(user_id, media_id)."""


@dataclass(frozen=True)
class Arrival:
    """A track that came the new way: from topology ``via``, drained by ``drain``."""

    via: str
    track: MediaStreamTrack
    drain: TrackDrain


class Handover:
    """The tracks waiting to take over their member's media; see the module docstring."""

    def __init__(self) -> None:
        self._arrived: dict[Key, Arrival] = {}

    def add(self, key: Key, arrival: Arrival) -> Arrival | None:
        """Hold ``arrival`` for ``key``; returns the one it replaces (to stop), if any."""
        old = self._arrived.get(key)
        self._arrived[key] = arrival
        return old

    def end(self, via: str, key: Key) -> Arrival | None:
        """The track ``via`` delivered for ``key`` ended: forget it (returned, to stop)."""
        arrival = self._arrived.get(key)
        if arrival is None or arrival.via != via:
            return None
        return self._arrived.pop(key)

    def ready(self, user_id: str, via: str, infos: Mapping[Key, TrackInfo],
              quiet: Callable[[Key], bool]) -> bool:
        """Whether ``user_id``'s media can move to ``via``: each announced track arrived that
        way, and frames came on one (or every track is ``quiet``: nothing can flow)."""
        keys = [k for k in infos if k[0] == user_id]
        arrivals = [self._arrived.get(k) for k in keys]
        if any(a is None or a.via != via for a in arrivals):
            return False
        return (any(a is not None and a.drain.frames_received > 0 for a in arrivals)
                or all(quiet(k) for k in keys))

    def take(self, user_id: str) -> list[tuple[Key, Arrival]]:
        """Every arrival of ``user_id``, removed from here."""
        taken = [(k, a) for k, a in self._arrived.items() if k[0] == user_id]
        for key, _ in taken:
            del self._arrived[key]
        return taken

    def drop(self, via: str | None = None) -> list[Arrival]:
        """Forget every arrival (only those ``via`` a topology, if given); returned to stop."""
        gone = [k for k, a in self._arrived.items() if via is None or a.via == via]
        return [self._arrived.pop(k) for k in gone]
