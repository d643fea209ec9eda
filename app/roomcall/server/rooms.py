"""The rooms core: membership, permissions, tracks, messages and lifecycle deadlines.

No sockets, no asyncio, no clock: every call takes ``now`` (seconds since the Unix epoch) and
returns what the shell must send as :class:`~roomcall.server.room.Effects`. Refusals raise
:class:`~roomcall.server.room.RoomError` with the Qiniu code to answer with, and change nothing.

>>> rooms = Rooms(ServerConfig())
>>> joined, _ = rooms.join(app_id="a", room="r", user_id="alice", user_data="",
...                        permission="user", settings=RoomSettings(), now=0.0, req=1)
>>> rooms.room_users("a", "r")
['alice']
"""

from __future__ import annotations

import heapq
import secrets
from collections.abc import Sequence
from typing import Literal

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    CAUSE_CLOSED,
    CAUSE_KICKED,
    CAUSE_REMOVED,
    CAUSE_REPLACED,
    Ack,
    Closed,
    Joined,
    Message,
    Permission,
    Published,
    Relay,
    TrackInfo,
    TrackMuted,
    TrackSpec,
    UserJoined,
    UserLeft,
    UserPublished,
    UserReconnected,
    UserReconnecting,
    UserUnpublished,
)
from roomcall.server import media_routes
from roomcall.server.config import ServerConfig
from roomcall.server.hosting import REMOVED_MESSAGE, Hosting
from roomcall.server.invites import Invites
from roomcall.server.room import Effects, Member, Placement, Room, RoomError, RoomSettings

LeaveReason = Literal["leave", "timeout", "kicked", "replaced", "closed"]

REPLACED_MESSAGE = "you joined this room from another window"
KICK_OUT = "kickOut"
"""Qiniu's agreed message content by which a host asks members to leave (see ``send_message``)."""

MAX_ENDED_SESSIONS = 10_000
"""Most ended sessions remembered at once (see :class:`Rooms`); the oldest go first."""


class SessionEnded(RoomError):
    """A resume of a session the server ended (kicked, replaced, room closed) within the
    reconnect window: the shell answers with ``closed``, which it carries."""

    def __init__(self, closed: Closed) -> None:
        super().__init__(closed.code, closed.message)
        self.closed = closed


def _ms(now: float) -> int:
    return int(now * 1000)


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


