"""Qiniu's official Python SDK (``qiniu``) drives the management API unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from qiniu import http

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import Closed
from roomcall.server import RoomServer
from tests.qiniu_client import call, rtc_server
from tests.waiting import until

from .conftest import JoinMember, MakeServer

UNJOINED_TIMEOUT = 0.3
"""Seconds an API-created room waits for a member in these tests (Qiniu's default is 30)."""


class Sdk:
    """Qiniu's ``RtcServer`` pointed at our server, its blocking calls run off the loop."""

    def __init__(self, server: RoomServer, secret: str | None = None, *,
                 dated: bool = True) -> None:
        self.rtc = rtc_server(server, secret=secret, dated=dated)

    async def __call__(self, method: str, *args: Any) -> tuple[Any, Any]:
        """``(ret, info)`` of ``RtcServer.<method>(*args)``."""
        return await call(getattr(self.rtc, method), *args)

    async def raw(self, method: str, path: str) -> tuple[Any, Any]:
        """A call the SDK has no method for (our create / close room), signed by the SDK."""
        url = self.rtc.host + path
        if method == "POST":
            signed: Callable[..., tuple[Any, Any]] = http._post_with_qiniu_mac
        else:
            signed = http._delete_with_qiniu_mac
        return await asyncio.to_thread(signed, url, None, self.rtc.auth)


@pytest.fixture
async def server(make_server: MakeServer) -> RoomServer:
    return await make_server(unjoined_room_timeout=UNJOINED_TIMEOUT)


@pytest.fixture
def sdk(server: RoomServer) -> Sdk:
    return Sdk(server)


def default_app_id(server: RoomServer) -> str:
    assert server.default_app is not None
    return server.default_app.app_id


async def test_sdk_app_calls(sdk: Sdk, server: RoomServer) -> None:
    """create_app, get_app (one and all), update_app and delete_app work as the SDK calls
    them, form-encoded values included."""
    ret, info = await sdk("create_app", {"hub": "hub1", "title": "sdk-app", "maxUsers": 4,
                                         "noAutoKickUser": True})
    assert info.status_code == 200, info
    app_id = ret["appId"]
    assert (ret["hub"], ret["title"], ret["maxUsers"], ret["noAutoKickUser"]) == (
        "hub1", "sdk-app", 4, True)

    ret, info = await sdk("get_app", app_id)
    assert info.status_code == 200 and ret["appId"] == app_id and ret["maxUsers"] == 4
    ret, info = await sdk("get_app")
    assert info.status_code == 200
    assert [app["appId"] for app in ret] == [default_app_id(server), app_id]

    ret, info = await sdk("update_app", app_id, {"maxUsers": 8, "noAutoKickUser": False})
    assert info.status_code == 200
    assert (ret["title"], ret["maxUsers"], ret["noAutoKickUser"]) == ("sdk-app", 8, False)
    stored = server.store.get_app(app_id)
    assert stored is not None and stored.max_users == 8

    ret, info = await sdk("delete_app", app_id)
    assert info.status_code == 200
    ret, info = await sdk("get_app", app_id)
    assert ret is None and info.status_code == 404
    assert "app not found" in info.error


async def test_sdk_with_wrong_secret_gets_401(server: RoomServer) -> None:
    """The SDK signing with a wrong secret key is refused and changes nothing."""
    ret, info = await Sdk(server, secret="wrong-secret")("create_app", {"title": "nope"})
    assert ret is None and info.status_code == 401
    assert server.store.list_apps() == [server.default_app]


async def test_sdk_without_date_header_is_accepted(server: RoomServer) -> None:
    """With timestamp signing turned off (no X-Qiniu-Date, as the Go SDK signs) calls work."""
    ret, info = await Sdk(server, dated=False)("get_app", default_app_id(server))
    assert info.status_code == 200 and ret["title"] == "default"


async def test_sdk_without_date_header_cannot_change_state(server: RoomServer) -> None:
    """Undated, a state-changing call is refused (401 naming X-Qiniu-Date) and changes
    nothing: without a date nothing would bound how long it could be replayed."""
    ret, info = await Sdk(server, dated=False)("create_app", {"title": "undated"})
    assert ret is None and info.status_code == 401
    assert "X-Qiniu-Date is required on POST and DELETE" in info.error
    assert server.store.list_apps() == [server.default_app]


async def test_sdk_list_user_and_kick_user(sdk: Sdk, server: RoomServer,
                                           join_member: JoinMember) -> None:
    """list_user shows the members; kick_user removes one, who gets KICKED_OUT (10006)."""
    app_id = default_app_id(server)
    await join_member(server, server.token("sdk_room", "alice"))
    bob = await join_member(server, server.token("sdk_room", "bob"))

    ret, info = await sdk("list_user", app_id, "sdk_room")
    assert info.status_code == 200
    assert ret == {"users": [{"userId": "alice"}, {"userId": "bob"}]}

    ret, info = await sdk("kick_user", app_id, "sdk_room", "bob")
    assert info.status_code == 200
    closed = await bob.wait_for(Closed)
    assert (closed.reason, closed.code) == ("KICKED_OUT", ErrorCode.KICKED_OUT)
    ret, info = await sdk("list_user", app_id, "sdk_room")
    assert ret == {"users": [{"userId": "alice"}]}

    ret, info = await sdk("kick_user", app_id, "sdk_room", "bob")
    assert info.status_code == 615 and "user not found" in info.error
    ret, info = await sdk("kick_user", app_id, "no_such_room", "bob")
    assert info.status_code == 615 and "room not active" in info.error
    ret, info = await sdk("list_user", app_id, "no_such_room")
    assert info.status_code == 615 and "room not active" in info.error


async def test_sdk_list_active_rooms_with_prefix(sdk: Sdk, server: RoomServer,
                                                 join_member: JoinMember) -> None:
    """list_active_rooms lists the app's active rooms, filtered by the prefix."""
    app_id = default_app_id(server)
    for room in ("lobby-1", "lobby-2", "other-1"):
        await join_member(server, server.token(room, "alice"))
    ret, info = await sdk("list_active_rooms", app_id, "lobby")
    assert info.status_code == 200
    assert ret == {"end": True, "offset": 2, "rooms": ["lobby-1", "lobby-2"]}
    ret, info = await sdk("list_active_rooms", app_id)
    assert ret["rooms"] == ["lobby-1", "lobby-2", "other-1"]


async def test_created_room_closes_when_nobody_joins(sdk: Sdk, server: RoomServer) -> None:
    """A room created through the API and never joined closes after the unjoined timeout."""
    app_id = default_app_id(server)
    ret, info = await sdk.raw("POST", f"/v3/apps/{app_id}/rooms/waiting")
    assert info.status_code == 200 and ret == {"room": "waiting", "created": True}
    ret, info = await sdk("list_active_rooms", app_id)
    assert ret["rooms"] == ["waiting"]

    async def gone() -> bool:
        ret, _ = await sdk("list_active_rooms", app_id)
        return bool(ret["rooms"] == [])

    await until(gone)


async def test_created_room_can_be_joined_and_closed(sdk: Sdk, server: RoomServer,
                                                    join_member: JoinMember) -> None:
    """A created room can be joined; closing it gives the member ROOM_CLOSED (10005), and
    closing it again answers 615."""
    app_id = default_app_id(server)
    await sdk.raw("POST", f"/v3/apps/{app_id}/rooms/meeting")
    member = await join_member(server, server.token("meeting", "alice"))
    ret, info = await sdk.raw("DELETE", f"/v3/apps/{app_id}/rooms/meeting")
    assert (info.status_code, ret) == (200, {})
    closed = await member.wait_for(Closed)
    assert (closed.reason, closed.code) == ("ROOM_CLOSED", ErrorCode.ROOM_CLOSED)
    _, info = await sdk.raw("DELETE", f"/v3/apps/{app_id}/rooms/meeting")
    assert info.status_code == 615


async def test_apps_and_keys_survive_a_restart(make_server: MakeServer) -> None:
    """Apps created through the SDK are there after a restart on the same data folder, and
    the same keys still sign for them."""
    first = await make_server()
    ret, info = await Sdk(first)("create_app", {"title": "durable", "maxUsers": 3})
    assert info.status_code == 200
    keys = first.store.keys()
    await first.stop()

    second = await make_server()
    assert second.store.keys() == keys
    got, info = await Sdk(second)("get_app", ret["appId"])
    assert info.status_code == 200 and got == ret
