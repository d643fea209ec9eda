"""The signalling shell: WebSocket frames in, rooms-core calls, frames out, one lifecycle timer.

All room logic lives in :class:`~roomcall.server.rooms.Rooms`; this module reads frames, enforces
the per-connection limits, verifies tokens, hands the core's effects to connections and keeps
one timer armed at the core's next deadline. It also serves the management API's view of the
rooms (the ``RoomDirectory`` methods), since it owns the connections those calls touch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable

from aiohttp import WSMsgType, web

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    CLIENT_MESSAGES,
    PROTOCOL_VERSION,
    Ack,
    Closed,
    CreateInvite,
    EndRoom,
    Error,
    Heartbeat,
    Join,
    Kick,
    Leave,
    ListInvites,
    ListRemoved,
    Message,
    Mute,
    ProtocolError,
    Publish,
    Readmit,
    Relay,
    Resume,
    RevokeInvites,
    SendMessage,
    ServerMessage,
    TransferHost,
    Unpublish,
    parse,
    serialize,
)
from roomcall.protocol.token import RoomAccess, TokenError, verify_room_token
from roomcall.server.config import ServerConfig
from roomcall.server.connection import Connection
from roomcall.server.frame_bound import largest_server_frame
from roomcall.server.room import Effects, MediaOp, Placement, RoomError, RoomSettings
from roomcall.server.rooms import Rooms, SessionEnded

_log = logging.getLogger(__name__)

SettingsFor = Callable[[str], RoomSettings | None]
"""The settings of an app by id, or None if there is no such app."""

Seated = Callable[[asyncio.BaseTransport], None]
"""Told of a connection's transport once it carries a session (its admission is then firm)."""

_RESUME_DELIVERY = 5.0  # seconds a resume's answer may take to reach the client's socket


