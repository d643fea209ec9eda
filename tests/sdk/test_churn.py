"""Churn: many clients joining, messaging and leaving at random leave nothing behind."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from roomcall.sdk import ConnectionState, RTCClient
from roomcall.server import RoomServer
from roomcall.server.config import Limits
from tests.waiting import scaled, until

from .support import Recorder, fast_config

CLIENTS = 50
ROUNDS = 3
ROOMS = ("room_a", "room_b", "room_c")
CLIENT_TASK_PREFIXES = ("signal-", "reconnect", "media-", "client-", "event-")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RoomServer]:
    """A room server that takes all CLIENTS from 127.0.0.1 at once (more than the default
    per-address connection cap)."""
    srv = RoomServer(fast_config(tmp_path, limits=Limits(max_connections_per_address=0)))
    await srv.start()
    yield srv
    await srv.stop()


async def _yield_randomly(rng: random.Random) -> None:
    """Let other clients run a random number of loop turns (interleaving, not waiting)."""
    for _ in range(rng.randint(0, 8)):
        await asyncio.sleep(0)


async def _churn(server: RoomServer, client: RTCClient, index: int, rng: random.Random) -> int:
    sent = 0
    for _ in range(ROUNDS):
        room = rng.choice(ROOMS)
        await client.join(server.token(room, f"user{index:02d}"), user_data=f"n{index}")
        await _yield_randomly(rng)
        for _ in range(rng.randint(0, 3)):
            others = [u.user_id for u in client.remote_users]
            targets = rng.sample(others, k=min(len(others), rng.randint(0, 2)))
            await client.send_message(f"from {index}", targets)
            sent += 1
            await _yield_randomly(rng)
        await client.leave()
        await _yield_randomly(rng)
    return sent


async def test_churn_leaves_no_member_room_or_task(server: RoomServer) -> None:
    """50 clients join random rooms, message and leave three times each, concurrently: in the
    end the server has no member or room and the clients hold no connection or task."""
    rng = random.Random(7)
    clients = [RTCClient(server.url, media=False) for _ in range(CLIENTS)]
    recorders = [Recorder(c) for c in clients]
    results = await asyncio.wait_for(
        asyncio.gather(*(_churn(server, c, i, random.Random(rng.random()))
                         for i, c in enumerate(clients))),
        timeout=scaled(60),
    )
    assert sum(results) > 0
    app_id = server.store.ensure_default_app().app_id
    for room in ROOMS:
        assert not server.rooms.room_users(app_id, room)
    await until(lambda: server.rooms.active_rooms(app_id) == [])
    for client, rec in zip(clients, recorders, strict=True):
        assert client.connection_state is ConnectionState.DISCONNECTED
        assert client.remote_users == [] and client._session is None and not client._tasks
        assert rec.states() == ["CONNECTING", "CONNECTED", "DISCONNECTED"] * ROUNDS
        senders = {m.user_id for (m,) in rec.named("message_received")}
        assert senders <= {f"user{i:02d}" for i in range(CLIENTS)}
    await until(lambda: not [t for t in asyncio.all_tasks()
                             if t.get_name().startswith(CLIENT_TASK_PREFIXES)])
