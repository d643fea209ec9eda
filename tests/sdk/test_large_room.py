"""A room whose ``joined`` snapshot is larger than the 64 KiB the server reads from clients."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from roomcall.protocol.messages import MAX_FRAME_BYTES
from roomcall.sdk import ConnectionState, RTCClient
from roomcall.server import RoomServer
from roomcall.server.config import Limits

from .support import Proxy, Recorder, fast_config, server_users

MEMBERS = 70
"""Seated members, each with 1 KiB of user data: the snapshot is about 80 KiB."""
USER_DATA = "x" * 1024


@pytest.fixture
async def big_room(tmp_path: Path) -> AsyncIterator[tuple[RoomServer, list[RTCClient]]]:
    """A server whose app allows more members than the snapshot limit holds, with MEMBERS of
    them seated (slow heartbeats keep so many clients cheap on a shared machine)."""
    # Every client comes from 127.0.0.1 (no per-address cap), and the room is let grow past
    # the server's default member cap (64) so that user data alone passes 64 KiB.
    server = RoomServer(fast_config(
        tmp_path, heartbeat_interval=1.0, silent_user_timeout=10.0,
        limits=Limits(max_connections_per_address=0, max_room_members=MEMBERS + 10)))
    await server.start()
    app = server.store.ensure_default_app()
    server.store.update_app(app.app_id, max_users=MEMBERS + 10)
    clients = [RTCClient(server.url, media=False) for _ in range(MEMBERS)]
    try:
        for i, client in enumerate(clients):
            await client.join(server.token("room_1", f"member{i:03d}"), user_data=USER_DATA)
        yield server, clients
    finally:
        await asyncio.gather(*(c.leave() for c in clients), return_exceptions=True)
        await server.stop()


async def test_join_and_resume_with_a_snapshot_over_64_kib(
        big_room: tuple[RoomServer, list[RTCClient]]) -> None:
    """A member joins a room whose snapshot exceeds MAX_FRAME_BYTES, then resumes its seat
    after its socket was cut (the resume answer is as large): both succeed."""
    server, _ = big_room
    proxy = Proxy(server.port)
    await proxy.start()
    late = RTCClient(proxy.url, media=False, reconnect_delays=lambda: itertools.repeat(0.05))
    rec = Recorder(late)
    try:
        await late.join(server.token("room_1", "late"), user_data=USER_DATA)
        assert len(late.remote_users) == MEMBERS
        assert sum(len(u.user_data) for u in late.remote_users) > MAX_FRAME_BYTES
        session = late.session_id

        proxy.cut()
        await rec.wait_state("RECONNECTED", within=10.0)
        assert late.connection_state is ConnectionState.RECONNECTED
        assert late.session_id == session
        assert len(late.remote_users) == MEMBERS
        assert rec.states() == ["CONNECTING", "CONNECTED", "RECONNECTING", "RECONNECTED"]
        assert "late" in server_users(server)
    finally:
        await late.leave()
        await proxy.stop()
