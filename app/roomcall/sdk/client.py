"""RTCClient: one member's session in one room (Qiniu's ``QNRTCClient`` with pythonic names).

>>> client = RTCClient("ws://127.0.0.1:7880")           # doctest: +SKIP
>>> client.on("user_joined", lambda user_id, user_data: print("hello", user_id))
>>> await client.join(token)                             # CONNECTED, or raises JoinError
>>> await client.send_message("hi")                      # everybody else in the room
>>> await client.leave()

Reconnection: heartbeats keep the session alive. When the link drops (socket closed, or no
answer for a few heartbeat intervals) the client goes RECONNECTING and resumes its session
with backoff; success gives RECONNECTED and the events the client missed meanwhile (users who
joined, left, published...), each exactly once. When the server refuses the resume (its
reconnect window, 30 s by default, has passed, or it restarted and forgot the room) the client
ends DISCONNECTED with reason ERROR and code 21003: the session is gone, and an application
that wants to stay in the room calls ``join()`` again (with a fresh token if it expired).

Kicked out or room closed: DISCONNECTED with KICKED_OUT or ROOM_CLOSED; never reconnects.
That holds when it happened while the network was down too: the server answers the resume
with the ``closed`` the client missed, and the client ends with its reason and code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from roomcall.protocol.errors import DisconnectReason, ErrorCode, error_message
from roomcall.protocol.messages import (
    MAX_MESSAGE_CONTENT_BYTES,
    Closed,
    Error,
    Join,
    Joined,
    Kick,
    Leave,
    Message,
    Permission,
    Relay,
    Resume,
    SendMessage,
    ServerMessage,
)
from roomcall.sdk import events, users
from roomcall.sdk.connection import OPEN_TIMEOUT, REQUEST_TIMEOUT, Connection
from roomcall.sdk.events import EventEmitter, EventName, Handler
from roomcall.sdk.media_session import MediaSession
from roomcall.sdk.reconnection import Delays, resume_within
from roomcall.sdk.state import TRANSITIONS, ConnectionInfo, ConnectionState, JoinError, RTCError
from roomcall.sdk.tracks import LocalPublication, RemoteTrack
from roomcall.sdk.users import Change, RemoteUser

if TYPE_CHECKING:
    from aiortc import RTCIceServer, RTCPeerConnection
    from aiortc.mediastreams import MediaStreamTrack

log = logging.getLogger(__name__)

LEAVE_TIMEOUT = 2.0
"""Seconds ``leave()`` waits for the server to confirm before closing anyway."""

_S = ConnectionState
_CLOSED_REASONS = {r.value: r for r in DisconnectReason}


class RTCClient:
    """A member of one room at a time, talking to the room server at ``server_url``.

    Args:
        server_url: the server's base URL, e.g. ``ws://127.0.0.1:7880``.
        ice_servers: aiortc ``RTCIceServer`` values for the peer connections. None (the
            default): the STUN / TURN servers the room server hands out in its join answer
            (host candidates only if it hands out none; never a public STUN server behind
            the user's back). An explicit list, even empty, overrides the server's.
        reconnect_delays: seconds to wait before each reconnection attempt: an iterable, or a
            callable returning a fresh one for each loss. Default: exponential backoff.
        auto_subscribe: subscribe to every remote track as it is published.
        media: False for a signalling-only client (no peer connections, no aiortc).
    """

    def __init__(
        self,
        server_url: str,
        *,
        ice_servers: Iterable[RTCIceServer] | None = None,
        reconnect_delays: Delays = None,
        auto_subscribe: bool = True,
        media: bool = True,
    ) -> None:
        self.server_url = server_url
        self._ice_servers = None if ice_servers is None else tuple(ice_servers)
        self._delays = reconnect_delays
        self._auto_subscribe = auto_subscribe
        self._media_enabled = media
        self._events = EventEmitter()
        self._state = _S.DISCONNECTED
        self._info: ConnectionInfo | None = None
        self._conn: Connection | None = None
        self._generation = 0
        self._held: list[ServerMessage] | None = None
        self._users: dict[str, RemoteUser] = {}
        self._media: MediaSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reconnect_task: asyncio.Task[None] | None = None
        self._token = ""
        self.session_id: str | None = None
        """The server's id of the current session (None while disconnected)."""
        self.room: str | None = None
        """The room joined last."""
        self.user_id: str | None = None
        """The local user's id, from the token."""
        self.permission: Permission | None = None
        """``"admin"`` or ``"user"``, from the token."""
        self._reconnect_window = 30.0
        self._heartbeat_interval = 5.0

    # --- public state --------------------------------------------------------------------

    @property
    def connection_state(self) -> ConnectionState:
        """The current state."""
        return self._state

    @property
    def disconnect_info(self) -> ConnectionInfo | None:
        """Why the client last ended in DISCONNECTED (None before any session ended)."""
        return self._info

    @property
    def remote_users(self) -> list[RemoteUser]:
        """Every other member, in join order, as of the events delivered so far."""
        return list(self._users.values())

    def get_remote_user(self, user_id: str) -> RemoteUser | None:
        """The member ``user_id``, or None if it is not in the room."""
        return self._users.get(user_id)

    @property
    def published_tracks(self) -> list[LocalPublication]:
        """The local tracks published in this session."""
        return self._media.publications if self._media is not None else []

    @property
    def remote_tracks(self) -> list[RemoteTrack]:
        """Every subscribed remote track."""
        return self._media.remote_tracks if self._media is not None else []

    def peer_connection(self, user_id: str) -> RTCPeerConnection | None:
        """The live aiortc RTCPeerConnection to ``user_id`` (for ``getStats()``), or None."""
        return self._media.peer_connection(user_id) if self._media is not None else None

    def on(self, name: EventName, handler: Handler) -> Handler:
        """Call ``handler`` on each ``name`` event (see :mod:`roomcall.sdk.events`)."""
        return self._events.on(name, handler)

    def off(self, name: EventName, handler: Handler) -> None:
        """Stop calling ``handler`` for ``name``."""
        self._events.off(name, handler)

    # --- join / leave ----------------------------------------------------------------------

    async def join(self, token: str, user_data: str = "") -> None:
        """Join the room named in ``token``; returns in CONNECTED.

        Raises JoinError with the Qiniu code (10001 bad token, 10002 expired, 10011 full, 10022
        user already in the room, 21001 server unreachable or refused, 21002 not DISCONNECTED);
        except for 21002 the client is then DISCONNECTED with the same code in its info.
        """
        if self._state is not _S.DISCONNECTED:
            raise JoinError(ErrorCode.INVALID_STATE, f"join() while {self._state.name}")
        self._set_state(_S.CONNECTING)
        self._token = token
        try:
            conn = await self._open()
            answer = await conn.request(Join(req=0, token=token, user_data=user_data))
        except RTCError as exc:
            if not self._joining():  # leave() or a Closed frame came first
                raise self._join_interrupted() from None
            code = exc.code
            if code == ErrorCode.SIGNALLING_TIMEOUT and not (self._conn and self._conn.is_open):
                code = ErrorCode.AUTH_FAILED  # the server closed the socket without answering
            await self._cleanup(*self._end(_reason_for(code), code, exc.message))
            raise JoinError(code, exc.message) from None
        except BaseException:
            await self._cleanup(*self._end(DisconnectReason.LEAVE, 0, "join() was cancelled"))
            raise
        if not self._joining():
            raise self._join_interrupted()
        assert isinstance(answer, Joined)
        try:
            self._start_session(answer)
            if self._media_enabled:
                self._media = MediaSession(
                    answer.user_id, self._send_relay, self._events.emit,
                    ice_servers=_ice_servers(self._ice_servers, answer),
                    auto_subscribe=self._auto_subscribe,
                )
        except Exception as exc:  # e.g. media unavailable: end cleanly, never stay CONNECTING
            log.exception("starting the session failed")
            await self._cleanup(*self._end(DisconnectReason.ERROR, ErrorCode.FATAL, str(exc)))
            raise JoinError(ErrorCode.FATAL, str(exc)) from exc
        after, changes = users.reconcile({}, answer.members)
        self._users = {}
        self._set_state(_S.CONNECTED)
        self._deliver(after, changes)
        self._release_held()
        self._check_link()

    async def leave(self) -> None:
        """Leave the room: others see ``user_left`` at once; DISCONNECTED with LEAVE.
        Harmless when not in a room."""
        if self._state is _S.DISCONNECTED:
            return
        connected = self._state.is_connected
        conn, media = self._end(DisconnectReason.LEAVE, 0, "")
        try:
            if conn is not None and connected and conn.is_open:
                with contextlib.suppress(RTCError):
                    await conn.request(Leave(req=0), timeout=LEAVE_TIMEOUT)
        finally:
            # Also when the caller cancels us while the server's answer is pending: the state
            # is already DISCONNECTED, so no later leave() would close the socket and media.
            await self._cleanup(conn, media)

    async def __aenter__(self) -> RTCClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.leave()

    # --- messages and kick ---------------------------------------------------------------

    async def send_message(
        self, content: str, user_ids: Iterable[str] | None = None, message_id: str | None = None
    ) -> str:
        """Send ``content`` to ``user_ids`` (None or empty: everybody else); returns the
        message id (a fresh one unless given). RTCError 10053 if ``content`` exceeds
        ``MAX_MESSAGE_CONTENT_BYTES`` (checked before sending)."""
        if isinstance(user_ids, str):
            raise TypeError("user_ids must be a list of user ids, not a single string")
        size = len(content.encode("utf-8"))
        if size > MAX_MESSAGE_CONTENT_BYTES:
            raise RTCError(ErrorCode.INVALID_PARAMETER,
                           f"message content is {size} bytes; at most "
                           f"{MAX_MESSAGE_CONTENT_BYTES} are allowed")
        message_id = message_id or uuid.uuid4().hex
        await self._request(SendMessage(req=0, content=content, user_ids=tuple(user_ids or ()),
                                        message_id=message_id))
        return message_id

    async def kick_user(self, user_id: str) -> None:
        """Remove ``user_id`` from the room (admin tokens only: RTCError 10051 otherwise)."""
        await self._request(Kick(req=0, user_id=user_id))

    # --- media -----------------------------------------------------------------------------

    async def publish(self, tracks: Iterable[MediaStreamTrack], *, tag: str = ""
                      ) -> list[LocalPublication]:
        """Send ``tracks`` (any aiortc ``MediaStreamTrack``: camera, microphone, synthetic,
        or a plain ``aiortc.VideoStreamTrack()``) to every member; returns their publications
        with server-assigned track ids, in order. Others get ``user_published``."""
        return await self._require_media().publish(list(tracks), tag, self._request)

    async def unpublish(self, tracks: Iterable[MediaStreamTrack | LocalPublication]) -> None:
        """Stop sending ``tracks`` (sources or publications); others get user_unpublished."""
        await self._require_media().unpublish(list(tracks), self._request)

    async def set_muted(self, track: MediaStreamTrack | LocalPublication, muted: bool) -> None:
        """Mute (stop sending media of) or unmute a published track; others get
        mute_state_changed."""
        await self._require_media().set_muted(track, muted, self._request)

    def subscribe(self, user_id: str, track_ids: Iterable[str] | None = None) -> None:
        """With ``auto_subscribe=False``: subscribe to ``user_id``'s tracks (all by default);
        ``track_subscribed`` follows for each."""
        self._require_media().subscribe(user_id, track_ids)

    # --- state -----------------------------------------------------------------------------

    def _set_state(self, new: ConnectionState, info: ConnectionInfo | None = None) -> None:
        old = self._state
        if new is old:
            return
        if new not in TRANSITIONS[old]:
            raise RuntimeError(f"invalid connection state change {old.name} -> {new.name}")
        self._state = new
        if new is _S.DISCONNECTED:
            self._info = info
        log.info("%s: %s -> %s%s", self.user_id or "client", old.name, new.name,
                 f" ({info.reason.name} {info.error_code})" if info else "")
        self._events.emit("connection_state_changed", new, info if new is _S.DISCONNECTED else None)

    def _end(self, reason: DisconnectReason, code: int, message: str
             ) -> tuple[Connection | None, MediaSession | None]:
        """End the session now: DISCONNECTED with ``reason`` / ``code``. Returns what
        :meth:`_cleanup` must still close (nothing if the session had already ended)."""
        if self._state is _S.DISCONNECTED:
            return None, None
        self._generation += 1  # frames still arriving on the old socket are ignored
        conn, self._conn = self._conn, None
        media, self._media = self._media, None
        task, self._reconnect_task = self._reconnect_task, None
        self._held = None
        self._users = {}
        self.session_id = None
        info = ConnectionInfo(reason, code, message or (error_message(code) if code else ""))
        self._set_state(_S.DISCONNECTED, info)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        return conn, media

    async def _cleanup(self, conn: Connection | None, media: MediaSession | None) -> None:
        if conn is not None:
            await conn.close()
        if media is not None:
            await media.close()

    def _joining(self) -> bool:
        return self._state is _S.CONNECTING

    def _join_interrupted(self) -> JoinError:
        info = self._info or ConnectionInfo(DisconnectReason.LEAVE)
        return JoinError(info.error_code or ErrorCode.INVALID_STATE,
                         info.error_message or "leave() was called while joining")

    def _start_session(self, answer: Joined) -> None:
        self.session_id = answer.session_id
        self.room = answer.room
        self.user_id = answer.user_id
        self.permission = answer.permission
        self._reconnect_window = answer.reconnect_window
        self._heartbeat_interval = answer.heartbeat_interval
        assert self._conn is not None
        self._conn.start_heartbeat(answer.heartbeat_interval)

    # --- signalling ------------------------------------------------------------------------

    async def _open(self, timeout: float = OPEN_TIMEOUT) -> Connection:  # noqa: ASYNC109
        self._generation += 1
        generation = self._generation
        self._held = []  # pushes wait until the join / resume answer has been applied
        conn = await Connection.open(
            self.server_url,
            on_push=lambda msg: self._on_push(generation, msg),
            on_lost=lambda reason: self._on_lost(generation, reason),
            timeout=timeout,
        )
        if generation != self._generation:  # the session ended while connecting
            await conn.close()
            raise RTCError(ErrorCode.INVALID_STATE, "session ended while connecting")
        self._conn = conn
        return conn

    async def _request(self, msg: Any) -> Any:
        if not self._state.is_connected or self._conn is None:
            raise RTCError(ErrorCode.INVALID_STATE, f"not connected ({self._state.name})")
        return await self._conn.request(msg)

    async def _send_relay(self, peer: str, data: dict[str, Any]) -> None:
        # Raise rather than drop silently: the mesh then knows nothing is on its way and
        # negotiates afresh when the member (or this client) is back, instead of waiting for
        # an answer that cannot come. The server drops relays to a member that is away.
        user = self._users.get(peer)
        if self._conn is None or not self._state.is_connected:
            raise RTCError(ErrorCode.INVALID_STATE, "not connected: negotiation not sent")
        if user is not None and user.reconnecting:
            raise RTCError(ErrorCode.INVALID_STATE, f"{peer} is reconnecting: not sent")
        await self._conn.send(Relay(peer=peer, data=data))

    def _on_push(self, generation: int, msg: ServerMessage) -> None:
        if generation != self._generation:
            return
        # A resume of a session the server ended while this client was away (kicked,
        # replaced, room closed) is answered with that ``closed``: end with its reason at
        # once, which also stops the retries (the socket closing next looks like "no link").
        if self._held is not None and not (isinstance(msg, Closed)
                                           and self._state is _S.RECONNECTING):
            self._held.append(msg)
            return
        self._handle_push(msg)

    def _release_held(self) -> None:
        held, self._held = self._held or [], None
        for msg in held:
            if self._state is _S.DISCONNECTED:
                return
            self._handle_push(msg)

    def _handle_push(self, msg: ServerMessage) -> None:
        after = dict(self._users)
        changes = users.apply_push(after, msg)
        if changes is not None:
            self._deliver(after, changes)
        elif isinstance(msg, Message):
            self._events.emit("message_received", events.Message(
                msg.message_id, msg.user_id, msg.content, msg.timestamp))
        elif isinstance(msg, Relay):
            if self._media is not None:
                self._media.relay(msg.peer, msg.data)
        elif isinstance(msg, Closed):
            reason = _CLOSED_REASONS.get(msg.reason, DisconnectReason.ERROR)
            self._spawn(self._cleanup(*self._end(reason, msg.code, msg.message)))
        elif isinstance(msg, Error):
            log.warning("server reported error %d: %s", msg.code, msg.message)
        else:
            log.debug("ignoring %s", msg.type)

    def _deliver(self, after: dict[str, RemoteUser], changes: list[Change]) -> None:
        """Move the remote users to ``after`` one change at a time, telling the media side,
        then the application, about each: inside any handler, ``remote_users`` holds exactly
        the users announced so far (a user in its ``user_joined``, not in its ``user_left``)."""
        for name, args in changes:
            if self._state is _S.DISCONNECTED:
                return  # the session ended meanwhile: nobody is left to list
            user_id = args[0]
            if name == "user_left":
                self._users.pop(user_id, None)
            elif user_id in after:
                self._users[user_id] = after[user_id]
            if self._media is not None:
                self._media.apply(name, args)
            self._events.emit(name, *args)
        if self._state is not _S.DISCONNECTED:
            self._users = after  # the same users, in the server's order

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name("client-cleanup")
        self._tasks.add(task)  # keep a reference until done, or it may vanish half way
        task.add_done_callback(self._tasks.discard)

    # --- reconnection --------------------------------------------------------------------

    def _on_lost(self, generation: int, reason: str) -> None:
        if generation != self._generation or not self._state.is_connected:
            return  # a loss while (re)connecting fails the pending request instead
        self._lost()

    def _check_link(self) -> None:
        """Catch a link that died between the join / resume answer and being connected."""
        if self._state.is_connected and (self._conn is None or not self._conn.is_open):
            self._lost()

    def _lost(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._spawn(conn.close())  # held until closed, so the teardown is never collected
        self._generation += 1
        self._set_state(_S.RECONNECTING)
        self._reconnect_task = asyncio.create_task(self._reconnect(), name="reconnect")

    async def _reconnect(self) -> None:
        # A heartbeat interval of grace: when reachable, the server (the authority on the
        # window) has the last word, and its refusal says why.
        window = self._reconnect_window + self._heartbeat_interval
        try:
            answer = await resume_within(window, self._delays, self._attempt_resume)
        except RTCError as exc:
            await self._cleanup(*self._end(DisconnectReason.ERROR, exc.code, exc.message))
            return
        except Exception as exc:  # a bug must not leave the client RECONNECTING for ever
            log.exception("reconnection failed")
            await self._cleanup(*self._end(DisconnectReason.ERROR, ErrorCode.FATAL, str(exc)))
            return
        self._start_session(answer)
        after, changes = users.reconcile(self._users, answer.members)
        self._reconnect_task = None
        self._set_state(_S.RECONNECTED)
        if self._media is not None:
            for user_id in self._users.keys() & after.keys():
                # Negotiation sent while away was dropped: check each peer again.
                self._media.user_joined(user_id)
        self._deliver(after, changes)
        self._release_held()
        self._check_link()

    async def _attempt_resume(self, time_left: float) -> Joined:
        try:
            conn = await self._open(timeout=min(OPEN_TIMEOUT, time_left))
            answer = await conn.request(
                Resume(req=0, token=self._token, session_id=self.session_id or ""),
                timeout=min(REQUEST_TIMEOUT, max(time_left, 0.1)),
            )
        except BaseException:
            conn_, self._conn = self._conn, None
            if conn_ is not None:
                await conn_.close()
            raise
        assert isinstance(answer, Joined)
        return answer

    def _require_media(self) -> MediaSession:
        if self._media is None:
            if not self._media_enabled:
                raise RTCError(ErrorCode.INVALID_STATE, "this client was created with media=False")
            raise RTCError(ErrorCode.INVALID_STATE, f"not connected ({self._state.name})")
        return self._media


def _ice_servers(explicit: tuple[RTCIceServer, ...] | None, answer: Joined
                 ) -> tuple[RTCIceServer, ...]:
    """The caller's ICE servers if it gave any list, else those of the join answer."""
    if explicit is not None:
        return explicit
    from aiortc import RTCIceServer  # media clients only: signalling-only ones never load aiortc

    return tuple(RTCIceServer(urls=list(s.urls), username=s.username or None,
                              credential=s.credential or None) for s in answer.ice_servers)


def _reason_for(code: int) -> DisconnectReason:
    return DisconnectReason.ROOM_FULL if code == ErrorCode.ROOM_FULL else DisconnectReason.ERROR