class Signalling:
    """Signalling connections, the rooms core they drive, and the lifecycle timer."""

    def __init__(self, config: ServerConfig, *, secret_for: Callable[[str], str | None],
                 settings_for: SettingsFor, clock: Callable[[], float],
                 seated: Seated | None = None) -> None:
        self._config = config
        self._seated = seated
        self.largest_frame = largest_server_frame(config)
        """Bytes of the largest frame the server may send (``docs/protocol.md``)."""
        self._limits = config.limits
        # Below a quarter of this, a text frame's UTF-8 size cannot reach a size limit.
        self._nearest_limit = min(config.limits.max_relay_bytes, config.limits.max_frame_bytes)
        self._secret_for = secret_for
        self._settings_for = settings_for
        self._clock = clock
        self.rooms = Rooms(config)
        """The rooms core (read it in tests; change it only through this shell)."""
        self._by_session: dict[str, Connection] = {}
        self._connections: set[Connection] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._handlers = 0
        self._idle = asyncio.Event()
        self.media: Callable[[list[MediaOp]], None] | None = None
        """Where the core's Janus work goes (``JanusRooms.submit``; None: no SFU)."""

    # --- the WebSocket endpoint -----------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """aiohttp handler of the signalling path."""
        # aiohttp's own limit is a backstop: frames between ours and it get a 10053 answer.
        # Pings are answered here, not by aiohttp, so that they count towards the frame rate.
        ws = web.WebSocketResponse(max_msg_size=4 * self._limits.max_frame_bytes,
                                   heartbeat=None, autoping=False,
                                   compress=self._limits.compression)
        try:
            await ws.prepare(request)
        except ConnectionError as exc:
            # The client went away mid-handshake (e.g. a TCP reset): nothing to answer, and
            # nothing wrong with the server (aiohttp would log it as an ERROR traceback).
            _log.info("%s: connection lost during the WebSocket handshake: %s",
                      request.remote, exc or type(exc).__name__)
            raise web.HTTPBadRequest() from None
        _read_size(request)
        conn = Connection(ws, request, self._limits, self._clock(), self.largest_frame)
        self._connections.add(conn)
        self._handlers += 1
        self._idle.clear()
        try:
            await self._read(conn)
        finally:
            self._connections.discard(conn)
            self._lost(conn)
            try:
                await conn.finish()
            finally:
                self._handlers -= 1
                if not self._handlers:
                    self._idle.set()
        return ws

    async def close_all(self, closed: Closed | None = None, grace: float = 1.0) -> None:
        """Server shutdown: close every room with ``closed`` (members are told at once, not
        left to find a dead socket), give the sockets ``grace`` seconds to flush and close,
        then drop whatever is left, and stop the timer. Without ``closed``, just drop."""
        if closed is not None:
            self._apply(self.rooms.close_all(closed, self._clock()))
            for conn in list(self._connections):
                if conn.session_id is None:  # not joined yet: nothing to tell
                    conn.close_after_sends()
            if self._handlers:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._idle.wait(), grace)
        if self._timer is not None:
            self._timer.cancel()
            self._timer, self._timer_at = None, None
        for conn in list(self._connections):
            conn.abort()

    async def _read(self, conn: Connection) -> None:
        deadline = self._clock() + self._limits.join_timeout
        while not conn.closing:
            timeout = None if conn.session_id is not None else deadline - self._clock()
            try:
                msg = await conn.ws.receive(timeout=timeout)
            except TimeoutError:
                self._send(conn, Error(0, ErrorCode.SIGNALLING_TIMEOUT,
                                       "no join or resume in time"))
                conn.close_after_sends()
                return
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                conn.hold()  # the answers to this frame are written below, by this task
                try:
                    resume = self._on_frame(conn, msg.data)
                finally:
                    await conn.flush()
                if resume is not None:
                    await self._resume(conn, resume, self._clock())
            elif msg.type in (WSMsgType.PING, WSMsgType.PONG):
                # Control frames cost as much to read as any other: same rate limit.
                if self._take(conn, len(msg.data)) and msg.type == WSMsgType.PING:
                    await conn.pong(msg.data)
            elif msg.type == WSMsgType.ERROR:
                # aiohttp's backstop limit (or a broken frame): the socket is already failing.
                _log.info("%s: websocket error: %s", conn.peer, conn.ws.exception())
                return
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return

    def _lost(self, conn: Connection) -> None:
        """The socket ended: a seated session keeps its seat for a resume."""
        sid = conn.session_id
        conn.session_id = None
        if sid is not None and self._by_session.get(sid) is conn:
            del self._by_session[sid]
            self._apply(self.rooms.disconnect(sid, self._clock()))

    # --- frames ---------------------------------------------------------------------------

    def _take(self, conn: Connection, size: int) -> bool:
        """Spend a frame and ``size`` bytes of the connection's budgets (else throttle it)."""
        now = self._clock()
        if conn.bucket.take(now) and conn.byte_bucket.take(now, size):
            conn.throttled = False
            return True
        self._throttle(conn)
        return False

    def _on_frame(self, conn: Connection, data: str | bytes) -> Resume | None:
        """Handle one text or binary frame; a resume is returned, to be awaited by the
        reader (its answer must reach the client before the seat counts as resumed)."""
        now = self._clock()
        size = len(data)
        if isinstance(data, str) and 4 * size > self._nearest_limit:
            size = len(data.encode("utf-8", "replace"))  # exact only where a limit is near
        if size > self._limits.max_frame_bytes:
            self._send(conn, Error(0, ErrorCode.INVALID_PARAMETER,
                                   f"frame larger than {self._limits.max_frame_bytes} bytes"))
            conn.close_after_sends()
            return None
        if not self._take(conn, size):
            return None
        if conn.session_id is not None:
            self.rooms.touch(conn.session_id, now)
            if isinstance(data, str) and self._heartbeat(conn, data, now):
                return None
        try:
            if isinstance(data, bytes):
                data = _utf8(data)
            msg = parse(data)
            if _SURROGATE_ESCAPE.search(data) and not _encodable(data):
                raise ProtocolError("text holds an unpaired surrogate (not valid Unicode)")
            if not isinstance(msg, CLIENT_MESSAGES):
                raise ProtocolError(f"{msg.type!r} is not sent by clients")
        except ProtocolError as exc:
            self._refuse(conn, _guess_req(data), exc.code, exc.message)
            return None
        if isinstance(msg, Relay) and max(size, len(serialize(msg).encode())) > \
                self._limits.max_relay_bytes:
            # Re-serialised too: JSON numbers can grow (9e15 -> 9000000000000000.0).
            self._refuse(conn, 0, ErrorCode.INVALID_PARAMETER,
                         f"relay larger than {self._limits.max_relay_bytes} bytes")
            return None
        if isinstance(msg, Resume) and conn.session_id is None:
            return msg
        try:
            self._dispatch(conn, msg, now)
        except RoomError as exc:
            self._send(conn, Error(getattr(msg, "req", 0), exc.code, exc.message))
        self._reschedule()
        return None

    def _heartbeat(self, conn: Connection, data: str, now: float) -> bool:
        """Answer a seated member's heartbeat in the form clients send it, without the generic
        parse and serialise: most frames are heartbeats. False if ``data`` is anything else
        (the generic path then answers it, errors included)."""
        match = _HEARTBEAT.fullmatch(data)
        if match is None:
            return False
        req = int(match[1] or 0)
        if not -_MAX_REQ <= req <= _MAX_REQ:
            return False
        # Exactly serialize(Ack(req, ms)): tests/server/test_fast_paths.py holds them equal.
        conn.send(f'{{"type":"ack","req":{req},"server_time":{int(now * 1000)}}}'.encode())
        return True

    def _dispatch(self, conn: Connection, msg: object, now: float) -> None:
        sid = conn.session_id
        if isinstance(msg, Join | Resume):
            if sid is not None:
                raise RoomError(ErrorCode.INVALID_STATE, "already in a room")
            if isinstance(msg, Join):
                self._join(conn, msg, now)
            return
        if sid is None:
            raise RoomError(ErrorCode.INVALID_STATE, "join or resume first")
        if isinstance(msg, Heartbeat):
            self._send(conn, Ack(msg.req, int(now * 1000)))
        elif isinstance(msg, Leave):
            self._apply(self.rooms.leave(sid, now, msg.req))
        elif isinstance(msg, SendMessage):
            self._apply(self.rooms.send_message(sid, msg.content, msg.user_ids,
                                                msg.message_id, now, msg.req), conn)
        elif isinstance(msg, Relay):
            self._apply(self.rooms.relay(sid, msg.peer, msg.data), conn)
        elif isinstance(msg, Kick):
            self._apply(self.rooms.kick(sid, msg.user_id, now, msg.req))
        elif isinstance(msg, Publish):
            self._apply(self.rooms.publish(sid, msg.tracks, msg.req))
        elif isinstance(msg, Unpublish):
            self._apply(self.rooms.unpublish(sid, msg.track_ids, msg.req))
        elif isinstance(msg, Mute):
            self._apply(self.rooms.mute(sid, msg.track_id, msg.muted, msg.req))
        else:
            self._apply(host_request(self.rooms, sid, msg, now))

    def _join(self, conn: Connection, msg: Join, now: float) -> None:
        if msg.version != PROTOCOL_VERSION:
            self._end(conn, Error(msg.req, ErrorCode.INVALID_PARAMETER,
                                  f"protocol version {msg.version} is not {PROTOCOL_VERSION}"))
            return
        access = self._access(conn, msg.req, msg.token, now)
        if access is None:
            return
        settings = self._settings_for(access.app_id)
        if settings is None:
            self._end(conn, Error(msg.req, ErrorCode.TOKEN_ERROR, "no such app"))
            return
        try:
            joined, effects = self.rooms.join(
                app_id=access.app_id, room=access.room_name, user_id=access.user_id,
                user_data=msg.user_data, permission=access.permission, settings=settings,
                now=now, req=msg.req)
        except RoomError as exc:
            self._end(conn, Error(msg.req, exc.code, exc.message))
            return
        _log.info("%s joined %s/%s", access.user_id, access.app_id, access.room_name)
        self._bind(conn, joined.session_id)
        self._send(conn, joined)
        self._apply(effects)

    async def _resume(self, conn: Connection, msg: Resume, now: float) -> None:
        # The session id is the proof of a resume, so an expired token still resumes (a
        # meeting may outlive its token); the token must still be genuine and name the seat.
        access = self._access(conn, msg.req, msg.token, 0.0)
        if access is None:
            return
        try:
            # The seat is taken back only once the answer reached the client's socket: a
            # resume whose answer is lost leaves the seat as it was (reconnecting), so the
            # client's next resume or join finds no connected ghost holding it.
            answer = self.rooms.resume_answer(
                app_id=access.app_id, room=access.room_name, user_id=access.user_id,
                session_id=msg.session_id, now=now, req=msg.req)
            self._send(conn, answer)
            if not await conn.delivered(_RESUME_DELIVERY):
                _log.info("%s: resume answer not delivered; seat left as it was", conn.peer)
                conn.abort()
                return
            now = self._clock()
            current = self.rooms.resume_answer(
                app_id=access.app_id, room=access.room_name, user_id=access.user_id,
                session_id=msg.session_id, now=now, req=msg.req)
            if (current.members, current.tracks) != (answer.members, answer.tracks):
                # The room changed while the answer was on its way, and the events saying so
                # did not go to this connection: the client must resume again to see it.
                _log.info("%s: room changed during the resume; seat left as it was", conn.peer)
                conn.abort()
                return
            joined, effects = self.rooms.resume(
                app_id=access.app_id, room=access.room_name, user_id=access.user_id,
                session_id=msg.session_id, now=now, req=msg.req)
        except SessionEnded as exc:
            # Ended while its owner was away: tell it why, as the session would have been
            # told, so it shows the reason and does not try again.
            _log.info("%s resumed a session that had ended: %s", access.user_id, exc.message)
            self._end(conn, exc.closed)
            return
        except RoomError as exc:
            self._end(conn, Error(msg.req, exc.code, exc.message))
            return
        _log.info("%s resumed in %s/%s", access.user_id, access.app_id, access.room_name)
        old = self._by_session.get(joined.session_id)
        if old is not None:
            # The server had not noticed the old socket die; it no longer speaks for the seat.
            old.session_id = None
            old.abort()
        self._bind(conn, joined.session_id)
        self._apply(effects)
        self._reschedule()

    def _access(self, conn: Connection, req: int, token: str, now: float) -> RoomAccess | None:
        try:
            return verify_room_token(token, self._secret_for, now=now)
        except TokenError as exc:
            self._end(conn, Error(req, exc.code, exc.message))
            return None

    def _bind(self, conn: Connection, session_id: str) -> None:
        conn.session_id = session_id
        self._by_session[session_id] = conn
        transport = conn.ws_transport
        if self._seated is not None and transport is not None:
            self._seated(transport)

    def _throttle(self, conn: Connection) -> None:
        conn.dropped += 1
        if conn.dropped > self._limits.max_dropped_frames:
            _log.warning("%s: flooding; disconnecting", conn.peer)
            self._end(conn, Closed("ERROR", ErrorCode.INVALID_PARAMETER, "too many frames"))
        elif not conn.throttled:
            conn.throttled = True
            self._send(conn, Error(0, ErrorCode.INVALID_PARAMETER,
                                   "too many frames; frames are being dropped"))

    def _crowded(self, sender: Connection, receiver: Connection) -> None:
        """``receiver`` has not read what ``sender`` sent it: the sender's frame is dropped
        (not the receiver, which may be keeping up with everyone else), and told once."""
        if receiver in sender.crowding:
            return
        sender.crowding.add(receiver)
        user = self.rooms.session_user(receiver.session_id or "")
        name = user[2] if user is not None else "a member"
        _log.info("%s: frames to %s dropped: it has not read the last %d bytes", sender.peer,
                  name, self._limits.queue_share_bytes)
        self._send(sender, Error(0, ErrorCode.INVALID_PARAMETER,
                                 f"{name} is not reading fast enough; frames to it dropped"))

    def _refuse(self, conn: Connection, req: int, code: int, message: str) -> None:
        conn.bad += 1
        if conn.bad > self._limits.max_bad_frames:
            _log.warning("%s: too many bad frames; disconnecting", conn.peer)
            self._end(conn, Closed("ERROR", code, "too many invalid frames"))
        else:
            self._send(conn, Error(req, code, message))

    def _end(self, conn: Connection, last: Error | Closed) -> None:
        """Send ``last`` and close. A seated session ended by ``closed`` loses its seat
        (``closed`` is never resumable; others see ``user_left`` reason ``kicked``)."""
        sid = conn.session_id
        if isinstance(last, Closed) and sid is not None and self._by_session.get(sid) is conn:
            self._apply(self.rooms.expel(sid, last, self._clock()))
            self._reschedule()
        self._send(conn, last)
        self._lost(conn)
        conn.close_after_sends()

    # --- effects and time -----------------------------------------------------------------

    def _send(self, conn: Connection, msg: ServerMessage) -> None:
        conn.send(serialize(msg).encode())

    def _apply(self, effects: Effects, sender: Connection | None = None) -> None:
        """Send the core's frames; those ``sender``'s message or relay made count towards
        its share of each recipient's queue."""
        frames: dict[int, bytes] = {}
        for sid, msg in effects.sends:
            conn = self._by_session.get(sid)
            if conn is None:
                continue
            # A broadcast is one message object sent to many: serialise and encode it once.
            data = frames.get(id(msg))
            if data is None:
                data = frames[id(msg)] = serialize(msg).encode()
            if sender is None or not isinstance(msg, Message | Relay):
                conn.send(data)
            elif conn.send(data, sender):
                sender.crowding.discard(conn)
            else:
                self._crowded(sender, conn)
        for sid in effects.closes:
            conn = self._by_session.pop(sid, None)
            if conn is not None:
                conn.session_id = None
                conn.close_after_sends()
        if effects.media and self.media is not None:
            self.media(effects.media)

    def place(self, key: tuple[str, str], placement: Placement, reason: str) -> None:
        """The room's VideoRoom is ready: push every member its route."""
        self._apply(self.rooms.place(key[0], key[1], placement, reason, self._clock()))

    def _reschedule(self) -> None:
        deadline = self.rooms.next_deadline()
        if deadline is None or (self._timer_at is not None and self._timer_at <= deadline):
            return
        if self._timer is not None:
            self._timer.cancel()
        # A millisecond late, so the core's clock has surely passed the deadline when it fires.
        delay = max(0.0, deadline - self._clock()) + 0.001
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)
        self._timer_at = deadline

    def _on_timer(self) -> None:
        self._timer, self._timer_at = None, None
        self._apply(self.rooms.tick(self._clock()))
        self._reschedule()

    # --- the management API's view (RoomDirectory) ----------------------------------------

    def room_users(self, app_id: str, room: str) -> list[str] | None:
        """User ids of the room's members, or None if the room is not active."""
        return self.rooms.room_users(app_id, room)

    def kick_user(self, app_id: str, room: str, user_id: str,
                  ban: bool = False) -> bool | None:
        """Remove a member (KICKED_OUT), with ``ban`` refusing its user id until readmitted
        or the room ends; None: room not active, False: no such user."""
        result, effects = self.rooms.kick_user(app_id, room, user_id, self._clock(), ban)
        self._apply(effects)
        self._reschedule()
        return result

    def active_rooms(self, app_id: str) -> list[str]:
        """Sorted names of the app's open rooms."""
        return self.rooms.active_rooms(app_id)

    def create_room(self, app_id: str, room: str) -> bool:
        """Open a room that closes unless joined in time; False if open already or no app."""
        settings = self._settings_for(app_id)
        if settings is None:
            return False
        created = self.rooms.create_room(app_id, room, settings, self._clock())
        self._reschedule()
        return created

    def close_room(self, app_id: str, room: str) -> bool:
        """Close a room now (members get ROOM_CLOSED); False if it is not active."""
        effects = self.rooms.close_room(app_id, room, self._clock())
        if effects is None:
            return False
        self._apply(effects)
        self._reschedule()
        return True

    def close_app(self, app_id: str) -> None:
        """Close every room of a deleted app."""
        self._apply(self.rooms.close_app(app_id, self._clock()))
        self._reschedule()


