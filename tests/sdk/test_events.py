"""Room events across several clients: members joining and leaving, messages, and handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import MAX_MESSAGE_CONTENT_BYTES
from roomcall.sdk import ConnectionState, Message, RTCClient, RTCError
from roomcall.server import RoomServer
from tests.waiting import until

from .support import (
    ClientFactory,
    JoinedClient,
    MembershipCheck,
    Recorder,
    api_users,
    client_view,
    server_users,
)

Join = Callable[..., Awaitable[JoinedClient]]


async def assert_views_match(server: RoomServer, *clients: RTCClient) -> None:
    """Every connected client's member list equals the management API's list of the room."""
    expected = await api_users(server)
    assert expected == server_users(server)
    for client in clients:
        if client.connection_state.is_connected:
            assert client_view(client) == expected, client.user_id


async def test_members_see_each_other_join_and_leave(server: RoomServer, joined: Join) -> None:
    """Three members: joins and leaves reach everyone once, and every list matches the server."""
    alice, rec_a = await joined("alice", user_data="Alice")
    bob, rec_b = await joined("bob", user_data="Bob")
    await rec_a.wait("user_joined", lambda u, d: u == "bob")
    assert rec_a.named("user_joined") == [("bob", "Bob")]
    # A newcomer hears of the members already present, after CONNECTED.
    assert rec_b.named("user_joined") == [("alice", "Alice")]
    assert rec_b.events[1][0] == "connection_state_changed"
    await assert_views_match(server, alice, bob)

    carol, rec_c = await joined("carol")
    await rec_a.wait("user_joined", lambda u, d: u == "carol")
    await rec_b.wait("user_joined", lambda u, d: u == "carol")
    assert [u for u, _ in rec_c.named("user_joined")] == ["alice", "bob"]
    await assert_views_match(server, alice, bob, carol)

    await bob.leave()
    await rec_a.wait("user_left", lambda u: u == "bob")
    await rec_c.wait("user_left", lambda u: u == "bob")
    await assert_views_match(server, alice, carol)
    assert alice.get_remote_user("bob") is None
    assert rec_a.named("user_left") == [("bob",)]
    assert rec_b.named("user_left") == []


async def test_remote_users_match_the_events_at_every_step(server: RoomServer,
                                                           joined: Join,
                                                           make_client: ClientFactory) -> None:
    """Inside every event handler, remote_users lists exactly the users whose user_joined has
    been delivered and whose user_left has not: on joining a room with members, as members
    come and go, and when a member is replaced by a newer join of the same user."""
    await joined("alice")
    await joined("bob", user_data="first")
    carol = make_client()
    rec_c = Recorder(carol)
    check = MembershipCheck(carol)
    await carol.join(server.token("room_1", "carol"))
    await joined("dave")
    await rec_c.wait("user_joined", lambda u, d: u == "dave")
    await joined("bob", user_data="second")  # replaces the first bob: user_left, user_joined
    await rec_c.wait("user_joined", lambda u, d: d == "second")
    await carol.leave()
    assert rec_c.named("user_left") == [("bob",)]
    assert check.checked >= 8
    assert check.mismatches == []


async def test_remote_user_carries_data_and_permission(joined: Join) -> None:
    """RemoteUser has the member's user data and permission as the server reports them."""
    await joined("alice", admin=True, user_data="Host")
    bob, _ = await joined("bob")
    host = bob.get_remote_user("alice")
    assert host is not None
    assert (host.user_data, host.permission, host.is_admin) == ("Host", "admin", True)
    assert host.tracks == () and not host.reconnecting


async def test_message_to_everybody(joined: Join) -> None:
    """user_ids None reaches every other member with the sender and server time stamped."""
    alice, _ = await joined("alice")
    _, rec_b = await joined("bob")
    _, rec_c = await joined("carol")
    message_id = await alice.send_message("hello")
    for rec in (rec_b, rec_c):
        (message,) = await rec.wait("message_received")
        assert isinstance(message, Message)
        assert (message.message_id, message.user_id, message.content) == (
            message_id, "alice", "hello")
        assert message.timestamp > 1_600_000_000_000


async def test_kickout_message_as_qiniu_documents_it(joined: Join) -> None:
    """send_message("kickOut", ["user1"], "message1") reaches only user1, id kept."""
    host, _ = await joined("host", admin=True)
    _, rec_1 = await joined("user1")
    _, rec_2 = await joined("user2")
    assert await host.send_message("kickOut", ["user1"], "message1") == "message1"
    (message,) = await rec_1.wait("message_received")
    assert (message.message_id, message.user_id, message.content) == ("message1", "host",
                                                                      "kickOut")
    # A broadcast sent after it arrives after it: user2 never got the targeted one.
    await host.send_message("marker")
    await rec_2.wait("message_received")
    assert [m.content for (m,) in rec_2.named("message_received")] == ["marker"]


async def test_message_order_is_kept(joined: Join) -> None:
    """Messages from one sender arrive in the order they were sent."""
    alice, _ = await joined("alice")
    _, rec_b = await joined("bob")
    for i in range(20):
        await alice.send_message(str(i))
    await rec_b.wait("message_received", lambda m: m.content == "19")
    assert [m.content for (m,) in rec_b.named("message_received")] == [str(i) for i in range(20)]


