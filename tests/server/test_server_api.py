"""The whole server with Qiniu's official Python SDK: its tokens join, its management calls reach
the members (kick, list users, active rooms), and our own room calls work end to end."""

from __future__ import annotations

import asyncio
from typing import Any

import qiniu.http as qiniu_http
from qiniu import QiniuMacAuth
from qiniu.services.pili.rtc_server_manager import RtcServer, get_room_token

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import Closed, Error, Join, UserJoined, UserLeft
from roomcall.server.server import RoomServer
from tests.qiniu_client import call, rtc_server
from tests.waiting import until

from .conftest import MakeServer
from .signal_client import SignalClient, joined_client


def _qiniu_token(server: RoomServer, room: str, user: str, permission: str = "user") -> str:
    access = {"appId": server.default_app.app_id,  # type: ignore[union-attr]
              "roomName": room, "userId": user, "expireAt": 4102444800,
              "permission": permission}
    return str(get_room_token(server.keys[0], server.keys[1], access))


async def _call(fn: Any, *args: Any) -> tuple[Any, int]:
    """Run a blocking SDK call off the event loop; (body, HTTP status)."""
    body, info = await call(fn, *args)
    return body, info.status_code


async def test_sdk_tokens_join_and_sdk_kicks(room_server: RoomServer,
                                             clients: list[SignalClient]) -> None:
    """Qiniu-minted tokens join; the SDK lists users and kicks one, who gets KICKED_OUT."""
    app_id = room_server.default_app.app_id  # type: ignore[union-attr]
    alice = await joined_client(room_server.url, _qiniu_token(room_server, "room1", "alice",
                                                              "admin"))
    bob = await joined_client(room_server.url, _qiniu_token(room_server, "room1", "bob"))
    clients.extend([alice, bob])
    await alice.expect(UserJoined)
    sdk = rtc_server(room_server)
    body, status = await _call(sdk.list_user, app_id, "room1")
    assert status == 200 and [u["userId"] for u in body["users"]] == ["alice", "bob"]
    body, status = await _call(sdk.list_active_rooms, app_id)
    assert status == 200 and body["rooms"] == ["room1"]
    _, status = await _call(sdk.kick_user, app_id, "room1", "bob")
    assert status == 200
    closed = await bob.expect(Closed)
    assert (closed.reason, closed.code) == ("KICKED_OUT", ErrorCode.KICKED_OUT)
    await bob.wait_closed()
    assert await alice.expect(UserLeft) == UserLeft("bob", "kicked")
    _, status = await _call(sdk.kick_user, app_id, "elsewhere", "bob")
    assert status == 615


async def test_api_close_room_and_delete_app(room_server: RoomServer,
                                             clients: list[SignalClient]) -> None:
    """Closing a room through the API sends every member ROOM_CLOSED; deleting the app too."""
    app = room_server.store.create_app(title="doomed")
    sdk = rtc_server(room_server)
    members = [await joined_client(room_server.url, room_server.token("room1", user))
               for user in ("alice", "bob")]
    other = await joined_client(room_server.url,
                                room_server.token("room2", "carol", app_id=app.app_id))
    clients.extend([*members, other])
    # The SDK has no close-room call: send ours through the SDK's own signed DELETE.
    app_id = room_server.default_app.app_id  # type: ignore[union-attr]
    url = f"{room_server.http_url}/v3/apps/{app_id}/rooms/room1"
    _, info = await asyncio.to_thread(qiniu_http._delete_with_qiniu_mac, url, None, sdk.auth)
    assert info.status_code == 200
    for member in members:
        closed = await member.wait_for(Closed)
        assert (closed.reason, closed.code) == ("ROOM_CLOSED", ErrorCode.ROOM_CLOSED)
        await member.wait_closed()
    _, status = await _call(sdk.delete_app, app.app_id)
    assert status == 200
    assert (await other.wait_for(Closed)).reason == "ROOM_CLOSED"


async def test_api_created_room_closes_unjoined(make_server: MakeServer) -> None:
    """A room created through the API is listed, then closes when nobody joins in time."""
    server = await make_server(unjoined_room_timeout=0.3)
    app_id = server.default_app.app_id  # type: ignore[union-attr]
    url = f"{server.http_url}/v3/apps/{app_id}/rooms/lobby"
    _, info = await asyncio.to_thread(qiniu_http._post_with_qiniu_mac, url, None,
                                      QiniuMacAuth(*server.keys))
    assert info.status_code == 200
    assert server.rooms.active_rooms(app_id) == ["lobby"]
    await until(lambda: server.rooms.active_rooms(app_id) == [])


async def test_configured_keys_replace_the_stored_ones(make_server: MakeServer,
                                                       clients: list[SignalClient]) -> None:
    """Keys from the configuration (``ROOMCALL_ACCESS_KEY`` / ``ROOMCALL_SECRET_KEY``) sign
    tokens and management calls; the data folder's keys no longer do, and none are announced
    as newly created."""
    server = await make_server(access_key="CONFIG_AK", secret_key="CONFIG_SK")
    assert server.keys == ("CONFIG_AK", "CONFIG_SK")
    assert not server.keys_created
    app_id = server.default_app.app_id  # type: ignore[union-attr]
    alice = await joined_client(server.url, _qiniu_token(server, "room1", "alice"))
    clients.append(alice)
    body, status = await _call(rtc_server(server).list_user, app_id, "room1")
    assert status == 200 and body == {"users": [{"userId": "alice"}]}

    stored_ak, stored_sk = server.store.keys()
    assert stored_ak != "CONFIG_AK"
    stale = RtcServer(QiniuMacAuth(stored_ak, stored_sk))
    stale.host = server.http_url
    _, status = await _call(stale.list_user, app_id, "room1")
    assert status == 401
    access = {"appId": app_id, "roomName": "room1", "userId": "bob", "expireAt": 4102444800,
              "permission": "user"}
    bob = await SignalClient.connect(server.url)
    clients.append(bob)
    await bob.send(Join(req=1, token=str(get_room_token(stored_ak, stored_sk, access))))
    await bob.expect(Error, req=1, code=ErrorCode.TOKEN_ERROR)
