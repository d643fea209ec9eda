"""Removal that holds, through the SDK against a real server: a user the host removed stays
out (same token, personal link, room link) whether it left on ``kickOut`` or was kicked by the
server, until readmitted or the room ends; a second join of the same user is not a removal."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from roomcall.protocol.errors import DisconnectReason, ErrorCode
from roomcall.protocol.token import read_room_token
from roomcall.sdk import JoinError, RTCClient, RTCError
from roomcall.sdk.events import Message
from roomcall.sdk.invites import redeem_invite
from roomcall.server import RoomServer
from roomcall.server.rooms import REMOVED_MESSAGE, REPLACED_MESSAGE

from .support import ClientFactory, JoinedClient, Recorder, rtc_api, server_users

Join = Callable[..., Awaitable[JoinedClient]]


def leave_on_kick_out(client: RTCClient) -> None:
    """Make ``client`` behave as the app does: leave when an admin sends ``kickOut``."""
    def on_message(message: Message) -> None:
        user = client.get_remote_user(message.user_id)
        if message.content == "kickOut" and user is not None and user.is_admin:
            asyncio.get_running_loop().create_task(client.leave())
    client.on("message_received", on_message)


async def assert_refused(client: RTCClient, token: str) -> None:
    """``client`` cannot join with ``token``: JoinError 10006 "removed ... by the host"."""
    with pytest.raises(JoinError) as caught:
        await client.join(token)
    assert (caught.value.code, caught.value.message) == (ErrorCode.KICKED_OUT, REMOVED_MESSAGE)
    assert client.disconnect_info is not None
    assert client.disconnect_info.error_code == ErrorCode.KICKED_OUT


async def personal_guest(host: RTCClient, make_client: ClientFactory, name: str
                         ) -> tuple[RTCClient, Recorder, str, str]:
    """A guest joined through a personal invite: (client, recorder, link, token)."""
    invite = await host.create_invite(name=name, personal=True)
    server_url, token = await redeem_invite(invite.link(), name)
    guest = make_client(server_url)
    rec = Recorder(guest)
    await guest.join(token, user_data=name)
    return guest, rec, invite.link(), token


async def test_kick_out_then_leave_keeps_the_user_out(
        server: RoomServer, joined: Join, make_client: ClientFactory) -> None:
    """After a ``kickOut`` the guest leaves by itself; its token and its personal link are
    refused from then on, and the host sees it among the removed."""
    host, rec_h = await joined("host", admin=True)
    guest, rec_g, link, token = await personal_guest(host, make_client, "Bob")
    leave_on_kick_out(guest)
    bob = guest.user_id
    assert bob is not None
    await host.send_message("kickOut", [bob])
    _, info = await rec_g.wait_state("DISCONNECTED")
    assert info.reason is DisconnectReason.LEAVE  # it honoured the message
    await rec_h.wait("user_left", lambda u: u == bob)
    await assert_refused(guest, token)
    with pytest.raises(JoinError) as caught:
        await redeem_invite(link, "Bob")
    assert caught.value.code == ErrorCode.INVITE_NOT_FOUND  # the personal link is revoked
    assert await host.removed_users() == [bob]
    assert server_users(server) == {"host"}


async def test_server_kick_keeps_the_user_out(
        server: RoomServer, joined: Join, make_client: ClientFactory) -> None:
    """A guest that ignores ``kickOut`` and is kicked by the server is told the host removed
    it, and is refused with its token and its link."""
    host, _ = await joined("host", admin=True)
    guest, rec_g, link, token = await personal_guest(host, make_client, "Bob")
    bob = guest.user_id
    assert bob is not None
    await host.send_message("kickOut", [bob])  # ignored: this guest has no handler
    await host.kick_user(bob)
    _, info = await rec_g.wait_state("DISCONNECTED")
    assert (info.reason, info.removed_by_host, info.replaced) == (
        DisconnectReason.KICKED_OUT, True, False)
    await assert_refused(guest, token)
    with pytest.raises(JoinError) as caught:
        await redeem_invite(link, "Bob")
    assert caught.value.code == ErrorCode.INVITE_NOT_FOUND


@pytest.mark.parametrize("honours_kick_out", [True, False])
async def test_removed_room_link_guest_cannot_come_back_through_it(
        server: RoomServer, joined: Join, make_client: ClientFactory,
        honours_kick_out: bool) -> None:
    """A guest of a room link, removed either way, is refused when it redeems the link again
    as itself (10006), while newcomers still get in through that link."""
    host, _ = await joined("host", admin=True)
    invite = await host.create_invite()
    server_url, token = await redeem_invite(invite.link(), "Bob")
    guest = make_client(server_url)
    rec_g = Recorder(guest)
    await guest.join(token)
    bob = read_room_token(token).user_id
    if honours_kick_out:
        leave_on_kick_out(guest)
        await host.send_message("kickOut", [bob])
    else:
        await host.kick_user(bob)
    await rec_g.wait_state("DISCONNECTED")
    with pytest.raises(JoinError) as caught:
        await redeem_invite(invite.link(), "Bob", previous_token=token)
    assert (caught.value.code, caught.value.message) == (ErrorCode.KICKED_OUT, REMOVED_MESSAGE)
    await assert_refused(guest, token)
    _, fresh = await redeem_invite(invite.link(), "Ann")
    newcomer = make_client(server_url)
    await newcomer.join(fresh)
    assert server_users(server) == {"host", read_room_token(fresh).user_id}


async def test_readmit_lets_the_user_back(server: RoomServer, joined: Join,
                                          make_client: ClientFactory) -> None:
    """After ``readmit`` the removed user joins with its token again; readmitting someone not
    removed is 10021; only the host may readmit or list the removed."""
    host, _ = await joined("host", admin=True)
    other, _ = await joined("other")
    guest, rec_g = await joined("guest")
    await host.kick_user("guest")
    await rec_g.wait_state("DISCONNECTED")
    for call in (other.readmit("guest"), other.removed_users()):
        with pytest.raises(RTCError) as caught:
            await call
        assert caught.value.code == ErrorCode.NO_PERMISSION
    await host.readmit("guest")
    assert await host.removed_users() == []
    await guest.join(server.token("room_1", "guest"))
    assert server_users(server) == {"host", "other", "guest"}
    with pytest.raises(RTCError) as caught:
        await host.readmit("nobody")
    assert caught.value.code == ErrorCode.USER_NOT_EXIST


async def test_the_removal_ends_with_the_room(server: RoomServer, joined: Join,
                                              make_client: ClientFactory) -> None:
    """Once the room has closed, a user removed from it may join the next room of that name."""
    host, rec_h = await joined("host", admin=True)
    guest, rec_g = await joined("guest")
    await host.kick_user("guest")
    await rec_g.wait_state("DISCONNECTED")
    await host.end_room()
    await rec_h.wait_state("DISCONNECTED")
    await guest.join(server.token("room_1", "guest"))
    assert server_users(server) == {"guest"}


async def test_kick_out_from_a_non_host_removes_nobody(server: RoomServer, joined: Join,
                                                       make_client: ClientFactory) -> None:
    """A ``kickOut`` sent by a plain member is only a message: nobody is removed."""
    await joined("host", admin=True)
    mallory, _ = await joined("mallory")
    victim, rec_v = await joined("victim")
    await mallory.send_message("kickOut", ["victim"])
    await rec_v.wait("message_received", lambda m: m.content == "kickOut")
    await victim.leave()
    await victim.join(server.token("room_1", "victim"))
    assert server_users(server) == {"host", "mallory", "victim"}


async def test_management_api_kick_bans_only_when_asked(server: RoomServer, joined: Join,
                                                        make_client: ClientFactory) -> None:
    """``DELETE .../users/<id>?ban=true`` keeps the user out; a bad ``ban`` value is 400."""
    from qiniu import http as qiniu_http

    await joined("host", admin=True)
    guest, rec_g = await joined("guest")
    api, app_id = rtc_api(server)
    base = f"{server.http_url}/v3/apps/{app_id}/rooms/room_1/users/guest"
    _, info = await asyncio.to_thread(qiniu_http._delete_with_qiniu_mac, f"{base}?ban=maybe",
                                      None, api.auth)
    assert info.status_code == 400
    _, info = await asyncio.to_thread(qiniu_http._delete_with_qiniu_mac, f"{base}?ban=true",
                                      None, api.auth)
    assert info.status_code == 200
    _, disconnect = await rec_g.wait_state("DISCONNECTED")
    assert disconnect.removed_by_host
    await assert_refused(guest, server.token("room_1", "guest"))


async def test_second_join_tells_the_first_window_the_truth(server: RoomServer,
                                                            make_client: ClientFactory) -> None:
    """The same user joining from a second window ends the first with KICKED_OUT (10006, as
    Qiniu) marked ``replaced`` and "you joined this room from another window"."""
    token = server.token("room_1", "bob")
    first, second = make_client(), make_client()
    rec_1 = Recorder(first)
    await first.join(token)
    await second.join(token)
    _, info = await rec_1.wait_state("DISCONNECTED")
    assert (info.reason, info.error_code, info.error_message) == (
        DisconnectReason.KICKED_OUT, ErrorCode.KICKED_OUT, REPLACED_MESSAGE)
    assert info.replaced and not info.removed_by_host
    assert "RECONNECTING" not in rec_1.states()
    assert server_users(server) == {"bob"}
    await first.join(token)  # not a removal: the first window may take the seat back