async def test_oversized_message_is_refused_before_sending(joined: Join) -> None:
    """Content over MAX_MESSAGE_CONTENT_BYTES raises 10053 at once; nothing is delivered."""
    alice, _ = await joined("alice")
    _, rec_b = await joined("bob")
    with pytest.raises(RTCError) as caught:
        await alice.send_message("é" * (MAX_MESSAGE_CONTENT_BYTES // 2 + 1))
    assert caught.value.code == ErrorCode.INVALID_PARAMETER
    assert "bytes" in caught.value.message
    await alice.send_message("x" * MAX_MESSAGE_CONTENT_BYTES)  # exactly the limit is fine
    (message,) = await rec_b.wait("message_received")
    assert len(message.content) == MAX_MESSAGE_CONTENT_BYTES
    assert alice.connection_state is ConnectionState.CONNECTED


async def test_user_ids_as_a_string_is_a_clear_error(joined: Join) -> None:
    """A single string for user_ids raises TypeError instead of messaging each letter."""
    alice, _ = await joined("alice")
    with pytest.raises(TypeError):
        await alice.send_message("hi", "bob")  # type: ignore[arg-type]


async def test_requests_when_not_connected_raise_21002(make_client: ClientFactory) -> None:
    """send_message and kick_user before join raise 21002."""
    client = make_client()
    with pytest.raises(RTCError) as caught:
        await client.send_message("hi")
    assert caught.value.code == ErrorCode.INVALID_STATE
    with pytest.raises(RTCError):
        await client.kick_user("bob")


async def test_raising_handler_is_logged_and_others_still_run(
    joined: Join, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler that raises is logged; later handlers and the client carry on."""
    alice, rec_a = await joined("alice")
    seen: list[str] = []

    def broken(user_id: str, user_data: str) -> None:
        raise RuntimeError("handler bug")

    async def broken_async(user_id: str, user_data: str) -> None:
        raise RuntimeError("async handler bug")

    alice.on("user_joined", broken)
    alice.on("user_joined", broken_async)
    alice.on("user_joined", lambda user_id, user_data: seen.append(user_id))
    with caplog.at_level(logging.ERROR, logger="roomcall.sdk.events"):
        await joined("bob")
        await rec_a.wait("user_joined", lambda u, d: u == "bob")
        await until(lambda: "async handler bug" in caplog.text)
    assert seen == ["bob"]
    assert "handler bug" in caplog.text and "async handler bug" in caplog.text
    assert alice.connection_state is ConnectionState.CONNECTED


async def test_coroutine_handlers_run(joined: Join) -> None:
    """A coroutine function works as a handler."""
    alice, _ = await joined("alice")
    arrived: asyncio.Queue[str] = asyncio.Queue()

    async def on_message(message: Message) -> None:
        await arrived.put(message.content)

    alice.on("message_received", on_message)
    bob, _ = await joined("bob")
    await bob.send_message("ping")
    assert await asyncio.wait_for(arrived.get(), 5) == "ping"


async def test_off_removes_a_handler(joined: Join) -> None:
    """A handler removed with off() is not called again."""
    alice, rec_a = await joined("alice")
    seen: list[str] = []

    def handler(user_id: str, user_data: str) -> None:
        seen.append(user_id)

    alice.on("user_joined", handler)
    await joined("bob")
    await rec_a.wait("user_joined", lambda u, d: u == "bob")
    alice.off("user_joined", handler)
    await joined("carol")
    await rec_a.wait("user_joined", lambda u, d: u == "carol")
    assert seen == ["bob"]


def test_unknown_event_name_is_refused() -> None:
    """on() with a name that is not an event raises ValueError naming the known ones."""
    client = RTCClient("ws://127.0.0.1:1", media=False)
    with pytest.raises(ValueError, match="user_joined"):
        client.on("user_join", print)  # type: ignore[arg-type]


async def test_on_and_once_work_as_decorators(joined: Join) -> None:
    """@client.on(name) registers for every event, @client.once(name) for the next one only;
    both return the decorated function unchanged."""
    alice, rec_a = await joined("alice")
    every: list[tuple[str, str]] = []
    first: list[str] = []

    @alice.on("user_joined")
    def on_joined(user_id: str, user_data: str) -> None:
        every.append((user_id, user_data))

    @alice.once("user_joined")
    def on_first(user_id: str, user_data: str) -> None:
        first.append(user_id)

    assert callable(on_joined) and callable(on_first)
    await joined("bob", user_data="Bob")
    await joined("carol", user_data="Carol")
    await rec_a.wait("user_joined", lambda u, d: u == "carol")
    assert every == [("bob", "Bob"), ("carol", "Carol")]
    assert first == ["bob"]


async def test_once_handler_removed_with_off_is_never_called(joined: Join) -> None:
    """A once() handler taken back with off() before its event is not called."""
    alice, rec_a = await joined("alice")
    seen: list[str] = []
    handler = alice.once("user_joined", lambda user_id, user_data: seen.append(user_id))
    alice.off("user_joined", handler)
    await joined("bob")
    await rec_a.wait("user_joined", lambda u, d: u == "bob")
    assert seen == []
    with pytest.raises(ValueError, match="user_joined"):
        alice.once("user_join")  # type: ignore[call-overload]