def host_request(rooms: Rooms, sid: str, msg: object, now: float) -> Effects:
    """Apply one of the requests only a room's host (an admin member) may make."""
    if isinstance(msg, CreateInvite):
        return rooms.host.create_invite(sid, name=msg.name, personal=msg.personal, ttl=msg.ttl,
                                   max_uses=msg.max_uses, now=now, req=msg.req)
    if isinstance(msg, RevokeInvites):
        return rooms.host.revoke_invites(sid, msg.codes, now, msg.req)
    if isinstance(msg, ListInvites):
        return rooms.host.list_invites(sid, now, msg.req)
    if isinstance(msg, ListRemoved):
        return rooms.host.list_removed(sid, msg.req)
    if isinstance(msg, Readmit):
        return rooms.host.readmit(sid, msg.user_id, now, msg.req)
    if isinstance(msg, EndRoom):
        return rooms.host.end_room(sid, now, msg.req)
    if isinstance(msg, TransferHost):
        return rooms.host.transfer_host(sid, msg.user_id, now, msg.req)
    raise RoomError(ErrorCode.INVALID_PARAMETER, f"{type(msg).__name__} is not a request")


# A heartbeat as serialize() writes it (and as clients send it): a JSON integer req (no leading
# zeros) or none; any other spelling takes the generic path.
_HEARTBEAT = re.compile(r'\{"type":"heartbeat"(?:,"req":(-?(?:0|[1-9][0-9]{0,15})))?\}')
_MAX_REQ = 2**53

