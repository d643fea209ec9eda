"""The SFU topology: media through a Janus VideoRoom (a :class:`~roomcall.sdk.topology.Topology`).

On a ``sfu`` route (:class:`~roomcall.protocol.messages.MediaRoute`) the member connects to
the route's Janus with its core token, joins the VideoRoom as publisher ``publisher_id`` with
its room token (the room server put both in the room's ``allowed`` list and signed the core
token: nobody joins a Janus room without a valid RoomToken), publishes every local track
through one :class:`~roomcall.sdk.sfu_publisher.Publisher` and receives the members it is told
about (:meth:`Sfu.add_peer`) through one multistream
:class:`~roomcall.sdk.sfu_subscriber.Subscriber`. Janus's publisher events keep the
:class:`~roomcall.sdk.sfu_feeds.FeedMap` current; the roomcall signalling stays the source of
truth for members, tags and mute state.

Every exchange with Janus runs in one worker task, one at a time, whenever something changed
(a member, a local track, a profile, a feed): :meth:`Sfu.add_peer` and the others only record
what is wanted and return at once. A lost Janus (socket closed, keepalive unanswered) makes
every member's path RECOVERING; the room server then moves the room to another instance and
pushes a new route, and the media session replaces this SFU with a fresh one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiortc import RTCIceServer, RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack

from roomcall.aio import TaskSet, cancel_and_wait
from roomcall.media.encoder import TrackEncoder
from roomcall.protocol.janus import (
    VIDEOROOM,
    JanusClient,
    JanusError,
    JanusHandle,
    JanusSession,
)
from roomcall.sdk.sfu_feeds import FeedMap, Key, feed_owner, wanted
from roomcall.sdk.sfu_publisher import Local, Publisher
from roomcall.sdk.sfu_subscriber import Subscriber
from roomcall.sdk.state import PeerState
from roomcall.sdk.topology import TopologyEvents, TrackProfile

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT = 2.0
"""Seconds leaving the VideoRoom may take before the socket is closed anyway."""


class Sfu:
    """One member's media through one Janus VideoRoom; see the module docstring.

    Args:
        url / room / janus_token / room_token / publisher_id: the route's.
        events: where received tracks and path states are reported.
        publisher_of: a member's ``publisher_id`` (from its ``MemberInfo``), None if unknown.
    """

    def __init__(self, local_user_id: str, *, url: str, room: str, janus_token: str,
                 room_token: str, publisher_id: str, events: TopologyEvents,
                 publisher_of: Callable[[str], str | None],
                 ice_servers: Sequence[RTCIceServer] = ()) -> None:
        self.local_user_id = local_user_id
        self.url = url
        self.room = room
        self._janus_token = janus_token
        self._room_token = room_token
        self.publisher_id = publisher_id
        self._events = events
        self._ice_servers = list(ice_servers)
        self._users: set[str] = set()
        self._locals: dict[str, Local] = {}
        self._profiles: dict[Key, TrackProfile] = {}
        self._publisher_of = publisher_of
        self._feeds = FeedMap(publisher_id, self._member_of)
        self._offers: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self._client: JanusClient | None = None
        self._session: JanusSession | None = None
        self._private_id: Any = None
        """The publisher join's private_id, which the room's subscriber joins must give."""
        self._publisher: Publisher | None = None
        self._subscriber: Subscriber | None = None
        self._state = PeerState.CONNECTING
        self._dirty = asyncio.Event()
        self._closed = False
        self._tasks = TaskSet(logger, "sfu")
        self._worker = asyncio.create_task(self._run(), name=f"sfu-{local_user_id}")

    # --- Topology ------------------------------------------------------------------------

    async def add_peer(self, user_id: str) -> None:
        """Receive ``user_id``'s media through Janus."""
        if user_id == self.local_user_id or self._closed:
            return
        if user_id not in self._users:
            self._users.add(user_id)
            self._report(user_id, self._state)
        self._kick()

    async def remove_peer(self, user_id: str) -> None:
        """Stop receiving ``user_id``'s media; its tracks end."""
        self._users.discard(user_id)
        self._kick()

    async def add_encoder(self, encoder: TrackEncoder, tag: str = "") -> None:
        """Publish ``encoder``'s track (a camera in two layers, see sfu_publisher)."""
        self._locals[encoder.media_id] = Local(encoder, tag)
        self._kick()

    async def drop_encoder(self, media_id: str) -> None:
        """Stop publishing ``media_id``."""
        self._locals.pop(media_id, None)
        self._kick()

    async def set_profile(self, user_id: str, media_id: str, profile: TrackProfile) -> None:
        """Take the full layer (HIGH), the low one (LOW) or nothing for now (NONE)."""
        self._profiles[(user_id, media_id)] = profile
        self._kick()

    def renew(self, janus_token: str) -> None:
        """A fresh core token for later requests (the route was ``renewed``)."""
        self._janus_token = janus_token
        if self._client is not None:
            self._client.token = janus_token

    def connection(self, user_id: str) -> RTCPeerConnection | None:
        """The subscriber connection (every member's media arrives on it)."""
        return self._subscriber.pc if self._subscriber is not None else None

    @property
    def encoders(self) -> dict[str, TrackEncoder]:
        """The local tracks published, by media_id."""
        return {m: local.encoder for m, local in self._locals.items()}

    @property
    def subscriber(self) -> Subscriber | None:
        """The subscription (every member's media arrive on it), once connected."""
        return self._subscriber

    @property
    def publisher_connection(self) -> RTCPeerConnection | None:
        """The publisher connection (every local track leaves on it), for stats."""
        return self._publisher.pc if self._publisher is not None else None

    def peer_state(self, user_id: str) -> PeerState | None:
        """The path to Janus, the same for every member received through it."""
        return self._state if user_id in self._users else None

    async def close(self) -> None:
        """Leave the VideoRoom and close both connections and the socket."""
        if self._closed:
            return
        self._closed = True
        try:
            await cancel_and_wait(self._worker)
            self._tasks.cancel()
            await self._tasks.wait()
            for side in (self._subscriber, self._publisher):
                if side is not None:
                    await side.close()
            if (self._session is not None and self._client is not None
                    and not self._client.closed):
                # Leave at once (Janus would otherwise keep the handles until the session
                # times out); a Janus that does not answer is only forgotten.
                with contextlib.suppress(JanusError):
                    await self._session.destroy(timeout=CLOSE_TIMEOUT)
        finally:
            if self._client is not None:  # its socket and HTTP session, whatever happened
                await self._client.close()

    # --- the worker ----------------------------------------------------------------------

    def _kick(self) -> None:
        self._dirty.set()

    async def _run(self) -> None:
        try:
            await self._connect()
        except (JanusError, OSError) as exc:
            logger.warning("cannot use Janus %s for room %s: %s", self.url, self.room, exc)
            self._set_state(PeerState.RECOVERING)
            return
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self._sync()
            except JanusError as exc:
                if self._client is not None and self._client.closed:
                    return  # reported by the watch; a new route brings a new SFU
                logger.warning("Janus %s refused a change for room %s: %s", self.url,
                               self.room, exc)
            except Exception:  # a bug here must not stop later changes from being made
                logger.exception("applying a change through Janus %s failed", self.url)

    async def _connect(self) -> None:
        client = await JanusClient.connect(self.url, token=self._janus_token)
        self._client = client
        session = self._session = await client.create_session()
        # opaque_id: how the room server finds this member's handles (docs/protocol.md).
        publisher = await session.attach(VIDEOROOM, opaque_id=self.publisher_id)
        # A publisher join even with nothing to publish: the room's subscribers must give
        # their owner's private_id (require_pvtid).
        data, _ = await publisher.message({
            "request": "join", "ptype": "publisher", "room": self.room,
            "id": self.publisher_id, "display": self.local_user_id, "token": self._room_token})
        self._feeds.update(data.get("publishers"))
        self._private_id = data.get("private_id")
        self._publisher = Publisher(publisher, self._ice_servers)
        self._watch(self._publisher.pc)
        self._tasks.spawn(self._publisher_events(publisher), name="sfu-publisher-events")
        self._tasks.spawn(self._watch_janus(client), name="sfu-janus-watch")
        await self._new_subscriber()
        self._kick()

    async def _new_subscriber(self) -> None:
        """A subscriber handle and connection (the first, or one replacing a dead one)."""
        assert self._session is not None
        handle = await self._session.attach(VIDEOROOM, opaque_id=self.publisher_id)
        self._subscriber = Subscriber(handle, self.room, self._room_token, self._private_id,
                                      self._ice_servers, self._feeds, self._on_track,
                                      self._on_track_ended)
        self._watch(self._subscriber.pc)
        self._tasks.spawn(self._subscriber_events(handle), name="sfu-subscriber-events")

    async def _replace_dead(self) -> None:
        """A connection that failed or closed (Janus hung it up, ICE consent lost) is replaced
        by a fresh one: the subscription is made again, the tracks published again."""
        dead = ("failed", "closed")
        subscriber, publisher = self._subscriber, self._publisher
        if subscriber is not None and subscriber.pc.connectionState in dead:
            logger.info("subscriber connection to Janus %s %s: a fresh one", self.url,
                        subscriber.pc.connectionState)
            await subscriber.close()  # its tracks end; the new one brings them again
            with contextlib.suppress(JanusError):
                await subscriber.handle.detach(timeout=CLOSE_TIMEOUT)
            await self._new_subscriber()
        if publisher is not None and publisher.pc.connectionState in dead:
            logger.info("publisher connection to Janus %s %s: publishing again", self.url,
                        publisher.pc.connectionState)
            await publisher.close()
            with contextlib.suppress(JanusError):
                await publisher.handle.message({"request": "unpublish"}, timeout=CLOSE_TIMEOUT)
            self._publisher = Publisher(publisher.handle, self._ice_servers)
            self._watch(self._publisher.pc)

    async def _sync(self) -> None:
        await self._replace_dead()
        if self._publisher is None or self._subscriber is None:
            return
        await self._publisher.sync(self._locals)
        offers, self._offers = self._offers, []
        for data, offer in offers:
            await self._subscriber.offered(data, offer)
        await self._subscriber.apply(wanted(self._feeds, self._users, self._profiles))
        self._update_state()

    async def _publisher_events(self, handle: JanusHandle) -> None:
        async for event in handle.events():
            data = event.data
            if "publishers" in data:
                self._feeds.update(data["publishers"])
            for key in ("unpublished", "leaving"):
                if key in data and data[key] not in ("ok", None):
                    self._feeds.remove(data[key])
            self._kick()

    async def _subscriber_events(self, handle: JanusHandle) -> None:
        async for event in handle.events():
            if event.jsep is not None and event.jsep.get("type") == "offer":
                self._offers.append((event.data, event.jsep))
                self._kick()

    async def _watch_janus(self, client: JanusClient) -> None:
        await client.wait_closed()
        if not self._closed:
            logger.warning("lost Janus %s (room %s)", self.url, self.room)
            self._set_state(PeerState.RECOVERING)

    def _watch(self, *pcs: RTCPeerConnection) -> None:
        for pc in pcs:
            pc.on("connectionstatechange", self._update_state)

    def _update_state(self) -> None:
        """CONNECTED once every connection in use is; RECOVERING when one failed."""
        if self._publisher is None or self._subscriber is None:
            return
        used = [side.pc for side, busy in ((self._subscriber, bool(self._subscriber.keys)),
                                            (self._publisher, bool(self._publisher.media_ids)))
                if busy]
        states = {pc.connectionState for pc in used}
        if states & {"failed", "closed"}:
            self._set_state(PeerState.RECOVERING)
            self._kick()  # the worker replaces it
        elif states <= {"connected"}:  # nothing in use yet: Janus has answered, that is all
            self._set_state(PeerState.CONNECTED)

    def _set_state(self, state: PeerState) -> None:
        if state is self._state or self._closed:
            return
        self._state = state
        for user_id in sorted(self._users):
            self._report(user_id, state)

    def _report(self, user_id: str, state: PeerState) -> None:
        try:
            self._events.peer_state(user_id, state)
        except Exception:
            logger.exception("peer state handler failed")

    def _member_of(self, feed: str) -> str | None:
        owner = feed_owner(feed)
        return next((u for u in self._users if self._publisher_of(u) == owner), None)

    def _on_track(self, key: Key, track: MediaStreamTrack) -> None:
        self._events.track(key[0], key[1], track)

    def _on_track_ended(self, key: Key) -> None:
        self._events.track_ended(key[0], key[1])

    def __repr__(self) -> str:
        return f"Sfu({self.local_user_id!r}, {self.url!r}, room={self.room!r})"
