"""Client SDK latency on loopback: join, message round trip, kick, and reconnection.

``roomcall serve`` runs in its own process; this process drives it with RTCClient (signalling
only, ``media=False``). Each figure is printed beside a baseline measured in the same run, so
the SDK's own cost shows:

- join: ``await client.join(token)`` until CONNECTED; baseline: a bare aiohttp WebSocket
  sending ``join`` and reading ``joined``.
- message round trip: A sends to B, B's handler answers, until A's handler sees the answer;
  baseline: the same exchange between two bare WebSockets. Paced at 25 ms so the server's
  rate limit (50 frames/s per connection) never interferes.
- kick: Qiniu's ``RtcServer.kick_user`` called until the target's state is DISCONNECTED /
  KICKED_OUT; baseline: until the management call returns.
- cut -> RECONNECTED: a TCP proxy between client and server drops the connection; until the
  client's state is RECONNECTED (default backoff: the first attempt is immediate).

    .venv/bin/python bench/sdk_latency.py                 # about 15 s
    .venv/bin/python bench/sdk_latency.py --samples 50    # quicker
    .venv/bin/python bench/sdk_latency.py --update-doc    # also rewrite the "## Client SDK"
                                                          # section of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from qiniu import QiniuMacAuth  # noqa: E402
from qiniu.services.pili.rtc_server_manager import RtcServer  # noqa: E402

from bench.doc_section import update_section  # noqa: E402
from roomcall.protocol.messages import SIGNAL_PATH, Join, SendMessage, serialize  # noqa: E402
from roomcall.protocol.token import RoomAccess, sign_room_token  # noqa: E402
from roomcall.sdk import ConnectionState, Message, RTCClient  # noqa: E402

ACCESS_KEY = "bench-access-key"
SECRET_KEY = "bench-secret-key"
TARGETS_MS = {"join": 15.0, "message round trip": 5.0, "kick": 20.0}
"""p50 targets (issue 3)."""
PACE = 0.025
START_TIMEOUT = 30.0
STEP_TIMEOUT = 10.0


class ServerProcess:
    """``python -m app serve`` on a free port, with known keys."""

    def __init__(self, proc: asyncio.subprocess.Process, url: str, app_id: str) -> None:
        self.proc = proc
        self.url = url
        self.http_url = "http://" + url.removeprefix("ws://")
        self.app_id = app_id

    @classmethod
    async def start(cls, data_dir: Path) -> ServerProcess:
        """Start the server and read its banner (URL, default app id)."""
        env = {**os.environ, "ROOMCALL_ACCESS_KEY": ACCESS_KEY,
               "ROOMCALL_SECRET_KEY": SECRET_KEY, "PYTHONUNBUFFERED": "1"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "roomcall", "serve", "--port", "0", "--data-dir", str(data_dir),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL, cwd=ROOT, env=env)
        banner: dict[str, str] = {}
        assert proc.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            while "Signalling" not in banner:
                line = (await proc.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"server exited with {await proc.wait()}")
                name, _, value = line.partition(":")
                banner[name.strip()] = value.strip()
        return cls(proc, banner["Signalling"], banner["Default app id"])

    def token(self, room: str, user: str, admin: bool = False) -> str:
        """A RoomToken for the default app, valid for an hour."""
        access = RoomAccess(self.app_id, room, user, int(time.time()) + 3600,
                            "admin" if admin else "user")
        return sign_room_token(ACCESS_KEY, SECRET_KEY, access)

    async def stop(self) -> None:
        """Stop the server (SIGINT stops ``roomcall serve`` cleanly)."""
        if self.proc.returncode is None:
            self.proc.send_signal(2)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


class Proxy:
    """A TCP forwarder whose connections can be dropped at once (``cut``)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        """Listen on a free port; the URL clients use."""
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def cut(self) -> None:
        """Close every forwarded connection."""
        for writer in self.writers:
            writer.close()
        self.writers.clear()

    async def stop(self) -> None:
        """Close everything."""
        self.cut()
        if self.server is not None:
            self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        dst.close()


# --- measurements (each returns seconds per sample) -----------------------------------------


async def sdk_join(server: ServerProcess, n: int) -> list[float]:
    """join() until CONNECTED, then leave, n times."""
    out = []
    client = RTCClient(server.url, media=False)
    for i in range(n):
        token = server.token("bench_join", f"user{i}")
        t0 = time.perf_counter()
        await client.join(token)
        out.append(time.perf_counter() - t0)
        await client.leave()
    return out


