"""Removal: kick by an admin member, by the management API (Qiniu's SDK), and room closing;
a removed client never reconnects by itself."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from qiniu import http as qiniu_http

from roomcall.protocol.errors import DisconnectReason, ErrorCode
from roomcall.sdk import ConnectionState, RTCError
from roomcall.server import RoomServer
from roomcall.server.rooms import REPLACED_MESSAGE

from .support import (
    ClientFactory,
    JoinedClient,
    Proxy,
    Recorder,
    api_users,
    client_view,
    rtc_api,
    server_users,
)

Join = Callable[..., Awaitable[JoinedClient]]


async def assert_kicked(rec: Recorder, code: int = ErrorCode.KICKED_OUT) -> None:
    """The recorded client ended DISCONNECTED / KICKED_OUT and never tried to reconnect."""
    _, info = await rec.wait_state("DISCONNECTED")
    assert info.reason is DisconnectReason.KICKED_OUT
    assert info.error_code == code
    assert "RECONNECTING" not in rec.states()
    assert rec.client.connection_state is ConnectionState.DISCONNECTED
    assert rec.client.remote_users == []


async def test_admin_kicks_a_member(server: RoomServer, joined: Join) -> None:
    """An admin's kick_user: the target gets KICKED_OUT, the others user_left."""
    host, _ = await joined("host", admin=True)
    _, rec_g = await joined("guest")
    other, rec_o = await joined("other")
    await host.kick_user("guest")
    await assert_kicked(rec_g)
    await rec_o.wait("user_left", lambda u: u == "guest")
    assert await api_users(server) == {"host", "other"}
    assert client_view(other) == client_view(host) == {"host", "other"}


async def test_non_admin_kick_is_refused_with_10051(server: RoomServer, joined: Join) -> None:
    """A member without admin permission cannot kick: 10051, and nobody is removed."""
    await joined("host", admin=True)
    guest, _ = await joined("guest")
    _, rec_o = await joined("other")
    with pytest.raises(RTCError) as caught:
        await guest.kick_user("other")
    assert caught.value.code == ErrorCode.NO_PERMISSION
    assert server_users(server) == {"host", "guest", "other"}
    assert rec_o.client.connection_state is ConnectionState.CONNECTED


async def test_kick_unknown_member_reports_the_server_code(joined: Join) -> None:
    """Kicking a user who is not in the room raises the server's code (10021)."""
    host, _ = await joined("host", admin=True)
    with pytest.raises(RTCError) as caught:
        await host.kick_user("nobody")
    assert caught.value.code == ErrorCode.USER_NOT_EXIST


async def test_management_api_kick_with_qiniu_sdk(server: RoomServer, joined: Join) -> None:
    """Qiniu's RtcServer.kick_user removes the member: KICKED_OUT, no reconnection."""
    _, rec_a = await joined("alice")
    _, rec_b = await joined("bob")
    api, app_id = rtc_api(server)
    _, info = await asyncio.to_thread(api.kick_user, app_id, "room_1", "bob")
    assert info.status_code == 200
    await assert_kicked(rec_b)
    await rec_a.wait("user_left", lambda u: u == "bob")
    assert await api_users(server) == {"alice"}


async def test_user_kicked_by_the_api_may_join_again(server: RoomServer, joined: Join) -> None:
    """Qiniu's kick has no ban: a user kicked through the management API joins again."""
    host, rec_h = await joined("host", admin=True)
    guest, rec_g = await joined("guest")
    api, app_id = rtc_api(server)
    _, info = await asyncio.to_thread(api.kick_user, app_id, "room_1", "guest")
    assert info.status_code == 200
    await assert_kicked(rec_g)
    await guest.join(server.token("room_1", "guest"))
    await rec_h.wait("user_joined", lambda u, d: u == "guest")
    assert client_view(host) == {"host", "guest"}


async def test_room_closed_by_management_api(server: RoomServer, joined: Join) -> None:
    """Closing the room through the API ends every member with ROOM_CLOSED and no retry."""
    _, rec_a = await joined("alice")
    _, rec_b = await joined("bob")
    api, app_id = rtc_api(server)
    url = f"{server.http_url}/v3/apps/{app_id}/rooms/room_1"
    _, info = await asyncio.to_thread(qiniu_http._delete_with_qiniu_mac, url, None, api.auth)
    assert info.status_code == 200
    for rec in (rec_a, rec_b):
        _, disconnect = await rec.wait_state("DISCONNECTED")
        assert disconnect.reason is DisconnectReason.ROOM_CLOSED
        assert disconnect.error_code == ErrorCode.ROOM_CLOSED
        assert "RECONNECTING" not in rec.states()


