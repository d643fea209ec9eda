"""A user-space network impairment on one RTCPeerConnection's UDP sockets.

This kernel has no ``sch_netem``, and the namespace test bed (``tests/network/bed.py``) is built
elsewhere; this shapes the datagrams of one peer connection inside its own process instead, at
the lowest level aiortc/aioice use: each aioice ``StunProtocol``'s ``transport.sendto``
(outgoing) and ``datagram_received`` (incoming), so ICE checks and consent, DTLS, RTP and RTCP
are all affected, as on a real link.

Outgoing datagrams pass a bottleneck like ``tc tbf rate R latency L``: a FIFO drained at
``rate`` bit/s (counting 28 bytes of IP/UDP header) that drops what would wait longer than
``queue_delay``. Both directions get random loss, a fixed one-way delay with uniform jitter
(so packets may reorder, as with netem), and outage windows during which everything is
dropped.

:meth:`ImpairedLink.follow` applies one link to whatever connection a client holds to a peer,
the ones that replace it included, as a network would.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection

UDP_IP_OVERHEAD = 28


@dataclass
class Impairment:
    """What the link does; all fields may be changed while it runs."""

    rate: int | None = None
    """Uplink cap in bit/s (outgoing only), None for none."""
    queue_delay: float = 0.2
    """Longest a datagram may wait in the bottleneck queue before it is dropped (tbf latency)."""
    loss: float = 0.0
    """Random loss per datagram, each direction."""
    delay: float = 0.0
    """One-way delay in seconds, each direction."""
    jitter: float = 0.0
    """Uniform +-jitter in seconds added to the delay."""
    outages: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) in ``time.monotonic()`` seconds: nothing passes in either direction."""
    seed: int = 1


class ImpairedLink:
    """Applies an :class:`Impairment` to a peer connection; counts what it passed and dropped."""

    def __init__(self, impairment: Impairment) -> None:
        self.impairment = impairment
        self._random = random.Random(impairment.seed)
        self._queue_free_at = 0.0
        self.sent_bytes = 0
        """Bytes offered to the link by this side (before any drop), incl. IP/UDP headers."""
        self.dropped = 0
        self._wrapped: set[int] = set()
        self.connections = 0
        """Peer connections this link was attached to."""

    def down(self, now: float) -> bool:
        """Whether an outage is under way at ``now``."""
        return any(start <= now < end for start, end in self.impairment.outages)

    async def attach(self, pc: RTCPeerConnection, within: float = 10.0) -> None:
        """Wrap the UDP sockets of ``pc`` once they exist (after ``setLocalDescription``)."""
        deadline = time.monotonic() + within
        while True:
            protocols = _protocols(pc)
            if protocols:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("peer connection gathered no sockets")
            await asyncio.sleep(0.002)
        self.connections += 1
        for protocol in protocols:
            self._wrap(protocol)

    @contextlib.asynccontextmanager
    async def follow(self, connection: Callable[[], RTCPeerConnection | None],
                     within: float = 10.0) -> AsyncIterator[ImpairedLink]:
        """Attach to ``connection()`` now, and while inside, to each connection it returns
        later (a client replacing a failed or silent pair with a fresh one)."""
        first = connection()
        if first is None:
            raise RuntimeError("no peer connection to impair")
        await self.attach(first, within)

        async def watch() -> None:
            current: RTCPeerConnection | None = first
            while True:
                pc = connection()
                if pc is not None and pc is not current:
                    current = pc
                    await self.attach(pc, within)
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        try:
            yield self
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    def _wrap(self, protocol: Any) -> None:
        if id(protocol) in self._wrapped:
            return
        self._wrapped.add(id(protocol))
        loop = asyncio.get_running_loop()
        transport = protocol.transport
        send = transport.sendto
        receive = protocol.datagram_received

        def sendto(data: bytes, addr: Any = None) -> None:
            wait = self._outgoing(len(data))
            if wait is not None:
                loop.call_later(wait, _guarded, send, data, addr)

        def datagram_received(data: bytes, addr: Any) -> None:
            wait = self._incoming()
            if wait is not None:
                loop.call_later(wait, _guarded, receive, data, addr)

        transport.sendto = sendto
        protocol.datagram_received = datagram_received

    def _outgoing(self, size: int) -> float | None:
        """Seconds until the datagram arrives, None if dropped."""
        now = time.monotonic()
        self.sent_bytes += size + UDP_IP_OVERHEAD
        wait = 0.0
        rate = self.impairment.rate
        if rate is not None:
            start = max(now, self._queue_free_at)
            if start - now > self.impairment.queue_delay:
                self.dropped += 1
                return None
            self._queue_free_at = start + (size + UDP_IP_OVERHEAD) * 8 / rate
            wait = self._queue_free_at - now
        extra = self._incoming(now + wait)
        return None if extra is None else wait + extra

    def _incoming(self, at: float | None = None) -> float | None:
        now = time.monotonic() if at is None else at
        if self.down(now) or self._random.random() < self.impairment.loss:
            self.dropped += 1
            return None
        jitter = self.impairment.jitter
        return max(0.0, self.impairment.delay + self._random.uniform(-jitter, jitter))


def _guarded(call: Any, data: bytes, addr: Any) -> None:
    # The socket may have closed meanwhile: the datagram is lost, as on a real link.
    with contextlib.suppress(OSError, AttributeError, RuntimeError):
        call(data, addr)


def _protocols(pc: RTCPeerConnection) -> list[Any]:
    found: list[Any] = []
    for transceiver in pc.getTransceivers():
        ice = transceiver.sender.transport.transport
        connection = getattr(ice, "_connection", None)
        for protocol in getattr(connection, "_protocols", []):
            if getattr(protocol, "transport", None) is not None and protocol not in found:
                found.append(protocol)
    return found
