"""A client's media: its local publications, the topology carrying them (behind one seam,
:mod:`roomcall.sdk.topology`: the mesh, or an SFU) and the remote tracks it receives.

The client tells this object what the signalling says (members joining and leaving, tracks
published, unpublished and muted, relayed negotiation, the room's media route); it emits
``track_subscribed`` when the media of a publication the room announced arrives, and
``track_unsubscribed`` when that publication goes away. Media and announcement may come in
either order: whichever is second completes the subscription.

When the route changes (:meth:`MediaSession.set_route`) each member's media move to the new
topology make-before-break (:mod:`roomcall.sdk.carriers`, :mod:`roomcall.sdk.handover`): the
application sees that member's tracks unsubscribed and subscribed again once media flow the new
way, and never a ``user_left``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from roomcall.aio import TaskSet, cancel_and_wait
from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    MESH,
    ClientMessage,
    MediaRoute,
    Mute,
    Publish,
    Published,
    TrackInfo,
    TrackSpec,
    Unpublish,
)
from roomcall.sdk.carriers import MESH as MESH_NAME
from roomcall.sdk.carriers import Carriers
from roomcall.sdk.handover import Arrival, Handover
from roomcall.sdk.state import PeerState, RTCError
from roomcall.sdk.topology import TopologyEvents, TrackProfile
from roomcall.sdk.tracks import LocalPublication, RemoteTrack

if TYPE_CHECKING:
    from aiortc import RTCIceServer, RTCPeerConnection
    from aiortc.mediastreams import MediaStreamTrack

    from roomcall.media.drain import TrackDrain
    from roomcall.media.encoder import TrackEncoder
    from roomcall.sdk.media_monitor import MediaMonitor
    from roomcall.sdk.sfu import Sfu
    from roomcall.sdk.volume import VolumeIndicator

log = logging.getLogger(__name__)

AUDIO_BUFFER_FRAMES = 25
"""Audio frames (20 ms each) kept for a slow consumer: half a second, then the oldest go."""

_Key = tuple[str, str]  # (user_id, media_id)
MOVED = "moved"
"""Relay ``{"type": "moved"}``: the sender now takes our media through the SFU, so the mesh
pair between us carries nothing it needs any more (see :mod:`roomcall.sdk.carriers`)."""
Request = Callable[[ClientMessage], Awaitable[Any]]
"""Sends a signalling request and returns its answer (the client's ``_request``)."""


class MediaSession:
    """Publications, peers and subscriptions of one joined client."""

    def __init__(
        self,
        local_user_id: str,
        send_relay: Callable[[str, dict[str, Any]], Awaitable[None]],
        emit: Callable[..., None],
        *,
        ice_servers: Iterable[RTCIceServer] = (),
        auto_subscribe: bool = True,
        route: MediaRoute = MESH,
        publisher_of: Callable[[str], str | None] = lambda user_id: None,
    ) -> None:
        # aiortc loads only for clients that use media
        from roomcall.sdk.media_monitor import MediaMonitor
        from roomcall.sdk.mesh import Mesh
        from roomcall.sdk.topology_figures import TopologyFigures
        from roomcall.sdk.volume import VolumeIndicator

        self._emit = emit
        self._local_user_id = local_user_id
        self._auto_subscribe = auto_subscribe
        self._ice_servers = tuple(ice_servers)
        self._publisher_of = publisher_of
        self._send_relay = send_relay
        self._mesh = Mesh(local_user_id, send_relay, ice_servers=self._ice_servers)
        mesh_events = self._events_for(MESH_NAME)
        # The mesh's received tracks carry the publisher's media_id as their id.
        self._mesh.on_track = lambda user_id, track: mesh_events.track(user_id, track.id, track)
        self._mesh.on_track_ended = mesh_events.track_ended
        self._mesh.on_peer_state = mesh_events.peer_state
        self._profiles: dict[_Key, TrackProfile] = {}
        """What the application asked for each remote track (HIGH if not listed)."""
        self._carriers = Carriers(self._mesh, self._make_sfu, self._profiles)
        self._handover = Handover()
        self._reported: dict[str, PeerState] = {}
        """The last path state reported per member."""
        self._infos: dict[_Key, TrackInfo] = {}
        self._sources: dict[_Key, MediaStreamTrack] = {}
        self._drains: dict[_Key, TrackDrain] = {}
        self._remote: dict[_Key, RemoteTrack] = {}
        # Peers come and go and negotiation messages are handled one at a time, in the order
        # the signalling delivered them, so a peer is never removed before it was added.
        self._ops: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._worker = asyncio.create_task(self._run_ops(), name="media-ops")
        self._publications: dict[str, LocalPublication] = {}
        self._encoders: dict[str, TrackEncoder] = {}
        """One encoder per local track, by media_id, shared by every topology."""
        self._closed = False
        self._stopping = TaskSet(log, "drain stop")
        self.volume: VolumeIndicator = VolumeIndicator(
            local_user_id, emit, lambda: self._publications.values(), self._remote_audio)
        """Levels for volume indication (:mod:`roomcall.sdk.volume`)."""
        self.monitor: MediaMonitor = MediaMonitor(
            local_user_id, TopologyFigures(self._mesh, lambda: self._carriers.sfu,
                                           lambda u, m: self._drains.get((u, m))),
            emit, self._track_infos, self.volume)
        """Network quality and call stats (:mod:`roomcall.sdk.media_monitor`)."""
        if route.topology != "mesh":
            self.set_route(route)

    @property
    def publications(self) -> list[LocalPublication]:
        """The local tracks published, in publish order."""
        return list(self._publications.values())

    @property
    def remote_tracks(self) -> list[RemoteTrack]:
        """Every subscribed remote track."""
        return list(self._remote.values())

    @property
    def sfu(self) -> Sfu | None:
        """The SFU of the current route (None in a mesh)."""
        return self._carriers.sfu

    def peer_connection(self, user_id: str) -> RTCPeerConnection | None:
        """The live RTCPeerConnection carrying ``user_id``'s media, or None (through an SFU:
        the subscriber connection every member's media arrive on)."""
        name = self._carriers.carrier_of(user_id)
        carrier = self._carriers.get(name)
        if carrier is None or (name == MESH_NAME and user_id not in self._mesh.peers):
            return None
        return carrier.connection(user_id)

    # --- what the signalling says --------------------------------------------------------

    def apply(self, name: str, args: tuple[Any, ...]) -> None:
        """Follow a room change the client is about to announce (see :mod:`roomcall.sdk.users`)."""
        if name in ("user_joined", "user_reconnected"):
            # Relays to a member who was away were dropped: (re)negotiate when it is back.
            self.user_joined(args[0])
        elif name == "user_left":
            self.user_left(args[0])
        elif name == "user_published":
            self.published(args[0], args[1])
        elif name == "user_unpublished":
            self.unpublished(args[0], args[1])
        elif name == "mute_state_changed":
            self.muted(args[0], args[1])

    def set_route(self, route: MediaRoute) -> None:
        """Follow the room's media route (``joined.media``, a ``media_route`` push)."""
        async def follow() -> None:
            await self._carriers.follow(route)
            for user_id in {k[0] for k in self._infos} | set(self._reported):
                self._check_moved(user_id)
        self._queue(follow)

    def user_joined(self, user_id: str) -> None:
        """Exchange media with ``user_id`` (the way the route says)."""
        async def joined() -> None:
            await self._carriers.add_member(user_id)
            self._check_moved(user_id)
        self._queue(joined)

    def user_left(self, user_id: str) -> None:
        """End ``user_id``'s remote tracks now and close its peer connections at once."""
        for key in {k for k in (*self._infos, *self._sources) if k[0] == user_id}:
            self._forget(key)
        for arrival in self._handover.take(user_id):
            self._stop_later(arrival[1].drain)
        self._reported.pop(user_id, None)
        for key in [k for k in self._profiles if k[0] == user_id]:
            del self._profiles[key]
        self.monitor.forget(user_id)
        self._queue(lambda: self._carriers.remove_member(user_id))

    def published(self, user_id: str, tracks: Iterable[TrackInfo]) -> None:
        """``user_id`` announced ``tracks``; subscribe those whose media already arrived."""
        for info in tracks:
            key = (user_id, info.media_id)
            self._infos[key] = info
            self._try_subscribe(key)
        self._check_moved(user_id)

    def unpublished(self, user_id: str, tracks: Iterable[TrackInfo]) -> None:
        """``user_id`` withdrew ``tracks``: their remote tracks end."""
        for info in tracks:
            self._forget((user_id, info.media_id))
            self._profiles.pop((user_id, info.media_id), None)
            if (arrival := self._handover.end(self._carriers.wanted,
                                              (user_id, info.media_id))) is not None:
                self._stop_later(arrival.drain)
        self._check_moved(user_id)

    def muted(self, user_id: str, info: TrackInfo) -> None:
        """Keep the remote track's mute state current."""
        key = (user_id, info.media_id)
        if key in self._infos:
            self._infos[key] = info
        if (remote := self._remote.get(key)) is not None:
            remote._set_muted(info.muted)

    def relay(self, user_id: str, data: dict[str, Any]) -> None:
        """Mesh negotiation data from ``user_id`` (ignored once the mesh no longer carries
        that member's media, or never will: it is not the way the route says)."""
        async def handle() -> None:
            if data.get("type") == MOVED:
                await self._carriers.peer_moved(user_id)
            elif self._carriers.mesh_wanted_for(user_id):
                await self._mesh.handle_relay(user_id, data)
        self._queue(handle)

    def subscribe(self, user_id: str, track_ids: Iterable[str] | None = None) -> None:
        """Subscribe (when auto-subscribe is off) to ``user_id``'s tracks, all by default."""
        wanted = None if track_ids is None else set(track_ids)
        for key, info in list(self._infos.items()):
            if key[0] == user_id and (wanted is None or info.track_id in wanted):
                self._try_subscribe(key, explicit=True)

    # --- local tracks --------------------------------------------------------------------

    async def publish(self, tracks: list[MediaStreamTrack], tag: str, request: Request
                      ) -> list[LocalPublication]:
        """Start sending ``tracks`` and announce them; their publications, in order."""
        media_ids = [await self._add_encoder(self.volume.metered(t), tag) for t in tracks]
        specs = tuple(TrackSpec(kind=t.kind, tag=tag, media_id=m)  # type: ignore[arg-type]
                      for t, m in zip(tracks, media_ids, strict=True))
        try:
            answer = await request(Publish(req=0, tracks=specs))
        except BaseException:
            for media_id in media_ids:
                await self._remove_encoder(media_id)
            for track in tracks:
                self.volume.forget(track)
            raise
        assert isinstance(answer, Published)
        result = []
        for info, track in zip(answer.tracks, tracks, strict=True):
            pub = LocalPublication(info.track_id, info.kind, info.tag, info.muted,
                                   info.media_id, track)
            self._publications[pub.track_id] = pub
            result.append(pub)
        return result

    async def unpublish(self, tracks: list[MediaStreamTrack | LocalPublication],
                        request: Request) -> None:
        """Withdraw ``tracks`` and stop sending them."""
        pubs = [self._publication(t) for t in tracks]
        await request(Unpublish(req=0, track_ids=tuple(p.track_id for p in pubs)))
        for pub in pubs:
            self._publications.pop(pub.track_id, None)
            await self._remove_encoder(pub.media_id)
            self.volume.forget(pub.track)

    async def set_muted(self, track: MediaStreamTrack | LocalPublication, muted: bool,
                        request: Request) -> None:
        """Announce the mute state, then stop (or resume) sending the track's media."""
        pub = self._publication(track)
        await request(Mute(req=0, track_id=pub.track_id, muted=muted))
        pub.muted = muted
        # Muted: no frame is encoded or sent to anyone; the m-lines stay as they are.
        self._encoders[pub.media_id].muted = muted

    async def close(self) -> None:
        """Close every peer connection and end every remote track (no events).

        Also when cancelled while stopping the media worker: only the first call closes, so
        skipping the rest would leave the peer connections and their UDP sockets open for
        good."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.gather(self.monitor.close(), self.volume.close())
            await cancel_and_wait(self._worker)
        finally:
            for drain in self._drains.values():
                self._stop_later(drain)
            self._drains.clear()
            await self._stopping.wait()
            for arrival in self._handover.drop():
                self._stop_later(arrival.drain)
            await self._stopping.wait()
            self._remote.clear()
            self._sources.clear()
            self._infos.clear()
            await self._carriers.close()
            encoders = list(self._encoders.values())
            self._encoders.clear()
            await asyncio.gather(*(e.stop() for e in encoders))

    # --- internals -----------------------------------------------------------------------

    async def _add_encoder(self, track: MediaStreamTrack, tag: str) -> str:
        """Encode ``track`` once for every topology; returns its media_id."""
        from roomcall.media.encoder import TrackEncoder
        from roomcall.media.profile import profile_for_tag

        encoder = TrackEncoder(track, uuid.uuid4().hex, profile_for_tag(tag))
        encoder.start()
        self._encoders[encoder.media_id] = encoder
        await self._carriers.add_encoder(encoder, tag)
        return encoder.media_id

    async def _remove_encoder(self, media_id: str) -> None:
        """Stop encoding ``media_id`` and sending it anywhere (its source is left running)."""
        encoder = self._encoders.pop(media_id, None)
        if encoder is None:
            return
        await encoder.stop()
        await self._carriers.drop_encoder(media_id)

    def _make_sfu(self, name: str, route: MediaRoute) -> Sfu:
        from roomcall.sdk.sfu import Sfu

        return Sfu(self._local_user_id, url=route.janus_url, room=route.janus_room,
                   janus_token=route.janus_token, room_token=route.room_token,
                   publisher_id=route.publisher_id, events=self._events_for(name),
                   publisher_of=self._publisher_of, ice_servers=self._ice_servers)

    def _events_for(self, name: str) -> TopologyEvents:
        return TopologyEvents(
            track=functools.partial(self._on_track, name),
            track_ended=functools.partial(self._on_track_ended, name),
            peer_state=functools.partial(self._on_peer_state, name),
        )

    def _on_peer_state(self, via: str, user_id: str, state: PeerState) -> None:
        if via != self._carriers.carrier_of(user_id):
            return
        if via != self._carriers.wanted and state in (PeerState.RECOVERING, PeerState.FAILED):
            return  # a path being left: the new one is on its way
        self._report(user_id, state)

    def _report(self, user_id: str, state: PeerState) -> None:
        if self._reported.get(user_id) is not state:
            self._reported[user_id] = state
            self._emit("peer_state_changed", user_id, state)

    def _set_profile(self, remote: RemoteTrack, profile: TrackProfile) -> None:
        key = (remote.user_id, remote.info.media_id)
        if self._remote.get(key) is not remote:
            return  # an ended track: nothing to receive
        self._profiles[key] = profile
        self._queue(lambda: self._carriers.set_profile(key[0], key[1], profile))

    def _new_drain(self, track: MediaStreamTrack, user_id: str, media_id: str) -> TrackDrain:
        from roomcall.media.drain import TrackDrain

        keep = 1 if track.kind == "video" else AUDIO_BUFFER_FRAMES
        # Drain from the first moment: aiortc queues received frames without bound.
        drain = TrackDrain(track, keep=keep, on_frame=self._levels(user_id, media_id))
        drain.start()
        return drain

    def _levels(self, user_id: str, media_id: str) -> Callable[[Any], None]:
        return functools.partial(self.volume.on_remote_frame, user_id, media_id)

    def _on_track(self, via: str, user_id: str, media_id: str,
                  track: MediaStreamTrack) -> None:
        key = (user_id, media_id)
        if via != self._carriers.carrier_of(user_id):
            if via == self._carriers.wanted:
                drain = self._new_drain(track, user_id, media_id)
                drain.on_frame = lambda frame: self._check_moved(user_id)
                replaced = self._handover.add(key, Arrival(via, track, drain))
                if replaced is not None:
                    self._stop_later(replaced.drain)
                self._check_moved(user_id)
            return
        old = self._drains.pop(key, None)
        if old is not None:
            self._stop_later(old)
        self._sources[key] = track
        self._drains[key] = self._new_drain(track, user_id, media_id)
        self._try_subscribe(key)

    def _remote_audio(self) -> list[tuple[str, str]]:
        return [key for key, remote in self._remote.items() if remote.kind == "audio"]

    def _track_infos(self) -> dict[_Key, TrackInfo]:
        """Every published and subscribed track, by (publisher, media_id)."""
        infos = {key: remote.info for key, remote in self._remote.items()}
        infos.update({(self._local_user_id, p.media_id): p.info
                      for p in self._publications.values()})
        return infos

    def _publication(self, track: MediaStreamTrack | LocalPublication) -> LocalPublication:
        if isinstance(track, LocalPublication):
            found: LocalPublication | None = self._publications.get(track.track_id)
        else:
            found = next((p for p in self._publications.values() if p.track is track), None)
        if found is None:
            raise RTCError(ErrorCode.INVALID_PARAMETER, f"{track!r} is not published")
        return found

    def _on_track_ended(self, via: str, user_id: str, media_id: str) -> None:
        if via != self._carriers.carrier_of(user_id):
            if (arrival := self._handover.end(via, (user_id, media_id))) is not None:
                self._stop_later(arrival.drain)
            return
        # The drain ends by itself (its recv() raises); forget the source so that a later
        # announcement never subscribes to a dead track.
        key = (user_id, media_id)
        self._sources.pop(key, None)
        remote = self._remote.pop(key, None)
        if remote is not None:
            # Still announced, so its peer connection is being restarted: the application
            # hears that this track ended, and gets a new one (track_subscribed) when the
            # fresh connection delivers the media again.
            drain = self._drains.pop(key, None)
            if drain is not None:
                self._stop_later(drain)
            self._emit("track_unsubscribed", user_id, remote)

    def _try_subscribe(self, key: _Key, explicit: bool = False) -> None:
        if key in self._remote or not (self._auto_subscribe or explicit):
            return
        info = self._infos.get(key)
        source = self._sources.get(key)
        if info is None or source is None:
            return
        remote = RemoteTrack(key[0], info, source, self._drains[key],
                             profile=self._profiles.get(key, TrackProfile.HIGH),
                             on_profile=self._set_profile)
        self._remote[key] = remote
        self._emit("track_subscribed", key[0], remote)

    def _check_moved(self, user_id: str) -> None:
        """Move ``user_id``'s media to the wanted topology if they flow there now."""
        via = self._carriers.wanted
        if self._closed or via == self._carriers.carrier_of(user_id):
            return
        if user_id not in self._reported and not any(k[0] == user_id for k in self._infos):
            return  # not (yet) a member here
        def quiet(key: _Key) -> bool:
            return self._infos[key].muted or self._profiles.get(key) is TrackProfile.NONE
        if not self._handover.ready(user_id, via, self._infos, quiet):
            return
        log.info("media of %s move to %s", user_id, via)
        for key in [k for k in (*self._sources, *self._remote) if k[0] == user_id]:
            self._drop_media(key)
        taken = self._handover.take(user_id)
        # Take the new way at once; the old path is closed in turn with the other operations.
        old = self._carriers.carry(user_id, via)
        self._queue(lambda: self._moved(user_id, old))
        for key, arrival in taken:
            arrival.drain.on_frame = self._levels(*key)
            self._sources[key] = arrival.track
            self._drains[key] = arrival.drain
            self._try_subscribe(key)
        topology = self._carriers.get(via)
        state = topology.peer_state(user_id) if topology is not None else None
        if state is not None:
            self._report(user_id, state)

    async def _moved(self, user_id: str, old: str) -> None:
        """Tell the member we take its media the new way (so it may close the old path we
        still send on), then close ours as far as it is ours to close."""
        if old == MESH_NAME:
            try:
                await self._send_relay(user_id, {"type": MOVED})
            except Exception as exc:  # it then closes after the grace
                log.info("could not tell %s its media moved: %s", user_id, exc)
        await self._carriers.release(user_id, old)

    def _drop_media(self, key: _Key) -> None:
        """The track's media stop coming this way (its publication stays announced)."""
        self._sources.pop(key, None)
        drain = self._drains.pop(key, None)
        if drain is not None:
            self._stop_later(drain)
        remote = self._remote.pop(key, None)
        if remote is not None:
            self._emit("track_unsubscribed", key[0], remote)

    def _forget(self, key: _Key) -> None:
        self._infos.pop(key, None)
        self._drop_media(key)

    def _stop_later(self, drain: TrackDrain) -> None:
        self._stopping.spawn(drain.stop())

    def _queue(self, op: Callable[[], Awaitable[None]]) -> None:
        if not self._closed:
            self._ops.put_nowait(op)

    async def _run_ops(self) -> None:
        while True:
            op = await self._ops.get()
            try:
                await op()
            except Exception:
                log.exception("media operation failed")
