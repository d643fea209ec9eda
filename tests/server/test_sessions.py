"""Sessions on the real server: kicks, full rooms, duplicate users, resume and silent members."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    Ack,
    Closed,
    Error,
    Join,
    Joined,
    Kick,
    Message,
    UserJoined,
    UserLeft,
    UserReconnected,
    UserReconnecting,
)
from roomcall.server.config import ServerConfig
from roomcall.server.rooms import REMOVED_MESSAGE, REPLACED_MESSAGE
from roomcall.server.server import RoomServer
from tests.waiting import WAIT, until

from .conftest import MakeServer
from .signal_client import SignalClient, joined_client, resuming_client


async def _refused(server: RoomServer, token: str, clients: list[SignalClient]) -> Error:
    client = await SignalClient.connect(server.url)
    clients.append(client)
    await client.send(Join(req=1, token=token))
    error = await client.expect(Error, req=1)
    await client.wait_closed()
    return error


async def test_admin_kick_and_non_admin_refused(room_server: RoomServer,
                                                clients: list[SignalClient]) -> None:
    """An admin member kicks (target KICKED_OUT, others user_left, the user id refused on
    rejoining); a plain member gets 10051."""
    host = await joined_client(room_server.url, room_server.token("room1", "host", admin=True))
    bob = await joined_client(room_server.url, room_server.token("room1", "bob"))
    carol = await joined_client(room_server.url, room_server.token("room1", "carol"))
    clients.extend([host, bob, carol])
    await bob.send(Kick(req=5, user_id="carol"))
    assert (await bob.wait_for(Error, req=5)).code == ErrorCode.NO_PERMISSION
    await host.send(Kick(req=6, user_id="carol"))
    closed = await carol.wait_for(Closed)
    assert (closed.reason, closed.code) == ("KICKED_OUT", ErrorCode.KICKED_OUT)
    await carol.wait_closed()
    assert (await bob.wait_for(UserLeft)) == UserLeft("carol", "kicked")
    await host.wait_for(Ack, req=6)
    again, answer = await resuming_client(room_server.url, room_server.token("room1", "carol"),
                                          carol, clients)
    assert isinstance(answer, Closed) and answer.code == ErrorCode.KICKED_OUT  # never resumes
    await again.wait_closed()
    refused = await _refused(room_server, room_server.token("room1", "carol"), clients)
    # the host's kick is a removal: the user id stays out (docs/protocol.md, "Removal")
    assert (refused.code, refused.message) == (ErrorCode.KICKED_OUT, REMOVED_MESSAGE)


async def test_room_full(room_server: RoomServer, clients: list[SignalClient]) -> None:
    """An app with maxUsers 2 refuses the third join with 10011."""
    app = room_server.store.create_app(max_users=2)
    for user in ("alice", "bob"):
        clients.append(await joined_client(
            room_server.url, room_server.token("room1", user, app_id=app.app_id)))
    error = await _refused(room_server, room_server.token("room1", "carol", app_id=app.app_id),
                           clients)
    assert error.code == ErrorCode.ROOM_FULL


async def test_duplicate_user_newer_wins(room_server: RoomServer,
                                         clients: list[SignalClient]) -> None:
    """A second join of bob closes the first (KICKED_OUT, replaced); alice sees left+joined."""
    alice = await joined_client(room_server.url, room_server.token("room1", "alice"))
    old = await joined_client(room_server.url, room_server.token("room1", "bob"), "phone")
    clients.extend([alice, old])
    await alice.expect(UserJoined)
    new = await joined_client(room_server.url, room_server.token("room1", "bob"), "laptop")
    clients.append(new)
    closed = await old.expect(Closed)
    assert (closed.reason, closed.code, closed.message) == (
        "KICKED_OUT", ErrorCode.KICKED_OUT, REPLACED_MESSAGE)
    await old.wait_closed()
    assert await alice.expect(UserLeft) == UserLeft("bob", "replaced")
    assert (await alice.expect(UserJoined)).member.user_data == "laptop"
    assert room_server.rooms.room_users(room_server.default_app.app_id,  # type: ignore[union-attr]
                                        "room1") == ["alice", "bob"]
    alice.assert_quiet()


async def test_duplicate_user_refused_with_no_auto_kick(room_server: RoomServer,
                                                        clients: list[SignalClient]) -> None:
    """With noAutoKickUser the second join of bob gets 10022 and the first stays."""
    app = room_server.store.create_app(no_auto_kick_user=True)
    first = await joined_client(room_server.url,
                                room_server.token("room1", "bob", app_id=app.app_id))
    clients.append(first)
    error = await _refused(room_server, room_server.token("room1", "bob", app_id=app.app_id),
                           clients)
    assert error.code == ErrorCode.USER_ALREADY_EXIST
    assert room_server.rooms.room_users(app.app_id, "room1") == ["bob"]
    first.assert_quiet()


async def test_resume_inside_window(make_server: MakeServer,
                                    clients: list[SignalClient]) -> None:
    """A dropped member resumes its session: others see reconnecting then reconnected only."""
    server = await make_server(silent_user_timeout=5.0, heartbeat_interval=1.0)
    alice = await joined_client(server.url, server.token("room1", "alice"))
    bob = await joined_client(server.url, server.token("room1", "bob"))
    clients.extend([alice, bob])
    await alice.expect(UserJoined)
    await bob.ws.close()  # the socket drops without a leave
    assert await alice.expect(UserReconnecting) == UserReconnecting("bob")
    _, answer = await resuming_client(server.url, server.token("room1", "bob"), bob, clients)
    assert isinstance(answer, Joined) and answer.resumed
    assert [m.user_id for m in answer.members] == ["alice"]
    assert await alice.expect(UserReconnected) == UserReconnected("bob")
    alice.assert_quiet()


async def test_resume_outside_window(make_server: MakeServer,
                                     clients: list[SignalClient]) -> None:
    """After the window the seat is gone (user_left timeout) and a resume gets 21003."""
    server = await make_server(silent_user_timeout=0.5, heartbeat_interval=0.1)
    alice = await joined_client(server.url, server.token("room1", "alice"))
    bob = await joined_client(server.url, server.token("room1", "bob"))
    clients.extend([alice, bob])
    alice.keep_alive(0.1)
    await bob.ws.close()
    await alice.wait_for(UserReconnecting)
    assert await alice.wait_for(UserLeft) == UserLeft("bob", "timeout")
    back, answer = await resuming_client(server.url, server.token("room1", "bob"), bob, clients)
    assert isinstance(answer, Error) and answer.code == ErrorCode.RECONNECT_FAILED
    await back.wait_closed()


async def test_silent_member_removed(make_server: MakeServer,
                                     clients: list[SignalClient]) -> None:
    """A connected member that stops sending is closed (ERROR 11013); others get user_left."""
    server = await make_server(silent_user_timeout=0.6, heartbeat_interval=0.1)
    alice = await joined_client(server.url, server.token("room1", "alice"))
    bob = await joined_client(server.url, server.token("room1", "bob"))
    clients.extend([alice, bob])
    alice.keep_alive(0.1)
    closed = await bob.wait_for(Closed)
    assert closed.code == ErrorCode.SIGNALLING_TIMEOUT
    await bob.wait_closed()
    assert await alice.wait_for(UserLeft) == UserLeft("bob", "timeout")


async def test_empty_room_closes(make_server: MakeServer, clients: list[SignalClient]) -> None:
    """A room closes once empty for empty_room_timeout."""
    server = await make_server(empty_room_timeout=0.2)
    app_id = server.default_app.app_id  # type: ignore[union-attr]
    alice = await joined_client(server.url, server.token("room1", "alice"))
    clients.append(alice)
    await alice.send_raw('{"type":"leave","req":2}')
    await alice.wait_for(Ack, req=2)
    await alice.wait_closed()
    assert server.rooms.active_rooms(app_id) == ["room1"]
    await until(lambda: server.rooms.active_rooms(app_id) == [])


async def test_bad_tokens_refused(room_server: RoomServer, clients: list[SignalClient]) -> None:
    """Forged, expired, truncated and wrong-app tokens are refused with 10001 / 10002."""
    good = room_server.token("room1", "alice")
    ak, sign, enc = good.split(":")
    forged = f"{ak}:{'A' * len(sign)}:{enc}"
    cases = {
        forged: ErrorCode.TOKEN_ERROR,
        good[:-5]: ErrorCode.TOKEN_ERROR,
        "": ErrorCode.TOKEN_ERROR,
        room_server.token("room1", "alice", ttl=-10): ErrorCode.TOKEN_EXPIRED,
        room_server.token("room1", "alice", app_id="nosuchapp"): ErrorCode.TOKEN_ERROR,
    }
    for token, code in cases.items():
        assert (await _refused(room_server, token, clients)).code == code


async def test_resume_over_a_live_socket(room_server: RoomServer,
                                         clients: list[SignalClient]) -> None:
    """A resume while the server still holds the old socket takes the seat; others see nothing."""
    alice = await joined_client(room_server.url, room_server.token("room1", "alice"))
    bob = await joined_client(room_server.url, room_server.token("room1", "bob"))
    clients.extend([alice, bob])
    await alice.expect(UserJoined)
    back, answer = await resuming_client(room_server.url, room_server.token("room1", "bob"),
                                         bob, clients)
    assert isinstance(answer, Joined) and answer.resumed
    await bob.wait_closed()
    await back.send_raw('{"type":"send_message","req":5,"content":"still here"}')
    await back.expect(Ack, req=5)
    assert (await alice.expect(Message)).content == "still here"
    alice.assert_quiet()


async def test_wrong_protocol_version_refused(room_server: RoomServer,
                                              clients: list[SignalClient]) -> None:
    """A join speaking another protocol version gets 10053 and the socket closes."""
    client = await SignalClient.connect(room_server.url)
    clients.append(client)
    await client.send(Join(req=1, token=room_server.token("room1", "alice"), version=99))
    assert (await client.expect(Error, req=1)).code == ErrorCode.INVALID_PARAMETER
    await client.wait_closed()


async def test_stop_with_members_connected(make_server: MakeServer,
                                           clients: list[SignalClient]) -> None:
    """Stopping the server ends every connection promptly; stopping twice is harmless."""
    server = await make_server()
    members = [await joined_client(server.url, server.token("room1", user))
               for user in ("alice", "bob")]
    clients.extend(members)
    await asyncio.wait_for(server.stop(), WAIT)
    for member in members:
        await member.wait_closed()
        assert member.ws.closed
    await server.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await SignalClient.connect(server.url)


async def test_port_in_use_fails_cleanly(make_server: MakeServer, tmp_path: Path) -> None:
    """Starting on a taken port raises OSError and leaves nothing running."""
    first = await make_server()
    second = RoomServer(ServerConfig(port=first.port, data_dir=tmp_path / "other"))
    with pytest.raises(OSError):
        await second.start()
    await second.stop()  # a server that never started stops as a no-op
