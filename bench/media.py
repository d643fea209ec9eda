"""Media benchmark: encode once vs aiortc's one encoder per peer, latency, time to first frame.

One sender process publishes a 640x480@30 synthetic camera to N receivers that live in one
receiver process; the two talk over loopback and negotiate through a small JSON-lines socket
(standing in for the room server's relay). For each N in --peers and each mode:

- ``once``: our Mesh (app/sdk/mesh.py): one VP8 encode per frame, packets to every sender;
- ``relay``: aiortc's normal path, ``MediaRelay().subscribe(track)`` per peer connection, so
  every RTCRtpSender runs its own encoder.

Measured: sender CPU (% of one core, all threads) over the measurement window; video latency
p50/p95 from the send time embedded in the pattern; time from the start of negotiation to the
first decoded remote frame, per receiver.

    .venv/bin/python bench/media.py                  # the full run (about 70 s)
    .venv/bin/python bench/media.py --peers 4 --seconds 3 --warmup 1   # quick check
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from bench.link import SENDER, Link
from roomcall.media.drain import TrackDrain
from roomcall.media.synthetic import SyntheticVideoTrack, decode_pattern
from roomcall.sdk.mesh import Mesh

TARGET_CPU_RATIO = 0.4
TARGET_LATENCY_P50_MS = 50.0
TARGET_FIRST_FRAME_MS = 500.0


def _relay_to(link: Link, user_id: str) -> Any:
    async def send_relay(peer: str, data: dict[str, Any]) -> None:
        await link.send({"from": user_id, "to": peer, "data": data})

    return send_relay


class InOrder:
    """Hands relays to one mesh one at a time, in arrival order (as the SDK does)."""

    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            sender, data = await self.queue.get()
            await self.mesh.handle_relay(sender, data)


# --- receiver process ------------------------------------------------------------------


async def run_receiver(peers: int) -> None:
    """N receiving meshes; reports latencies and first-frame times when told to stop."""
    done = asyncio.Event()
    result: dict[str, Any] = {}

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = Link(reader, writer)
        ids = [f"b{i:02d}" for i in range(peers)]
        state: dict[str, Any] = {"t0": 0.0, "measure_from": float("inf"), "measure_to": 0.0}
        latencies: list[float] = []
        first: dict[str, float] = {}
        drains: list[TrackDrain] = []
        meshes: dict[str, InOrder] = {}
        for uid in ids:
            mesh = Mesh(uid, _relay_to(link, uid))

            def on_track(_user: str, track: MediaStreamTrack, uid: str = uid) -> None:
                def on_frame(frame: Any) -> None:
                    now = time.time() * 1000
                    first.setdefault(uid, now)
                    info = decode_pattern(frame)
                    if info is not None and state["measure_from"] <= now <= state["measure_to"]:
                        latencies.append(now - info.sent_at_ms)

                drain = TrackDrain(track, on_frame=on_frame)
                drain.start()
                drains.append(drain)

            mesh.on_track = on_track
            meshes[uid] = InOrder(mesh)
        async for message in link.messages():
            ctl = message.get("ctl")
            if ctl == "start":
                state["t0"] = message["t0"] * 1000
                for entry in meshes.values():
                    await entry.mesh.add_peer(SENDER)
            elif ctl == "measure":
                state["measure_from"] = message["from"] * 1000
                state["measure_to"] = message["to"] * 1000
            elif ctl == "stop":
                break
            elif message.get("to") in meshes:
                meshes[message["to"]].queue.put_nowait((message["from"], message["data"]))
        for entry in meshes.values():
            entry.task.cancel()
            await entry.mesh.close()
        for drain in drains:
            await drain.stop()
        result.update(
            latencies=latencies,
            first_frame_ms=[first[uid] - state["t0"] for uid in ids if uid in first],
        )
        await link.send({"ctl": "result", **result})
        writer.close()
        done.set()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    await done.wait()
    server.close()


# --- sender process --------------------------------------------------------------------


class RelayBaseline:
    """aiortc's normal path: MediaRelay, one RTCPeerConnection (and so one encoder) per peer.

    Speaks the mesh's offer/answer payloads so the receivers' meshes answer it unchanged.
    """

    def __init__(self, track: MediaStreamTrack, link: Link) -> None:
        self.relay = MediaRelay()
        self.track = track
        self.link = link
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.pc_ids: dict[str, str] = {}

    async def add_peer(self, user_id: str) -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pcs[user_id] = pc
        self.pc_ids[user_id] = uuid.uuid4().hex
        transceiver = pc.addTransceiver(self.relay.subscribe(self.track), direction="sendonly")
        vp8 = [c for c in RTCRtpSender.getCapabilities("video").codecs
               if c.mimeType.lower() in ("video/vp8", "video/rtx")]
        transceiver.setCodecPreferences(vp8)
        await pc.setLocalDescription(await pc.createOffer())
        await self.link.send({"from": SENDER, "to": user_id, "data": {
            "type": "offer", "sdp": pc.localDescription.sdp, "pc": self.pc_ids[user_id],
            "seq": 1, "slots": {}}})

    async def handle_relay(self, user_id: str, data: dict[str, Any]) -> None:
        pc = self.pcs.get(user_id)
        if pc is not None and data.get("type") == "answer" and pc.remoteDescription is None:
            await pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "answer"))

    async def close(self) -> None:
        await asyncio.gather(*(pc.close() for pc in self.pcs.values()))


def serve_relays(link: Link, endpoint: Mesh | RelayBaseline
                 ) -> tuple[asyncio.Future[dict[str, Any]], list[asyncio.Task[None]]]:
    """Hand the receiver's negotiation messages to ``endpoint`` in order, as they come over
    ``link``; the future gets the receiver's ``result`` message. Cancel the tasks when done."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    result: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def read() -> None:
        async for message in link.messages():
            if message.get("ctl") == "result":
                result.set_result(message)
            else:
                inbox.put_nowait(message)

    async def dispatch() -> None:
        while True:
            message = await inbox.get()
            await endpoint.handle_relay(message["from"], message["data"])

    return result, [asyncio.create_task(read()), asyncio.create_task(dispatch())]


