"""One signalling WebSocket: its send queue, writer task and rate limits.

Every frame goes into a bounded queue drained through aiohttp's own writer
(``WebSocketResponse.send_frame``) as the socket allows, everything queued in one go: by the
connection's reader right after the client's own frame was handled (its answers, with no task
and no extra loop iteration), else by a writer task that runs only while there is something
to write. A consumer that falls
``send_queue_size`` frames or ``send_queue_bytes`` behind is cut off (its seat stays
resumable), so one slow or stalled client cannot hold up anyone else. What one sender's
messages and relays may occupy of that queue is bounded too (``queue_share_bytes``): a reader
is not cut off because one member floods it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from aiohttp import WSCloseCode, WSMsgType, web

from roomcall.server.config import Limits

_log = logging.getLogger(__name__)

_CLOSE = b"close"  # queue marker (by identity): close once what is before it is written
_FINISH_TIMEOUT = 5.0  # seconds a closing connection may take to flush its queue


class TokenBucket:
    """``rate`` units per second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = now

    def take(self, now: float, amount: float = 1.0) -> bool:
        """Spend ``amount`` tokens if there are that many."""
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= amount:
            self._tokens -= amount
            return True
        return False


class Connection:
    """A client's WebSocket as the signalling shell sees it."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, limits: Limits,
                 now: float, largest_frame: int) -> None:
        self.ws = ws
        self.peer = str(request.remote)
        self.session_id: str | None = None
        """The session this connection carries, once joined or resumed."""
        self.bucket = TokenBucket(limits.rate_per_second, limits.rate_burst, now)
        """Frames (WebSocket pings and pongs included) this connection may send."""
        self.byte_bucket = TokenBucket(limits.sender_bytes_per_second,
                                       limits.sender_burst_bytes, now)
        """Bytes of messages and relays this connection may send."""
        self.dropped = 0
        """Frames refused for exceeding a rate limit."""
        self.throttled = False
        """True between a refused frame and the next accepted one (one error per episode)."""
        self.crowding: set[Connection] = set()
        """Members whose queue share this sender has filled (one error per episode each)."""
        self.bad = 0
        """Malformed or refused frames so far."""
        self._request = request
        self._queue: deque[tuple[bytes, Connection | None]] = deque()
        self._closing = False
        self._queued_bytes = 0
        self._limits = limits
        self._shares: dict[Connection, int] = {}
        self._largest_frame = largest_frame
        # Started with the first queued frame and ended when the queue is empty: most
        # connections are idle, and an idle one holds no task.
        self._writer: asyncio.Task[None] | None = None
        self._held = False  # the reader will flush: no writer task meanwhile
        self._flushing = False  # the reader is writing the queue itself

    @property
    def ws_transport(self) -> asyncio.BaseTransport | None:
        """The TCP transport under the WebSocket (None once the connection is gone)."""
        return self._request.transport

    @property
    def closing(self) -> bool:
        """True once the connection is being ended: nothing more is queued."""
        return self._closing

    def send(self, data: bytes, sender: Connection | None = None) -> bool:
        """Queue one text frame (UTF-8 ``data``); a connection too far behind is cut off.

        A frame from ``sender`` (another member's message or relay) is refused, and False
        returned, while that sender's frames already fill ``queue_share_bytes`` of this queue.
        """
        if self._closing:
            return True
        size = len(data)
        if size > self._largest_frame:
            # The rooms core bounds every frame below this; never send a client more.
            _log.error("%s: refusing to send a %d-byte frame; disconnecting", self.peer, size)
            self.abort()
            return True
        if sender is not None:
            share = self._shares.get(sender, 0) + size
            if share > self._limits.queue_share_bytes:
                return False
            self._shares[sender] = share
        self._queued_bytes += size
        self._queue.append((data, sender))
        if (len(self._queue) > self._limits.send_queue_size
                or self._queued_bytes > self._limits.send_queue_bytes):
            _log.warning("%s: %d frames (%d bytes) behind; disconnecting", self.peer,
                         len(self._queue), self._queued_bytes)
            self.abort()
            return True
        self._start_writer()
        return True

    def close_after_sends(self) -> None:
        """End the connection once the frames queued so far are written."""
        if self._closing:
            return
        self._closing = True
        self._queue.append((_CLOSE, None))
        self._start_writer()

    def abort(self) -> None:
        """Drop the connection now, without writing what is queued."""
        self._closing = True
        self._queue.clear()
        self._shares.clear()
        if self._writer is not None:
            self._writer.cancel()
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    async def pong(self, payload: bytes) -> None:
        """Answer a WebSocket ping (control frames may come between queued text frames)."""
        if not self._closing:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.pong(payload)

    async def delivered(self, within: float) -> bool:
        """Whether everything queued so far was handed to the kernel within ``within`` s."""
        deadline = asyncio.get_running_loop().time() + within
        writer = self._writer
        if writer is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(writer), within)
        transport = self._request.transport
        while not self._queue and transport is not None and not transport.is_closing():
            if not transport.get_write_buffer_size():
                return True
            if asyncio.get_running_loop().time() >= deadline:
                return False
            # asyncio announces no "buffer empty" event short of the low-water mark
            await asyncio.sleep(0.01)
        return False

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

    def hold(self) -> None:
        """Queue without starting a writer: the reader calls :meth:`flush` next."""
        self._held = True

    async def flush(self) -> None:
        """Write what :meth:`hold` kept queued, in this task (unless a writer has it)."""
        self._held = False
        if self._writer is not None or self._flushing or not self._queue:
            return
        self._flushing = True
        try:
            await self._write_loop()
        finally:
            self._flushing = False

    def _start_writer(self) -> None:
        if self._writer is None and not self._held and not self._flushing:
            self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    async def _write_loop(self) -> None:
        queue = self._queue
        try:
            while queue:
                data, sender = queue[0]
                if data is _CLOSE:
                    queue.clear()
                    await self.ws.close(code=WSCloseCode.OK)
                    return
                # aiohttp's writer only suspends once it has written more than its chunk
                # limit and the transport pushes back, so a burst goes out in one wake-up.
                await self.ws.send_frame(data, WSMsgType.TEXT)
                if not queue:  # aborted meanwhile
                    return
                queue.popleft()
                self._queued_bytes -= len(data)
                if sender is not None:
                    left = self._shares[sender] - len(data)
                    if left:
                        self._shares[sender] = left
                    else:
                        del self._shares[sender]
        except (ConnectionError, RuntimeError) as exc:
            # The peer went away mid-write; the reader notices and ends the session's link.
            _log.debug("%s: write failed: %s", self.peer, exc)
            self._closing = True
        except Exception:
            # Never leave a connection that silently stops writing: drop it (a lost link).
            _log.exception("%s: write failed; dropping the connection", self.peer)
            self.abort()
        finally:
            if self._writer is not None and self._writer is asyncio.current_task():
                self._writer = None
