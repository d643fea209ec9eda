"""Joining and leaving: states, refusals with their Qiniu codes, and the session's identity."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from roomcall.protocol.errors import DisconnectReason, ErrorCode
from roomcall.sdk import ConnectionState, JoinError, RTCClient
from roomcall.server import RoomServer
from tests.waiting import WAIT

from .support import ClientFactory, Recorder, api_users, server_users


async def test_join_goes_connecting_then_connected(server: RoomServer, make_client: ClientFactory
                                                   ) -> None:
    """join() passes through CONNECTING and returns in CONNECTED with the session's identity."""
    client = make_client()
    rec = Recorder(client)
    assert client.connection_state is ConnectionState.DISCONNECTED
    await client.join(server.token("room_1", "alice", admin=True))
    assert client.connection_state is ConnectionState.CONNECTED
    assert rec.states() == ["CONNECTING", "CONNECTED"]
    assert rec.named("connection_state_changed")[-1][1] is None
    assert (client.room, client.user_id, client.permission) == ("room_1", "alice", "admin")
    assert client.session_id
    assert client.remote_users == []
    assert await api_users(server) == {"alice"}


async def test_leave_disconnects_with_reason_leave(server: RoomServer, make_client: ClientFactory
                                                   ) -> None:
    """leave() ends DISCONNECTED / LEAVE and the server forgets the member at once."""
    client = make_client()
    rec = Recorder(client)
    await client.join(server.token("room_1", "alice"))
    await client.leave()
    state, info = rec.named("connection_state_changed")[-1]
    assert state is ConnectionState.DISCONNECTED
    assert info.reason is DisconnectReason.LEAVE and info.error_code == 0
    assert client.disconnect_info == info
    assert client.session_id is None
    assert server_users(server) == set()


async def test_leave_twice_and_before_join_is_harmless(server: RoomServer,
                                                       make_client: ClientFactory) -> None:
    """leave() before join and a second leave() change nothing and emit nothing."""
    client = make_client()
    rec = Recorder(client)
    await client.leave()
    assert rec.events == []
    await client.join(server.token("room_1", "alice"))
    await client.leave()
    await client.leave()
    assert rec.states() == ["CONNECTING", "CONNECTED", "DISCONNECTED"]


async def test_join_again_after_leave(server: RoomServer, make_client: ClientFactory) -> None:
    """A client that left can join again and gets a new session."""
    client = make_client()
    await client.join(server.token("room_1", "alice"))
    first = client.session_id
    await client.leave()
    await client.join(server.token("room_1", "alice"))
    assert client.connection_state is ConnectionState.CONNECTED
    assert client.session_id not in (None, first)


async def test_join_while_connected_is_refused_with_21002(server: RoomServer,
                                                          make_client: ClientFactory) -> None:
    """A second join() raises 21002 and leaves the current session untouched."""
    client = make_client()
    await client.join(server.token("room_1", "alice"))
    with pytest.raises(JoinError) as caught:
        await client.join(server.token("room_1", "alice"))
    assert caught.value.code == ErrorCode.INVALID_STATE
    assert client.connection_state is ConnectionState.CONNECTED
    assert server_users(server) == {"alice"}


async def test_join_while_connecting_is_refused_with_21002(server: RoomServer,
                                                           make_client: ClientFactory) -> None:
    """A join() while the first one is still CONNECTING raises 21002; the first one succeeds."""
    client = make_client()
    rec = Recorder(client)
    first = asyncio.create_task(client.join(server.token("room_1", "alice")))
    await rec.wait_state("CONNECTING")
    with pytest.raises(JoinError) as caught:
        await client.join(server.token("room_1", "alice"))
    assert caught.value.code == ErrorCode.INVALID_STATE
    await asyncio.wait_for(first, WAIT)
    assert client.connection_state is ConnectionState.CONNECTED
    assert rec.states() == ["CONNECTING", "CONNECTED"]
    assert server_users(server) == {"alice"}


async def _refused(client: RTCClient, token: str) -> tuple[JoinError, Recorder]:
    rec = Recorder(client)
    with pytest.raises(JoinError) as caught:
        await client.join(token)
    assert client.connection_state is ConnectionState.DISCONNECTED
    assert rec.states() == ["CONNECTING", "DISCONNECTED"]
    info = rec.named("connection_state_changed")[-1][1]
    assert info.error_code == caught.value.code
    assert info.error_message
    return caught.value, rec


