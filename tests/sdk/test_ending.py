"""Ending a call, through the SDK against a real server: a graceful server stop and the host's
``end_room`` give every member ROOM_CLOSED at once; the host role can be handed over."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from roomcall.protocol.errors import DisconnectReason, ErrorCode
from roomcall.sdk import ConnectionState, RTCError
from roomcall.server import RoomServer

from .support import ClientFactory, JoinedClient, Proxy, Recorder, client_view, fast_config

Join = Callable[..., Awaitable[JoinedClient]]


async def assert_room_closed(rec: Recorder, message: str) -> None:
    """The client ended DISCONNECTED / ROOM_CLOSED with ``message`` and never reconnected."""
    _, info = await rec.wait_state("DISCONNECTED", within=1.0)
    assert (info.reason, info.error_code, info.error_message) == (
        DisconnectReason.ROOM_CLOSED, ErrorCode.ROOM_CLOSED, message)
    assert "RECONNECTING" not in rec.states()


@pytest.mark.parametrize(("cause", "message"), [("shutdown", "the server is shutting down"),
                                                ("ended", "the host ended the call")])
async def test_graceful_stop_closes_every_room_at_once(
        tmp_path: Path, make_client: ClientFactory, cause: str, message: str) -> None:
    """``stop()`` tells every member of every room ROOM_CLOSED within a second, with a message
    saying why, instead of leaving them to reconnect for 30 s."""
    server = RoomServer(fast_config(tmp_path / "own", silent_user_timeout=30.0))
    await server.start()
    recorders = []
    for user, room in (("alice", "room_1"), ("bob", "room_1"), ("carol", "room_2")):
        client = make_client(server.url)
        recorders.append(Recorder(client))
        await client.join(server.token(room, user, admin=user == "alice"))
    started = time.monotonic()
    await server.stop(cause=cause)
    for rec in recorders:
        await assert_room_closed(rec, message)
        _, info = rec.named("connection_state_changed")[-1]
        assert info.server_stopped == (cause == "shutdown")
        assert info.ended_by_host == (cause == "ended")
    assert time.monotonic() - started < 1.0


async def test_host_ends_the_call_for_everyone(server: RoomServer, joined: Join) -> None:
    """``end_room`` closes the room: every member, the host too, gets ROOM_CLOSED "the host
    ended the call", and the room is gone."""
    host, rec_h = await joined("host", admin=True)
    _, rec_a = await joined("alice")
    _, rec_b = await joined("bob")
    await host.end_room()
    for rec in (rec_h, rec_a, rec_b):
        await assert_room_closed(rec, "the host ended the call")
    assert server.rooms.active_rooms(server.store.ensure_default_app().app_id) == []


async def test_only_the_host_ends_the_call(server: RoomServer, joined: Join) -> None:
    """A plain member's ``end_room`` is refused with 10051 and nobody leaves."""
    host, _ = await joined("host", admin=True)
    guest, _ = await joined("guest")
    with pytest.raises(RTCError) as caught:
        await guest.end_room()
    assert caught.value.code == ErrorCode.NO_PERMISSION
    assert guest.connection_state is ConnectionState.CONNECTED
    assert client_view(host) == {"host", "guest"}


async def test_new_host_kicks_after_hand_off(server: RoomServer, joined: Join) -> None:
    """After ``transfer_host`` everyone sees the new permissions, the new host's kick works and
    the old host's is refused with 10051."""
    host, rec_h = await joined("host", admin=True)
    heir, rec_heir = await joined("heir")
    other, rec_o = await joined("other")
    await host.transfer_host("heir")
    for rec in (rec_h, rec_heir, rec_o):
        await rec.wait("permission_changed", lambda u, p: (u, p) == ("heir", "admin"))
        await rec.wait("permission_changed", lambda u, p: (u, p) == ("host", "user"))
    assert (host.permission, heir.permission) == ("user", "admin")
    heir_seen = other.get_remote_user("heir")
    host_seen = other.get_remote_user("host")
    assert heir_seen is not None and heir_seen.is_admin
    assert host_seen is not None and not host_seen.is_admin
    with pytest.raises(RTCError) as caught:
        await host.kick_user("other")
    assert caught.value.code == ErrorCode.NO_PERMISSION
    await heir.kick_user("other")
    _, info = await rec_o.wait_state("DISCONNECTED")
    assert info.reason is DisconnectReason.KICKED_OUT
    with pytest.raises(RTCError) as caught:
        await heir.transfer_host("nobody")
    assert caught.value.code == ErrorCode.USER_NOT_EXIST


async def test_new_host_can_end_the_call_after_the_old_one_left(server: RoomServer,
                                                                joined: Join) -> None:
    """A host who hands over and leaves leaves a room the new host can still end."""
    host, _ = await joined("host", admin=True)
    heir, rec_heir = await joined("heir")
    _, rec_g = await joined("guest")
    await host.transfer_host("heir")
    await rec_heir.wait("permission_changed", lambda u, p: u == "heir")
    await host.leave()
    await heir.end_room()
    await assert_room_closed(rec_g, "the host ended the call")


async def test_a_frozen_member_does_not_hold_the_stop_up(tmp_path: Path,
                                                        make_client: ClientFactory) -> None:
    """A member whose network froze (it never answers the closing handshake) delays a graceful
    stop by at most the grace period, while the others still hear ROOM_CLOSED at once."""
    server = RoomServer(fast_config(tmp_path / "own", silent_user_timeout=30.0))
    await server.start()
    proxy = Proxy(server.port)
    await proxy.start()
    try:
        frozen = make_client(proxy.url)
        await frozen.join(server.token("room_1", "alice"))
        awake = make_client(server.url)
        rec = Recorder(awake)
        await awake.join(server.token("room_1", "bob"))
        proxy.freeze()
        started = time.monotonic()
        await server.stop(grace=2.0)
        assert time.monotonic() - started < 3.0
        await assert_room_closed(rec, "the server is shutting down")
    finally:
        await proxy.stop()


async def test_hand_off_to_a_member_who_is_away(server: RoomServer, proxy: Proxy,
                                                joined: Join) -> None:
    """A member handed the host role while its network was down learns it on resuming
    (``permission_changed`` for itself and the old host), and its kick then works."""
    host, rec_h = await joined("host", admin=True)
    heir, rec_heir = await joined("heir", url=proxy.url)
    _, rec_g = await joined("guest")
    proxy.refuse = True
    proxy.cut()
    await rec_h.wait("user_reconnecting", lambda u: u == "heir")
    await host.transfer_host("heir")
    await rec_g.wait("permission_changed", lambda u, p: (u, p) == ("heir", "admin"))
    proxy.refuse = False
    await rec_heir.wait_state("RECONNECTED")
    await rec_heir.wait("permission_changed", lambda u, p: (u, p) == ("heir", "admin"))
    await rec_heir.wait("permission_changed", lambda u, p: (u, p) == ("host", "user"))
    assert heir.permission == "admin"
    await heir.kick_user("guest")
    _, info = await rec_g.wait_state("DISCONNECTED")
    assert info.removed_by_host
