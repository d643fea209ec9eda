"""Attacks on the real server from anyone who can reach its port: descriptor exhaustion, idle
and half-sent connections, ping floods, a flood aimed at a slow reader, oversized snapshots,
compression requests and resets mid-handshake. Each is bounded in count and time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    SIGNAL_PATH,
    Ack,
    Closed,
    Error,
    Heartbeat,
    Join,
    Joined,
    Message,
    Publish,
    Published,
    Resume,
    SendMessage,
    TrackSpec,
    UserLeft,
    UserReconnected,
    UserReconnecting,
    parse,
    serialize,
)
from roomcall.server.config import ServerConfig
from roomcall.server.frame_bound import largest_server_frame
from roomcall.server.server import RoomServer
from tests.waiting import until

from .conftest import MakeServer
from .raw_socket import RawWebSocket, reset, tcp_socket, upgrade_request
from .signal_client import SignalClient, joined_client
from .test_abuse import Pair

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "protocol.md"


@pytest.fixture
async def pair(room_server: RoomServer) -> AsyncIterator[Pair]:
    """alice and bob in room ``abuse`` of a server with default limits, heartbeating."""
    alice = await joined_client(room_server.url, room_server.token("abuse", "alice"))
    bob = await joined_client(room_server.url, room_server.token("abuse", "bob"))
    alice.keep_alive(1.0)
    bob.keep_alive(1.0)
    pair = Pair(alice, bob)
    yield pair
    await pair.close()


async def _eof(sock: socket.socket, within: float) -> bool:
    """Whether the server ends ``sock`` (EOF or reset) within ``within`` seconds."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await asyncio.wait_for(loop.sock_recv(sock, 4096), within)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


# --- connection admission ----------------------------------------------------------------

_BATCH = 64  # sockets an attack connects at once


async def _attack(tmp_path: Path, max_connections: int, sockets: int = 1100,
                  release_after: str | None = None) -> tuple[float, list[str]]:
    """Start a server limited to 1,024 descriptors, hold ``sockets`` idle or half-sent
    sockets against it from 64 addresses, then join as a member; the seconds the join took
    and the server's log lines. With ``release_after``, the sockets are closed before the
    member comes, once the server logged that text."""
    log = (tmp_path / "server.log").open("w+")
    command = [sys.executable, "-m", "tests.server.fd_limited_server", str(tmp_path / "data"),
               "1024", str(max_connections)]
    # Popen returns at once; the waits on the process below are bounded or off the loop.
    proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE,  # noqa: ASYNC220
                            stdout=subprocess.PIPE, stderr=log, text=True)
    held: list[socket.socket] = []
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)).strip()
        token = proc.stdout.readline().strip()
        host, port = url.removeprefix("ws://").rsplit(":", 1)
        loop = asyncio.get_running_loop()
        # Connect a batch at a time, each once the one before is through the handshake (in
        # the server's accept queue or accepted): a burst of all of them at once would overflow
        # the queue and leave the rest to SYN retries, seconds apart, so how many reach the
        # server would depend on the machine's load. A batch that stalls means the server has
        # stopped accepting; the attack has then done what it can.
        for first in range(0, sockets, _BATCH):
            batch = []
            for i in range(first, min(sockets, first + _BATCH)):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.bind((f"127.0.1.{i % 64 + 1}", 0))
                held.append(sock)
                batch.append(loop.create_task(loop.sock_connect(sock, (host, int(port)))))
            _, stalled = await asyncio.wait(batch, timeout=2.0)
            for task in stalled:
                task.cancel()
            if stalled:
                break
        for sock in held[::3]:  # a third of them start a request and never finish it
            with contextlib.suppress(OSError):  # not connected yet, or refused: it stays idle
                sock.send(b"GET /v1/signal HTTP/1.1\r\nHost: x\r\n")
        if release_after is not None:
            text = release_after
            await until(lambda: text in (tmp_path / "server.log").read_text(), within=15.0)
            for sock in held:
                sock.close()
        started = time.monotonic()
        member = await joined_client(url, token)
        joined_after = time.monotonic() - started
        await member.send(Heartbeat(req=7))
        await member.wait_for(Ack, req=7)
        await member.close()
    finally:
        for sock in held:
            sock.close()
        if proc.stdin is not None:
            proc.stdin.close()
        await asyncio.to_thread(proc.wait, 15)
        if proc.stdout is not None:
            proc.stdout.close()
        log.seek(0)
        lines = log.read().splitlines()
        log.close()
    return joined_after, lines


