"""The rooms' Janus VideoRooms: the rooms core's :class:`~roomcall.server.room.MediaOp` work
carried out on the instances of an :class:`~roomcall.server.sfu.SfuPool`, one room at a time
in order, and rooms moved to another instance when theirs fails.

- ``place``: a VideoRoom on the least loaded instance that is up, with a fresh room id and
  secret (only the server knows it), the members' tokens in ``allowed``, subscribers tied to
  a publisher of the room (``require_pvtid``), camera-grade bitrate; then the core tells
  every member its route. No instance up: the room waits (members stay on the mesh) until
  one is.
- ``admit`` / ``remove``: a member's token in or out of ``allowed``; a removal also kicks
  every publisher of that member (``publisher_id`` and ``publisher_id.*``) and, unless the
  member left by itself, ends through the Admin API (when configured) every Janus session
  with a handle of that member (``opaque_id`` = ``publisher_id``): its subscriptions too,
  which a VideoRoom kick leaves running.
- ``close``: the VideoRoom is destroyed.
- An instance going down: each of its rooms is placed again elsewhere (``failover``).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from roomcall.aio import TaskSet
from roomcall.protocol.janus import VIDEOROOM_NO_SUCH_ROOM, JanusError
from roomcall.server.room import MediaOp, Placement
from roomcall.server.sfu import JanusDown, JanusLink, RoomKey, SfuPool

log = logging.getLogger(__name__)

FIR_INTERVAL = 10
"""Seconds between keyframe requests Janus sends publishers (a late subscriber's first frame
waits at most this long for one, besides its own PLI)."""

Tokens = Callable[[RoomKey], list[str] | None]
"""The room's members' VideoRoom tokens now, or None if the room has closed."""
Placed = Callable[[RoomKey, Placement, str], None]
"""Tell the room's members their new route (the rooms core's ``place``), with a reason."""
Lost = Callable[[RoomKey], None]
"""The room's VideoRoom is gone (the rooms core's ``unplace``)."""


@dataclass
class _OnJanus:
    """A room's VideoRoom: where, its id and its secret."""

    link: JanusLink
    janus_room: str
    secret: str
    publishers: int


