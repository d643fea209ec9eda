"""One signalling WebSocket: its send path, bounded send queue, writer task and rate limit.

A connection never makes the room wait: a frame is written straight to the socket while the
socket takes everything at once; otherwise it goes into a bounded queue that a writer task
drains as the socket allows. A consumer that falls ``send_queue_size`` frames behind is cut off
(its seat stays resumable), so one slow or stalled client cannot hold up anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct

from aiohttp import WSCloseCode, web

from roomcall.server.config import Limits

_log = logging.getLogger(__name__)

_CLOSE = object()
_LEN1 = struct.Struct("!BB").pack
_LEN2 = struct.Struct("!BBH").pack
_LEN3 = struct.Struct("!BBQ").pack
# The last frame built: a broadcast hands the same text to every recipient in turn, so it is
# encoded once (the identity check makes a stale hit impossible while the text is alive).
_last_text: str | None = None
_last_frame = b""
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
        self._writing = False
        # Frames are written straight to the socket when the connection does not compress
        # (what aiohttp's writer does then too); a compressing one keeps aiohttp's writer.
        transport = request.transport
        self._transport = transport if isinstance(transport, asyncio.WriteTransport) else None
        self._direct = ws.compress == 0 and self._transport is not None
        # Started with the first queued frame: most connections never need one.
        self._writer: asyncio.Task[None] | None = None

    @property
    def closing(self) -> bool:
        """True once the connection is being ended: nothing more is queued."""
        return self._closing

    def send(self, text: str) -> None:
        """Send a frame: written at once when nothing is waiting before it, else queued; a
        connection too far behind is cut off."""
        if self._closing:
            return
        if self._direct and not self._writing and not self._queue.qsize():
            transport = self._transport
            # Only while the socket takes everything at once: once the kernel pushes back,
            # frames go through the queue, whose writer waits for the socket to drain.
            if transport is not None and not transport.get_write_buffer_size():
                self._write_now(transport, text)
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
            return
        self._start_writer()

    def close_after_sends(self) -> None:
        """End the connection once the frames queued so far are written."""
        if self._closing:
            return
        self._closing = True
        try:
            self._queue.put_nowait(_CLOSE)
        except asyncio.QueueFull:
            self.abort()
            return
        self._start_writer()

    def abort(self) -> None:
        """Drop the connection now, without writing what is queued."""
        self._closing = True
        if self._writer is not None:
            self._writer.cancel()
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    async def finish(self) -> None:
        """Wait (bounded) for queued frames to be written, then make sure the socket is shut."""
        if not self._closing:
            self.close_after_sends()
        writer = self._writer
        if writer is None:  # nothing can be written any more (aborted, or the socket ended)
            self.abort()
            return
        with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
            await asyncio.wait_for(asyncio.shield(writer), _FINISH_TIMEOUT)
        if not writer.done():
            self.abort()

    def _start_writer(self) -> None:
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def _write_now(self, transport: asyncio.WriteTransport, text: str) -> None:
        """One unfragmented, unmasked text frame (RFC 6455 5.2), as aiohttp writes it."""
        if transport.is_closing() or self.ws.closed:
            # No data after a close frame; the reader notices the end and releases the seat.
            self._closing = True
            return
        global _last_text, _last_frame
        if text is not _last_text:
            try:
                payload = text.encode("utf-8")
            except UnicodeEncodeError:
                # Never leave a connection that silently stops writing: drop it (a lost link).
                _log.exception("%s: write failed; dropping the connection", self.peer)
                self.abort()
                return
            size = len(payload)
            if size < 126:
                header = _LEN1(0x81, size)
            elif size < 65536:
                header = _LEN2(0x81, 126, size)
            else:
                header = _LEN3(0x81, 127, size)
            _last_text, _last_frame = text, header + payload
        transport.write(_last_frame)

    async def _write_loop(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                self._writing = True
                if item is _CLOSE:
                    await self.ws.close(code=WSCloseCode.OK)
                    return
                assert isinstance(item, str)
                await self.ws.send_str(item)
                self._queued_chars -= len(item)
                self._writing = False
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