async def test_idle_sockets_cannot_lock_members_out(tmp_path: Path) -> None:
    """With a 1024-descriptor server and 1,100 idle or half-sent sockets held against it from
    64 addresses, a member with a valid token still joins, and the log stays short."""
    joined_after, lines = await _attack(tmp_path, max_connections=0)
    assert joined_after < 5.0
    # The cap keeps the server short of its descriptor limit: accept() never fails.
    assert not [line for line in lines if "out of system resource" in line or
                "accept() failed" in line or "Traceback" in line], lines[:20]
    assert len(lines) < 40, lines


async def test_accept_failures_are_logged_once_per_interval(tmp_path: Path) -> None:
    """A server whose connection cap is set above its descriptor limit runs out of them:
    accept() failures are one log line per interval, not one per attempt, and accepting
    resumes once descriptors are free again."""
    joined_after, lines = await _attack(tmp_path, max_connections=5000, sockets=1600,
                                        release_after="accept() failed")
    failures = [line for line in lines if "accept() failed" in line]
    assert 1 <= len(failures) <= 2, failures
    assert not [line for line in lines if "Traceback" in line], lines[:20]
    assert len(lines) < 40, lines
    assert joined_after < 5.0


async def test_silent_and_half_sent_connections_are_closed(make_server: MakeServer) -> None:
    """A TCP connection that sends nothing, or half an HTTP request, is closed once the
    handshake deadline passes; a WebSocket that never joins is closed at the join deadline."""
    server = await make_server(limits={"handshake_timeout": 0.5, "join_timeout": 0.5})
    silent = tcp_socket(server.url)
    half = tcp_socket(server.url)
    half.send(upgrade_request(server.url)[:40])
    unjoined = await RawWebSocket.open(server.url)
    try:
        assert await _eof(silent, 5.0)
        assert await _eof(half, 5.0)
        opcode, payload = await unjoined.recv()
        error = parse(payload.decode())
        assert isinstance(error, Error) and error.code == ErrorCode.SIGNALLING_TIMEOUT
        while opcode != 0x8:  # then the close frame
            opcode, _ = await unjoined.recv()
    finally:
        silent.close()
        half.close()
        unjoined.close()


async def test_per_address_cap(make_server: MakeServer, clients: list[SignalClient]) -> None:
    """Connections from one address past its cap (127.0.0.1 included) are closed at once;
    other addresses are unaffected."""
    server = await make_server(limits={"max_connections_per_address": 4})
    held = [tcp_socket(server.url, source="127.0.0.1") for _ in range(4)]
    await until(lambda: server.admission is not None and server.admission.open_connections == 4)
    extra = tcp_socket(server.url, source="127.0.0.1")
    try:
        assert await _eof(extra, 2.0)
        assert server.admission is not None and server.admission.refused == 1
        for sock in held[:2]:
            sock.close()
        await until(lambda: server.admission is not None
                    and server.admission.open_connections == 2)
        clients.append(await joined_client(server.url, server.token("cap", "alice")))
    finally:
        for sock in held:
            sock.close()
        extra.close()