async def test_bad_token_is_refused_with_10001(server: RoomServer, make_client: ClientFactory
                                               ) -> None:
    """A token with a wrong signature fails with 10001, reason ERROR."""
    token = server.token("room_1", "alice")
    access_key, sign, enc = token.split(":")
    error, rec = await _refused(make_client(), f"{access_key}:{sign[:-4]}AAA=:{enc}")
    assert error.code == ErrorCode.TOKEN_ERROR
    assert rec.named("connection_state_changed")[-1][1].reason is DisconnectReason.ERROR


async def test_expired_token_is_refused_with_10002(server: RoomServer, make_client: ClientFactory
                                                   ) -> None:
    """An expired token fails with 10002."""
    error, _ = await _refused(make_client(), server.token("room_1", "alice", ttl=-60))
    assert error.code == ErrorCode.TOKEN_EXPIRED


async def test_full_room_is_refused_with_10011(server: RoomServer, make_client: ClientFactory
                                               ) -> None:
    """Beyond the app's maxUsers the join fails with 10011 and reason ROOM_FULL."""
    app = server.store.ensure_default_app()
    server.store.update_app(app.app_id, max_users=1)
    await make_client().join(server.token("room_1", "alice"))
    error, rec = await _refused(make_client(), server.token("room_1", "bob"))
    assert error.code == ErrorCode.ROOM_FULL
    assert rec.named("connection_state_changed")[-1][1].reason is DisconnectReason.ROOM_FULL


async def test_duplicate_user_is_refused_with_10022(server: RoomServer, make_client: ClientFactory
                                                    ) -> None:
    """With noAutoKickUser the same user joining twice fails with 10022."""
    app = server.store.ensure_default_app()
    server.store.update_app(app.app_id, no_auto_kick_user=True)
    await make_client().join(server.token("room_1", "alice"))
    error, _ = await _refused(make_client(), server.token("room_1", "alice"))
    assert error.code == ErrorCode.USER_ALREADY_EXIST


async def test_same_user_again_replaces_the_older_session(server: RoomServer,
                                                          make_client: ClientFactory) -> None:
    """By default a second join of the same user wins; the first ends KICKED_OUT, no retry."""
    first = make_client()
    rec = Recorder(first)
    await first.join(server.token("room_1", "alice"))
    await make_client().join(server.token("room_1", "alice"))
    _, info = await rec.wait_state("DISCONNECTED")
    assert info.reason is DisconnectReason.KICKED_OUT
    assert first.connection_state is ConnectionState.DISCONNECTED
    assert "RECONNECTING" not in rec.states()
    assert server_users(server) == {"alice"}


async def test_unreachable_server_fails_with_21001(tmp_path: Path) -> None:
    """Nothing listening at the URL: 21001 and DISCONNECTED / ERROR."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = RTCClient(f"ws://127.0.0.1:{port}", media=False)
    rec = Recorder(client)
    with pytest.raises(JoinError) as caught:
        await client.join("AK:sign:enc")
    assert caught.value.code == ErrorCode.AUTH_FAILED
    assert rec.named("connection_state_changed")[-1][1].reason is DisconnectReason.ERROR


async def test_server_refusing_websocket_fails_with_21001(server: RoomServer) -> None:
    """A URL that is not a signalling endpoint (HTTP 404) fails with 21001."""
    client = RTCClient(server.http_url + "/nowhere", media=False)
    with pytest.raises(JoinError) as caught:
        await client.join(server.token("room_1", "alice"))
    assert caught.value.code == ErrorCode.AUTH_FAILED
    assert client.connection_state is ConnectionState.DISCONNECTED


async def test_leave_while_joining_ends_the_join(server: RoomServer, make_client: ClientFactory
                                                 ) -> None:
    """leave() during CONNECTING makes join() raise and the client end DISCONNECTED / LEAVE."""
    client = make_client()
    rec = Recorder(client)
    joining = asyncio.ensure_future(client.join(server.token("room_1", "alice")))
    await rec.wait_state("CONNECTING")
    await client.leave()
    with pytest.raises(JoinError):
        await joining
    assert client.connection_state is ConnectionState.DISCONNECTED
    assert client.disconnect_info is not None
    assert client.disconnect_info.reason is DisconnectReason.LEAVE
    assert rec.states() == ["CONNECTING", "DISCONNECTED"]


async def test_context_manager_leaves(server: RoomServer) -> None:
    """``async with RTCClient(...)`` leaves the room on exit."""
    async with RTCClient(server.url, media=False) as client:
        await client.join(server.token("room_1", "alice"))
        assert server_users(server) == {"alice"}
    assert client.connection_state is ConnectionState.DISCONNECTED
    assert server_users(server) == set()
