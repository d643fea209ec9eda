"""Fixtures for SDK tests: a real room server on port 0 with short lifecycle durations, a
breakable network path to it, and clients that always leave at teardown."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from roomcall.sdk import RTCClient
from roomcall.server import RoomServer

from .support import ClientFactory, JoinedClient, Proxy, Recorder, fast_config


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RoomServer]:
    """A running room server on 127.0.0.1, port 0."""
    srv = RoomServer(fast_config(tmp_path))
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def proxy(server: RoomServer) -> AsyncIterator[Proxy]:
    """A breakable network path to ``server``."""
    p = Proxy(server.port)
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
async def make_client(server: RoomServer) -> AsyncIterator[ClientFactory]:
    """Creates signalling-only clients of ``server`` (fast reconnect delays); all of them leave
    at teardown."""
    clients: list[RTCClient] = []

    def make(url: str | None = None, **kwargs: Any) -> RTCClient:
        kwargs.setdefault("media", False)
        kwargs.setdefault("reconnect_delays", lambda: itertools.repeat(0.05))
        client = RTCClient(url or server.url, **kwargs)
        clients.append(client)
        return client

    yield make
    await asyncio.gather(*(c.leave() for c in clients), return_exceptions=True)


@pytest.fixture
async def joined(server: RoomServer, make_client: ClientFactory
                 ) -> Callable[..., Awaitable[JoinedClient]]:
    """``await joined(user, room="room_1", admin=False, **client_kwargs)``: a client (with a
    recorder) joined as ``user``."""
    async def join(user: str, room: str = "room_1", admin: bool = False, user_data: str = "",
                   **kwargs: Any) -> JoinedClient:
        client = make_client(**kwargs)
        recorder = Recorder(client)
        await client.join(server.token(room, user, admin=admin), user_data=user_data)
        return client, recorder
    return join
