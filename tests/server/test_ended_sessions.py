"""Sessions ended while their owner was away: the resume learns why (``closed``), not 21003."""

from __future__ import annotations

import asyncio

from qiniu import http as qiniu_http

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    CAUSE_REMOVED,
    CAUSE_REPLACED,
    Closed,
    Error,
    Kick,
    UserJoined,
    UserLeft,
    UserReconnecting,
)
from roomcall.server.rooms import REPLACED_MESSAGE
from roomcall.server.server import RoomServer
from tests.qiniu_client import call, rtc_server
from tests.waiting import until

from .conftest import MakeServer
from .signal_client import SignalClient, joined_client, resuming_client


async def _away(server: RoomServer, clients: list[SignalClient], watcher: SignalClient,
                user: str) -> SignalClient:
    """``user`` joined, then its socket dropped without a leave (seen by ``watcher``)."""
    client = await joined_client(server.url, server.token("room1", user))
    clients.append(client)
    await watcher.wait_for(UserJoined)
    await client.ws.close()
    await watcher.wait_for(UserReconnecting, user_id=user)
    return client


async def _resume(server: RoomServer, clients: list[SignalClient], away: SignalClient,
                  user: str) -> Closed | Error:
    """The answer to ``away``'s resume on a new connection, which the server then closes."""
    back, answer = await resuming_client(server.url, server.token("room1", user), away, clients)
    assert isinstance(answer, Closed | Error), answer
    assert await back.wait_closed() == 1000
    return answer


async def test_admin_kick_while_away(room_server: RoomServer,
                                     clients: list[SignalClient]) -> None:
    """A member kicked by an admin while its network is down gets KICKED_OUT on resuming."""
    host = await joined_client(room_server.url, room_server.token("room1", "host", admin=True))
    clients.append(host)
    bob = await _away(room_server, clients, host, "bob")
    await host.send(Kick(req=7, user_id="bob"))
    assert await host.wait_for(UserLeft) == UserLeft("bob", "kicked")
    answer = await _resume(room_server, clients, bob, "bob")
    assert answer == Closed("KICKED_OUT", ErrorCode.KICKED_OUT, "kicked out by host", CAUSE_REMOVED)


async def test_management_kick_while_away(room_server: RoomServer,
                                          clients: list[SignalClient]) -> None:
    """A member kicked through the management API while away gets KICKED_OUT on resuming,
    and a second resume gets it again (the note lasts the window)."""
    alice = await joined_client(room_server.url, room_server.token("room1", "alice"))
    clients.append(alice)
    bob = await _away(room_server, clients, alice, "bob")
    app_id = room_server.default_app.app_id  # type: ignore[union-attr]
    _, info = await call(rtc_server(room_server).kick_user, app_id, "room1", "bob")
    assert info.status_code == 200
    for _ in range(2):
        answer = await _resume(room_server, clients, bob, "bob")
        assert isinstance(answer, Closed)
        assert (answer.reason, answer.code) == ("KICKED_OUT", ErrorCode.KICKED_OUT)


async def test_room_closed_while_away(room_server: RoomServer,
                                      clients: list[SignalClient]) -> None:
    """A member whose room was closed through the API while away gets ROOM_CLOSED."""
    alice = await joined_client(room_server.url, room_server.token("room1", "alice"))
    clients.append(alice)
    bob = await _away(room_server, clients, alice, "bob")
    sdk = rtc_server(room_server)
    app_id = room_server.default_app.app_id  # type: ignore[union-attr]
    url = f"{room_server.http_url}/v3/apps/{app_id}/rooms/room1"
    _, info = await asyncio.to_thread(qiniu_http._delete_with_qiniu_mac, url, None, sdk.auth)
    assert info.status_code == 200
    assert (await alice.wait_for(Closed)).reason == "ROOM_CLOSED"
    answer = await _resume(room_server, clients, bob, "bob")
    assert isinstance(answer, Closed)
    assert (answer.reason, answer.code) == ("ROOM_CLOSED", ErrorCode.ROOM_CLOSED)


async def test_replaced_while_away(room_server: RoomServer,
                                   clients: list[SignalClient]) -> None:
    """A member replaced by a newer join of the same user while away gets KICKED_OUT with the
    replacement's message; the newer session is untouched."""
    alice = await joined_client(room_server.url, room_server.token("room1", "alice"))
    clients.append(alice)
    bob = await _away(room_server, clients, alice, "bob")
    newer = await joined_client(room_server.url, room_server.token("room1", "bob"))
    clients.append(newer)
    answer = await _resume(room_server, clients, bob, "bob")
    assert answer == Closed("KICKED_OUT", ErrorCode.KICKED_OUT, REPLACED_MESSAGE, CAUSE_REPLACED)
    assert room_server.rooms.room_users(room_server.default_app.app_id,  # type: ignore[union-attr]
                                        "room1") == ["alice", "bob"]
    newer.assert_quiet()


async def test_note_forgotten_after_the_window(make_server: MakeServer,
                                               clients: list[SignalClient]) -> None:
    """Past the reconnect window the note is gone: the resume gets 21003 as any other."""
    server = await make_server(silent_user_timeout=0.4, heartbeat_interval=0.1)
    host = await joined_client(server.url, server.token("room1", "host", admin=True))
    clients.append(host)
    host.keep_alive(0.1)
    bob = await _away(server, clients, host, "bob")
    await host.send(Kick(req=7, user_id="bob"))
    await host.wait_for(UserLeft)
    assert server.rooms.ended_sessions == 1
    await until(lambda: server.rooms.ended_sessions == 0)  # the server's timer prunes it
    answer = await _resume(server, clients, bob, "bob")
    assert isinstance(answer, Error) and answer.code == ErrorCode.RECONNECT_FAILED