async def test_total_cap_evicts_the_oldest_unjoined(make_server: MakeServer,
                                                    clients: list[SignalClient]) -> None:
    """At the total cap a new connection takes the oldest unjoined one's place: idle sockets
    never keep a member out, and seated members are never evicted."""
    server = await make_server(limits={"max_connections": 6,
                                       "max_connections_per_address": 0})
    alice = await joined_client(server.url, server.token("full", "alice"))
    clients.append(alice)
    idle = [tcp_socket(server.url, source=f"127.0.2.{i + 1}") for i in range(12)]
    try:
        assert await _eof(idle[0], 2.0)  # evicted by the later ones
        bob = await joined_client(server.url, server.token("full", "bob"))
        clients.append(bob)
        await alice.send(SendMessage(req=1, content="still here", user_ids=("bob",)))
        assert (await bob.wait_for(Message)).content == "still here"
        assert server.admission is not None and server.admission.evicted >= 7
    finally:
        for sock in idle:
            sock.close()


# --- floods ----------------------------------------------------------------------------------


async def test_ping_flood_is_cut_off(room_server: RoomServer, pair: Pair) -> None:
    """WebSocket pings count towards the frame rate: a ping flooder is closed within the
    burst plus the dropped-frame allowance, and the room's messages still flow."""
    limits = room_server.config.limits
    async with aiohttp.ClientSession() as session:
        flooder = await session.ws_connect(room_server.url + SIGNAL_PATH, autoping=False)
        await flooder.send_str(serialize(Join(req=1, token=room_server.token("abuse", "pin"))))
        assert isinstance(parse(await flooder.receive_str(timeout=5.0)), Joined)
        started = time.monotonic()
        bound = limits.rate_burst + limits.max_dropped_frames + 2000
        for _ in range(bound):  # the flooder does not wait for anything
            await flooder.ping(b"x" * 100)
        elapsed = time.monotonic() - started
        pongs, got = 0, []
        while True:
            msg = await flooder.receive(timeout=5.0)
            if msg.type == aiohttp.WSMsgType.PONG:
                pongs += 1
            elif msg.type == aiohttp.WSMsgType.TEXT:
                got.append(parse(msg.data))
            else:
                break
        assert any(isinstance(m, Closed) and m.code == ErrorCode.INVALID_PARAMETER
                   for m in got), got
        # Answered: the burst and what the rate refilled meanwhile, not the flood.
        assert pongs <= limits.rate_burst + limits.rate_per_second * (elapsed + 1.0), pongs
    assert await pair.alice.wait_for(UserLeft, user_id="pin") == UserLeft("pin", "kicked")
    await pair.check()


async def test_slow_reader_survives_a_relay_flood(room_server: RoomServer,
                                                  clients: list[SignalClient]) -> None:
    """A member reading slowly through a small receive buffer stays connected while another
    sends max-size relays to it just under the frame rate; the sender is throttled, then cut."""
    limits = room_server.config.limits
    observer = await joined_client(room_server.url, room_server.token("slow", "olga"))
    clients.append(observer)
    victim = await RawWebSocket.open(room_server.url, rcvbuf=4096)
    victim.send(serialize(Join(req=1, token=room_server.token("slow", "vera"))))
    assert isinstance(parse((await victim.recv())[1].decode()), Joined)
    attacker = await joined_client(room_server.url, room_server.token("slow", "mallory"))
    clients.append(attacker)
    blob = "x" * (limits.max_relay_bytes - 200)
    relay = json.dumps({"type": "relay", "peer": "vera", "data": {"sdp": blob}})
    assert len(relay) <= limits.max_relay_bytes

    async def read_slowly() -> None:
        """Read frame by frame at about 1 MB/s (the issue's slow victim) up to the answer to
        the probe heartbeat: the victim's pace is the workload, not a wait."""
        while True:
            opcode, payload = await victim.recv(within=15.0)
            if opcode == 0x1 and payload.startswith(b'{"type":"ack","req":99,'):
                return
            await asyncio.sleep(len(payload) / 1e6)

    reading = asyncio.get_running_loop().create_task(read_slowly())
    try:
        interval = 1.0 / (limits.rate_per_second * 0.96)
        sent = 0
        while not attacker.closed.is_set() and sent < 1000:
            await attacker.send_raw(relay)
            sent += 1
            await asyncio.sleep(interval)  # the attacker's pace: just under the frame rate
        closed = await attacker.wait_for(Closed)
        assert (closed.reason, closed.code) == ("ERROR", ErrorCode.INVALID_PARAMETER)
        assert any(isinstance(m, Error) and m.code == ErrorCode.INVALID_PARAMETER
                   for m in attacker.skipped)
        assert await observer.wait_for(UserLeft, user_id="mallory") == UserLeft(
            "mallory", "kicked")
        assert sent < 1000
        # The victim is still seated and connected: the room never saw it drop, and it
        # reads everything queued for it, then the answer to its probe.
        victim.send(serialize(Heartbeat(req=99)))
        await asyncio.wait_for(reading, 20.0)
        assert not observer.saw(UserReconnecting)
        app = room_server.default_app
        assert app is not None and room_server.rooms.room_users(app.app_id, "slow") == [
            "olga", "vera"]
    finally:
        reading.cancel()
        victim.close()


