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

Media follows the same rule as signalling: while both members are in the room, the peer
connection between them is replaced by a fresh one whenever it fails, closes or goes silent
(``peer_state_changed``: RECOVERING, then CONNECTED; remote tracks are unsubscribed and
subscribed again), so media flows again within seconds of the network returning, after any
outage or change of address. The rule is in :mod:`roomcall.sdk.pair_state`.

Topology: small rooms are a mesh (a peer connection per member); past the app's threshold the
server moves the room to a Janus VideoRoom (``media_route``) and the client follows without
anyone leaving: it connects to Janus, publishes (a camera twice, full and 320x240) and
subscribes, and moves each member's tracks over once they flow through Janus, before closing
that member's peer connection (:mod:`roomcall.sdk.media_session`). Through the SFU,
``RemoteTrack.set_profile`` picks the layer received: ``TrackProfile.HIGH`` for the large
tile, ``LOW`` for a small one, ``NONE`` for a tile that is not visible.

Kicked out or room closed: DISCONNECTED with KICKED_OUT or ROOM_CLOSED; never reconnects.
That holds when it happened while the network was down too: the server answers the resume
with the ``closed`` the client missed, and the client ends with its reason and code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, overload

from roomcall.aio import TaskSet
from roomcall.protocol.errors import DisconnectReason, ErrorCode, error_message
from roomcall.protocol.messages import (
    MAX_MESSAGE_CONTENT_BYTES,
    Closed,
    Error,
    Join,
    Joined,
    Kick,
    Leave,
    MediaRouteChanged,
    Message,
    Permission,
    PermissionChanged,
    Relay,
    Resume,
    SendMessage,
    ServerMessage,
)
from roomcall.sdk import events, users
from roomcall.sdk.connection import OPEN_TIMEOUT, REQUEST_TIMEOUT, Connection
from roomcall.sdk.events import EventEmitter, EventName, H, Handler
from roomcall.sdk.hosting import HostCalls
from roomcall.sdk.media_session import MediaSession
from roomcall.sdk.reconnection import Delays, resume_within
from roomcall.sdk.reporting import ReportCalls
from roomcall.sdk.session import Session
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