async def test_cooperative_kickout_message_from_admin(server: RoomServer, joined: Join) -> None:
    """The agreed kickOut message: an app honours it only from an admin sender, by leaving."""
    host, rec_h = await joined("host", admin=True)
    guest, rec_g = await joined("guest")
    other, _ = await joined("other")

    async def on_message(message: Any) -> None:
        sender = guest.get_remote_user(message.user_id)
        if message.content == "kickOut" and sender is not None and sender.is_admin:
            await guest.leave()

    guest.on("message_received", on_message)
    await other.send_message("kickOut", ["guest"])  # not an admin: ignored
    await host.send_message("kickOut", ["guest"], "message1")
    await rec_h.wait("user_left", lambda u: u == "guest")
    _, info = await rec_g.wait_state("DISCONNECTED")
    assert info.reason is DisconnectReason.LEAVE
    assert [m.user_id for (m,) in rec_g.named("message_received")] == ["other", "host"]
    assert server_users(server) == {"host", "other"}


async def _cut_off(server: RoomServer, proxy: Proxy, make_client: ClientFactory,
                   watcher: Recorder, user: str) -> Recorder:
    """``user`` joined through ``proxy``, then its network went down: the client is
    RECONNECTING (its attempts refused) and the server holds its seat as reconnecting."""
    client = make_client(proxy.url)
    rec = Recorder(client)
    await client.join(server.token("room_1", user))
    await watcher.wait("user_joined", lambda u, d: u == user)
    proxy.refuse = True
    proxy.cut()
    await rec.wait_state("RECONNECTING")
    await watcher.wait("user_reconnecting", lambda u: u == user)
    return rec


async def _restored(proxy: Proxy, rec: Recorder, reason: DisconnectReason, code: int,
                    message: str | None = None) -> None:
    """Once the network is back, the client's resume ends it with ``reason`` / ``code`` and
    it tries no more."""
    before = proxy.accepted
    proxy.refuse = False
    _, info = await rec.wait_state("DISCONNECTED")
    assert (info.reason, info.error_code) == (reason, code)
    if message is not None:
        assert info.error_message == message
    assert rec.states()[-2:] == ["RECONNECTING", "DISCONNECTED"]
    assert rec.client._session is None  # no session, so no attempt is pending
    assert proxy.accepted == before + 1  # the one resume that learnt the news
    assert rec.client.remote_users == [] and rec.client.session_id is None


async def test_kicked_by_management_api_while_network_down(
        server: RoomServer, proxy: Proxy, joined: Join, make_client: ClientFactory) -> None:
    """Kicked through Qiniu's SDK while its network is down: when the network is back the
    client ends DISCONNECTED / KICKED_OUT (not 21003) and does not retry."""
    _, rec_a = await joined("alice")
    rec_b = await _cut_off(server, proxy, make_client, rec_a, "bob")
    api, app_id = rtc_api(server)
    _, info = await asyncio.to_thread(api.kick_user, app_id, "room_1", "bob")
    assert info.status_code == 200
    await rec_a.wait("user_left", lambda u: u == "bob")
    await _restored(proxy, rec_b, DisconnectReason.KICKED_OUT, ErrorCode.KICKED_OUT)
    assert await api_users(server) == {"alice"}


async def test_kicked_by_admin_while_network_down(
        server: RoomServer, proxy: Proxy, joined: Join, make_client: ClientFactory) -> None:
    """Kicked by an admin member while its network is down: KICKED_OUT once it is back."""
    host, rec_h = await joined("host", admin=True)
    rec_g = await _cut_off(server, proxy, make_client, rec_h, "guest")
    await host.kick_user("guest")
    await _restored(proxy, rec_g, DisconnectReason.KICKED_OUT, ErrorCode.KICKED_OUT,
                    "kicked out by host")


async def test_room_closed_while_network_down(
        server: RoomServer, proxy: Proxy, joined: Join, make_client: ClientFactory) -> None:
    """The room closed through the management API while a member's network is down: that
    member ends DISCONNECTED / ROOM_CLOSED once it is back, as the connected ones did."""
    _, rec_a = await joined("alice")
    rec_b = await _cut_off(server, proxy, make_client, rec_a, "bob")
    api, app_id = rtc_api(server)
    url = f"{server.http_url}/v3/apps/{app_id}/rooms/room_1"
    _, info = await asyncio.to_thread(qiniu_http._delete_with_qiniu_mac, url, None, api.auth)
    assert info.status_code == 200
    _, closed = await rec_a.wait_state("DISCONNECTED")
    assert closed.reason is DisconnectReason.ROOM_CLOSED
    await _restored(proxy, rec_b, DisconnectReason.ROOM_CLOSED, ErrorCode.ROOM_CLOSED)


async def test_replaced_while_network_down(
        server: RoomServer, proxy: Proxy, joined: Join, make_client: ClientFactory) -> None:
    """Replaced by a newer join of the same user while its network is down: the old client
    ends KICKED_OUT with the replacement's message and leaves the newer session alone."""
    _, rec_a = await joined("alice")
    rec_old = await _cut_off(server, proxy, make_client, rec_a, "bob")
    newer, rec_new = await joined("bob")
    await _restored(proxy, rec_old, DisconnectReason.KICKED_OUT, ErrorCode.KICKED_OUT,
                    REPLACED_MESSAGE)
    assert newer.connection_state is ConnectionState.CONNECTED
    assert rec_new.states() == ["CONNECTING", "CONNECTED"]
    assert await api_users(server) == {"alice", "bob"}