# --- snapshot bounds -------------------------------------------------------------------------


async def test_publish_bounds_tag_and_media_id(room_server: RoomServer, pair: Pair) -> None:
    """A tag or media_id over 128 bytes is refused with 10053; at 128 it is accepted."""
    bob = pair.bob
    for spec in (TrackSpec("video", tag="t" * 129), TrackSpec("video", media_id="é" * 65)):
        await bob.send(Publish(req=50, tracks=(spec,)))
        assert (await bob.wait_for(Error, req=50)).code == ErrorCode.INVALID_PARAMETER
    await bob.send(Publish(req=51, tracks=(TrackSpec("video", tag="t" * 128,
                                                     media_id="m" * 128),)))
    assert (await bob.wait_for(Published, req=51)).tracks[0].tag == "t" * 128


async def test_room_member_cap_applies_without_max_users(make_server: MakeServer,
                                                        clients: list[SignalClient]) -> None:
    """An app without maxUsers still gets rooms of at most max_room_members (10011 past)."""
    server = await make_server(limits={"max_room_members": 2})
    for user in ("ann", "ben"):
        clients.append(await joined_client(server.url, server.token("cap", user)))
    late = await SignalClient.connect(server.url)
    clients.append(late)
    await late.send(Join(req=1, token=server.token("cap", "cat")))
    assert (await late.expect(Error, req=1)).code == ErrorCode.ROOM_FULL


async def test_full_room_snapshot_stays_within_the_documented_bound(
        make_server: MakeServer, clients: list[SignalClient]) -> None:
    """The joined snapshot of a full room of worst-case members (longest user data, most
    tracks, longest tags, all of characters JSON spells in six bytes) stays within the
    largest frame the server computes; the default bound is the one docs/protocol.md gives."""
    server = await make_server(limits={"max_room_members": 4, "max_tracks_per_member": 16})
    worst = "\x01"
    limits = server.config.limits
    spec = TrackSpec("audio", tag=worst * limits.max_tag_bytes,
                     media_id=worst * limits.max_tag_bytes)
    for i in range(limits.max_room_members - 1):
        member = await joined_client(server.url, server.token("big", f"u{i:0>49}"),
                                     user_data=worst * limits.max_user_data_bytes)
        clients.append(member)
        await member.send(Publish(req=2, tracks=(spec,) * limits.max_tracks_per_member))
        await member.wait_for(Published, req=2)
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(server.url + SIGNAL_PATH, max_msg_size=0)
        await ws.send_str(serialize(Join(req=1, token=server.token("big", "z" * 50))))
        text = await ws.receive_str(timeout=5.0)
        await ws.close()
    snapshot = json.loads(text)  # parse() caps frames at MAX_FRAME_BYTES: this one is larger
    assert snapshot["type"] == "joined" and len(snapshot["members"]) == 3
    size, bound = len(text.encode()), largest_server_frame(server.config)
    # The bound holds, and is close: the rest is the joiner's own tracks, which only a
    # resume's answer carries.
    assert 0.75 * bound < size <= bound
    assert f"{largest_server_frame(ServerConfig()):,} bytes" in DOCS.read_text()


