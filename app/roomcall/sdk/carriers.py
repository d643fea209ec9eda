"""The topologies a client's media travel on, and which one carries each member's media.

There is always the mesh (``"mesh"``); an ``sfu`` route (:class:`MediaRoute`) adds an SFU
(``"sfu-1"``, ``"sfu-2"`` after a failover...). The route says which topology is *wanted*;
each member's media are *carried* by one topology, the mesh at first. A member moves to the
wanted topology once its media flow there (:mod:`roomcall.sdk.handover`, decided by the media
session); only then is its old path closed: the mesh pair once the far side, which is moving
too, says it has our media the new way (:meth:`Carriers.peer_moved`, a ``moved`` relay), so
the pair never closes under a member still listening on it (after :data:`MOVE_GRACE` at the
latest), or its subscription on the old SFU, which closes once it carries nobody.

Every topology gets every local encoder and every profile, so a new SFU publishes at once and
takes the layers the application asked for; members are added to the mesh only while the
mesh is wanted or still carries them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from roomcall.aio import TaskSet
from roomcall.protocol.messages import MediaRoute
from roomcall.sdk.topology import Topology, TrackProfile

if TYPE_CHECKING:
    from roomcall.media.encoder import TrackEncoder
    from roomcall.sdk.sfu import Sfu

log = logging.getLogger(__name__)

MESH = "mesh"
MOVE_GRACE = 15.0
"""Seconds a member's mesh pair stays open at most after its media moved to the SFU, when
the far side never says it moved too (an older client, or its SFU path never came up)."""

MakeSfu = Callable[[str, MediaRoute], "Sfu"]
"""``make_sfu(name, route)``: a new SFU topology reporting as ``name``."""


class Carriers:
    """The live topologies; see the module docstring."""

    def __init__(self, mesh: Topology, make_sfu: MakeSfu,
                 profiles: Mapping[tuple[str, str], TrackProfile]) -> None:
        """``profiles``: what the application asked per remote track (kept by the caller)."""
        self._topologies: dict[str, Topology] = {MESH: mesh}
        self._make_sfu = make_sfu
        self._count = 0
        self.wanted = MESH
        """The topology the route asks for."""
        self._carrier: dict[str, str] = {}
        self._members: set[str] = set()
        self._encoders: dict[str, tuple[TrackEncoder, str]] = {}
        self._profiles = profiles
        self._tasks = TaskSet(log, "mesh pair close")
        self._moved_here: set[str] = set()
        """Members whose media this client takes the new way; their mesh pair waits for..."""
        self._moved_there: set[str] = set()
        """...the member saying it takes ours the new way too."""

    def carrier_of(self, user_id: str) -> str:
        """The topology whose media of ``user_id`` this client uses."""
        return self._carrier.get(user_id, MESH)

    def get(self, name: str) -> Topology | None:
        """The topology called ``name``, if still open."""
        return self._topologies.get(name)

    def __iter__(self) -> Iterator[Topology]:
        return iter(list(self._topologies.values()))

    @property
    def sfu(self) -> Sfu | None:
        """The SFU of the current route, if any."""
        from roomcall.sdk.sfu import Sfu

        current = self._topologies.get(self.wanted)
        return current if isinstance(current, Sfu) else None

    async def follow(self, route: MediaRoute) -> None:
        """Make ``route``'s topology the wanted one (a new SFU for a new instance or room)."""
        current = self.sfu
        if route.topology == "sfu":
            if current is not None and (current.url, current.room, current.publisher_id) == (
                    route.janus_url, route.janus_room, route.publisher_id):
                current.renew(route.janus_token)
                return
            self._count += 1
            name = f"sfu-{self._count}"
            sfu = self._make_sfu(name, route)
            self._topologies[name] = sfu
            for encoder, tag in self._encoders.values():
                await sfu.add_encoder(encoder, tag)
            for key, profile in list(self._profiles.items()):
                await sfu.set_profile(key[0], key[1], profile)
            self.wanted = name
        elif self.wanted != MESH:
            self.wanted = MESH
            self._moved_here.clear()
            self._moved_there.clear()
        else:
            return
        wanted = self._topologies[self.wanted]
        for user_id in sorted(self._members):
            await wanted.add_peer(user_id)
        await self._close_unused()

    async def add_member(self, user_id: str) -> None:
        """``user_id`` is in the room (or back): media with it go the wanted way; a member new
        to this client is carried that way at once (nothing to move)."""
        if user_id not in self._members:
            self._members.add(user_id)
            if self.wanted != MESH:
                self._carrier[user_id] = self.wanted
        for name in {self.wanted, self.carrier_of(user_id)}:
            topology = self._topologies.get(name)
            if topology is not None:
                await topology.add_peer(user_id)

    async def remove_member(self, user_id: str) -> None:
        """``user_id`` left: close every path to it."""
        self._members.discard(user_id)
        self._carrier.pop(user_id, None)
        self._moved_here.discard(user_id)
        self._moved_there.discard(user_id)
        for topology in self:
            await topology.remove_peer(user_id)
        await self._close_unused()

    def carry(self, user_id: str, via: str) -> str:
        """``user_id``'s media now come ``via`` a topology; returns the one they came by
        (whose path :meth:`release` closes)."""
        old = self.carrier_of(user_id)
        if via == MESH:
            self._carrier.pop(user_id, None)
        else:
            self._carrier[user_id] = via
        return old

    async def release(self, user_id: str, old: str) -> None:
        """Close ``user_id``'s path through ``old`` (see the module docstring)."""
        if old == MESH:
            self._moved_here.add(user_id)
            if user_id in self._moved_there:
                await self._close_mesh_pair(user_id)
            else:
                self._tasks.spawn(self._close_mesh_pair(user_id, after=MOVE_GRACE),
                                  name=f"mesh-moved-{user_id}")
        elif old != self.carrier_of(user_id) and (topology := self._topologies.get(old)):
            await topology.remove_peer(user_id)
        await self._close_unused()

    def mesh_wanted_for(self, user_id: str) -> bool:
        """Whether the mesh is to exchange media with ``user_id`` (wanted, or carrying it)."""
        return MESH in (self.wanted, self.carrier_of(user_id))

    async def add_encoder(self, encoder: TrackEncoder, tag: str) -> None:
        """Send ``encoder``'s track on every topology."""
        self._encoders[encoder.media_id] = (encoder, tag)
        for topology in self:
            await topology.add_encoder(encoder, tag)

    async def drop_encoder(self, media_id: str) -> None:
        """Stop sending ``media_id`` anywhere."""
        self._encoders.pop(media_id, None)
        for topology in self:
            await topology.drop_encoder(media_id)

    async def set_profile(self, user_id: str, media_id: str, profile: TrackProfile) -> None:
        """Tell every topology what the application wants of a remote track."""
        for topology in self:
            await topology.set_profile(user_id, media_id, profile)

    async def close(self) -> None:
        """Close every topology."""
        self._tasks.cancel()
        await self._tasks.wait()
        topologies = list(self._topologies.values())
        self._topologies = {MESH: topologies[0]}
        await asyncio.gather(*(t.close() for t in topologies))

    async def peer_moved(self, user_id: str) -> None:
        """``user_id`` takes our media the new way now: once we take its media that way too,
        the mesh pair has nothing left to carry."""
        if self.wanted == MESH:
            return
        self._moved_there.add(user_id)
        if user_id in self._moved_here:
            await self._close_mesh_pair(user_id)

    async def _close_mesh_pair(self, user_id: str, after: float = 0.0) -> None:
        if after:
            await asyncio.sleep(after)
        if not self.mesh_wanted_for(user_id) and user_id in self._mesh_peers():
            await self._topologies[MESH].remove_peer(user_id)

    def _mesh_peers(self) -> frozenset[str]:
        from roomcall.sdk.mesh import Mesh

        mesh = self._topologies[MESH]
        return mesh.peers if isinstance(mesh, Mesh) else frozenset()

    async def _close_unused(self) -> None:
        """Close the SFUs that are neither wanted nor carrying anybody."""
        used = {self.wanted, *self._carrier.values()}
        for name in [n for n in self._topologies if n != MESH and n not in used]:
            await self._topologies.pop(name).close()
