"""One signalling WebSocket: its bounded send queue, writer task and rate limit.

A connection never makes the room wait: frames for it go into a bounded queue that a writer
task drains; a consumer that falls ``send_queue_size`` frames behind is cut off (its seat stays
resumable), so one slow or stalled client cannot hold up anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSCloseCode, web

from app.server.config import Limits

_log = logging.getLogger(__name__)

_CLOSE = object()
_FINISH_TIMEOUT = 5.0  # seconds a closing connection may take to flush its queue


class TokenBucket:
    """``rate`` frames per second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one."""
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class Connection:
    """A client's WebSocket as the signalling shell sees it."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, limits: Limits,
                 now: float) -> None:
        self.ws = ws
        self.peer = str(request.remote)
        self.session_id: str | None = None
        """The session this connection carries, once joined or resumed."""
        self.bucket = TokenBucket(limits.rate_per_second, limits.rate_burst, now)
        self.dropped = 0
        """Frames refused for exceeding the rate limit."""
        self.throttled = False
        """True between a refused frame and the next accepted one (one error per episode)."""
        self.bad = 0
        """Malformed or refused frames so far."""
        self._request = request
        self._queue: asyncio.Queue[str | object] = asyncio.Queue(limits.send_queue_size)
        self._closing = False
        self._queued_chars = 0
        self._max_queued_chars = limits.send_queue_bytes
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    @property
    def closing(self) -> bool:
        """True once the connection is being ended: nothing more is queued."""
        return self._closing

    def send(self, text: str) -> None:
        """Queue a frame; cut the connection off if it is too far behind."""
        if self._closing:
            return
        self._queued_chars += len(text)
        try:
            if self._queued_chars > self._max_queued_chars:
                raise asyncio.QueueFull
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            _log.warning("%s: %d frames (%d characters) behind; disconnecting", self.peer,
                         self._queue.qsize(), self._queued_chars)
            self.abort()

    def close_after_sends(self) -> None:
        """End the connection once the frames queued so far are written."""
        if self._closing:
            return
        self._closing = True
        try:
            self._queue.put_nowait(_CLOSE)
        except asyncio.QueueFull:
            self.abort()

    def abort(self) -> None:
        """Drop the connection now, without writing what is queued."""
        self._closing = True
        self._writer.cancel()
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    async def finish(self) -> None:
        """Wait (bounded) for queued frames to be written, then make sure the socket is shut."""
        if not self._closing:
            self.close_after_sends()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
            await asyncio.wait_for(asyncio.shield(self._writer), _FINISH_TIMEOUT)
        if not self._writer.done():
            self.abort()

    async def _write_loop(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if item is _CLOSE:
                    await self.ws.close(code=WSCloseCode.OK)
                    return
                assert isinstance(item, str)
                await self.ws.send_str(item)
                self._queued_chars -= len(item)
        except (ConnectionError, RuntimeError) as exc:
            # The peer went away mid-write; the reader notices and ends the session's link.
            _log.debug("%s: write failed: %s", self.peer, exc)
            self._closing = True
        except Exception:
            # Never leave a connection that silently stops writing: drop it (a lost link).
            _log.exception("%s: write failed; dropping the connection", self.peer)
            self._closing = True
            transport = self._request.transport
            if transport is not None:
                transport.abort()
