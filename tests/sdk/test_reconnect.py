"""Reconnection: a cut or frozen network, the reconnect window, and a server restart."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from roomcall.protocol.errors import DisconnectReason, ErrorCode
from roomcall.sdk import ConnectionState, JoinError, RTCClient
from roomcall.sdk.reconnection import GAVE_UP_MESSAGE
from roomcall.server import RoomServer
from tests.waiting import WAIT, until

from .support import (
    HEARTBEAT,
    WINDOW,
    ClientFactory,
    JoinedClient,
    MembershipCheck,
    Proxy,
    Recorder,
    api_users,
    client_view,
    fast_config,
    server_users,
)

Join = Callable[..., Awaitable[JoinedClient]]


async def join_via(proxy: Proxy, server: RoomServer, make_client: ClientFactory, user: str
                   ) -> JoinedClient:
    """A client of ``server`` whose network path goes through ``proxy``."""
    client = make_client(proxy.url)
    rec = Recorder(client)
    await client.join(server.token("room_1", user))
    return client, rec


async def test_cut_socket_reconnects(server: RoomServer, proxy: Proxy, joined: Join,
                                     make_client: ClientFactory) -> None:
    """A socket closed under the client: RECONNECTING, then RECONNECTED with the same session;
    others see user_reconnecting then user_reconnected."""
    _, rec_a = await joined("alice")
    bob, rec_b = await join_via(proxy, server, make_client, "bob")
    session = bob.session_id
    proxy.cut()
    await rec_b.wait_state("RECONNECTED")
    assert rec_b.states() == ["CONNECTING", "CONNECTED", "RECONNECTING", "RECONNECTED"]
    assert bob.connection_state is ConnectionState.RECONNECTED
    assert bob.session_id == session
    await rec_a.wait("user_reconnected", lambda u: u == "bob")
    assert rec_a.named("user_reconnecting") == [("bob",)]
    assert rec_a.named("user_left") == []
    assert rec_b.named("user_joined") == [("alice", "")]  # no duplicate after the resume
    assert client_view(bob) == await api_users(server) == {"alice", "bob"}
    # The resumed session works: messages flow both ways.
    await bob.send_message("back")
    await rec_a.wait("message_received", lambda m: m.content == "back")


async def test_join_while_reconnecting_or_reconnected_is_refused_with_21002(
        server: RoomServer, proxy: Proxy, make_client: ClientFactory) -> None:
    """join() in RECONNECTING and in RECONNECTED raises 21002 and disturbs neither the
    retries nor the resumed session."""
    bob, rec_b = await join_via(proxy, server, make_client, "bob")
    proxy.refuse = True
    proxy.cut()
    await rec_b.wait_state("RECONNECTING")
    with pytest.raises(JoinError) as caught:
        await bob.join(server.token("room_1", "bob"))
    assert caught.value.code == ErrorCode.INVALID_STATE
    assert bob.connection_state is ConnectionState.RECONNECTING
    proxy.refuse = False
    await rec_b.wait_state("RECONNECTED")
    with pytest.raises(JoinError) as caught:
        await bob.join(server.token("room_1", "bob"))
    assert caught.value.code == ErrorCode.INVALID_STATE
    assert bob.connection_state is ConnectionState.RECONNECTED
    assert rec_b.states() == ["CONNECTING", "CONNECTED", "RECONNECTING", "RECONNECTED"]
    assert server_users(server) == {"bob"}


async def test_frozen_network_is_noticed_by_heartbeats(server: RoomServer, proxy: Proxy,
                                                       make_client: ClientFactory) -> None:
    """When the server stops answering, missed heartbeats move the client to RECONNECTING and
    the resume over a fresh connection takes the seat back."""
    bob, rec_b = await join_via(proxy, server, make_client, "bob")
    proxy.freeze()
    await rec_b.wait_state("RECONNECTING")
    await rec_b.wait_state("RECONNECTED")
    assert server_users(server) == {"bob"}
    assert bob.connection_state is ConnectionState.RECONNECTED


async def test_stalled_process_is_not_mistaken_for_a_lost_link(joined: Join) -> None:
    """A process that stops running for a while (a busy GUI thread, a loaded machine) finds
    the server's answers waiting when it resumes: the link is fine and stays CONNECTED."""
    alice, rec_a = await joined("alice")
    _, rec_b = await joined("bob")
    # The stimulus: block this event loop for six heartbeat intervals (twice the loss limit).
    time.sleep(6 * HEARTBEAT)  # noqa: ASYNC251 (blocking the loop is the point)
    await alice.send_message("still here")
    await rec_b.wait("message_received", lambda m: m.content == "still here")
    assert rec_a.states() == ["CONNECTING", "CONNECTED"]
    assert alice.connection_state is ConnectionState.CONNECTED


