"""Helpers for SDK tests: short server durations, an event recorder, a TCP proxy that can cut
or freeze a client's network, and the server's view of a room."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qiniu.services.pili.rtc_server_manager import RtcServer

from roomcall.sdk import ConnectionState, RTCClient
from roomcall.sdk.events import EVENT_NAMES
from roomcall.server import RoomServer, ServerConfig
from tests.qiniu_client import call, rtc_server
from tests.waiting import WAIT

HEARTBEAT = 0.1
"""Heartbeat interval in tests: a frozen link is noticed after three of them."""
WINDOW = 1.5
"""Reconnect window (silent_user_timeout) in tests."""


def fast_config(data_dir: Path, **overrides: Any) -> ServerConfig:
    """A server config with lifecycle durations short enough for tests."""
    values: dict[str, Any] = dict(port=0, data_dir=data_dir, empty_room_timeout=0.3,
                                  unjoined_room_timeout=1.0, silent_user_timeout=WINDOW,
                                  heartbeat_interval=HEARTBEAT)
    values.update(overrides)
    return ServerConfig(**values)


class Recorder:
    """Records every event of one client, in order, and waits for the ones a test expects."""

    def __init__(self, client: RTCClient) -> None:
        self.client = client
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = asyncio.Event()
        for name in EVENT_NAMES:
            client.on(name, self._handler(name))  # type: ignore[arg-type]

    def _handler(self, name: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            self.events.append((name, args))
            self._changed.set()
        return record

    def named(self, name: str) -> list[tuple[Any, ...]]:
        """Arguments of every ``name`` event so far."""
        return [args for n, args in self.events if n == name]

    def states(self) -> list[str]:
        """Connection states entered so far, by name."""
        return [args[0].name for args in self.named("connection_state_changed")]

    async def wait(self, name: str, predicate: Callable[..., bool] = lambda *a: True,
                   within: float = WAIT) -> tuple[Any, ...]:
        """The first ``name`` event (recorded or future) whose arguments satisfy ``predicate``."""
        async def find() -> tuple[Any, ...]:
            while True:
                for n, args in self.events:
                    if n == name and predicate(*args):
                        return args
                self._changed.clear()
                await self._changed.wait()
        return await asyncio.wait_for(find(), within)

    async def wait_state(self, state: str, within: float = WAIT) -> tuple[Any, ...]:
        """The first entry into the state named ``state``."""
        return await self.wait("connection_state_changed", lambda s, info: s.name == state,
                               within)


class MembershipCheck:
    """Checks, at every event a client delivers, that its ``remote_users`` hold exactly the
    users announced by ``user_joined`` and not yet by ``user_left`` (none once DISCONNECTED)."""

    def __init__(self, client: RTCClient) -> None:
        self.client = client
        self.announced = {u.user_id for u in client.remote_users}
        """Users announced so far (those present when the check began included)."""
        self.mismatches: list[tuple[str, tuple[Any, ...], set[str], set[str]]] = []
        """(event, arguments, remote_users, announced) wherever the two disagreed."""
        self.checked = 0
        for name in EVENT_NAMES:
            client.on(name, functools.partial(self._check, name))  # type: ignore[arg-type]

    def _check(self, name: str, *args: Any) -> None:
        if name == "user_joined":
            self.announced.add(args[0])
        elif name == "user_left":
            self.announced.discard(args[0])
        elif name == "connection_state_changed" and args[0] is ConnectionState.DISCONNECTED:
            self.announced.clear()
        seen = {u.user_id for u in self.client.remote_users}
        self.checked += 1
        if seen != self.announced:
            self.mismatches.append((name, args, seen, set(self.announced)))


class Proxy:
    """A TCP forwarder between clients and the server that can break the network.

    ``cut()`` closes every forwarded connection (the socket dies under the client);
    ``freeze()`` keeps them open but forwards nothing (the server stops answering);
    ``refuse = True`` turns new connections away until set back.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.refuse = False
        self.frozen = False
        self.accepted = 0
        """Connections forwarded so far (refused ones not counted)."""
        self._links: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    @property
    def url(self) -> str:
        """The base URL clients use instead of the server's."""
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def cut(self) -> None:
        """Close every forwarded connection at once."""
        for a, b in self._links:
            a.close()
            b.close()
        self._links.clear()

    def freeze(self) -> None:
        """Stop forwarding (both ways) on current connections; they stay open."""
        self.frozen = True

    async def stop(self) -> None:
        """Close everything."""
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.frozen = False  # a new connection is a new network path
        self.accepted += 1
        self._links.append((writer, up_writer))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await src.read(65536):
                if self.frozen:
                    continue  # swallowed: the far end never hears of it
                dst.write(data)
                await dst.drain()
        dst.close()






def server_users(server: RoomServer, room: str = "room_1") -> set[str]:
    """User ids the server holds in ``room`` (empty if the room is not active)."""
    assert server.default_app is not None
    return set(server.rooms.room_users(server.default_app.app_id, room) or [])


def rtc_api(server: RoomServer) -> tuple[RtcServer, str]:
    """Qiniu's official management client pointed at ``server``, and the default app id."""
    return rtc_server(server), server.store.ensure_default_app().app_id


async def api_users(server: RoomServer, room: str = "room_1") -> set[str]:
    """User ids in ``room`` according to the management API, through Qiniu's SDK."""
    api, app_id = rtc_api(server)
    ret, info = await call(api.list_user, app_id, room)
    if info.status_code != 200:
        return set()
    return {u["userId"] for u in ret["users"]}


def client_view(client: RTCClient) -> set[str]:
    """Everyone in the room as ``client`` sees it (itself included)."""
    assert client.user_id is not None
    return {u.user_id for u in client.remote_users} | {client.user_id}


ClientFactory = Callable[..., RTCClient]
"""``make_client(url=None, **RTCClient kwargs)``."""
JoinedClient = tuple[RTCClient, Recorder]
