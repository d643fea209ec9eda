"""Bad input on the real server: every bad frame gets a code, abusers are cut off, and the other
members of the room notice nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    CLIENT_MESSAGES,
    MAX_FRAME_BYTES,
    MESSAGE_TYPES,
    SIGNAL_PATH,
    Ack,
    Closed,
    Error,
    Heartbeat,
    Joined,
    Message,
    SendMessage,
    UserJoined,
    UserLeft,
    UserReconnecting,
)
from roomcall.server.server import RoomServer
from tests.waiting import WAIT, scaled

from .conftest import MakeServer
from .signal_client import SignalClient, joined_client

PROBE = 424242


class Pair:
    """Two well-behaved members of the room the abuse happens in."""

    def __init__(self, alice: SignalClient, bob: SignalClient) -> None:
        self.alice, self.bob = alice, bob
        self._n = 0

    async def check(self, within: float = scaled(1.0)) -> float:
        """alice's message reaches bob within ``within`` seconds; the delay."""
        self._n += 1
        started = time.monotonic()
        await self.alice.send(SendMessage(req=self._n, content=f"ping {self._n}",
                                          user_ids=("bob",)))
        msg = await self.bob.wait_for(Message, within=within, content=f"ping {self._n}")
        assert msg.user_id == "alice"
        return time.monotonic() - started

    async def close(self) -> None:
        """Close both members' connections."""
        await self.alice.close()
        await self.bob.close()


async def _pair(server: RoomServer) -> Pair:
    alice = await joined_client(server.url, server.token("abuse", "alice"))
    bob = await joined_client(server.url, server.token("abuse", "bob"))
    alice.keep_alive(1.0)
    bob.keep_alive(1.0)
    return Pair(alice, bob)


@pytest.fixture
async def pair(room_server: RoomServer) -> AsyncIterator[Pair]:
    """alice and bob in room ``abuse`` of a server with default limits, heartbeating."""
    pair = await _pair(room_server)
    yield pair
    await pair.close()


@pytest.fixture
async def fuzz_server(make_server: MakeServer) -> RoomServer:
    """A server whose abuse limits do not cut off a fast fuzzing client."""
    return await make_server(limits={"rate_per_second": 1e6, "rate_burst": 1_000_000,
                                     "max_bad_frames": 1_000_000})


@pytest.fixture
async def fuzz_pair(fuzz_server: RoomServer) -> AsyncIterator[Pair]:
    """alice and bob on the fuzz server."""
    pair = await _pair(fuzz_server)
    yield pair
    await pair.close()


async def _answers_until_probe(client: SignalClient) -> list[object]:
    """Everything received up to the answer to the probe heartbeat, or up to the close."""
    await client.send(Heartbeat(req=PROBE))
    got: list[object] = []
    while True:
        get = asyncio.ensure_future(client.recv())
        closed = asyncio.ensure_future(client.closed.wait())
        done, _ = await asyncio.wait({get, closed}, timeout=WAIT,
                                     return_when=asyncio.FIRST_COMPLETED)
        assert done, "the server did not answer"
        if get in done:
            closed.cancel()
            msg = get.result()
            got.append(msg)
            if getattr(msg, "req", None) == PROBE:
                return got
        else:
            get.cancel()
            while not client.received.empty():
                got.append(client.received.get_nowait())
            return got


async def test_oversized_frame_closes_with_10053(room_server: RoomServer, pair: Pair) -> None:
    """A frame over 64 KiB gets error 10053 and the socket closes; the room is unaffected."""
    rogue = await joined_client(room_server.url, room_server.token("abuse", "rogue"))
    try:
        await rogue.send_raw('{"type":"heartbeat","req":1,"pad":"' + "x" * MAX_FRAME_BYTES + '"}')
        error = await rogue.wait_for(Error)
        assert (error.req, error.code) == (0, ErrorCode.INVALID_PARAMETER)
        await rogue.wait_closed()
        await pair.check()
    finally:
        await rogue.close()


