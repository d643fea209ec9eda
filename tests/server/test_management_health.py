"""``GET /healthz``: unauthenticated, counts rooms and members, 503 once stopping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from roomcall import __version__
from roomcall.server import RoomServer
from roomcall.server.health import HEALTH_PATH, add_health_route

from .conftest import JoinMember


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_health_counts_rooms_and_members(room_server: RoomServer, session:
                                               aiohttp.ClientSession,
                                               join_member: JoinMember) -> None:
    """Without any Authorization the answer is 200 JSON with the open rooms, their members
    and the version; it follows joins."""
    async with session.get(room_server.http_url + HEALTH_PATH) as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok", "rooms": 0, "members": 0,
                                     "version": __version__}
    await join_member(room_server, room_server.token("room1", "alice"))
    await join_member(room_server, room_server.token("room1", "bob"))
    await join_member(room_server, room_server.token("room2", "carol"))
    async with session.get(room_server.http_url + HEALTH_PATH) as resp:
        body = await resp.json()
    assert (body["rooms"], body["members"]) == (2, 3)
    async with session.head(room_server.http_url + HEALTH_PATH) as resp:
        assert resp.status == 200


async def test_health_is_503_while_stopping(room_server: RoomServer,
                                            session: aiohttp.ClientSession) -> None:
    """Once stopping is set (RoomServer.stop does it first) the answer is 503 "stopping", so
    a balancer stops sending clients before the listener closes."""
    app = web.Application()
    health = add_health_route(app, apps=room_server.store, rooms=room_server.rooms)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}{HEALTH_PATH}"
    try:
        health.stopping = True
        async with session.get(url) as resp:
            assert resp.status == 503
            assert (await resp.json())["status"] == "stopping"
    finally:
        await runner.cleanup()
