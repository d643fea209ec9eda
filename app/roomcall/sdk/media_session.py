"""A client's media: its local publications, its peer connections (behind one seam, the mesh)
and the remote tracks it receives.

The client tells this object what the signalling says (members joining and leaving, tracks
published, unpublished and muted, relayed negotiation); it emits ``track_subscribed`` when the
media of a publication the room announced arrives, and ``track_unsubscribed`` when that
publication goes away. Media and announcement may come in either order: whichever is second
completes the subscription.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from roomcall.aio import TaskSet, cancel_and_wait
from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    ClientMessage,
    Mute,
    Publish,
    Published,
    TrackInfo,
    TrackSpec,
    Unpublish,
)
from roomcall.sdk.state import RTCError
from roomcall.sdk.tracks import LocalPublication, RemoteTrack

if TYPE_CHECKING:
    from aiortc import RTCIceServer, RTCPeerConnection
    from aiortc.mediastreams import MediaStreamTrack

    from roomcall.media.drain import TrackDrain
    from roomcall.sdk.media_monitor import MediaMonitor
    from roomcall.sdk.volume import VolumeIndicator

log = logging.getLogger(__name__)

AUDIO_BUFFER_FRAMES = 25
"""Audio frames (20 ms each) kept for a slow consumer: half a second, then the oldest go."""

_Key = tuple[str, str]  # (user_id, media_id)
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
    ) -> None:
        # aiortc loads only for clients that use media
        from roomcall.sdk.media_monitor import MediaMonitor
        from roomcall.sdk.mesh import Mesh
        from roomcall.sdk.mesh_figures import MeshFigures
        from roomcall.sdk.volume import VolumeIndicator

        self._emit = emit
        self._local_user_id = local_user_id
        self._auto_subscribe = auto_subscribe
        self._mesh = Mesh(local_user_id, send_relay, ice_servers=tuple(ice_servers))
        self._mesh.on_track = self._on_track
        self._mesh.on_track_ended = self._on_track_ended
        self._mesh.on_peer_state = lambda user_id, state: emit(
            "peer_state_changed", user_id, state)
        self._infos: dict[_Key, TrackInfo] = {}
        self._sources: dict[_Key, MediaStreamTrack] = {}
        self._drains: dict[_Key, TrackDrain] = {}
        self._remote: dict[_Key, RemoteTrack] = {}
        # Peers come and go and negotiation messages are handled one at a time, in the order
        # the signalling delivered them, so a peer is never removed before it was added.
        self._ops: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
        self._worker = asyncio.create_task(self._run_ops(), name="media-ops")
        self._publications: dict[str, LocalPublication] = {}
        self._closed = False
        self._stopping = TaskSet(log, "drain stop")
        self.volume: VolumeIndicator = VolumeIndicator(
            local_user_id, emit, lambda: self._publications.values(), self._remote_audio)
        """Levels for volume indication (:mod:`roomcall.sdk.volume`)."""
        self.monitor: MediaMonitor = MediaMonitor(
            local_user_id, MeshFigures(self._mesh, lambda u, m: self._drains.get((u, m))),
            emit, self._track_infos, self.volume)
        """Network quality and call stats (:mod:`roomcall.sdk.media_monitor`)."""

    @property
    def publications(self) -> list[LocalPublication]:
        """The local tracks published, in publish order."""
        return list(self._publications.values())

    @property
    def remote_tracks(self) -> list[RemoteTrack]:
        """Every subscribed remote track."""
        return list(self._remote.values())

    def peer_connection(self, user_id: str) -> RTCPeerConnection | None:
        """The live RTCPeerConnection to ``user_id``, or None."""
        return self._mesh.connection(user_id) if user_id in self._mesh.peers else None

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

    def user_joined(self, user_id: str) -> None:
        """Open a peer connection for ``user_id``."""
        self._queue(lambda: self._mesh.add_peer(user_id))

    def user_left(self, user_id: str) -> None:
        """End ``user_id``'s remote tracks now and close its peer connection at once."""
        for key in {k for k in (*self._infos, *self._sources) if k[0] == user_id}:
            self._forget(key)
        self.monitor.forget(user_id)
        self._queue(lambda: self._mesh.remove_peer(user_id))

    def published(self, user_id: str, tracks: Iterable[TrackInfo]) -> None:
        """``user_id`` announced ``tracks``; subscribe those whose media already arrived."""
        for info in tracks:
            key = (user_id, info.media_id)
            self._infos[key] = info
            self._try_subscribe(key)

    def unpublished(self, user_id: str, tracks: Iterable[TrackInfo]) -> None:
        """``user_id`` withdrew ``tracks``: their remote tracks end."""
        for info in tracks:
            self._forget((user_id, info.media_id))

    def muted(self, user_id: str, info: TrackInfo) -> None:
        """Keep the remote track's mute state current."""
        key = (user_id, info.media_id)
        if key in self._infos:
            self._infos[key] = info
        if (remote := self._remote.get(key)) is not None:
            remote._set_muted(info.muted)

    def relay(self, user_id: str, data: dict[str, Any]) -> None:
        """Negotiation data from ``user_id``."""
        self._queue(lambda: self._mesh.handle_relay(user_id, data))

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
        media_ids = [await self._mesh.add_local_track(self.volume.metered(t), tag=tag)
                     for t in tracks]
        specs = tuple(TrackSpec(kind=t.kind, tag=tag, media_id=m)  # type: ignore[arg-type]
                      for t, m in zip(tracks, media_ids, strict=True))
        try:
            answer = await request(Publish(req=0, tracks=specs))
        except BaseException:
            for media_id in media_ids:
                await self._mesh.remove_local_track(media_id)
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
            await self._mesh.remove_local_track(pub.media_id)
            self.volume.forget(pub.track)

    async def set_muted(self, track: MediaStreamTrack | LocalPublication, muted: bool,
                        request: Request) -> None:
        """Announce the mute state, then stop (or resume) sending the track's media."""
        pub = self._publication(track)
        await request(Mute(req=0, track_id=pub.track_id, muted=muted))
        pub.muted = muted
        self._mesh.set_muted(pub.media_id, muted)

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
            self._remote.clear()
            self._sources.clear()
            self._infos.clear()
            await self._mesh.close()

    # --- internals -----------------------------------------------------------------------

    def _on_track(self, user_id: str, track: MediaStreamTrack) -> None:
        from roomcall.media.drain import TrackDrain

        key = (user_id, track.id)
        old = self._drains.pop(key, None)
        if old is not None:
            self._stop_later(old)
        self._sources[key] = track
        keep = 1 if track.kind == "video" else AUDIO_BUFFER_FRAMES
        # Drain from the first moment: aiortc queues received frames without bound.
        drain = TrackDrain(track, keep=keep, on_frame=functools.partial(
            self.volume.on_remote_frame, user_id, track.id))
        drain.start()
        self._drains[key] = drain
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

    def _on_track_ended(self, user_id: str, media_id: str) -> None:
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
        remote = RemoteTrack(key[0], info, source, self._drains[key])
        self._remote[key] = remote
        self._emit("track_subscribed", key[0], remote)

    def _forget(self, key: _Key) -> None:
        self._infos.pop(key, None)
        self._sources.pop(key, None)
        drain = self._drains.pop(key, None)
        if drain is not None:
            self._stop_later(drain)
        remote = self._remote.pop(key, None)
        if remote is not None:
            self._emit("track_unsubscribed", key[0], remote)

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