async def raw_join(server: ServerProcess, n: int) -> list[float]:
    """A bare WebSocket: connect, join, read joined, n times."""
    out = []
    async with aiohttp.ClientSession() as session:
        for i in range(n):
            token = server.token("bench_join", f"raw{i}")
            t0 = time.perf_counter()
            async with session.ws_connect(server.url + SIGNAL_PATH) as ws:
                await ws.send_str(serialize(Join(req=1, token=token)))
                await ws.receive_str()
                out.append(time.perf_counter() - t0)
    return out


async def sdk_message(server: ServerProcess, n: int) -> list[float]:
    """A -> B, B answers -> A, through two RTCClients' send_message and handlers."""
    a, b = RTCClient(server.url, media=False), RTCClient(server.url, media=False)
    answers: asyncio.Queue[float] = asyncio.Queue()

    async def echo(message: Message) -> None:
        await b.send_message(message.content, [message.user_id])

    b.on("message_received", echo)
    a.on("message_received", lambda message: answers.put_nowait(time.perf_counter()))
    await a.join(server.token("bench_msg", "alice"))
    await b.join(server.token("bench_msg", "bob"))
    out = []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            await a.send_message(str(i), ["bob"])
            out.append(await asyncio.wait_for(answers.get(), STEP_TIMEOUT) - t0)
            await asyncio.sleep(PACE)  # pacing below the server's rate limit
    finally:
        await a.leave()
        await b.leave()
    return out


async def raw_message(server: ServerProcess, n: int) -> list[float]:
    """The same exchange between two bare WebSockets (no SDK)."""
    out = []
    async with aiohttp.ClientSession() as session:
        wa = await session.ws_connect(server.url + SIGNAL_PATH)
        wb = await session.ws_connect(server.url + SIGNAL_PATH)
        await wa.send_str(serialize(Join(req=1, token=server.token("bench_raw", "alice"))))
        await wa.receive_str()
        await wb.send_str(serialize(Join(req=1, token=server.token("bench_raw", "bob"))))
        await wb.receive_str()

        async def until_type(ws: aiohttp.ClientWebSocketResponse, kind: str) -> None:
            while json.loads(await ws.receive_str())["type"] != kind:
                pass

        for i in range(n):
            t0 = time.perf_counter()
            await wa.send_str(serialize(SendMessage(req=i + 2, content=str(i),
                                                    user_ids=("bob",))))
            await until_type(wb, "message")
            await wb.send_str(serialize(SendMessage(req=i + 2, content=str(i),
                                                    user_ids=("alice",))))
            await until_type(wa, "message")
            out.append(time.perf_counter() - t0)
            await asyncio.sleep(PACE)
        await wa.close()
        await wb.close()
    return out


async def kick(server: ServerProcess, n: int) -> tuple[list[float], list[float]]:
    """Management kick until the target is KICKED_OUT, and until the call returns."""
    api = RtcServer(QiniuMacAuth(ACCESS_KEY, SECRET_KEY))
    api.host = server.http_url
    stay = RTCClient(server.url, media=False)  # keeps the room open between kicks
    await stay.join(server.token("bench_kick", "host"))
    target = RTCClient(server.url, media=False)
    kicked_at: asyncio.Queue[float] = asyncio.Queue()
    target.on("connection_state_changed", lambda state, info: kicked_at.put_nowait(
        time.perf_counter()) if state is ConnectionState.DISCONNECTED else None)
    to_state, to_return = [], []
    try:
        for _ in range(n):
            await target.join(server.token("bench_kick", "guest"))
            t0 = time.perf_counter()
            _, info = await asyncio.to_thread(api.kick_user, server.app_id, "bench_kick", "guest")
            returned = time.perf_counter()
            if info.status_code != 200:
                raise RuntimeError(f"kick failed: {info}")
            to_state.append(await asyncio.wait_for(kicked_at.get(), STEP_TIMEOUT) - t0)
            to_return.append(returned - t0)
            assert target.disconnect_info is not None
            assert target.disconnect_info.reason.name == "KICKED_OUT"
    finally:
        await stay.leave()
        await target.leave()
    return to_state, to_return