async def test_huge_frame_is_cut_off(room_server: RoomServer, pair: Pair) -> None:
    """A frame far over the limit ends the socket at the WebSocket level; the server stays up."""
    rogue = await SignalClient.connect(room_server.url)
    try:
        await rogue.send_raw("x" * (5 * MAX_FRAME_BYTES))
        assert await rogue.wait_closed() == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        await pair.check()
    finally:
        await rogue.close()


@pytest.mark.parametrize("frame, req", [
    ("not json", 0),
    ("[1, 2]", 0),
    ('{"type":"nope","req":3}', 3),
    ('{"type":"send_message","req":4}', 4),
    ('{"type":"send_message","req":5,"content":7}', 5),
    ('{"type":"joined","req":6}', 6),
    ('{"type":"mute","req":7,"track_id":"t1","muted":"yes"}', 7),
    (b"\xff\xfe binary garbage", 0),
])
async def test_malformed_frames_answered(room_server: RoomServer, pair: Pair,
                                         frame: str | bytes, req: int) -> None:
    """A malformed frame gets error 10053 (with its req when readable); the session goes on."""
    await pair.bob.send_raw(frame)
    error = await pair.bob.wait_for(Error)
    assert (error.req, error.code) == (req, ErrorCode.INVALID_PARAMETER)
    await pair.check()


@pytest.mark.parametrize("field, value", [
    ("content", "\ud800"), ("message_id", "x\udfff"),
])
async def test_unpaired_surrogates_refused(pair: Pair, field: str, value: str) -> None:
    """Text that is not valid Unicode is refused (10053) before it can reach another member."""
    frame = json.dumps({"type": "send_message", "req": 11, "content": "c", field: value})
    await pair.bob.send_raw(frame)
    error = await pair.bob.wait_for(Error, req=11)
    assert error.code == ErrorCode.INVALID_PARAMETER
    await pair.bob.send_raw(json.dumps({"type": "send_message", "req": 12,
                                        "content": "emoji \U0001f600 ok"}))
    assert (await pair.alice.wait_for(Message)).content == "emoji \U0001f600 ok"
    await pair.check()


async def test_requests_before_join_refused(room_server: RoomServer) -> None:
    """Anything but join / resume on a fresh connection gets 21002."""
    client = await SignalClient.connect(room_server.url)
    try:
        await client.send(SendMessage(req=9, content="hi"))
        assert (await client.expect(Error, req=9)).code == ErrorCode.INVALID_STATE
    finally:
        await client.close()


async def test_join_timeout(make_server: MakeServer) -> None:
    """A connection that never joins gets 11013 and is closed after join_timeout."""
    server = await make_server(limits={"join_timeout": 0.3})
    client = await SignalClient.connect(server.url)
    try:
        assert (await client.expect(Error, req=0)).code == ErrorCode.SIGNALLING_TIMEOUT
        await client.wait_closed()
    finally:
        await client.close()


async def test_flood_is_cut_off_and_room_unaffected(room_server: RoomServer, pair: Pair) -> None:
    """A member flooding frames gets one error, then closed; others' messages stay prompt."""
    flooder = await joined_client(room_server.url, room_server.token("abuse", "flooder"))
    try:
        frame = json.dumps({"type": "send_message", "req": 1, "content": "spam" * 100})
        for _ in range(2000):
            if flooder.ws.closed:
                break
            await flooder.send_raw(frame)
        delay = await pair.check(within=scaled(1.0))
        closed = await flooder.wait_for(Closed)
        assert (closed.reason, closed.code) == ("ERROR", ErrorCode.INVALID_PARAMETER)
        await flooder.wait_closed()
        assert await pair.alice.wait_for(UserLeft, user_id="flooder") == UserLeft(
            "flooder", "kicked")
        assert delay < 1.0
    finally:
        await flooder.close()


async def test_too_many_bad_frames_cut_off(make_server: MakeServer) -> None:
    """A member that keeps sending garbage is closed as abusive; the room is unaffected."""
    server = await make_server(limits={"rate_per_second": 1e6, "rate_burst": 1_000_000})
    pair = await _pair(server)
    rogue = await joined_client(server.url, server.token("abuse", "rogue"))
    try:
        for _ in range(101):
            await rogue.send_raw("garbage")
        closed = await rogue.wait_for(Closed)
        assert closed.code == ErrorCode.INVALID_PARAMETER
        await rogue.wait_closed()
        await pair.check()
    finally:
        await rogue.close()
        await pair.close()


