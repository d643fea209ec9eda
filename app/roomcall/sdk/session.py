"""One session of a client in a room, from ``join()`` to DISCONNECTED.

A :class:`Session` owns everything that lives only as long as the session does: its current
signalling :class:`~roomcall.sdk.connection.Connection` (one at a time; a resume opens the next
one), the pushes held while a join or resume answer is applied, the media session, and its
background tasks (the reconnection, closing dropped sockets). It ends exactly once:
:meth:`end` cancels its tasks and hands back what is still to close.

Callbacks of a socket carry the socket they came from, so a frame or a loss report of an
earlier socket, or of an ended session, is recognised and ignored. A task of an ended session
that somehow keeps running (a cancellation lost upstream) can therefore only touch its own
ended session, never the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from roomcall.aio import TaskSet
from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import Joined, ServerMessage
from roomcall.sdk.connection import OPEN_TIMEOUT, Connection
from roomcall.sdk.media_session import MediaSession
from roomcall.sdk.state import RTCError

log = logging.getLogger(__name__)

T = TypeVar("T")

OnPush = Callable[["Session", int, ServerMessage], None]
"""``on_push(session, socket, msg)``: a frame the socket numbered ``socket`` received."""
OnLost = Callable[["Session", int, str], None]
"""``on_lost(session, socket, reason)``: the socket numbered ``socket`` lost its link."""


class Session:
    """The state of one session; see the module docstring.

    Args:
        server_url: the server's base URL.
        token: the RoomToken it joined with (also used to resume).
        on_push / on_lost: where its sockets report to.
    """

    def __init__(self, server_url: str, token: str, on_push: OnPush, on_lost: OnLost) -> None:
        self.server_url = server_url
        self.token = token
        self._on_push = on_push
        self._on_lost = on_lost
        self.conn: Connection | None = None
        """The current socket, None between a loss and the next successful open."""
        self.socket = 0
        """Number of the newest socket opened (or being opened) for this session."""
        self.media: MediaSession | None = None
        self.held: list[ServerMessage] | None = None
        """Pushes received before the join / resume answer was applied (None: deliver now)."""
        self.session_id: str | None = None
        self.reconnect_window = 30.0
        self.heartbeat_interval = 5.0
        self.ended = False
        self._tasks = TaskSet(log, "session")

    async def open(self, timeout: float = OPEN_TIMEOUT) -> Connection:  # noqa: ASYNC109
        """Open the session's next socket; pushes are held until :meth:`release_held`.

        Raises RTCError 21001 if the server cannot be reached, 21002 if the session ended (or
        a newer socket was started) meanwhile.
        """
        self.socket += 1
        number = self.socket
        self.held = []
        conn = await Connection.open(
            self.server_url,
            on_push=lambda msg: self._on_push(self, number, msg),
            on_lost=lambda reason: self._on_lost(self, number, reason),
            timeout=timeout,
        )
        if self.ended or number != self.socket:
            await conn.close()
            raise RTCError(ErrorCode.INVALID_STATE, "session ended while connecting")
        self.conn = conn
        return conn

    def is_current(self, socket: int) -> bool:
        """Whether socket ``socket`` is this live session's newest one."""
        return not self.ended and socket == self.socket

    def started(self, answer: Joined) -> None:
        """The server accepted a join or resume with ``answer``: keep its figures, heartbeat."""
        self.session_id = answer.session_id
        self.reconnect_window = answer.reconnect_window
        self.heartbeat_interval = answer.heartbeat_interval
        if self.conn is not None:
            self.conn.start_heartbeat(answer.heartbeat_interval)

    def take_held(self) -> list[ServerMessage]:
        """The held pushes, in order; pushes are delivered at once from now on."""
        held, self.held = self.held or [], None
        return held

    def drop_link(self) -> Connection | None:
        """The current socket is lost: forget it; returns it for the caller to close."""
        conn, self.conn = self.conn, None
        return conn

    async def close_link(self) -> None:
        """Close the current socket now (a failed open or resume attempt)."""
        conn, self.conn = self.conn, None
        if conn is not None:
            await conn.close()

    def spawn(self, awaitable: Awaitable[T], *, name: str) -> asyncio.Future[T]:
        """Run ``awaitable`` as a task of this session (cancelled when the session ends)."""
        return self._tasks.spawn(awaitable, name=name)

    def tasks(self) -> list[asyncio.Future[Any]]:
        """The session's tasks still running."""
        return [t for t in self._tasks if not t.done()]

    def end(self) -> tuple[Connection | None, MediaSession | None]:
        """End the session (idempotent): cancel its tasks (but the caller's) and return the
        socket and media session still to close, once; (None, None) on a second call."""
        if self.ended:
            return None, None
        self.ended = True
        self.held = None
        conn, self.conn = self.conn, None
        media, self.media = self.media, None
        self._tasks.cancel()
        return conn, media

    def __repr__(self) -> str:
        return f"Session({self.session_id!r}, socket={self.socket}, ended={self.ended})"