async def test_second_loss_after_a_reconnection(server: RoomServer, proxy: Proxy,
                                                make_client: ClientFactory) -> None:
    """RECONNECTED is steady: a later loss reconnects again."""
    bob, rec_b = await join_via(proxy, server, make_client, "bob")
    proxy.cut()
    await rec_b.wait_state("RECONNECTED")
    proxy.cut()
    await rec_b.wait("connection_state_changed", lambda s, i: len(rec_b.states()) >= 6)
    await rec_b.wait_state("RECONNECTED")
    assert rec_b.states()[2:] == ["RECONNECTING", "RECONNECTED", "RECONNECTING", "RECONNECTED"]
    assert bob.connection_state.is_connected


async def test_changes_while_away_are_reconciled_once(server: RoomServer, proxy: Proxy,
                                                      joined: Join, make_client: ClientFactory
                                                      ) -> None:
    """Members who left or joined while the client was cut off produce their events exactly
    once after the resume, and nobody stays behind as a ghost."""
    _, rec_a = await joined("alice")
    bob, _ = await joined("bob")
    carol, rec_c = await join_via(proxy, server, make_client, "carol")
    check = MembershipCheck(carol)
    proxy.refuse = True
    proxy.cut()
    await rec_c.wait_state("RECONNECTING")
    await rec_a.wait("user_reconnecting", lambda u: u == "carol")
    await bob.leave()
    await joined("dave", user_data="Dave")
    await rec_a.wait("user_joined", lambda u, d: u == "dave")
    proxy.refuse = False
    await rec_c.wait_state("RECONNECTED")
    assert rec_c.named("user_left") == [("bob",)]
    assert rec_c.named("user_joined") == [("alice", ""), ("bob", ""), ("dave", "Dave")]
    assert [u.user_id for u in carol.remote_users] == ["alice", "dave"]
    assert client_view(carol) == await api_users(server) == {"alice", "carol", "dave"}
    assert check.mismatches == []


async def test_away_longer_than_the_window_fails_with_21003(server: RoomServer, proxy: Proxy,
                                                            joined: Join,
                                                            make_client: ClientFactory) -> None:
    """Cut off past the reconnect window: DISCONNECTED / ERROR / 21003; the server removed the
    member and the others saw it leave once."""
    _, rec_a = await joined("alice")
    bob, rec_b = await join_via(proxy, server, make_client, "bob")
    proxy.refuse = True
    proxy.cut()
    _, info = await rec_b.wait_state("DISCONNECTED", within=WINDOW * 4)
    assert info.reason is DisconnectReason.ERROR
    assert info.error_code == ErrorCode.RECONNECT_FAILED
    assert info.error_message == GAVE_UP_MESSAGE
    assert bob.remote_users == [] and bob.session_id is None
    await rec_a.wait("user_left", lambda u: u == "bob", within=WINDOW * 4)
    assert rec_a.named("user_left") == [("bob",)]
    assert server_users(server) == {"alice"}
    # What the application does then: join again.
    proxy.refuse = False
    await bob.join(server.token("room_1", "bob"))
    await until(lambda: rec_a.named("user_joined").count(("bob", "")) == 2)


async def test_resume_refused_by_server_after_window(server: RoomServer, proxy: Proxy,
                                                     make_client: ClientFactory) -> None:
    """When the first retry only comes after the server dropped the seat, the server's refusal
    ends the client with 21003."""
    client = make_client(proxy.url)
    rec = Recorder(client)
    await client.join(server.token("room_1", "bob"))
    proxy.refuse = True
    proxy.cut()
    await rec.wait_state("RECONNECTING")
    # Wait until the server has given the seat up, then let the client through.
    await _until_removed(server, "bob")
    proxy.refuse = False
    _, info = await rec.wait_state("DISCONNECTED", within=WINDOW * 4)
    assert info.error_code == ErrorCode.RECONNECT_FAILED
    assert info.error_message != GAVE_UP_MESSAGE  # the server's refusal, not the client's


async def _until_removed(server: RoomServer, user: str) -> None:
    await until(lambda: user not in server_users(server), within=WINDOW * 4)


