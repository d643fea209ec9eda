"""Fixtures for room server tests: a real server on 127.0.0.1, port 0, in a temporary folder."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from roomcall.server.config import Limits, ServerConfig
from roomcall.server.server import RoomServer

from .signal_client import SignalClient, joined_client

MakeServer = Callable[..., Awaitable[RoomServer]]


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[MakeServer]:
    """Start servers with config overrides (``limits`` may be a dict of Limits fields)."""
    servers: list[RoomServer] = []

    async def make(**overrides: Any) -> RoomServer:
        limits = overrides.pop("limits", None)
        config = ServerConfig(host="127.0.0.1", port=0, data_dir=tmp_path / "data", **overrides)
        if limits:
            config = dataclasses.replace(config, limits=Limits(**limits))
        server = RoomServer(config)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


@pytest.fixture
async def room_server(make_server: MakeServer) -> RoomServer:
    """A server with default settings."""
    return await make_server()


@pytest.fixture
async def clients() -> AsyncIterator[list[SignalClient]]:
    """Register clients here to have them closed after the test."""
    opened: list[SignalClient] = []
    yield opened
    for client in opened:
        await client.close()


JoinMember = Callable[[RoomServer, str], Awaitable[SignalClient]]


@pytest.fixture
def join_member(clients: list[SignalClient]) -> JoinMember:
    """``await join_member(server, token)``: a plain signalling client that has joined with
    ``token`` (the test fails on any other answer); closed after the test."""
    async def join(server: RoomServer, token: str) -> SignalClient:
        client = await joined_client(server.url, token)
        clients.append(client)
        return client
    return join
