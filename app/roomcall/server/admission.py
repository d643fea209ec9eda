"""Admission of TCP connections: a cap in all and per source address, checked at accept.

aiohttp has no connection cap, so anyone who can reach the port could hold every file
descriptor the process may open with idle sockets and lock everyone out. :class:`Listener`
accepts connections itself (a listening socket, ``loop.add_reader`` and
``loop.connect_accepted_socket``, all public asyncio API) instead of ``loop.create_server``:

- a connection over a cap is closed right after ``accept()``, before asyncio or aiohttp
  allocate anything for it, so refused sockets never pile up as open descriptors (asyncio's
  own accept loop creates a transport, and a loop turn later a protocol, for each of up to
  ``backlog`` connections per turn before anyone could refuse them);
- at the total cap, a new connection takes the place of the oldest one that carries no session
  yet (the handshake and join deadlines end those anyway), so idle sockets cannot keep a member
  with a valid token out; seated members are never evicted;
- if ``accept()`` fails for lack of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM), accepting
  pauses for a moment and the failure is logged once per interval with a count. asyncio's loop
  reports such a failure through the loop's exception handler for every attempt and keeps
  trying the rest of its backlog in the same turn (CPython 3.11's ``_accept_connection`` has
  no ``return`` after it): hundreds of thousands of ERROR lines under a descriptor flood.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
from collections.abc import Callable

_log = logging.getLogger(__name__)

# Half the descriptors stay free, for the store, the logs and the sockets a burst of accepts
# holds between accept() and the admission check.
_FD_SHARE = 2
_ACCEPTS_PER_TURN = 64  # accept() calls per readiness: others get a turn in between
_RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_PAUSE = 0.5  # seconds accepting pauses after a resource error
_ERROR_LOG_INTERVAL = 10.0  # seconds between two log lines about failing accepts


def connection_cap(configured: int) -> int:
    """``configured``, or with 0 half the process's open-file limit."""
    if configured > 0:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 65536
    return max(16, soft // _FD_SHARE)


class Admission:
    """The connections the server holds, by source address and in arrival order."""

    def __init__(self, *, total: int, per_address: int) -> None:
        self.total = total
        """Most connections at once."""
        self._per_address = per_address
        self._open: dict[_Guard, None] = {}  # insertion order: oldest first
        self._unseated: dict[_Guard, None] = {}
        self._by_transport: dict[asyncio.BaseTransport, _Guard] = {}
        self._by_address: dict[str, int] = {}
        self.refused = 0
        """Connections closed at accept (over a cap) so far."""
        self.evicted = 0
        """Unseated connections closed to make room for a newer one so far."""

    @property
    def open_connections(self) -> int:
        """Connections held now."""
        return len(self._open)

    @property
    def transports(self) -> list[asyncio.BaseTransport]:
        """The transports of the connections held now, oldest first."""
        return [g.transport for g in self._open if g.transport is not None]

    def seated(self, transport: asyncio.BaseTransport) -> None:
        """The connection on ``transport`` now carries a session: never evict it."""
        guard = self._by_transport.get(transport)
        if guard is not None:
            self._unseated.pop(guard, None)

    def admit(self, address: str, factory: Callable[[], asyncio.Protocol]) -> _Guard | None:
        """A protocol for a new connection from ``address``, or None if it must be closed."""
        held = self._by_address.get(address, 0)
        if 0 < self._per_address <= held:
            self._refuse(address, "per-address")
            return None
        if len(self._open) >= self.total:
            if not self._unseated:
                self._refuse(address, "total")
                return None
            oldest = next(iter(self._unseated))
            self.evicted += 1
            _log.debug("evicting an unseated connection from %s for one from %s",
                       oldest.address, address)
            self._release(oldest)
            oldest.drop()
        guard = _Guard(self, factory, address)
        self._by_address[address] = held + 1
        self._open[guard] = None
        self._unseated[guard] = None
        return guard

    def _refuse(self, address: str, cap: str) -> None:
        self.refused += 1
        # Counted, not logged each time: a flood must not become a flood of log lines.
        if self.refused & (self.refused - 1) == 0:  # the 1st, 2nd, 4th, 8th, ... refusal
            _log.warning("connection from %s refused: %s connection cap reached (%d refused "
                         "so far)", address, cap, self.refused)

    def _bind(self, guard: _Guard, transport: asyncio.BaseTransport) -> None:
        self._by_transport[transport] = guard

    def _release(self, guard: _Guard) -> None:
        if guard not in self._open:
            return
        del self._open[guard]
        self._unseated.pop(guard, None)
        if guard.transport is not None:
            self._by_transport.pop(guard.transport, None)
        left = self._by_address[guard.address] - 1
        if left:
            self._by_address[guard.address] = left
        else:
            del self._by_address[guard.address]


class _Guard(asyncio.Protocol):
    """One admitted connection: hands every event to aiohttp's protocol, and releases its
    place when the connection ends."""

    def __init__(self, admission: Admission, factory: Callable[[], asyncio.Protocol],
                 address: str) -> None:
        self._admission = admission
        self._factory = factory
        self._inner: asyncio.Protocol | None = None
        self.transport: asyncio.BaseTransport | None = None
        self.address = address
        self._dropped = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if self._dropped:  # evicted before its transport existed
            transport.close()
            return
        self._admission._bind(self, transport)
        self._inner = self._factory()
        self._inner.connection_made(transport)

    def drop(self) -> None:
        """Close the connection now (evicted)."""
        self._dropped = True
        if isinstance(self.transport, asyncio.WriteTransport):
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._admission._release(self)
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


class Listener:
    """Accepts TCP connections on ``sock`` and hands those :class:`Admission` lets in to
    protocols made by ``factory`` (aiohttp's ``runner.server``)."""

    def __init__(self, sock: socket.socket, admission: Admission,
                 factory: Callable[[], asyncio.Protocol]) -> None:
        self._sock = sock
        self._admission = admission
        self._factory = factory
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[object]] = set()
        self._failures = 0
        self._logged_at = float("-inf")
        self._resume: asyncio.TimerHandle | None = None
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._accept)

    @property
    def port(self) -> int:
        """The port listened on."""
        return int(self._sock.getsockname()[1])

    def close(self) -> None:
        """Stop accepting and close the listening socket."""
        if self._resume is not None:
            self._resume.cancel()
        if self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()

    def _accept(self) -> None:
        for _ in range(_ACCEPTS_PER_TURN):
            try:
                conn, peer = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # reset before we got to it
            except OSError as exc:
                if exc.errno not in _RESOURCE_ERRORS:
                    raise
                self._out_of_resources(exc)
                return
            guard = self._admission.admit(str(peer[0]), self._factory)
            if guard is None:
                conn.close()
                continue
            task = self._loop.create_task(
                self._loop.connect_accepted_socket(_returning(guard), conn))
            self._tasks.add(task)
            task.add_done_callback(self._connected)

    def _connected(self, task: asyncio.Task[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.debug("accepted connection failed to start: %s", task.exception())

    def _out_of_resources(self, exc: OSError) -> None:
        self._failures += 1
        now = self._loop.time()
        if now - self._logged_at >= _ERROR_LOG_INTERVAL:
            _log.error("accept() failed: %s (%d such failures since the last report); "
                       "pausing accepts for %g s", exc, self._failures, _PAUSE)
            self._failures, self._logged_at = 0, now
        self._loop.remove_reader(self._sock.fileno())
        self._resume = self._loop.call_later(_PAUSE, self._restart)

    def _restart(self) -> None:
        self._resume = None
        if self._sock.fileno() >= 0:
            self._loop.add_reader(self._sock.fileno(), self._accept)


def _returning(guard: _Guard) -> Callable[[], _Guard]:
    return lambda: guard


def listening_socket(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A TCP socket listening on ``host`` (empty: every IPv4 address) and ``port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=backlog)