class Rooms:
    """Every open room of every app, keyed by (app id, room name)."""

    def __init__(self, config: ServerConfig, *, max_ended: int = MAX_ENDED_SESSIONS) -> None:
        self._config = config
        # Sessions the server ended (kicked, replaced, closed) while their owner may be away:
        # a resume within the reconnect window learns why instead of a bare 21003.
        # session id -> (expiry, (app id, room, user id), closed); insertion order is expiry
        # order (every entry lives one window), so pruning and capping take from the front.
        self._ended: dict[str, tuple[float, tuple[str, str, str], Closed]] = {}
        self._max_ended = max_ended
        self._rooms: dict[tuple[str, str], Room] = {}
        self._sessions: dict[str, tuple[Room, Member]] = {}
        # One live entry per member (its silence deadline) and per closing room; entries whose
        # time no longer matches their owner are stale and skipped when popped.
        self._deadlines: list[tuple[float, int, str, str, str]] = []
        self._due: dict[str, float] = {}
        self._serial = 0
        self.invites = Invites()
        """Invite links of the open rooms (they end with their room)."""
        self.host = Hosting(self)
        """The requests only a room's host may make, and invite redemption."""

    # --- sessions -------------------------------------------------------------------------

    def join(self, *, app_id: str, room: str, user_id: str, user_data: str,
             permission: Permission, settings: RoomSettings, now: float,
             req: int) -> tuple[Joined, Effects]:
        """Seat ``user_id`` in the room (created if needed) under a new session.

        Raises 10011 when the room is full and 10022 when the user is already in a room whose
        app sets ``no_auto_kick_user``. Otherwise an existing seat of the same user is taken
        over: its session gets ``closed`` KICKED_OUT and others see ``user_left`` (reason
        ``replaced``) then ``user_joined``.
        """
        limits = self._config.limits
        if len(user_data.encode("utf-8", "surrogatepass")) > limits.max_user_data_bytes:
            raise RoomError(ErrorCode.INVALID_PARAMETER,
                            f"user_data larger than {limits.max_user_data_bytes} bytes")
        target = self._rooms.get((app_id, room))
        old = None if target is None else target.members.get(user_id)
        if target is not None:
            if user_id in target.removed:
                raise RoomError(ErrorCode.KICKED_OUT, REMOVED_MESSAGE)
            if old is not None and target.settings.no_auto_kick_user:
                raise RoomError(ErrorCode.USER_ALREADY_EXIST, "user already in room")
            max_users = target.settings.max_users
            if max_users <= 0 or max_users > limits.max_room_members:
                max_users = limits.max_room_members
            if old is None and len(target.members) >= max_users:
                raise RoomError(ErrorCode.ROOM_FULL, f"room is full ({max_users} users)")
        else:
            target = Room(app_id=app_id, name=room, settings=settings)
            self._rooms[target.key] = target
        effects = Effects()
        if old is not None:
            closed = Closed("KICKED_OUT", ErrorCode.KICKED_OUT, REPLACED_MESSAGE, CAUSE_REPLACED)
            self._remove(target, old, "replaced", closed, effects, now)
        member = Member(session_id=secrets.token_urlsafe(16), user_id=user_id,
                        user_data=user_data, permission=permission, last_seen=now,
                        publisher_id=f"{user_id}~{secrets.token_hex(3)}",
                        room_token=secrets.token_urlsafe(24))
        target.members[user_id] = member
        target.close_at = None
        self._sessions[member.session_id] = (target, member)
        self._arm(now + self._config.silent_user_timeout, "member", member.session_id)
        effects.broadcast(target.others(user_id), UserJoined(member.info()))
        media_routes.after_join(target, member, self._config, effects)
        return self._joined(target, member, now, req, resumed=False), effects

    def resume(self, *, app_id: str, room: str, user_id: str, session_id: str, now: float,
               req: int) -> tuple[Joined, Effects]:
        """Give ``session_id`` back to its owner within the reconnect window (else 21003).

        A session the server ended within the window (kicked, replaced, room closed) raises
        :class:`SessionEnded` with the ``closed`` its owner missed while away.

        Others see ``user_reconnecting`` / ``user_reconnected``; a resume of a session whose
        old connection the server still held replaces that connection silently.
        """
        target, member = self._resumable(app_id, room, user_id, session_id, now)
        effects = Effects()
        member.last_seen = now
        if not member.connected:
            member.connected = True
            effects.broadcast(target.others(user_id), UserReconnected(user_id))
        return self._joined(target, member, now, req, resumed=True), effects

    def resume_answer(self, *, app_id: str, room: str, user_id: str, session_id: str,
                      now: float, req: int) -> Joined:
        """The ``joined`` that :meth:`resume` would answer with, changing nothing (the shell
        delivers it first, then commits with :meth:`resume`); raises as :meth:`resume`."""
        target, member = self._resumable(app_id, room, user_id, session_id, now)
        return self._joined(target, member, now, req, resumed=True)

    def _resumable(self, app_id: str, room: str, user_id: str, session_id: str,
                   now: float) -> tuple[Room, Member]:
        entry = self._sessions.get(session_id)
        if entry is None:
            ended = self._ended.get(session_id)
            if ended is not None and ended[1] == (app_id, room, user_id) and now < ended[0]:
                raise SessionEnded(ended[2])
            raise RoomError(ErrorCode.RECONNECT_FAILED, "session is gone; join again")
        target, member = entry
        if target.key != (app_id, room) or member.user_id != user_id:
            raise RoomError(ErrorCode.RECONNECT_FAILED, "session belongs to another user")
        if now >= member.last_seen + self._config.silent_user_timeout:
            raise RoomError(ErrorCode.RECONNECT_FAILED, "reconnect window has passed")
        return entry

    def leave(self, session_id: str, now: float, req: int = 0) -> Effects:
        """The member leaves: ``ack`` to it, ``user_left`` (reason ``leave``) to the others."""
        effects = Effects()
        entry = self._sessions.get(session_id)
        if entry is not None:
            effects.send(session_id, Ack(req, _ms(now)))
            effects.closes.append(session_id)
            self._remove(entry[0], entry[1], "leave", None, effects, now)
        return effects

    def expel(self, session_id: str, closed: Closed, now: float) -> Effects:
        """The server ends a session for misbehaving: ``closed`` to it, ``user_left`` (reason
        ``kicked``) to the others."""
        effects = Effects()
        entry = self._sessions.get(session_id)
        if entry is not None:
            self._remove(entry[0], entry[1], "kicked", closed, effects, now)
        return effects

    def touch(self, session_id: str, now: float) -> None:
        """The session was heard from (any frame counts, heartbeats included)."""
        entry = self._sessions.get(session_id)
        if entry is not None:
            entry[1].last_seen = max(entry[1].last_seen, now)

    def disconnect(self, session_id: str, now: float) -> Effects:
        """The session's connection dropped: keep the seat, tell the others it reconnects."""
        effects = Effects()
        entry = self._sessions.get(session_id)
        if entry is None or not entry[1].connected:
            return effects
        target, member = entry
        member.connected = False
        # The reconnect window runs from the drop (or the last frame, whichever is later).
        member.last_seen = max(member.last_seen, now)
        effects.broadcast(target.others(member.user_id), UserReconnecting(member.user_id))
        return effects

    @property
    def ended_sessions(self) -> int:
        """How many ended sessions are remembered for a resume (bounded; see ``max_ended``)."""
        return len(self._ended)

    def session_user(self, session_id: str) -> tuple[str, str, str] | None:
        """(app id, room, user id) of a live session, or None."""
        entry = self._sessions.get(session_id)
        if entry is None:
            return None
        return (entry[0].app_id, entry[0].name, entry[1].user_id)

    # --- requests of a seated member ------------------------------------------------------

    def kick(self, session_id: str, user_id: str, now: float, req: int) -> Effects:
        """An admin member removes ``user_id`` (10051 for non-admins, 10021 if absent): the
        user id is refused until readmitted or the room ends, its personal invites revoked."""
        target, member = self.host_seat(session_id, "kick")
        if user_id == member.user_id:
            raise RoomError(ErrorCode.INVALID_PARAMETER, "a member cannot kick itself; leave")
        victim = target.members.get(user_id)
        if victim is None:
            raise RoomError(ErrorCode.USER_NOT_EXIST, f"no member {user_id!r}")
        effects = Effects()
        self._ban(target, user_id)
        closed = Closed("KICKED_OUT", ErrorCode.KICKED_OUT, f"kicked out by {member.user_id}",
                        CAUSE_REMOVED)
        self._remove(target, victim, "kicked", closed, effects, now)
        effects.send(session_id, Ack(req, _ms(now)))
        return effects

    def publish(self, session_id: str, specs: Sequence[TrackSpec], req: int) -> Effects:
        """Announce new tracks with room-unique ids: ``published`` to the publisher,
        ``user_published`` to the others."""
        target, member = self._entry(session_id)
        most = self._config.limits.max_tracks_per_member
        if not specs:
            raise RoomError(ErrorCode.INVALID_PARAMETER, "no tracks to publish")
        if len(member.tracks) + len(specs) > most:
            raise RoomError(ErrorCode.INVALID_PARAMETER, f"more than {most} tracks")
        longest = self._config.limits.max_tag_bytes
        for spec in specs:
            if max(_utf8_size(spec.tag), _utf8_size(spec.media_id)) > longest:
                raise RoomError(ErrorCode.INVALID_PARAMETER,
                                f"tag or media_id larger than {longest} bytes")
        tracks = tuple(TrackInfo(track_id=target.new_track_id(), kind=s.kind, tag=s.tag,
                                 muted=s.muted, media_id=s.media_id) for s in specs)
        member.tracks.update((t.track_id, t) for t in tracks)
        effects = Effects()
        effects.send(session_id, Published(req, tracks))
        effects.broadcast(target.others(member.user_id), UserPublished(member.user_id, tracks))
        return effects

    def unpublish(self, session_id: str, track_ids: Sequence[str], req: int) -> Effects:
        """Withdraw tracks of the sender (10053 if one is not its own)."""
        target, member = self._entry(session_id)
        ids = tuple(dict.fromkeys(track_ids))
        unknown = [t for t in ids if t not in member.tracks]
        if unknown or not ids:
            raise RoomError(ErrorCode.INVALID_PARAMETER, f"not your tracks: {unknown}")
        for track_id in ids:
            del member.tracks[track_id]
        effects = Effects()
        effects.send(session_id, Ack(req))
        effects.broadcast(target.others(member.user_id), UserUnpublished(member.user_id, ids))
        return effects

    def mute(self, session_id: str, track_id: str, muted: bool, req: int) -> Effects:
        """Set a published track's muted flag; others hear of real changes only."""
        target, member = self._entry(session_id)
        track = member.tracks.get(track_id)
        if track is None:
            raise RoomError(ErrorCode.INVALID_PARAMETER, f"not your track: {track_id!r}")
        effects = Effects()
        effects.send(session_id, Ack(req))
        if track.muted != muted:
            member.tracks[track_id] = TrackInfo(track.track_id, track.kind, track.tag, muted,
                                                track.media_id)
            effects.broadcast(target.others(member.user_id),
                              TrackMuted(member.user_id, track_id, muted))
        return effects

    def send_message(self, session_id: str, content: str, user_ids: Sequence[str],
                     message_id: str, now: float, req: int) -> Effects:
        """Deliver a custom message to the listed members (unknown ids are ignored) or, with
        none listed, to every other member; the server stamps sender, time and missing id."""
        target, member = self._entry(session_id)
        most = self._config.limits.max_message_bytes
        if len(content.encode("utf-8", "surrogatepass")) > most:
            raise RoomError(ErrorCode.INVALID_PARAMETER, f"content larger than {most} bytes")
        if content == KICK_OUT and user_ids and member.permission == "admin":
            # The host's Kick (Qiniu's cooperative kickOut) is a removal: record it before the
            # target hears of it, so leaving by itself and joining again cannot outrun it.
            for user_id in user_ids:
                if user_id in target.members and user_id != member.user_id:
                    self._ban(target, user_id)
        message = Message(message_id=message_id or secrets.token_hex(8),
                          user_id=member.user_id, content=content, timestamp=_ms(now))
        if user_ids:
            wanted = set(user_ids)
            receivers = [m for m in target.others(member.user_id) if m.user_id in wanted]
        else:
            receivers = target.others(member.user_id)
        effects = Effects()
        effects.broadcast(receivers, message)
        effects.send(session_id, Ack(req, _ms(now)))
        return effects

    def relay(self, session_id: str, peer: str, data: dict[str, object]) -> Effects:
        """Pass negotiation data to another member of the same room, stamped with the
        sender (10021 if ``peer`` is not a member; dropped while the peer reconnects)."""
        target, member = self._entry(session_id)
        receiver = target.members.get(peer)
        if receiver is None or peer == member.user_id:
            raise RoomError(ErrorCode.USER_NOT_EXIST, f"no member {peer!r} to relay to")
        effects = Effects()
        if receiver.connected:
            effects.send(receiver.session_id, Relay(peer=member.user_id, data=data))
        return effects

    # --- the management API's view --------------------------------------------------------

    def room_users(self, app_id: str, room: str) -> list[str] | None:
        """User ids of the room's members in join order, or None if the room is not open."""
        target = self._rooms.get((app_id, room))
        return None if target is None else list(target.members)

    def active_rooms(self, app_id: str) -> list[str]:
        """Names of the app's open rooms, sorted."""
        return sorted(name for (app, name) in self._rooms if app == app_id)

    def kick_user(self, app_id: str, room: str, user_id: str, now: float,
                  ban: bool = False) -> tuple[bool | None, Effects]:
        """The server removes a member: None if the room is not open, False if no such user.
        With ``ban`` the user id is also refused until readmitted or the room ends (Qiniu's
        kick has no ban: without it, the user may join again)."""
        effects = Effects()
        target = self._rooms.get((app_id, room))
        if target is None:
            return None, effects
        victim = target.members.get(user_id)
        if victim is None:
            return False, effects
        if ban:
            self._ban(target, user_id)
        closed = Closed("KICKED_OUT", ErrorCode.KICKED_OUT, "kicked out by the server",
                        CAUSE_REMOVED if ban else CAUSE_KICKED)
        self._remove(target, victim, "kicked", closed, effects, now)
        return True, effects

    def create_room(self, app_id: str, room: str, settings: RoomSettings, now: float) -> bool:
        """Open an empty room that closes unless someone joins within the unjoined-room
        timeout; False if it is already open."""
        if (app_id, room) in self._rooms:
            return False
        target = Room(app_id=app_id, name=room, settings=settings)
        self._rooms[target.key] = target
        self._close_later(target, now + self._config.unjoined_room_timeout)
        return True

    def close_room(self, app_id: str, room: str, now: float) -> Effects | None:
        """Close a room now: every member gets ``closed`` ROOM_CLOSED. None if not open."""
        target = self._rooms.get((app_id, room))
        if target is None:
            return None
        effects = Effects()
        self._close(target, Closed("ROOM_CLOSED", ErrorCode.ROOM_CLOSED,
                                   "room closed by admin", CAUSE_CLOSED), effects, now)
        return effects

    def close_app(self, app_id: str, now: float) -> Effects:
        """Close every room of a deleted app."""
        effects = Effects()
        closed = Closed("ROOM_CLOSED", ErrorCode.ROOM_CLOSED, "the room's app was deleted",
                        CAUSE_CLOSED)
        for target in [r for r in self._rooms.values() if r.app_id == app_id]:
            self._close(target, closed, effects, now)
        return effects

    def close_all(self, closed: Closed, now: float) -> Effects:
        """Close every room with ``closed`` (the server is stopping)."""
        effects = Effects()
        for target in list(self._rooms.values()):
            self._close(target, closed, effects, now)
        return effects

    # --- the SFU (roomcall.server.sfu) -----------------------------------------------------

    def place(self, app_id: str, room: str, placement: Placement, reason: str,
              now: float) -> Effects:
        """The room's VideoRoom is ready at ``placement``: every connected member gets a
        ``media_route`` push (``reason``). Nothing if the room has closed meanwhile."""
        effects = Effects()
        target = self._rooms.get((app_id, room))
        if target is not None and target.on_sfu:
            renew_at = media_routes.place(target, placement, reason, self._config, now, effects)
            self._schedule(renew_at, "renew", app_id, room)
        return effects

    def unplace(self, app_id: str, room: str) -> None:
        """The room's VideoRoom is gone (its instance failed): members are told nothing until
        :meth:`place` puts it on another; a resume meanwhile gets the mesh route."""
        target = self._rooms.get((app_id, room))
        if target is not None:
            target.placement = None

    def room_tokens(self, app_id: str, room: str) -> list[str] | None:
        """The VideoRoom tokens of the room's members (its ``allowed`` list), or None if the
        room is not open."""
        target = self._rooms.get((app_id, room))
        return None if target is None else [m.room_token for m in target.members.values()]

    # --- for the host's requests (roomcall.server.hosting) -------------------------------

    def host_seat(self, session_id: str, what: str) -> tuple[Room, Member]:
        """The room and member of a host's session: 21002 if not seated, 10051 (naming
        ``what`` it may not do) if the member is not an admin now."""
        entry = self._entry(session_id)
        if entry[1].permission != "admin":
            raise RoomError(ErrorCode.NO_PERMISSION, f"only the host may {what}")
        return entry

    def open_room(self, app_id: str, room: str) -> Room | None:
        """The open room (app id, name), or None."""
        return self._rooms.get((app_id, room))

    def end(self, target: Room, closed: Closed, effects: Effects, now: float) -> None:
        """Close ``target`` now: every member gets ``closed`` (added to ``effects``)."""
        self._close(target, closed, effects, now)

    # --- time -----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`tick` may have work (it may find none: stale entries)."""
        due = self._deadlines[0][0] if self._deadlines else None
        if self._ended:
            forget = next(iter(self._ended.values()))[0]
            due = forget if due is None else min(due, forget)
        return due

    def tick(self, now: float) -> Effects:
        """Apply every lifecycle rule due by ``now``: silent members are removed (reason
        ``timeout``), rooms empty or unjoined for too long close."""
        effects = Effects()
        while self._ended:
            session_id, (expiry, _, _) = next(iter(self._ended.items()))
            if expiry > now:
                break
            del self._ended[session_id]
        while self._deadlines and self._deadlines[0][0] <= now:
            when, _, kind, key_a, key_b = heapq.heappop(self._deadlines)
            if kind == "member":
                self._member_due(key_a, when, now, effects)
            elif kind == "renew":
                target = self._rooms.get((key_a, key_b))
                if target is not None and target.renew_at == when and (
                        renew_at := media_routes.renew(target, self._config, now, effects)):
                    self._schedule(renew_at, "renew", key_a, key_b)
            else:
                target = self._rooms.get((key_a, key_b))
                if target is not None and target.close_at == when and not target.members:
                    del self._rooms[target.key]
                    self.invites.drop_room(*target.key)
                    media_routes.after_close(target, effects)
        return effects

    def _member_due(self, session_id: str, when: float, now: float, effects: Effects) -> None:
        if self._due.get(session_id) != when:
            return
        del self._due[session_id]
        entry = self._sessions.get(session_id)
        if entry is None:
            return
        target, member = entry
        deadline = member.last_seen + self._config.silent_user_timeout
        if deadline > now:
            self._arm(deadline, "member", session_id)
            return
        closed = Closed("ERROR", ErrorCode.SIGNALLING_TIMEOUT,
                        f"silent for {self._config.silent_user_timeout:g} s")
        self._remove(target, member, "timeout", closed, effects, now)

    # --- internals ------------------------------------------------------------------------

    def _ban(self, target: Room, user_id: str) -> None:
        target.removed[user_id] = None
        self.invites.revoke_user(target.app_id, target.name, user_id)

    def _entry(self, session_id: str) -> tuple[Room, Member]:
        entry = self._sessions.get(session_id)
        if entry is None:
            raise RoomError(ErrorCode.INVALID_STATE, "not in a room")
        return entry

    def _joined(self, target: Room, member: Member, now: float, req: int,
                resumed: bool) -> Joined:
        return Joined(req=req, session_id=member.session_id, room=target.name,
                      user_id=member.user_id, permission=member.permission,
                      members=target.snapshot(member.user_id), server_time=_ms(now),
                      heartbeat_interval=self._config.heartbeat_interval,
                      reconnect_window=self._config.silent_user_timeout,
                      resumed=resumed, tracks=tuple(member.tracks.values()),
                      ice_servers=self._config.ice.servers_for(member.user_id, now),
                      media=media_routes.route_for(target, member, self._config, now))

    def _remove(self, target: Room, member: Member, reason: LeaveReason,
                closed: Closed | None, effects: Effects, now: float) -> None:
        del target.members[member.user_id]
        self._sessions.pop(member.session_id, None)
        self._due.pop(member.session_id, None)
        if closed is not None:
            if reason != "timeout":
                self._remember(target, member, closed, now)
            if member.connected:
                effects.send(member.session_id, closed)
                effects.closes.append(member.session_id)
        effects.broadcast(target.others(member.user_id), UserLeft(member.user_id, reason))
        media_routes.after_removal(target, member, reason, effects)
        if not target.members:
            self._close_later(target, now + self._config.empty_room_timeout)

    def _close(self, target: Room, closed: Closed, effects: Effects, now: float) -> None:
        for member in target.members.values():
            self._sessions.pop(member.session_id, None)
            self._due.pop(member.session_id, None)
            self._remember(target, member, closed, now)
            if member.connected:
                effects.send(member.session_id, closed)
                effects.closes.append(member.session_id)
        target.members.clear()
        self._rooms.pop(target.key, None)
        self.invites.drop_room(*target.key)
        media_routes.after_close(target, effects)

    def _remember(self, target: Room, member: Member, closed: Closed, now: float) -> None:
        """Keep why ``member``'s session ended for one reconnect window, so that an owner who
        was away when it happened hears it on resuming (a timeout needs no note: its window
        has passed by definition, and the resume gets 21003)."""
        if self._max_ended <= 0:
            return
        while len(self._ended) >= self._max_ended:
            del self._ended[next(iter(self._ended))]
        expiry = now + self._config.silent_user_timeout
        self._ended[member.session_id] = (expiry, (target.app_id, target.name, member.user_id),
                                          closed)

    def _close_later(self, target: Room, when: float) -> None:
        target.close_at = when
        self._schedule(when, "room", target.app_id, target.name)

    def _schedule(self, when: float, kind: str, app_id: str, room: str) -> None:
        self._serial += 1
        heapq.heappush(self._deadlines, (when, self._serial, kind, app_id, room))

    def _arm(self, when: float, kind: str, session_id: str) -> None:
        self._due[session_id] = when
        self._serial += 1
        heapq.heappush(self._deadlines, (when, self._serial, kind, session_id, ""))
