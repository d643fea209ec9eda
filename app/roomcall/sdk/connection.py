"""One signalling WebSocket: requests matched to their answers, pushes handed on in order,
heartbeats, and a single report when the link is lost.

A :class:`Connection` is used for one socket only; reconnecting opens a new one. It reports
loss exactly once through ``on_lost`` (socket closed or failed, or ``misses`` heartbeats in a
row sent with no frame from the server since) and never after :meth:`close` was called locally.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
from collections.abc import Callable
from typing import Any, cast

import aiohttp

from roomcall.aio import cancel_and_wait
from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    SIGNAL_PATH,
    Ack,
    ClientMessage,
    Error,
    Heartbeat,
    InviteCreated,
    InviteList,
    Joined,
    ProtocolError,
    Published,
    RemovedList,
    ServerMessage,
    parse,
    serialize,
)
from roomcall.sdk.state import RTCError

log = logging.getLogger(__name__)

Answer = Joined | Published | Ack | InviteCreated | InviteList | RemovedList
"""What a successful request gets back."""
_ANSWERS = (Joined, Published, Ack, InviteCreated, InviteList, RemovedList)

OPEN_TIMEOUT = 5.0
"""Seconds to open the socket before the server counts as unreachable (21001)."""
REQUEST_TIMEOUT = 10.0
"""Seconds to wait for an answer before a request fails with 11013."""
CLOSE_TIMEOUT = 1.0
"""Seconds to wait for the server's answer to a closing handshake."""
MAX_SERVER_FRAME_BYTES = 16 * 1024 * 1024
"""Largest frame read from the server: a sanity bound only, far above any snapshot.

``MAX_FRAME_BYTES`` (64 KiB) caps what the *server* reads from a client; the server's own
frames may be larger (docs/protocol.md): a ``joined`` snapshot lists every member with up to
1 KiB of user data each, so a room of 60 such members already passes 64 KiB.
"""
HEARTBEAT_MISSES = 3
"""Heartbeat intervals without any frame from the server after which the link counts as lost."""


def signal_url(server_url: str) -> str:
    """The signalling endpoint under the server's base URL (``ws://host:port``)."""
    base = server_url.rstrip("/")
    if base.startswith("http://"):
        base = "ws://" + base[len("http://"):]
    elif base.startswith("https://"):
        base = "wss://" + base[len("https://"):]
    return base + SIGNAL_PATH


