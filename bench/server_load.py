"""Room server load: joins, join latency, message fan-out, memory and CPU per member.

``roomcall serve`` runs in a separate process; this process drives it over loopback with many
WebSocket clients speaking ``app/protocol/messages.py``. The clients are a minimal asyncio
protocol (no parsing beyond a frame's type prefix) so that they cost less than the server they
measure. The same load first runs against a raw aiohttp fan-out server (no rooms, tokens or
JSON: it forwards each frame, encoded once, straight to the other sockets of its room) as the
ceiling of aiohttp and asyncio on this machine.

    .venv/bin/python bench/server_load.py                  # the full run (about a minute)
    .venv/bin/python bench/server_load.py --members 200 --rooms 20 --idle-seconds 3
    .venv/bin/python bench/server_load.py --update-doc     # also rewrite docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from roomcall.protocol.messages import SIGNAL_PATH, Heartbeat, Join, Leave, serialize  # noqa: E402
from roomcall.protocol.token import RoomAccess, sign_room_token  # noqa: E402

ACCESS_KEY = "bench-access-key"
SECRET_KEY = "bench-secret-key"
TARGETS = {
    "joins_per_s": (">=", 1000.0),
    "join_p99_ms": ("<", 50.0),
    "deliveries_per_s": (">=", 20000.0),
    "rss_kb_per_member": ("<=", 30.0),
    "idle_cpu_pct": ("<", 10.0),
}
_START_TIMEOUT = 30.0
_STEP_TIMEOUT = 30.0  # bound on any single wait for the server


# --- WebSocket frames (RFC 6455), just what this benchmark needs ----------------------------


def _frame(payload: bytes, opcode: int = 0x1, masked: bool = False) -> bytes:
    """One final frame. Clients must mask; the all-zero key is valid and leaves the payload
    as it is, so masking costs nothing here."""
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head = bytes((0x80 | opcode, mask_bit | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, mask_bit | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, mask_bit | 127)) + n.to_bytes(8, "big")
    return head + (b"\0\0\0\0" if masked else b"") + payload


_MESSAGE = (b'{"type":"message"', b'{"type":"send_message"')
_ACK = b'{"type":"ack"'
_JOINED = b'{"type":"joined"'
_FAILED = (b'{"type":"error"', b'{"type":"closed"')


@dataclass
class Counters:
    """What every client of a crowd has seen."""

    deliveries: int = 0
    errors: list[bytes] = field(default_factory=list)
    unexpected_closes: int = 0


# One receive buffer for every client: asyncio reads into it and hands the bytes straight to
# the client's own buffer (one event loop, so no two reads overlap). A plain Protocol would
# allocate a 256 KiB bytes object per read (mmap, mremap and munmap calls each time), which
# made the clients cost almost as much CPU as the server they measure.
_RECV = memoryview(bytearray(256 * 1024))


class Client(asyncio.BufferedProtocol):
    """One signalling connection: sends text frames, counts what arrives by type prefix."""

    def __init__(self, counters: Counters) -> None:
        loop = asyncio.get_running_loop()
        self.counters = counters
        self.transport: asyncio.Transport | None = None
        self.upgraded: asyncio.Future[None] = loop.create_future()
        self.joined: asyncio.Future[bytes] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.joined_at = 0.0
        self.acks = 0
        self.ack_event = asyncio.Event()
        self.leaving = False
        self._buf = bytearray()

    @classmethod
    async def connect(cls, url: str, counters: Counters) -> Client:
        """Open a WebSocket to ``url`` (``ws://host:port/path?query``)."""
        parts = urlsplit(url)
        loop = asyncio.get_running_loop()
        _, client = await loop.create_connection(lambda: cls(counters),
                                                 parts.hostname or "127.0.0.1", parts.port or 80)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        client.write(
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: cm9vbWNhbGwtYmVuY2gtMQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        await asyncio.wait_for(client.upgraded, _STEP_TIMEOUT)
        return client

    def send(self, text: str) -> None:
        """Send one text frame."""
        self.write(_frame(text.encode(), masked=True))

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        """Send a close frame and drop the connection."""
        self.leaving = True
        self.write(_frame((1000).to_bytes(2, "big"), opcode=0x8, masked=True))
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.leaving:
            self.counters.unexpected_closes += 1
        if not self.closed.done():
            self.closed.set_result(None)
        for future in (self.upgraded, self.joined):
            if not future.done():
                future.set_exception(ConnectionError("connection lost"))
                future.exception()  # seen here; whoever awaits it still gets the error

    def get_buffer(self, sizehint: int) -> memoryview:
        return _RECV

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(_RECV[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        buf = self._buf
        buf += data
        pos = 0
        if not self.upgraded.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in buf[:buf.find(b"\r\n")]:
                self.upgraded.set_exception(ConnectionError(bytes(buf[:end]).decode()))
                return
            self.upgraded.set_result(None)
            pos = end + 4
        size = len(buf)
        while size - pos >= 2:
            opcode, n = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
            start = pos + {126: 4, 127: 10}.get(n, 2)
            if n >= 126:
                n = int.from_bytes(buf[pos + 2:start], "big")
            if size < start + n:  # also when the length field itself is incomplete
                break
            payload = bytes(buf[start:start + n])  # server frames are never masked
            pos = start + n
            if opcode == 0x1:
                self._on_text(payload)
            elif opcode == 0x9:
                self.write(_frame(payload, opcode=0xA, masked=True))
            elif opcode == 0x8 and self.transport is not None:
                self.transport.close()
        del buf[:pos]

    def _on_text(self, payload: bytes) -> None:
        if payload.startswith(_MESSAGE):
            self.counters.deliveries += 1
        elif payload.startswith(_ACK):
            self.acks += 1
            self.ack_event.set()
        elif payload.startswith(_JOINED):
            if not self.joined.done():
                self.joined_at = time.perf_counter()
                self.joined.set_result(payload)
        elif payload.startswith(_FAILED):
            self.counters.errors.append(payload[:200])


# --- the servers under test -----------------------------------------------------------------


class ServerProcess:
    """A server in its own process: URL, app id, and psutil's view for RSS and CPU."""

    def __init__(self, args: list[str], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "ROOMCALL_ACCESS_KEY": ACCESS_KEY,
               "ROOMCALL_SECRET_KEY": SECRET_KEY, "PYTHONUNBUFFERED": "1"}
        self._log = (workdir / "server.log").open("w")
        self._proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                                      stderr=self._log, stdin=subprocess.DEVNULL, text=True,
                                      cwd=ROOT, env=env)
        banner = self._read_banner()
        self.url = banner["Signalling"]
        self.app_id = banner.get("Default app id", "raw")
        self.ps = psutil.Process(self._proc.pid)

    def _read_banner(self) -> dict[str, str]:
        """``Name: value`` lines up to the Signalling URL, as ``roomcall serve`` prints."""
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()  # raw reads: a buffered reader would hide lines
        text = ""
        deadline = time.monotonic() + _START_TIMEOUT
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while "\nSignalling:" not in "\n" + text or not text.endswith("\n"):
                if not sel.select(max(0.0, deadline - time.monotonic())):
                    self.stop()
                    raise RuntimeError(f"no server URL within {_START_TIMEOUT:.0f} s")
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError(f"server exited with {self._proc.wait()}: {text}")
                text += chunk.decode()
        return {name.strip(): value.strip() for name, _, value in
                (line.partition(":") for line in text.splitlines())}

    def rss(self) -> int:
        """Resident memory in bytes."""
        return int(self.ps.memory_info().rss)

    def cpu_seconds(self) -> float:
        """User plus system CPU time so far."""
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        """SIGINT (``roomcall serve`` stops cleanly on it); kill if it lingers."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()


async def _run_raw_server() -> None:
    """The raw baseline: aiohttp reads and upgrades; fan-out writes one pre-encoded frame to
    each other socket's transport; every other frame gets a one-line ack."""
    from aiohttp import WSMsgType, web

    rooms: dict[str, set[asyncio.Transport]] = {}
    ack = _frame(b'{"type":"ack","req":0}')

    async def handle(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        me = request.transport
        assert isinstance(me, asyncio.Transport)
        room = rooms.setdefault(request.query.get("room", ""), set())
        room.add(me)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data.startswith('{"type":"send_message"'):
                    out = _frame(msg.data.encode())
                    for other in room:
                        if other is not me:
                            other.write(out)
                    me.write(ack)
                elif msg.data.startswith('{"type":"join"'):
                    me.write(_frame(b'{"type":"joined","heartbeat_interval":5.0}'))
                else:
                    me.write(ack)
        finally:
            room.discard(me)
        return ws

    app = web.Application()
    app.router.add_get(SIGNAL_PATH, handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(f"Signalling: ws://127.0.0.1:{runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await runner.cleanup()


# --- load -------------------------------------------------------------------------------------


class Crowd:
    """Many clients in this process: join, heartbeat, send messages, leave."""

    def __init__(self, server: ServerProcess, concurrency: int) -> None:
        self.server = server
        self.concurrency = concurrency
        self.counters = Counters()
        self.clients: list[Client] = []
        self.heartbeat_interval = 5.0

    async def join(self, seats: list[tuple[str, str]]) -> tuple[float, list[float]]:
        """Join every (room, user) seat, ``concurrency`` at a time; the wall time and each
        join's latency (``join`` sent to ``joined`` received), in seconds."""
        expire = int(time.time()) + 3600
        frames = [serialize(Join(req=1, token=sign_room_token(
            ACCESS_KEY, SECRET_KEY, RoomAccess(self.server.app_id, room, user, expire))))
            for room, user in seats]
        latencies: list[float] = []
        gate = asyncio.Semaphore(self.concurrency)

        async def one(index: int) -> None:
            url = f"{self.server.url}{SIGNAL_PATH}?room={seats[index][0]}"
            async with gate:
                client = await Client.connect(url, self.counters)
                self.clients.append(client)
                sent = time.perf_counter()
                client.send(frames[index])
                snapshot = await asyncio.wait_for(client.joined, _STEP_TIMEOUT)
                latencies.append(client.joined_at - sent)
            if index == 0:
                self.heartbeat_interval = json.loads(snapshot)["heartbeat_interval"]

        start = time.perf_counter()
        async with asyncio.TaskGroup() as group:  # the first failure cancels the rest
            for i in range(len(seats)):
                group.create_task(one(i))
        return time.perf_counter() - start, latencies

    async def heartbeat(self, seconds: float) -> None:
        """Every client sends a heartbeat each interval, spread evenly over the interval."""
        loop = asyncio.get_running_loop()
        n, interval = len(self.clients), self.heartbeat_interval
        frame = serialize(Heartbeat(req=1))
        start, sent = loop.time(), 0
        while (now := loop.time()) < start + seconds:
            due = int((now - start) * n / interval) + 1
            while sent < due:
                self.clients[sent % n].send(frame)
                sent += 1
            # the next heartbeat is due at a known time: a schedule, not a wait for an event
            await asyncio.sleep(max(0.0, start + sent * interval / n - loop.time()))

    async def send_messages(self, seconds: float, warmup: float, window: int,
                            content: str) -> float:
        """Every client sends messages to all others in its room with at most ``window``
        unanswered, for ``warmup + seconds``; deliveries per second over the last ``seconds``."""
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + warmup + seconds
        body = json.dumps(content)

        async def acked(client: Client, sent: int, most: int) -> None:
            while sent - client.acks > most:
                client.ack_event.clear()
                await asyncio.wait_for(client.ack_event.wait(), _STEP_TIMEOUT)

        async def sender(client: Client) -> None:
            sent = 0
            while loop.time() < stop_at:
                await acked(client, sent, window - 1)
                sent += 1
                client.send(f'{{"type":"send_message","req":{sent},"content":{body}}}')
            await acked(client, sent, 0)

        async def measure() -> float:
            await asyncio.sleep(warmup)  # a schedule: the measured window starts here
            first, t0 = self.counters.deliveries, time.perf_counter()
            await asyncio.sleep(seconds)
            return (self.counters.deliveries - first) / (time.perf_counter() - t0)

        rate = asyncio.ensure_future(measure())
        await asyncio.gather(rate, *(sender(c) for c in self.clients))
        return rate.result()

    async def leave(self, raw: bool) -> None:
        """Every client leaves (the room server then closes the socket) and disconnects."""
        frame = serialize(Leave(req=1))
        for client in self.clients:
            client.leaving = True
            if not raw:
                client.send(frame)
        if not raw:
            closes = [asyncio.shield(c.closed) for c in self.clients]
            await asyncio.wait(closes, timeout=_STEP_TIMEOUT)
        for client in self.clients:
            client.close()
        self.clients.clear()


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Figures:
    """One server's results."""

    joins_per_s: float = 0.0
    join_p50_ms: float = 0.0
    join_p99_ms: float = 0.0
    server_ms_per_join: float = 0.0
    client_ms_per_join: float = 0.0
    deliveries_per_s: float = 0.0
    rss_empty_mb: float = 0.0
    rss_kb_per_member: float = 0.0
    idle_cpu_pct: float = 0.0
    empty_cpu_pct: float = 0.0
    errors: list[bytes] = field(default_factory=list)
    unexpected_closes: int = 0


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _seats(members: int, rooms: int, prefix: str) -> list[tuple[str, str]]:
    """Member i sits in room i mod rooms, so every room fills at the same pace."""
    return [(f"{prefix}{i % rooms:04d}", f"user{i:05d}") for i in range(members)]


async def _cpu_pct(server: ServerProcess, during: Callable[[], Awaitable[object]]) -> float:
    """The server's CPU use in % of one core while ``during()`` runs."""
    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    await during()
    return 100 * (server.cpu_seconds() - cpu0) / (time.perf_counter() - t0)


_SELF = str(Path(__file__).resolve())


async def _measure(raw: bool, args: argparse.Namespace, workdir: Path) -> Figures:
    if raw:
        server = ServerProcess([_SELF, "--raw-server"], workdir / "raw")
    else:
        config = workdir / "room.toml"
        # Every client of this benchmark comes from 127.0.0.1: lift the per-address cap.
        config.write_text("[limits]\nmax_connections_per_address = 0\n")
        server = ServerProcess(["-m", "roomcall", "serve", "--port", "0", "--data-dir",
                                str(workdir / "room" / "data"), "--config", str(config)],
                               workdir / "room")
    figures = Figures()
    try:
        figures.empty_cpu_pct = await _cpu_pct(
            server, lambda: asyncio.sleep(args.empty_seconds))
        rss_empty = server.rss()
        figures.rss_empty_mb = rss_empty / 2**20

        crowd = Crowd(server, args.concurrency)
        cpu0, mine0 = server.cpu_seconds(), _own_cpu_seconds()
        elapsed, latencies = await crowd.join(_seats(args.members, args.rooms, "room"))
        figures.server_ms_per_join = 1000 * (server.cpu_seconds() - cpu0) / args.members
        figures.client_ms_per_join = 1000 * (_own_cpu_seconds() - mine0) / args.members
        figures.joins_per_s = args.members / elapsed
        figures.join_p50_ms = 1000 * statistics.median(latencies)
        figures.join_p99_ms = 1000 * statistics.quantiles(latencies, n=100)[98]
        figures.idle_cpu_pct = await _cpu_pct(server, lambda: crowd.heartbeat(args.idle_seconds))
        figures.rss_kb_per_member = (server.rss() - rss_empty) / 1024 / args.members
        await crowd.leave(raw)

        talkers = Crowd(server, args.concurrency)
        await talkers.join(_seats(args.room_size * args.talk_rooms, args.talk_rooms, "talk"))
        figures.deliveries_per_s = await talkers.send_messages(
            args.delivery_seconds, 1.0, args.window, "x" * args.content_bytes)
        await talkers.leave(raw)
        for c in (crowd.counters, talkers.counters):
            figures.errors += c.errors
            figures.unexpected_closes += c.unexpected_closes
    finally:
        server.stop()
    return figures


_EXPLAINED = [
    "- Join latency: `join` frame sent to `joined` received (the WebSocket handshake before "
    "it is not included); joins per second count the handshake too.",
    "- CPU per join: the process's CPU time over the join phase divided by the joins; it does "
    "not depend on what else the machine runs, unlike the wall-clock rates.",
    "- RSS per idle member: (RSS after the heartbeat phase - RSS with no members) / members.",
    "- raw aiohttp: the same clients against an aiohttp server that forwards each frame, "
    "encoded once, to the other sockets of its room and answers everything else with a fixed "
    "ack: what aiohttp and asyncio cost before any room logic.",
]


def _verdict(key: str, value: float) -> tuple[str, str]:
    op, target = TARGETS[key]
    ok = {">=": value >= target, "<": value < target, "<=": value <= target}[op]
    return f"{op} {target:,g}", "PASS" if ok else "FAIL"


def _table(args: argparse.Namespace, ours: Figures, raw: Figures | None) -> list[str]:
    rows: list[tuple[str, str | None, str, str]] = [
        ("joins per second", "joins_per_s", "joins_per_s", ",.0f"),
        ("join latency p50 (ms)", None, "join_p50_ms", ".1f"),
        ("join latency p99 (ms)", "join_p99_ms", "join_p99_ms", ".1f"),
        ("server CPU per join (ms)", None, "server_ms_per_join", ".2f"),
        ("client CPU per join (ms)", None, "client_ms_per_join", ".2f"),
        (f"deliveries per second (rooms of {args.room_size})", "deliveries_per_s",
         "deliveries_per_s", ",.0f"),
        ("RSS per idle member (KB)", "rss_kb_per_member", "rss_kb_per_member", ".1f"),
        ("CPU, members idle and heartbeating (% of a core)", "idle_cpu_pct", "idle_cpu_pct",
         ".1f"),
        ("CPU, no members (% of a core)", None, "empty_cpu_pct", ".1f"),
        ("RSS with no members (MB)", None, "rss_empty_mb", ".1f"),
    ]
    lines = ["| figure | roomcall | raw aiohttp | target | result |", "|---|---:|---:|---|---|"]
    for label, target_key, attr, fmt in rows:
        value = getattr(ours, attr)
        baseline = "-" if raw is None else format(getattr(raw, attr), fmt)
        target, verdict = _verdict(target_key, value) if target_key else ("", "")
        lines.append(f"| {label} | {value:{fmt}} | {baseline} | {target} | {verdict} |")
    return lines


_BEGIN, _END = "<!-- bench/server_load.py: begin -->", "<!-- bench/server_load.py: end -->"


def _update_doc(command: str, setup: str, table: list[str], notes: list[str]) -> Path:
    """Rewrite the generated part of the ``## Room server`` section of docs/benchmarks.md
    (adding the section if absent); text outside the markers is kept."""
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    block = "\n".join([_BEGIN, f"`{command}` ({time.strftime('%Y-%m-%d')}): {setup}", "",
                       *table, "", *notes, _END])
    if _BEGIN in text and _END in text:
        text = text[:text.index(_BEGIN)] + block + text[text.index(_END) + len(_END):]
    else:
        text = text.rstrip("\n") + "\n\n## Room server\n\n" + block + "\n"
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(text)
    return doc


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (needed if hard == resource.RLIM_INFINITY else min(needed, hard),
                            hard))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Room server load benchmark.")
    p.add_argument("--members", type=int, default=2000, help="members joining (2000)")
    p.add_argument("--rooms", type=int, default=200, help="rooms they join (200)")
    p.add_argument("--concurrency", type=int, default=16, help="joins in flight at once (16)")
    p.add_argument("--room-size", type=int, default=50, help="members per messaging room (50)")
    p.add_argument("--talk-rooms", type=int, default=4, help="messaging rooms (4)")
    p.add_argument("--window", type=int, default=2,
                   help="unanswered messages each sender may have (2)")
    p.add_argument("--content-bytes", type=int, default=64, help="message content size (64)")
    p.add_argument("--delivery-seconds", type=float, default=5.0)
    p.add_argument("--idle-seconds", type=float, default=10.0)
    p.add_argument("--empty-seconds", type=float, default=2.0,
                   help="seconds of CPU sampling with no members")
    p.add_argument("--no-raw", action="store_true", help="skip the raw aiohttp baseline")
    p.add_argument("--update-doc", action="store_true",
                   help="write the figures into docs/benchmarks.md (## Room server)")
    p.add_argument("--raw-server", action="store_true", help=argparse.SUPPRESS)
    return p


async def _main(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="roomcall-bench-") as tmp:
        raw = None
        if not args.no_raw:
            print("raw aiohttp fan-out baseline ...", flush=True)
            raw = await _measure(True, args, Path(tmp))
        print("roomcall serve ...", flush=True)
        ours = await _measure(False, args, Path(tmp))
    setup = (f"{args.members} members join {args.rooms} rooms, {args.concurrency} joins in "
             f"flight; {args.content_bytes}-byte messages to everyone in {args.talk_rooms} "
             f"rooms of {args.room_size}, {args.window} unanswered per sender; "
             f"{args.idle_seconds:g} s of heartbeats. {platform.python_implementation()} "
             f"{platform.python_version()}, {os.cpu_count()} cores shared with other work, "
             f"loopback, client and server in separate processes; load average "
             f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after.")
    table = _table(args, ours, raw)
    notes = [*_EXPLAINED, *(
        f"- {name}: {len(fig.errors)} error frames (first: {fig.errors[:2]}), "
        f"{fig.unexpected_closes} unexpected closes"
        for name, fig in (("roomcall", ours), ("raw", raw))
        if fig is not None and (fig.errors or fig.unexpected_closes))]
    print(setup, *table, *notes, sep="\n")
    if args.update_doc:
        command = " ".join([".venv/bin/python bench/server_load.py",
                            *(a for a in sys.argv[1:] if a != "--update-doc")])
        print(f"wrote {_update_doc(command, setup, table, notes)}")
    return 1 if ours.errors or ours.unexpected_closes else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.raw_server:
        asyncio.run(_run_raw_server())
        return 0
    # one socket per member here and in the server (children inherit the limit)
    _raise_fd_limit(2 * (args.members + args.room_size * args.talk_rooms) + 256)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
