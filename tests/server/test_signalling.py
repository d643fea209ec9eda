"""The real server on port 0 driven by plain WebSocket clients: joins, events, messages, relay."""

from __future__ import annotations

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    Ack,
    Error,
    Heartbeat,
    Leave,
    Message,
    Relay,
    SendMessage,
    UserJoined,
    UserLeft,
)
from roomcall.server.server import RoomServer

from .signal_client import SignalClient, joined_client


async def test_join_snapshot_and_user_joined(room_server: RoomServer,
                                            clients: list[SignalClient]) -> None:
    """A second member sees the first in its snapshot; the first gets user_joined."""
    alice = await joined_client(room_server.url, room_server.token("room1", "alice", admin=True),
                                "A")
    clients.append(alice)
    assert alice.joined is not None and alice.joined.members == ()
    assert alice.joined.permission == "admin"
    bob = await joined_client(room_server.url, room_server.token("room1", "bob"), "B")
    clients.append(bob)
    assert bob.joined is not None
    assert [(m.user_id, m.user_data, m.permission) for m in bob.joined.members] == [
        ("alice", "A", "admin")]
    event = await alice.expect(UserJoined)
    assert (event.member.user_id, event.member.user_data) == ("bob", "B")


async def test_messages_relay_heartbeat_and_leave(room_server: RoomServer,
                                                  clients: list[SignalClient]) -> None:
    """Messages are stamped and routed, relay reaches the peer, heartbeat is acked, leave ends."""
    alice = await joined_client(room_server.url, room_server.token("room1", "alice"))
    bob = await joined_client(room_server.url, room_server.token("room1", "bob"))
    carol = await joined_client(room_server.url, room_server.token("room1", "carol"))
    clients.extend([alice, bob, carol])
    await alice.send(SendMessage(req=7, content="hi bob", user_ids=("bob", "nobody")))
    ack = await alice.wait_for(Ack, req=7)
    got = await bob.wait_for(Message)
    assert (got.user_id, got.content) == ("alice", "hi bob")
    assert got.message_id and abs(got.timestamp - ack.server_time) < 1000
    await alice.send(SendMessage(req=8, content="all", message_id="m1"))
    assert (await carol.wait_for(Message)).message_id == "m1"
    assert (await bob.wait_for(Message)).content == "all"
    await bob.send(Relay(peer="carol", data={"sdp": "x"}))
    relay = await carol.wait_for(Relay)
    assert relay.peer == "bob" and relay.data == {"sdp": "x"}
    await bob.send(Relay(peer="nobody", data={}))
    err = await bob.wait_for(Error)
    assert err.code == ErrorCode.USER_NOT_EXIST
    await carol.send(Heartbeat(req=3))
    assert (await carol.wait_for(Ack, req=3)).server_time > 0
    await carol.send(Leave(req=4))
    await carol.wait_for(Ack, req=4)
    assert await carol.wait_closed() is not None
    left = await alice.wait_for(UserLeft)
    assert (left.user_id, left.reason) == ("carol", "leave")