class RTCClient(HostCalls, ReportCalls):
    """A member of one room at a time, talking to the room server at ``server_url``.

    The host's calls (invites, removed users, ``end_room``, ``transfer_host``) come from
    :class:`~roomcall.sdk.hosting.HostCalls`; volume indication, network quality and
    ``get_stats()`` from :class:`~roomcall.sdk.reporting.ReportCalls`.

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
        self._session: Session | None = None
        """The session under way (None while DISCONNECTED)."""
        self._users: dict[str, RemoteUser] = {}
        self._tasks = TaskSet(log, "client cleanup")
        self.room: str | None = None
        """The room joined last."""
        self.user_id: str | None = None
        """The local user's id, from the token."""
        self.permission: Permission | None = None
        """``"admin"`` or ``"user"``: the token's, then as the server changes it (host
        hand-off, event ``permission_changed``)."""

    # --- public state --------------------------------------------------------------------

    @property
    def connection_state(self) -> ConnectionState:
        """The current state."""
        return self._state

    @property
    def session_id(self) -> str | None:
        """The server's id of the current session (None while disconnected)."""
        return self._session.session_id if self._session is not None else None

    @property
    def _media(self) -> MediaSession | None:
        return self._session.media if self._session is not None else None

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

    @overload
    def on(self, name: EventName) -> Callable[[H], H]: ...
    @overload
    def on(self, name: EventName, handler: H) -> H: ...

    def on(self, name: EventName, handler: Handler | None = None) -> Any:
        """Call ``handler`` on each ``name`` event (see :mod:`roomcall.sdk.events`); without
        a handler, a decorator: ``@client.on("user_joined")``."""
        if handler is None:
            return self._events.on(name)
        return self._events.on(name, handler)

    @overload
    def once(self, name: EventName) -> Callable[[H], H]: ...
    @overload
    def once(self, name: EventName, handler: H) -> H: ...

    def once(self, name: EventName, handler: Handler | None = None) -> Any:
        """Call ``handler`` on the next ``name`` event only (also usable as a decorator)."""
        if handler is None:
            return self._events.once(name)
        return self._events.once(name, handler)

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
        session = Session(self.server_url, token, self._on_push, self._on_lost)
        self._session = session
        self._set_state(_S.CONNECTING)
        try:
            conn = await session.open()
            answer = await conn.request(Join(req=0, token=token, user_data=user_data))
        except RTCError as exc:
            if session.ended:  # leave() or a Closed frame came first
                raise self._join_interrupted() from None
            code = exc.code
            if code == ErrorCode.SIGNALLING_TIMEOUT and not (session.conn and session.conn.is_open):
                code = ErrorCode.AUTH_FAILED  # the server closed the socket without answering
            await self._cleanup(*self._end(session, _reason_for(code), code, exc.message))
            raise JoinError(code, exc.message) from None
        except BaseException:
            await self._cleanup(*self._end(session, DisconnectReason.LEAVE, 0,
                                           "join() was cancelled"))
            raise
        if session.ended:
            raise self._join_interrupted()
        assert isinstance(answer, Joined)
        try:
            self._start_session(session, answer)
            if self._media_enabled:
                session.media = MediaSession(
                    answer.user_id, self._send_relay, self._events.emit,
                    ice_servers=_ice_servers(self._ice_servers, answer),
                    auto_subscribe=self._auto_subscribe, route=answer.media,
                    publisher_of=self._publisher_of,
                )
                self._follow_reports(session.media)
        except Exception as exc:  # e.g. media unavailable: end cleanly, never stay CONNECTING
            log.exception("starting the session failed")
            await self._cleanup(*self._end(session, DisconnectReason.ERROR, ErrorCode.FATAL,
                                           str(exc)))
            raise JoinError(ErrorCode.FATAL, str(exc)) from exc
        after, changes = users.reconcile({}, answer.members)
        self._users = {}
        self._set_state(_S.CONNECTED)
        self._deliver(after, changes)
        self._release_held(session)
        self._check_link(session)

    async def leave(self) -> None:
        """Leave the room: others see ``user_left`` at once; DISCONNECTED with LEAVE.
        Returns once the session's socket and peer connections are closed. Harmless when not
        in a room: it then waits for the teardown of a session that ended by itself (kicked,
        room closed, resume refused) or of a leave() that was cancelled.

        A cancellation of the caller is honoured at once; the teardown then goes on in the
        background (a later leave() waits for it)."""
        session = self._session
        if self._state is _S.DISCONNECTED or session is None:
            await self._tasks.wait()
            return
        connected = self._state.is_connected
        conn, media = self._end(session, DisconnectReason.LEAVE, 0, "")
        try:
            if conn is not None and connected and conn.is_open:
                with contextlib.suppress(RTCError):
                    await conn.request(Leave(req=0), timeout=LEAVE_TIMEOUT)
        finally:
            # Also when the caller cancels us, before or during the teardown: the state is
            # already DISCONNECTED, so no later leave() would close the socket and media. As
            # a task of the client, the teardown outlives our cancellation.
            await asyncio.shield(self._tasks.spawn(self._cleanup(conn, media),
                                                   name="client-cleanup"))

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
        with server-assigned track ids, in order. Others get ``user_published``, and their
        remote tracks carry ``tag``. Video tagged ``"screen"`` (a
        :class:`roomcall.media.screen.ScreenTrack`, beside the camera) is encoded with
        screen-content settings (:data:`roomcall.media.profile.SCREEN`)."""
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

    def _end(self, session: Session, reason: DisconnectReason, code: int, message: str,
             cause: str = ""
             ) -> tuple[Connection | None, MediaSession | None]:
        """End ``session`` now: DISCONNECTED with ``reason`` / ``code``. Returns what
        :meth:`_cleanup` must still close (nothing if that session had already ended: a late
        report about an earlier session never touches the current one)."""
        if session is not self._session or session.ended:
            return None, None
        conn, media = session.end()  # also cancels its reconnection, unless that is the caller
        self._session = None
        self._users = {}
        info = ConnectionInfo(reason, code, message or (error_message(code) if code else ""),
                              cause)
        self._set_state(_S.DISCONNECTED, info)
        return conn, media

    async def _cleanup(self, conn: Connection | None, media: MediaSession | None) -> None:
        # Side by side: on a dead network each waits for answers that cannot come (the
        # socket's closing handshake, TURN servers confirming deletions), each bounded. Both
        # start at once, so a cancellation (the event loop shutting down) cannot keep the peer
        # connections' UDP sockets from being closed.
        await asyncio.gather(*([conn.close()] if conn is not None else []),
                             *([media.close()] if media is not None else []))

    def _join_interrupted(self) -> JoinError:
        info = self._info or ConnectionInfo(DisconnectReason.LEAVE)
        return JoinError(info.error_code or ErrorCode.INVALID_STATE,
                         info.error_message or "leave() was called while joining")

    def _start_session(self, session: Session, answer: Joined) -> None:
        session.started(answer)
        self.room = answer.room
        self.user_id = answer.user_id
        self.permission = answer.permission

    # --- signalling ------------------------------------------------------------------------

    def _live_conn(self) -> Connection | None:
        """The socket requests go out on, if connected."""
        session = self._session
        if session is None or not self._state.is_connected:
            return None
        return session.conn

    async def _request(self, msg: Any) -> Any:
        conn = self._live_conn()
        if conn is None:
            raise RTCError(ErrorCode.INVALID_STATE, f"not connected ({self._state.name})")
        return await conn.request(msg)

    async def _send_relay(self, peer: str, data: dict[str, Any]) -> None:
        # Raise rather than drop silently: the mesh then knows nothing is on its way and
        # negotiates afresh when the member (or this client) is back, instead of waiting for
        # an answer that cannot come. The server drops relays to a member that is away.
        user = self._users.get(peer)
        conn = self._live_conn()
        if conn is None:
            raise RTCError(ErrorCode.INVALID_STATE, "not connected: negotiation not sent")
        if user is not None and user.reconnecting:
            raise RTCError(ErrorCode.INVALID_STATE, f"{peer} is reconnecting: not sent")
        await conn.send(Relay(peer=peer, data=data))

    def _on_push(self, session: Session, socket: int, msg: ServerMessage) -> None:
        if session is not self._session or not session.is_current(socket):
            return  # a frame of an earlier socket or session
        # A resume of a session the server ended while this client was away (kicked,
        # replaced, room closed) is answered with that ``closed``: end with its reason at
        # once, which also stops the retries (the socket closing next looks like "no link").
        if session.held is not None and not (isinstance(msg, Closed)
                                             and self._state is _S.RECONNECTING):
            session.held.append(msg)
            return
        self._handle_push(session, msg)

    def _release_held(self, session: Session) -> None:
        for msg in session.take_held():
            if session.ended:
                return
            self._handle_push(session, msg)

    def _handle_push(self, session: Session, msg: ServerMessage) -> None:
        if isinstance(msg, PermissionChanged) and msg.user_id == self.user_id:
            if msg.permission != self.permission:
                self.permission = msg.permission
                self._events.emit("permission_changed", msg.user_id, msg.permission)
            return
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
        elif isinstance(msg, MediaRouteChanged):
            log.info("media route: %s (%s)", msg.media.topology, msg.reason or "no reason")
            if self._media is not None:
                self._media.set_route(msg.media)
        elif isinstance(msg, Closed):
            reason = _CLOSED_REASONS.get(msg.reason, DisconnectReason.ERROR)
            self._spawn(self._cleanup(*self._end(session, reason, msg.code, msg.message,
                                                 msg.cause)))
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

    def _publisher_of(self, user_id: str) -> str | None:
        """A member's publisher id in the room's VideoRoom (from its MemberInfo)."""
        user = self._users.get(user_id)
        return user.publisher_id or None if user is not None else None

    def _spawn(self, coro: Awaitable[Any]) -> None:
        self._tasks.spawn(coro, name="client-cleanup")

    # --- reconnection --------------------------------------------------------------------

    def _on_lost(self, session: Session, socket: int, reason: str) -> None:
        if session is not self._session or not session.is_current(socket):
            return  # an earlier socket's or session's late report
        if self._state.is_connected:
            self._lost(session)
        # Otherwise a loss while (re)connecting fails the pending request instead.

    def _check_link(self, session: Session) -> None:
        """Catch a link that died between the join / resume answer and being connected."""
        if (not session.ended and self._state.is_connected
                and (session.conn is None or not session.conn.is_open)):
            self._lost(session)

    def _lost(self, session: Session) -> None:
        conn = session.drop_link()
        if conn is not None:
            self._spawn(conn.close())  # held until closed, so the teardown is never collected
        session.socket += 1  # anything the dead socket still reports is ignored
        self._set_state(_S.RECONNECTING)
        session.spawn(self._reconnect(session), name="reconnect")

    async def _reconnect(self, session: Session) -> None:
        # A heartbeat interval of grace: when reachable, the server (the authority on the
        # window) has the last word, and its refusal says why.
        window = session.reconnect_window + session.heartbeat_interval
        try:
            answer = await resume_within(window, self._delays,
                                         lambda left: self._attempt_resume(session, left))
        except RTCError as exc:
            await self._cleanup(*self._end(session, DisconnectReason.ERROR, exc.code,
                                           exc.message))
            return
        except Exception as exc:  # a bug must not leave the client RECONNECTING for ever
            log.exception("reconnection failed")
            await self._cleanup(*self._end(session, DisconnectReason.ERROR, ErrorCode.FATAL,
                                           str(exc)))
            return
        if session.ended:  # ended meanwhile (a cancellation lost on the way): nothing to do
            await session.close_link()
            return
        before = self.permission
        self._start_session(session, answer)
        after, changes = users.reconcile(self._users, answer.members)
        self._set_state(_S.RECONNECTED)
        if answer.permission != before:  # e.g. handed the host role while away
            self._events.emit("permission_changed", answer.user_id, answer.permission)
        if session.media is not None:
            session.media.set_route(answer.media)  # fresh tokens, or a route changed meanwhile
            for user_id in self._users.keys() & after.keys():
                # Negotiation sent while away was dropped: check each peer again.
                session.media.user_joined(user_id)
        self._deliver(after, changes)
        self._release_held(session)
        self._check_link(session)

    async def _attempt_resume(self, session: Session, time_left: float) -> Joined:
        try:
            conn = await session.open(timeout=min(OPEN_TIMEOUT, time_left))
            answer = await conn.request(
                Resume(req=0, token=session.token, session_id=session.session_id or ""),
                timeout=min(REQUEST_TIMEOUT, max(time_left, 0.1)),
            )
        except BaseException:
            await session.close_link()
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