class Connection:
    """A signalling WebSocket to the room server (open it with :meth:`open`)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ws: aiohttp.ClientWebSocketResponse,
        on_push: Callable[[ServerMessage], None],
        on_lost: Callable[[str], None],
    ) -> None:
        self._session = session
        self._ws = ws
        self._on_push = on_push
        self._on_lost = on_lost
        self._req = itertools.count(1)
        self._pending: dict[int, asyncio.Future[ServerMessage]] = {}
        self._loop = asyncio.get_running_loop()
        self._last_rx = self._loop.time()
        self._closing = False
        self._lost = False
        self._reader = asyncio.create_task(self._read(), name="signal-reader")
        self._heartbeat: asyncio.Task[None] | None = None
        self._shutdown_task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        server_url: str,
        on_push: Callable[[ServerMessage], None],
        on_lost: Callable[[str], None],
        timeout: float = OPEN_TIMEOUT,  # noqa: ASYNC109
    ) -> Connection:
        """Connect to ``server_url``'s signalling endpoint; RTCError 21001 if it cannot."""
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, connect=timeout, sock_connect=timeout)
        )
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation
            # that arrives as the inner call completes (CPython gh-86296), which left leave()
            # unable to stop a resume attempt.
            async with asyncio.timeout(timeout):
                ws = await session.ws_connect(
                    signal_url(server_url),
                    autoping=True,
                    # The server may send a snapshot larger than it accepts (docs/protocol.md).
                    max_msg_size=MAX_SERVER_FRAME_BYTES,
                    # A lost link never answers a closing handshake: do not wait long for it.
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=CLOSE_TIMEOUT),
                )
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            await session.close()
            raise RTCError(ErrorCode.AUTH_FAILED, f"cannot reach {server_url}: {exc}") from None
        except BaseException:
            await session.close()
            raise
        return cls(session, ws, on_push, on_lost)

    @property
    def is_open(self) -> bool:
        """True until the socket is lost or closed."""
        return not (self._lost or self._closing)

    async def request(
        self, msg: ClientMessage, timeout: float = REQUEST_TIMEOUT  # noqa: ASYNC109
    ) -> Answer:
        """Send ``msg`` with a fresh request id and return its answer.

        Raises RTCError with the server's code for an Error answer, 11013 on timeout or when
        the link is lost first.
        """
        req = next(self._req)
        future: asyncio.Future[ServerMessage] = self._loop.create_future()
        self._pending[req] = future
        try:
            await self.send(dataclasses.replace(cast(Any, msg), req=req))
            async with asyncio.timeout(timeout):  # not wait_for: see open()
                answer = await future
        except TimeoutError:
            raise RTCError(ErrorCode.SIGNALLING_TIMEOUT, f"no answer to {msg.type}") from None
        finally:
            self._pending.pop(req, None)
        if isinstance(answer, Error):
            raise RTCError(answer.code, answer.message)
        if not isinstance(answer, _ANSWERS):
            raise RTCError(ErrorCode.FATAL, f"unexpected answer {answer.type} to {msg.type}")
        return answer

    async def send(self, msg: ClientMessage) -> None:
        """Send ``msg`` without waiting for an answer; RTCError 11013 if the link is down."""
        if not self.is_open:
            raise RTCError(ErrorCode.SIGNALLING_TIMEOUT, "signalling connection is down")
        try:
            await self._ws.send_str(serialize(msg))
        except (ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
            self._lose(f"send failed: {exc}")
            raise RTCError(ErrorCode.SIGNALLING_TIMEOUT, "signalling connection is down") from None

    def start_heartbeat(self, interval: float, misses: int = HEARTBEAT_MISSES) -> None:
        """Send a heartbeat every ``interval`` seconds; report loss after ``misses`` silent
        intervals (any frame from the server counts as a sign of life)."""
        if self._heartbeat is None and interval > 0:
            self._heartbeat = asyncio.create_task(
                self._beat(interval, misses), name="signal-heartbeat"
            )

    async def close(self) -> None:
        """Close the socket; ``on_lost`` is not called. Safe to call twice."""
        self._closing = True
        if self._shutdown_task is not None:
            await self._shutdown_task
        else:
            await self._shutdown()

    def abort(self) -> None:
        """Drop the link at once as if the network failed (``on_lost`` is called)."""
        self._lose("aborted")

    # --- internals -------------------------------------------------------------------------

    async def _read(self) -> None:
        reason = "socket closed by server"
        try:
            async for frame in self._ws:
                self._last_rx = self._loop.time()
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    msg = parse(frame.data, limit=MAX_SERVER_FRAME_BYTES)
                except ProtocolError as exc:
                    log.warning("ignoring unreadable frame from server: %s", exc)
                    continue
                self._dispatch(msg)
        except (ConnectionError, aiohttp.ClientError) as exc:
            reason = f"socket failed: {exc}"
        except asyncio.CancelledError:
            return
        self._lose(reason)

    def _dispatch(self, msg: Any) -> None:
        req = getattr(msg, "req", 0)
        if isinstance(msg, (*_ANSWERS, Error)) and req:
            future = self._pending.get(req)
            if future is not None and not future.done():
                future.set_result(msg)
            return  # an answer to a request we no longer wait for (e.g. a heartbeat)
        try:
            self._on_push(msg)
        except Exception:
            log.exception("handling %s failed", msg.type)

    async def _beat(self, interval: float, misses: int) -> None:
        # Count heartbeats sent without anything received since, rather than comparing clocks:
        # when this process stalls (a busy GUI thread, a loaded machine) the loop wakes late
        # with the server's answers still unread, and a clock rule would call that a lost link.
        unanswered = 0
        seen = self._last_rx
        while self.is_open:
            await asyncio.sleep(interval)
            if self._last_rx != seen:
                seen, unanswered = self._last_rx, 0
            elif unanswered >= misses:
                self._lose(f"no answer to {misses} heartbeats ({interval * misses:.1f} s)")
                return
            unanswered += 1
            with contextlib.suppress(RTCError):
                # The answer is not awaited: any frame arriving is the sign of life.
                await self.send(Heartbeat(req=next(self._req)))

    def _lose(self, reason: str) -> None:
        if self._lost or self._closing:
            return
        self._lost = True
        log.info("signalling link lost: %s", reason)
        self._fail_pending()
        self._shutdown_task = asyncio.create_task(self._shutdown(), name="signal-shutdown")
        self._on_lost(reason)

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(
                    RTCError(ErrorCode.SIGNALLING_TIMEOUT, "signalling connection lost")
                )

    async def _shutdown(self) -> None:
        self._fail_pending()
        current = asyncio.current_task()
        for task in (self._heartbeat, self._reader):
            if task is not None and task is not current and not task.done():
                await cancel_and_wait(task)
        with contextlib.suppress(Exception):
            await self._ws.close()
        await self._session.close()
