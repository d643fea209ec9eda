"""The server's shortcuts answer exactly as the general paths: heartbeats, direct writes, the
app settings cache."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    MAX_MESSAGE_CONTENT_BYTES,
    SIGNAL_PATH,
    Ack,
    Closed,
    Error,
    Join,
    Joined,
    Message,
    SendMessage,
    parse,
    serialize,
)
from roomcall.server.server import RoomServer

from .conftest import MakeServer
from .signal_client import TIMEOUT, SignalClient, joined_client


@pytest.fixture
async def raw_ws(room_server: RoomServer) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A bare WebSocket (frames seen as text) seated in room ``fast`` as ``alice``."""
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(room_server.url + SIGNAL_PATH)
        await ws.send_str(serialize(Join(req=1, token=room_server.token("fast", "alice"))))
        assert isinstance(parse(await ws.receive_str(timeout=TIMEOUT)), Joined)
        yield ws
        await ws.close()


async def _answer(ws: aiohttp.ClientWebSocketResponse, frame: str) -> str:
    await ws.send_str(frame)
    return await ws.receive_str(timeout=TIMEOUT)


@pytest.mark.parametrize(("frame", "req"), [
    ('{"type":"heartbeat","req":7}', 7),
    ('{"type":"heartbeat","req":0}', 0),
    ('{"type":"heartbeat","req":-3}', -3),
    ('{"type":"heartbeat"}', 0),
    ('{"type":"heartbeat","req":9007199254740992}', 2**53),
    ('{ "type": "heartbeat", "req": 7 }', 7),  # another spelling: the general path
    ('{"req":7,"type":"heartbeat"}', 7),
])
async def test_heartbeat_ack_is_the_serialised_ack(raw_ws: aiohttp.ClientWebSocketResponse,
                                                   frame: str, req: int) -> None:
    """Every spelling of a heartbeat gets the text serialize(Ack) gives, with server time."""
    before = int(time.time() * 1000)
    text = await _answer(raw_ws, frame)
    after = int(time.time() * 1000)
    ack = parse(text)
    assert isinstance(ack, Ack) and ack.req == req
    assert text == serialize(ack)
    assert before <= ack.server_time <= after


@pytest.mark.parametrize(("frame", "code"), [
    ('{"type":"heartbeat","req":9007199254740993}', ErrorCode.INVALID_PARAMETER),
    ('{"type":"heartbeat","req":-9007199254740993}', ErrorCode.INVALID_PARAMETER),
    ('{"type":"heartbeat","req":01}', ErrorCode.INVALID_PARAMETER),
    ('{"type":"heartbeat","req":"7"}', ErrorCode.INVALID_PARAMETER),
    ('{"type":"heartbeat","req":7.5}', ErrorCode.INVALID_PARAMETER),
    ('{"type":"heartbeat","req":true}', ErrorCode.INVALID_PARAMETER),
    ('{"type":"heartbeat","req":7}x', ErrorCode.INVALID_PARAMETER),
])
async def test_malformed_heartbeat_gets_its_error(raw_ws: aiohttp.ClientWebSocketResponse,
                                                  frame: str, code: int) -> None:
    """A heartbeat the fast path does not take is refused by the general path, with its code."""
    err = parse(await _answer(raw_ws, frame))
    assert isinstance(err, Error) and err.code == code
    ack = parse(await _answer(raw_ws, '{"type":"heartbeat","req":5}'))
    assert isinstance(ack, Ack) and ack.req == 5  # the connection still works


async def test_heartbeat_before_join_is_refused(room_server: RoomServer) -> None:
    """The heartbeat shortcut applies only to seated members: before a join it is an error."""
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(room_server.url + SIGNAL_PATH)
        err = parse(await _answer(ws, '{"type":"heartbeat","req":4}'))
        assert isinstance(err, Error) and (err.req, err.code) == (4, ErrorCode.INVALID_STATE)
        await ws.close()


async def test_bursts_arrive_in_order(make_server: MakeServer,
                                      clients: list[SignalClient]) -> None:
    """Frames to one member arrive in send order, written at once at first, then queued behind
    a socket the member stopped reading (limits raised so that nothing is dropped)."""
    server = await make_server(limits={"rate_per_second": 2000.0, "rate_burst": 2000,
                                       "send_queue_bytes": 64 * 2**20,
                                       "queue_share_bytes": 64 * 2**20,
                                       "sender_bytes_per_second": 1e9,
                                       "sender_burst_bytes": 10**9})
    alice = await joined_client(server.url, server.token("burst", "alice"))
    clients.append(alice)
    content = "x" * (MAX_MESSAGE_CONTENT_BYTES - 100)
    count = 1000  # about 15 MB: more than the kernel buffers of a loopback socket hold
    async with aiohttp.ClientSession() as session:
        bob = await session.ws_connect(server.url + SIGNAL_PATH, max_msg_size=0)
        await bob.send_str(serialize(Join(req=1, token=server.token("burst", "bob"))))
        assert isinstance(parse(await bob.receive_str(timeout=TIMEOUT)), Joined)
        for i in range(count):  # bob reads nothing meanwhile
            await alice.send(SendMessage(req=i + 1, content=content, user_ids=("bob",),
                                         message_id=f"m{i}"))
        await alice.wait_for(Ack, req=count, within=4 * TIMEOUT)
        got = []
        while len(got) < count:
            msg = parse(await bob.receive_str(timeout=TIMEOUT))
            if isinstance(msg, Message):
                got.append(msg.message_id)
        await bob.close()
    assert got == [f"m{i}" for i in range(count)]


async def test_app_settings_follow_update_and_delete(room_server: RoomServer,
                                                     clients: list[SignalClient]) -> None:
    """A join after an app update gets the new settings, and after a delete is refused, though
    earlier joins read (and cached) the old ones."""
    app = room_server.store.create_app(title="cached")
    first = await joined_client(room_server.url, room_server.token("one", "ann", app_id=app.app_id))
    clients.append(first)
    assert room_server.store.update_app(app.app_id, max_users=1) is not None
    ben = await joined_client(room_server.url, room_server.token("two", "ben", app_id=app.app_id))
    clients.append(ben)
    cat = await SignalClient.connect(room_server.url)
    clients.append(cat)
    await cat.send(Join(req=1, token=room_server.token("two", "cat", app_id=app.app_id)))
    full = await cat.recv()
    assert isinstance(full, Error | Closed) and full.code == ErrorCode.ROOM_FULL
    assert room_server.store.delete_app(app.app_id)
    dan = await SignalClient.connect(room_server.url)
    clients.append(dan)
    await dan.send(Join(req=1, token=room_server.token("three", "dan", app_id=app.app_id)))
    gone = await dan.recv()
    assert isinstance(gone, Error) and gone.code == ErrorCode.TOKEN_ERROR


async def test_compressing_client_is_answered(make_server: MakeServer) -> None:
    """On a server configured to compress, a client that negotiates permessage-deflate gets
    the same answers."""
    room_server = await make_server(limits={"compression": True})
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(room_server.url + SIGNAL_PATH, compress=15)
        assert ws.compress == 15
        await ws.send_str(serialize(Join(req=1, token=room_server.token("zip", "zed"))))
        assert isinstance(parse(await ws.receive_str(timeout=TIMEOUT)), Joined)
        ack = parse(await _answer(ws, '{"type":"heartbeat","req":2}'))
        assert isinstance(ack, Ack) and ack.req == 2
        await ws.close()