# --- the handshake ---------------------------------------------------------------------------


async def test_compression_is_off_by_default(room_server: RoomServer) -> None:
    """A client asking for permessage-deflate gets an uncompressed connection by default."""
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(room_server.url + SIGNAL_PATH, compress=15)
        assert ws.compress == 0
        await ws.send_str(serialize(Join(req=1, token=room_server.token("zip", "zed"))))
        assert isinstance(parse(await ws.receive_str(timeout=5.0)), Joined)
        await ws.close()


async def test_reset_during_handshake_logs_one_info_line(
        room_server: RoomServer, pair: Pair, caplog: pytest.LogCaptureFixture) -> None:
    """A TCP reset in the middle of the WebSocket handshake is one INFO line, not an ERROR
    traceback; the server goes on."""
    with caplog.at_level(logging.DEBUG):
        for _ in range(20):
            sock = tcp_socket(room_server.url, blocking=True)
            sock.sendall(upgrade_request(room_server.url))
            reset(sock)
        await pair.check()
        await until(lambda: any("handshake" in r.getMessage() for r in caplog.records))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    handshake = [r for r in caplog.records if "handshake" in r.getMessage()]
    assert all(r.levelno == logging.INFO and r.exc_info is None and "\n" not in r.getMessage()
               for r in handshake)


async def test_resume_counts_only_once_its_answer_is_delivered(
        room_server: RoomServer, clients: list[SignalClient],
        caplog: pytest.LogCaptureFixture) -> None:
    """A resume whose ``joined`` answer never reaches the client (it stops reading) leaves the
    seat as it was: others see no reconnect, and a later resume still takes the seat back."""
    worst = "\x01"
    limits = room_server.config.limits
    spec = TrackSpec("audio", tag=worst * limits.max_tag_bytes,
                     media_id=worst * limits.max_tag_bytes)
    observer = await joined_client(room_server.url, room_server.token("ghost", "olga"))
    clients.append(observer)
    token = room_server.token("ghost", "rita")
    rita = await joined_client(room_server.url, token)
    assert rita.joined is not None
    session_id = rita.joined.session_id
    members = []
    for i in range(12):
        members.append(await joined_client(room_server.url,
                                           room_server.token("ghost", f"m{i:02}")))
    clients.extend(members)
    for member in members:  # a snapshot of about 300 KB: more than the socket buffers take
        await member.send(Publish(req=2, tracks=(spec,) * limits.max_tracks_per_member))
        await member.wait_for(Published, req=2)
    await rita.close()
    await observer.wait_for(UserReconnecting, user_id="rita")
    stuck = await RawWebSocket.open(room_server.url, rcvbuf=4096)  # and never reads
    # The server's side of it takes little too, as a congested link would: the kernel would
    # otherwise grow its send buffer past the whole snapshot on loopback.
    assert room_server.admission is not None
    server_side = room_server.admission.transports[-1].get_extra_info("socket")
    server_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    try:
        with caplog.at_level(logging.INFO, logger="roomcall.server.signalling"):
            stuck.send(serialize(Resume(req=1, token=token, session_id=session_id)))
            # The server gives up on delivering the answer and drops the connection.
            await until(lambda: any("not delivered" in r.getMessage()
                                    for r in caplog.records), within=12.0)
    finally:
        stuck.close()
    async with aiohttp.ClientSession() as session:
        again = await session.ws_connect(room_server.url + SIGNAL_PATH, max_msg_size=0)
        await again.send_str(serialize(Resume(req=1, token=token, session_id=session_id)))
        answer = json.loads(await again.receive_str(timeout=5.0))  # over parse()'s cap
        await again.close()
    assert (answer["type"], answer["resumed"]) == ("joined", True)
    reconnected = await observer.wait_for(UserReconnected, user_id="rita")
    assert reconnected == UserReconnected("rita")
    assert not any(isinstance(m, UserReconnected) for m in observer.skipped)