async def cut(server: ServerProcess, n: int) -> list[float]:
    """Drop the client's TCP connection until it is RECONNECTED."""
    proxy = Proxy(int(server.url.rsplit(":", 1)[1]))
    url = await proxy.start()
    client = RTCClient(url, media=False)
    back: asyncio.Queue[float] = asyncio.Queue()
    client.on("connection_state_changed", lambda state, info: back.put_nowait(
        time.perf_counter()) if state is ConnectionState.RECONNECTED else None)
    await client.join(server.token("bench_cut", "alice"))
    out = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            proxy.cut()
            out.append(await asyncio.wait_for(back.get(), STEP_TIMEOUT) - t0)
    finally:
        await client.leave()
        await proxy.stop()
    return out


# --- report -----------------------------------------------------------------------------------


def pct(samples: list[float], q: float) -> float:
    """The q-th percentile in milliseconds (nearest rank)."""
    ordered = sorted(samples)
    return 1000 * ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def row(name: str, samples: list[float], baseline: tuple[str, list[float]] | None) -> str:
    """One Markdown table row: figure, baseline, target and verdict."""
    p50, p99 = pct(samples, 50), pct(samples, 99)
    base = f"{baseline[0]}: {pct(baseline[1], 50):.2f} / {pct(baseline[1], 99):.2f}" \
        if baseline else "-"
    target = TARGETS_MS.get(name)
    verdict = "-" if target is None else ("PASS" if p50 <= target else "FAIL")
    goal = "-" if target is None else f"p50 <= {target:g}"
    return f"| {name} | {len(samples)} | {p50:.2f} / {p99:.2f} | {base} | {goal} | {verdict} |"


async def run(samples: int) -> tuple[list[str], bool]:
    """Every measurement against a fresh server; the table rows and whether all targets pass."""
    with tempfile.TemporaryDirectory() as tmp:
        server = await ServerProcess.start(Path(tmp))
        try:
            steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
                ("raw join", lambda: raw_join(server, 20)),  # warm-up: imports, caches
                ("raw join", lambda: raw_join(server, samples)),
                ("join", lambda: sdk_join(server, samples)),
                ("raw message", lambda: raw_message(server, samples)),
                ("message round trip", lambda: sdk_message(server, samples)),
                ("kick", lambda: kick(server, max(10, samples // 2))),
                ("cut", lambda: cut(server, max(10, samples // 2))),
            ]
            results: dict[str, Any] = {}
            for name, step in steps:
                results[name] = await step()
        finally:
            await server.stop()
    kick_state, kick_return = results["kick"]
    rows = [
        row("join", results["join"], ("bare WebSocket join", results["raw join"])),
        row("message round trip", results["message round trip"],
            ("bare WebSockets", results["raw message"])),
        row("kick", kick_state, ("management call returns", kick_return)),
        row("cut -> RECONNECTED", results["cut"], None),
    ]
    ok = all("FAIL" not in r for r in rows)
    return rows, ok


def update_doc(text: str) -> None:
    """Replace (or add) the ``## Client SDK`` section of docs/benchmarks.md."""
    update_section("## Client SDK", text)


def main() -> int:
    """Run, print the table, optionally update the docs; exit 1 if a target fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=100, help="samples per figure")
    parser.add_argument("--update-doc", action="store_true",
                        help='rewrite the "## Client SDK" section of docs/benchmarks.md')
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows, ok = asyncio.run(run(args.samples))
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    header = ["| measure | samples | p50 / p99 ms | baseline p50 / p99 ms | target | result |",
              "|---|---|---|---|---|---|"]
    table = "\n".join(header + rows)
    print(table)
    print("all targets met" if ok else "TARGET MISSED", f"({load})")
    if args.update_doc:
        machine = (f"{platform.machine()}, {os.cpu_count()} cores shared with other work, "
                   f"Python {platform.python_version()}, {load}")
        update_doc(
            "## Client SDK\n\n"
            f"`.venv/bin/python bench/sdk_latency.py --samples {args.samples}` "
            f"({time.strftime('%Y-%m-%d')}, {machine}; server in its own process, loopback):\n\n"
            f"{table}\n\n"
            "Join is measured from the call to CONNECTED; the message round trip from A's "
            "`send_message` to A's handler seeing B's answer; kick from Qiniu's "
            "`RtcServer.kick_user` call to the target's DISCONNECTED / KICKED_OUT; cut from "
            "dropping the TCP connection to RECONNECTED (default backoff).\n"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