async def test_stalled_reader_is_dropped(make_server: MakeServer) -> None:
    """A member that stops reading is disconnected instead of slowing the room down."""
    server = await make_server(limits={"send_queue_size": 64, "rate_per_second": 10_000,
                                       "rate_burst": 10_000, "sender_bytes_per_second": 1e9,
                                       "sender_burst_bytes": 10**9})
    alice = await joined_client(server.url, server.token("slow", "alice"))
    bob = await joined_client(server.url, server.token("slow", "bob"))
    session = aiohttp.ClientSession()
    try:
        # A raw socket nobody reads from: TCP flow control stops the server's writes to it.
        stalled = await session.ws_connect(server.url + SIGNAL_PATH, max_msg_size=0)
        await stalled.send_str(json.dumps({"type": "join", "req": 1,
                                           "token": server.token("slow", "stalled")}))
        await bob.wait_for(UserJoined)
        content = "z" * 14_000
        sent = 0
        while not alice.saw(UserReconnecting):
            assert sent < 3000, "the stalled member was never dropped"
            sent += 1
            await alice.send(SendMessage(req=sent, content=content))
            await alice.wait_for(Ack, req=sent)
        await asyncio.wait_for(_count_messages(bob, sent), scaled(10.0))
        await stalled.close()
    finally:
        await session.close()
        await alice.close()
        await bob.close()


async def _count_messages(client: SignalClient, n: int) -> None:
    for _ in range(n):
        await client.wait_for(Message)


# Text as hostile clients write it: any character, plus lone surrogates (JSON can spell them).
_TEXT = st.text(st.characters() | st.sampled_from(["\ud800", "\udfff", "\U0001f600", "\\", '"']),
                max_size=30)
_FRAME_TEXT = st.one_of(
    st.text(max_size=200),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                    max_size=4),
        max_leaves=12,
    ).map(json.dumps),
)

_CLIENT_TYPES = sorted(name for name, cls in MESSAGE_TYPES.items()
                       if cls in CLIENT_MESSAGES and name != "leave")
_FIELD_VALUES = (st.none() | st.booleans() | st.integers(-(2**60), 2**60) | _TEXT
                 | st.lists(_TEXT | st.integers(), max_size=3)
                 | st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))
_CLIENT_FRAMES = st.builds(
    lambda kind, fields: json.dumps({"type": kind, **fields}),
    st.sampled_from(_CLIENT_TYPES),
    st.dictionaries(st.sampled_from(["req", "token", "content", "user_ids", "user_id", "peer",
                                     "data", "tracks", "track_ids", "track_id", "muted",
                                     "message_id", "session_id", "version", "user_data"]),
                    _FIELD_VALUES, max_size=5),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=_FRAME_TEXT)
async def test_random_frames_before_join(fuzz_server: RoomServer, fuzz_pair: Pair,
                                         frame: str) -> None:
    """Any frame on a fresh connection gets only error answers; the room is unaffected."""
    pair = fuzz_pair
    client = await SignalClient.connect(fuzz_server.url)
    try:
        await client.send_raw(frame)
        answers = await _answers_until_probe(client)
        assert answers and all(isinstance(a, Error) for a in answers), answers
        await pair.check()
    finally:
        await client.close()


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=_CLIENT_FRAMES)
async def test_random_requests_of_a_member(fuzz_pair: Pair, frame: str) -> None:
    """Ill-formed requests of a joined member get error codes; the member and room go on."""
    pair = fuzz_pair
    answers = await _answers_until_probe(pair.bob)
    for answer in answers:
        assert not isinstance(answer, Closed | Joined), answer
    await pair.bob.send_raw(frame)
    answers = await _answers_until_probe(pair.bob)
    assert getattr(answers[-1], "req", None) == PROBE, answers
    for answer in answers:
        assert not isinstance(answer, Closed), answer
        if isinstance(answer, Error):
            assert answer.code in set(ErrorCode), answer
    await pair.check()