class JanusRooms:
    """Carries out the rooms' Janus work; see the module docstring."""

    def __init__(self, pool: SfuPool, *, tokens: Tokens, placed: Placed, lost: Lost) -> None:
        self._pool = pool
        self._tokens = tokens
        self._placed_cb = placed
        self._lost = lost
        self._rooms: dict[RoomKey, _OnJanus] = {}
        self._waiting: dict[RoomKey, MediaOp] = {}
        """Rooms to place once an instance is up."""
        self._queues: dict[RoomKey, collections.deque[MediaOp]] = {}
        self._workers: dict[RoomKey, asyncio.Future[None]] = {}
        self._tasks = TaskSet(log, "Janus room")
        pool.listen(self._link_changed)

    def submit(self, ops: list[MediaOp]) -> None:
        """Queue ``ops``; each room's are carried out in order, rooms independently."""
        for op in ops:
            key = (op.app_id, op.room)
            self._queues.setdefault(key, collections.deque()).append(op)
            if key not in self._workers:
                self._workers[key] = self._tasks.spawn(self._work(key),
                                                       name=f"janus-room {key[1]}")

    async def drain(self) -> None:
        """Return once every queued op is done (for a graceful stop)."""
        await self._tasks.wait()

    async def _work(self, key: RoomKey) -> None:
        try:
            while queue := self._queues.get(key):
                op = queue.popleft()
                try:
                    await self._do(op)
                except Exception:
                    log.exception("Janus work %s for %s/%s failed", op.kind, *key)
        finally:
            self._workers.pop(key, None)
            if not self._queues.get(key):
                self._queues.pop(key, None)

    async def _do(self, op: MediaOp) -> None:
        key = (op.app_id, op.room)
        if op.kind == "place":
            await self._place(key, op)
            return
        on = self._rooms.get(key)
        if op.kind == "close":
            self._waiting.pop(key, None)
            if on is not None:
                del self._rooms[key]
                on.link.rooms.discard(key)
                await self._quietly(on, {"request": "destroy", "room": on.janus_room,
                                         "secret": on.secret})
                log.info("VideoRoom %s of %s/%s destroyed on %s", on.janus_room, *key,
                         on.link.url)
            return
        if on is None:  # not placed yet: the place reads the tokens when it runs
            return
        action = "add" if op.kind == "admit" else "remove"
        await self._quietly(on, {"request": "allowed", "room": on.janus_room,
                                 "secret": on.secret, "action": action,
                                 "allowed": [op.room_token]})
        if op.kind == "remove":
            await self._kick_publishers(on, op.publisher_id)
            if op.reason != "leave":  # a member that left closed its own Janus sessions
                # Outside the room's queue: the Admin API scan takes a request per handle on
                # the instance, and the next joiner's admit must not wait behind it.
                self._tasks.spawn(self._end_sessions(on, op.publisher_id),
                                  name=f"janus-end {op.publisher_id}")

    async def _place(self, key: RoomKey, op: MediaOp) -> None:
        old = self._rooms.pop(key, None)
        if old is not None:
            old.link.rooms.discard(key)
        tried: set[JanusLink] = set() if old is None else {old.link}
        while True:
            tokens = self._tokens(key)
            if tokens is None:  # closed meanwhile
                return
            link = self._pool.choose(exclude=tried)
            if link is None:
                log.warning("no Janus instance is up: %s/%s waits on the mesh", *key)
                self._waiting[key] = op
                return
            janus_room, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
            try:
                await link.request({
                    "request": "create", "room": janus_room, "permanent": False,
                    "admin_key": link.config.admin_key, "secret": secret,
                    "description": f"{key[0]}/{key[1]}", "is_private": True,
                    "publishers": op.publishers, "bitrate": self._pool.config.video_bitrate,
                    "bitrate_cap": True, "fir_freq": FIR_INTERVAL, "videocodec": "vp8",
                    "audiocodec": "opus", "audiolevel_event": True, "require_pvtid": True,
                    "allowed": tokens})
            except JanusDown as exc:
                log.warning("placing %s/%s: %s; trying another instance", *key, exc)
                tried.add(link)
                continue
            break
        on = _OnJanus(link, janus_room, secret, op.publishers)
        self._rooms[key] = on
        link.rooms.add(key)
        self._waiting.pop(key, None)
        log.info("%s/%s on the SFU (%s): VideoRoom %s on %s", *key, op.reason, janus_room,
                 link.url)
        # Members who joined while the create was on its way are told their route below:
        # admit them first, so that Janus knows their tokens when they come (their own
        # admits, queued behind this op, then add nothing new). Leavers' removes follow.
        late = [t for t in self._tokens(key) or [] if t not in tokens]
        if late:
            await self._quietly(on, {"request": "allowed", "room": janus_room,
                                     "secret": secret, "action": "add", "allowed": late})
        self._placed_cb(key, Placement(link.url, janus_room, link.config.token_secret),
                        op.reason)

    async def _kick_publishers(self, on: _OnJanus, publisher_id: str) -> None:
        try:
            listed = await on.link.request({"request": "listparticipants",
                                             "room": on.janus_room})
        except (JanusDown, JanusError) as exc:
            log.info("listparticipants of %s: %s", on.janus_room, exc)
            return
        for participant in listed.get("participants", []):
            feed = str(participant.get("id", ""))
            if feed == publisher_id or feed.startswith(publisher_id + "."):
                await self._quietly(on, {"request": "kick", "room": on.janus_room,
                                         "secret": on.secret, "id": feed})
                log.info("kicked %s from VideoRoom %s", feed, on.janus_room)

    async def _end_sessions(self, on: _OnJanus, publisher_id: str) -> None:
        """End the removed member's Janus sessions (its subscriptions survive a kick)."""
        try:
            ended = await on.link.end_sessions(publisher_id)
        except (JanusDown, JanusError) as exc:
            log.warning("ending the Janus sessions of %s on %s: %s", publisher_id,
                        on.link.url, exc)
            return
        if ended:
            log.info("ended %d Janus session(s) of %s on %s", ended, publisher_id, on.link.url)

    async def _quietly(self, on: _OnJanus, body: dict[str, object]) -> None:
        """A request whose failure changes nothing for the room: a VideoRoom already gone or
        an instance down (its rooms are being moved) is logged, not raised."""
        try:
            await on.link.request(body)
        except JanusDown as exc:
            log.info("%s: %s", body["request"], exc)
        except JanusError as exc:
            if exc.code != VIDEOROOM_NO_SUCH_ROOM:
                log.warning("%s on VideoRoom %s: %s", body["request"], on.janus_room, exc)

    def _link_changed(self, link: JanusLink) -> None:
        if link.up:
            waiting, self._waiting = self._waiting, {}
            self.submit(list(waiting.values()))
            return
        for key in sorted(link.rooms):
            on = self._rooms.get(key)
            if on is None:
                continue
            self._lost(key)
            self.submit([MediaOp("place", key[0], key[1], reason="failover",
                                 publishers=on.publishers)])