async def test_leave_while_reconnecting_stops_retrying(server: RoomServer, proxy: Proxy,
                                                       make_client: ClientFactory) -> None:
    """leave() during RECONNECTING ends DISCONNECTED / LEAVE and no attempt follows."""
    bob, rec_b = await join_via(proxy, server, make_client, "bob")
    proxy.refuse = True
    proxy.cut()
    await rec_b.wait_state("RECONNECTING")
    await bob.leave()
    assert bob.connection_state is ConnectionState.DISCONNECTED
    assert bob.disconnect_info is not None
    assert bob.disconnect_info.reason is DisconnectReason.LEAVE
    assert bob._session is None
    await until(lambda: not [t for t in asyncio.all_tasks()
                             if t.get_name() == "reconnect" and not t.done()])
    assert rec_b.states()[-1] == "DISCONNECTED"


async def test_server_restart_ends_sessions_with_21003(tmp_path: Path) -> None:
    """A server that went away without a word (a crash; a graceful stop tells members
    ROOM_CLOSED) and came back has forgotten its rooms: resumes are refused (21003) and a new
    join works."""
    server = RoomServer(fast_config(tmp_path))
    await server.start()
    port = server.port
    path = Proxy(port)  # the clients' network: it drops before the server's last words
    await path.start()
    clients = [RTCClient(path.url, media=False,
                         reconnect_delays=lambda: itertools.repeat(0.05)) for _ in range(3)]
    recs = [Recorder(c) for c in clients]
    for i, client in enumerate(clients):
        await client.join(server.token("room_1", f"user{i}"))
    path.refuse = True
    path.cut()
    for rec in recs:
        await rec.wait_state("RECONNECTING")
    await server.stop()
    restarted = RoomServer(fast_config(tmp_path, port=port))
    await restarted.start()
    path.refuse = False
    try:
        for rec in recs:
            _, info = await rec.wait_state("DISCONNECTED", within=WINDOW * 4)
            assert info.reason is DisconnectReason.ERROR
            assert info.error_code == ErrorCode.RECONNECT_FAILED
        # Keys survived in the data folder: the same kind of token joins the new server.
        await clients[0].join(restarted.token("room_1", "user0"))
        assert server_users(restarted) == {"user0"}
    finally:
        await asyncio.gather(*(c.leave() for c in clients))
        await restarted.stop()
        await path.stop()


async def test_cancelled_leave_still_closes_the_connection(server: RoomServer, proxy: Proxy,
                                                           make_client: ClientFactory) -> None:
    """A leave() cancelled while it waits for the server's answer still closes the socket and
    stops the heartbeat, so nothing of the session is left running."""
    bob, rec_b = await join_via(proxy, server, make_client, "bob")
    proxy.freeze()  # the server never answers the leave
    leaving = asyncio.create_task(bob.leave())
    await rec_b.wait_state("DISCONNECTED")
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(leaving, timeout=WAIT)
    session_tasks = {"signal-reader", "signal-heartbeat", "reconnect"}
    assert not [t for t in asyncio.all_tasks() if t.get_name() in session_tasks and not t.done()]
    assert bob.connection_state is ConnectionState.DISCONNECTED


LEAVE_RACE_ROUNDS = 200


async def test_leave_during_a_resume_never_touches_the_next_session(
        server: RoomServer, proxy: Proxy, make_client: ClientFactory) -> None:
    """leave() at any moment of a resume attempt, then join() again: the new session stays
    CONNECTED and no state event of the old session's reconnection reaches it."""
    rng = random.Random(11)
    bob = make_client(proxy.url, reconnect_delays=lambda: itertools.repeat(0.0))
    rec = Recorder(bob)
    token = server.token("room_1", "bob")
    await bob.join(token)
    async with asyncio.timeout(180):
        for _ in range(LEAVE_RACE_ROUNDS):
            seen = len(rec.states())
            proxy.cut()
            await rec.wait("connection_state_changed",
                           lambda s, i, seen=seen: len(rec.states()) > seen)
            assert rec.states()[seen] == "RECONNECTING"
            # leave() lands anywhere in the attempt: waiting, connecting, or resuming.
            if rng.random() < 0.5:
                for _ in range(rng.randrange(30)):
                    await asyncio.sleep(0)
            else:
                await asyncio.sleep(rng.uniform(0, 0.01))
            await bob.leave()
            before_join = len(rec.states())
            await bob.join(token)
            # Every task of the old session has ended (or gives up) before we judge.
            await until(lambda: not [t for t in asyncio.all_tasks()
                                     if t.get_name() == "reconnect" and not t.done()])
            assert bob.connection_state is ConnectionState.CONNECTED
            assert rec.states()[before_join:] == ["CONNECTING", "CONNECTED"]
