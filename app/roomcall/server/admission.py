"""Admission of TCP connections: a cap in all and per source address, checked at accept.

aiohttp has no connection cap, so anyone who can reach the port could hold every file
descriptor the process may open with idle sockets and lock everyone out (and make asyncio's
accept loop fail with EMFILE). :class:`Admission` wraps aiohttp's protocol factory: a
connection over a cap is aborted in ``connection_made``, before aiohttp allocates anything for
it. At the total cap, a new connection takes the place of the oldest one that carries no
session yet (the handshake and the join deadlines end those anyway), so idle sockets cannot
keep a member with a valid token out; members already seated are never evicted.

asyncio's accept errors are handled by :func:`quiet_accept_errors`.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from typing import Any

_log = logging.getLogger(__name__)

_FD_HEADROOM = 4  # of 4 descriptors, one is kept for the store, logs and accept bursts


def connection_cap(configured: int) -> int:
    """``configured``, or with 0 three quarters of the process's open-file limit."""
    if configured > 0:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 65536
    return max(16, soft - soft // _FD_HEADROOM)


class Admission:
    """The connections the server holds, by source address and in arrival order."""

    def __init__(self, *, total: int, per_address: int) -> None:
        self.total = total
        """Most connections at once."""
        self._per_address = per_address
        self._open: dict[asyncio.BaseTransport, _Guard] = {}
        self._unseated: dict[_Guard, None] = {}  # insertion order: oldest first
        self._by_address: dict[str, int] = {}
        self.refused = 0
        """Connections closed at accept (over a cap) so far."""
        self.evicted = 0
        """Unseated connections closed to make room for a newer one so far."""

    def guard(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for ``loop.create_server`` that admits each connection before
        handing it to a protocol made by ``factory`` (aiohttp's ``runner.server``)."""
        return lambda: _Guard(self, factory)

    @property
    def open_connections(self) -> int:
        """Connections held now."""
        return len(self._open)

    @property
    def transports(self) -> list[asyncio.BaseTransport]:
        """The transports of the connections held now, oldest first."""
        return list(self._open)

    def seated(self, transport: asyncio.BaseTransport) -> None:
        """The connection on ``transport`` now carries a session: never evict it."""
        guard = self._open.get(transport)
        if guard is not None:
            self._unseated.pop(guard, None)

    def _admit(self, guard: _Guard, transport: asyncio.BaseTransport) -> bool:
        address = _address(transport)
        held = self._by_address.get(address, 0)
        if 0 < self._per_address <= held:
            self._refuse(address, "per-address")
            return False
        if len(self._open) >= self.total:
            if not self._unseated:
                self._refuse(address, "total")
                return False
            oldest = next(iter(self._unseated))
            self.evicted += 1
            _log.debug("evicting an unseated connection from %s for one from %s",
                       oldest.address, address)
            oldest.drop()
        guard.address = address
        self._by_address[address] = held + 1
        self._open[transport] = guard
        self._unseated[guard] = None
        return True

    def _refuse(self, address: str, cap: str) -> None:
        self.refused += 1
        # Counted, not logged each time: a flood must not become a flood of log lines.
        if self.refused & (self.refused - 1) == 0:  # the 1st, 2nd, 4th, 8th, ... refusal
            _log.warning("connection from %s refused: %s connection cap reached (%d refused "
                         "so far)", address, cap, self.refused)

    def _release(self, guard: _Guard, transport: asyncio.BaseTransport) -> None:
        if self._open.pop(transport, None) is None:
            return
        self._unseated.pop(guard, None)
        left = self._by_address[guard.address] - 1
        if left:
            self._by_address[guard.address] = left
        else:
            del self._by_address[guard.address]


def _address(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else str(peer)


class _Guard(asyncio.Protocol):
    """Admits or refuses one connection, then hands every event to aiohttp's protocol."""

    def __init__(self, admission: Admission, factory: Callable[[], asyncio.Protocol]) -> None:
        self._admission = admission
        self._factory = factory
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.BaseTransport | None = None
        self.address = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._admission._admit(self, transport):
            transport.abort()  # type: ignore[attr-defined]
            return
        self._transport = transport
        self._inner = self._factory()
        self._inner.connection_made(transport)

    def drop(self) -> None:
        """Close the connection now (evicted)."""
        if self._transport is not None:
            self._transport.abort()  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._admission._release(self, self._transport)
        if self._inner is not None:
            self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()


_ACCEPT_ERROR = "socket.accept() out of system resource"
_ACCEPT_LOG_INTERVAL = 10.0  # seconds between two log lines about failing accepts


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Log asyncio's accept failures (EMFILE, ENFILE, ENOBUFS, ENOMEM) once per interval with
    a count, instead of once per attempt; everything else goes to the loop's handler as
    before. Returns a function that puts the previous handler back.

    asyncio's ``BaseSelectorEventLoop._accept_connection`` reports each failed ``accept()``
    through ``loop.call_exception_handler`` and then keeps trying the rest of its backlog in
    the same tick (CPython 3.11 has no ``return`` there: up to ``backlog`` reports, and as many
    retries scheduled, per readiness). It does pause the listening socket for
    ``ACCEPT_RETRY_DELAY`` (1 s) after such a failure, which is the pause we want; only the
    reporting needs filtering, and the exception handler is the public hook for it.
    """
    previous = loop.get_exception_handler()
    state = {"suppressed": 0, "last": float("-inf")}

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != _ACCEPT_ERROR:
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = loop.time()
        if now - state["last"] < _ACCEPT_LOG_INTERVAL:
            state["suppressed"] += 1
            return
        _log.error("accept() failed: %s (%d more such failures not logged); accepting "
                   "paused for a second", context.get("exception"), state["suppressed"])
        state["suppressed"], state["last"] = 0, now

    loop.set_exception_handler(handler)

    def restore() -> None:
        if loop.get_exception_handler() is handler:
            loop.set_exception_handler(previous)

    return restore