async def run_sender(mode: str, peers: int, port: int, warmup: float, seconds: float) -> None:
    """Publish one synthetic camera to every receiver; print CPU and the receiver's results."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    link = Link(reader, writer)
    track = SyntheticVideoTrack("sender", width=640, height=480, fps=30)
    ids = [f"b{i:02d}" for i in range(peers)]
    endpoint: Mesh | RelayBaseline
    if mode == "once":
        endpoint = Mesh(SENDER, _relay_to(link, SENDER))
        await endpoint.add_local_track(track)
    else:
        endpoint = RelayBaseline(track, link)

    result, tasks = serve_relays(link, endpoint)
    await link.send({"ctl": "start", "t0": time.time()})
    for uid in ids:
        await endpoint.add_peer(uid)
    await asyncio.sleep(warmup)  # let every connection come up and settle
    wall0, cpu0 = time.time(), time.process_time()
    await link.send({"ctl": "measure", "from": wall0, "to": wall0 + seconds})
    await asyncio.sleep(seconds)  # the measurement window itself
    wall1, cpu1 = time.time(), time.process_time()
    await link.send({"ctl": "stop"})
    received = await asyncio.wait_for(result, 30)
    await endpoint.close()
    for task in tasks:
        task.cancel()
    writer.close()
    print(json.dumps({
        "mode": mode, "peers": peers,
        "cpu": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "latencies": received["latencies"], "first_frame_ms": received["first_frame_ms"],
    }), flush=True)


# --- orchestration ---------------------------------------------------------------------


def _run_case(mode: str, peers: int, args: argparse.Namespace) -> dict[str, Any]:
    me = [sys.executable, __file__]
    receiver = subprocess.Popen([*me, "--role", "receiver", "--peers", str(peers)],
                                stdout=subprocess.PIPE, text=True)
    assert receiver.stdout is not None
    port = json.loads(receiver.stdout.readline())["port"]
    sender = subprocess.run(
        [*me, "--role", "sender", "--mode", mode, "--peers", str(peers), "--port", str(port),
         "--warmup", str(args.warmup), "--seconds", str(args.seconds)],
        stdout=subprocess.PIPE, text=True, check=True, timeout=120,
    )
    receiver.wait(timeout=30)
    return dict(json.loads(sender.stdout.strip().splitlines()[-1]))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def orchestrate(args: argparse.Namespace) -> int:
    peer_counts = [int(p) for p in args.peers.split(",")]
    started = time.monotonic()
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for peers in peer_counts:
        for mode in ("once", "relay"):
            rows[mode, peers] = _run_case(mode, peers, args)
    print(f"\nmedia bench: 640x480@30 synthetic camera, {args.seconds:g} s windows after "
          f"{args.warmup:g} s warm-up, sender and receivers in separate processes")
    print(f"{'peers':>5} | {'encode once CPU':>15} | {'MediaRelay CPU':>14} | {'ratio':>5} | "
          f"{'latency p50/p95 once':>20} | {'p50/p95 relay':>13} | first frame p50/max once")
    for peers in peer_counts:
        once, relay = rows["once", peers], rows["relay", peers]
        ratio = once["cpu"] / relay["cpu"] if relay["cpu"] else float("nan")
        first = once["first_frame_ms"]
        print(f"{peers:>5} | {once['cpu']:>14.1f}% | {relay['cpu']:>13.1f}% | {ratio:>5.2f} | "
              f"{_pct(once['latencies'], .5):>9.0f} / {_pct(once['latencies'], .95):<3.0f} ms | "
              f"{_pct(relay['latencies'], .5):>4.0f} / {_pct(relay['latencies'], .95):<3.0f} ms | "
              f"{statistics.median(first) if first else float('nan'):.0f} / "
              f"{max(first) if first else float('nan'):.0f} ms ({len(first)}/{peers} peers)")
    key = 4 if 4 in peer_counts else peer_counts[0]
    once, relay = rows["once", key], rows["relay", key]
    ratio = once["cpu"] / relay["cpu"] if relay["cpu"] else float("inf")
    p50 = _pct(once["latencies"], .5)
    first_p50 = statistics.median(once["first_frame_ms"]) if once["first_frame_ms"] else 1e9
    checks = [
        (f"{key} peers: encode-once CPU <= {TARGET_CPU_RATIO}x MediaRelay", ratio,
         ratio <= TARGET_CPU_RATIO, f"{ratio:.2f}x"),
        (f"{key} peers: latency p50 <= {TARGET_LATENCY_P50_MS:.0f} ms", p50,
         p50 <= TARGET_LATENCY_P50_MS, f"{p50:.0f} ms"),
        (f"{key} peers: start to first frame p50 <= {TARGET_FIRST_FRAME_MS:.0f} ms", first_p50,
         first_p50 <= TARGET_FIRST_FRAME_MS, f"{first_p50:.0f} ms"),
    ]
    print()
    for name, _, ok, shown in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {shown}")
    print(f"\ntotal {time.monotonic() - started:.0f} s")
    return 0 if all(ok for _, _, ok, _ in checks) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", default="1,4,7", help="comma-separated peer counts")
    parser.add_argument("--seconds", type=float, default=6.0, help="measurement window")
    parser.add_argument("--warmup", type=float, default=3.0, help="settling time before it")
    parser.add_argument("--role", choices=["orchestrate", "sender", "receiver"],
                        default="orchestrate", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["once", "relay"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "receiver":
        asyncio.run(run_receiver(int(args.peers)))
        return 0
    if args.role == "sender":
        asyncio.run(run_sender(args.mode, int(args.peers), args.port, args.warmup, args.seconds))
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