# JSON may spell a lone UTF-16 surrogate ("\ud800"): Python decodes it into a str that cannot
# be encoded back to UTF-8, so relaying it would break the receiver's socket writes. Valid pairs
# (how ASCII-only encoders spell emoji) match too; those pass the exact check below.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _read_size(request: web.Request) -> None:
    """Read the socket in 64 KiB pieces. asyncio's selector transport reads into a new
    256 KiB bytes object each time, which glibc maps and unmaps per read (three system calls
    and a page fault for every heartbeat); a 64 KiB one comes from the heap. Frames larger than
    that take a few reads instead of one."""
    transport = request.transport
    if getattr(transport, "max_size", None) == _ASYNCIO_READ_SIZE:
        transport.max_size = _READ_SIZE  # type: ignore[union-attr]


_ASYNCIO_READ_SIZE = 256 * 1024
_READ_SIZE = 64 * 1024


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("frame is not UTF-8") from None


def _encodable(data: str) -> bool:
    """Whether every string in the JSON frame ``data`` can be encoded as UTF-8."""
    try:
        json.dumps(json.loads(data), ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError, RecursionError):
        return False
    return True


def _guess_req(data: str | bytes) -> int:
    """The ``req`` of a frame that failed to parse, if it has a usable one (else 0)."""
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError):
        return 0
    req = raw.get("req") if isinstance(raw, dict) else None
    if isinstance(req, int) and not isinstance(req, bool) and abs(req) <= _MAX_REQ:
        return req  # answerable: the client's parser accepts it back
    return 0
