"""Network bench: roomcall's encode-once ladder against plain aiortc on impaired links.

One sender process sends a camera-like 640x480@30 source (``CameraLikeVideoTrack``: moving
texture and sensor noise, with the pattern code that names the sender, numbers the frame and
stamps the send time) to one receiver process, over loopback, with the sender's peer
connection impaired in user space (``tests/media/impair.py``: a tbf-like uplink cap, random
loss, delay with jitter, outages, all UDP dropped). Each condition runs twice:

- ``roomcall``: our ``Mesh`` (encode once per rung, per-peer estimate from REMB and receiver
  reports, bounded retransmissions);
- ``aiortc``: aiortc's normal path at both ends: the same source through ``MediaRelay`` into a
  sender that runs its own VP8 encoder (which follows REMB; NACKs resent without a budget),
  received by a plain ``RTCPeerConnection`` in a process that loads nothing of roomcall's SDK
  (``bench/plain_receiver.py``).

The receiver is our ``Mesh`` for roomcall. Measured at the receiver over the window: good
frames/s (decoded, the code readable and naming the sender), decodable share (good / decoded
frames), latency p50/p95 (receive time minus the stamped send time, same host clock), freezes
(gaps over 500 ms between good frames), keyframes received; at the sender: send rate (bytes
offered to the link, IP/UDP headers included) and, after an outage, time to recover (outage
end to the first second with 20+ good frames).

    .venv/bin/python bench/network.py                           # every condition, ~16 min
    .venv/bin/python bench/network.py --conditions cap800,cap500 --seconds 15
    .venv/bin/python bench/network.py --update-doc              # write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench.link import RECEIVER, SENDER, Link  # noqa: E402
from bench.media import (  # noqa: E402
    InOrder,
    RelayBaseline,
    _pct,
    _relay_to,
    serve_relays,
)
from bench.plain_receiver import LABEL, LINK_LINE_LIMIT, Recording, serve_until_stopped  # noqa: E402
from roomcall.media.synthetic import CameraLikeVideoTrack  # noqa: E402
from roomcall.sdk.compat import restrict_host_addresses  # noqa: E402
from roomcall.sdk.mesh import Mesh  # noqa: E402
from tests.media.impair import ImpairedLink, Impairment  # noqa: E402

RECOVERED_FPS = 20
OUTAGE_AT = 3.0
"""Seconds into the window an outage starts."""
AFTER_OUTAGE = 14.0
"""Seconds the window runs on after an outage ends."""
DOC = ROOT / "docs" / "benchmarks.md"
MARKERS = {False: ("<!-- bench/network.py: begin -->", "<!-- bench/network.py: end -->"),
           True: ("<!-- bench/network.py --kernel: begin -->",
                  "<!-- bench/network.py --kernel: end -->")}
"""Where --update-doc writes, one block for each kind of cap."""


@dataclass(frozen=True)
class Condition:
    """One network condition of the sender's link."""

    name: str
    describe: str
    rate: int | None = None
    loss: float = 0.0
    delay: float = 0.0
    jitter: float = 0.0
    outage: float = 0.0
    blocked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


CONDITIONS = {c.name: c for c in (
    Condition("clean", "no impairment"),
    Condition("cap1500", "uplink 1500 kbit/s", rate=1_500_000),
    Condition("cap800", "uplink 800 kbit/s", rate=800_000),
    Condition("cap500", "uplink 500 kbit/s", rate=500_000),
    Condition("cap300", "uplink 300 kbit/s", rate=300_000),
    Condition("loss2", "2 % loss each way", loss=0.02),
    Condition("loss10", "10 % loss each way", loss=0.10),
    Condition("delay", "100 ms +-30 ms each way", delay=0.1, jitter=0.03),
    Condition("out5", "5 s outage", outage=5.0),
    Condition("out20", "20 s outage", outage=20.0),
    Condition("out40", "40 s outage", outage=40.0),
    Condition("udpblock", "all UDP dropped", blocked=True),
)}


# --- receiver process ------------------------------------------------------------------


async def run_receiver(host: str) -> None:
    """One receiving Mesh on ``host``; once its stdin ends, prints every decoded frame."""
    restrict_host_addresses([host])
    recording = Recording()
    meshes: list[Mesh] = []

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = Link(reader, writer)
        mesh = Mesh(RECEIVER, _relay_to(link, RECEIVER))
        meshes.append(mesh)
        mesh.on_track = lambda _user, track: recording.watch(track)
        entry = InOrder(mesh)
        try:
            async for message in link.messages():
                if message.get("ctl") == "start":
                    await mesh.add_peer(SENDER)
                elif message.get("to") == RECEIVER:
                    entry.queue.put_nowait((message["from"], message["data"]))
        finally:
            entry.task.cancel()
            writer.close()

    async def close() -> None:
        for mesh in meshes:
            await mesh.close()

    await serve_until_stopped(host, on_connection, recording, close)


# --- sender process --------------------------------------------------------------------


async def run_sender(mode: str, condition: Condition, port: int, warmup: float,
                     seconds: float, kernel: bool) -> None:
    """Send the camera-like source over the impaired link; print the sender's figures."""
    host, peer = (SENDER_ADDRESS, RECEIVER_ADDRESS) if kernel else ("127.0.0.1", "127.0.0.1")
    restrict_host_addresses([host])
    reader, writer = await asyncio.open_connection(peer, port, limit=LINK_LINE_LIMIT)
    link = Link(reader, writer)
    track = CameraLikeVideoTrack(LABEL)
    impairment = Impairment(rate=None if kernel else condition.rate,
                            loss=1.0 if condition.blocked else condition.loss,
                            delay=condition.delay, jitter=condition.jitter)
    shaped = ImpairedLink(impairment)
    resent = [0]
    endpoint: Mesh | RelayBaseline
    if mode == "roomcall":
        _impair_every_connection(shaped, resent)
        endpoint = Mesh(SENDER, _relay_to(link, SENDER))
        await endpoint.add_local_track(track)
    else:
        endpoint = RelayBaseline(track, link)
    _, tasks = serve_relays(link, endpoint)
    await link.send({"ctl": "start"})
    await endpoint.add_peer(RECEIVER)
    pc = endpoint.connection(RECEIVER) if isinstance(endpoint, Mesh) else endpoint.pcs[RECEIVER]
    assert pc is not None
    await shaped.attach(pc)
    if mode != "roomcall":
        _count_retransmits(pc, resent)
    await asyncio.sleep(warmup)
    start = time.monotonic()
    wall0 = time.time()
    outage: tuple[float, float] | None = None
    if condition.outage:
        outage = (wall0 + OUTAGE_AT, wall0 + OUTAGE_AT + condition.outage)
        impairment.outages.append((start + OUTAGE_AT, start + OUTAGE_AT + condition.outage))
    bytes0, resent0 = shaped.sent_bytes, resent[0]
    await asyncio.sleep(seconds)
    wall1 = time.time()
    bytes1, resent1 = shaped.sent_bytes, resent[0]
    # Keyframes made over the whole run (aiortc's own encoder does not count them).
    keyframes_made = sum(e.keyframes for e in endpoint.encoders.values()) \
        if isinstance(endpoint, Mesh) else None
    await endpoint.close()
    for task in tasks:
        task.cancel()
    writer.close()
    print(json.dumps({
        "window": [wall0, wall1], "outage": outage,
        "send_kbps": (bytes1 - bytes0) * 8 / 1000 / (wall1 - wall0),
        "retransmits": resent1 - resent0, "keyframes_made": keyframes_made,
    }), flush=True)


_attaching: set[asyncio.Task[None]] = set()


def _impair_every_connection(shaped: ImpairedLink, resent: list[int]) -> None:
    """Impair (and count the resends of) every connection the mesh makes, not only its first:
    an outage is the network's, so a fresh connection started during it must meet it too
    (impairing the first alone, a restart escaped the outage and "recovered" inside it)."""
    import roomcall.sdk.mesh as mesh_module

    plain = mesh_module.new_connection

    async def attach(pc: Any) -> None:
        with contextlib.suppress(TimeoutError):  # replaced before it ever gathered
            await shaped.attach(pc, within=60.0)
            _count_retransmits(pc, resent)

    def impaired(ice_servers: Any) -> Any:
        pc = plain(ice_servers)
        task = asyncio.ensure_future(attach(pc))
        _attaching.add(task)
        task.add_done_callback(_attaching.discard)
        return pc

    mesh_module.new_connection = impaired


def _count_retransmits(pc: Any, counter: list[int]) -> None:
    """Count in ``counter[0]`` the RTP packets the pc's senders actually resend."""
    for transceiver in pc.getTransceivers():
        sender = transceiver.sender
        original = sender._retransmit

        async def retransmit(seq: int, original: Any = original) -> None:
            counter[0] += 1
            await original(seq)

        setattr(sender, "_retransmit", retransmit)  # noqa: B010


# --- orchestration ---------------------------------------------------------------------


def _run_case(mode: str, condition: Condition, args: argparse.Namespace) -> dict[str, Any]:
    me = [sys.executable, __file__]
    if args.kernel:
        _tbf(condition.rate)
    host = RECEIVER_ADDRESS if args.kernel else "127.0.0.1"
    # The baseline's receiver is plain aiortc too, in a process without roomcall's SDK.
    receiving = ([*me, "--role", "receiver", "--host", host] if mode == "roomcall"
                 else [sys.executable, str(ROOT / "bench" / "plain_receiver.py"), host])
    receiver = subprocess.Popen([*_in(RECEIVER_NS, args), *receiving], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        port = json.loads(receiver.stdout.readline())["port"]
        seconds = args.seconds
        if condition.outage:
            seconds = max(seconds, OUTAGE_AT + condition.outage + AFTER_OUTAGE)
        sender = subprocess.run(
            [*_in(SENDER_NS, args), *me, *(["--kernel"] if args.kernel else []),
             "--role", "sender", "--mode", mode, "--condition", condition.name,
             "--port", str(port), "--warmup", str(args.warmup), "--seconds", str(seconds)],
            stdout=subprocess.PIPE, text=True, check=True, timeout=seconds + args.warmup + 120,
        )
        # The window is over: the receiver stops and reports its frames on stdout.
        received, _ = receiver.communicate(timeout=60)
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait()
    frames = json.loads(received.strip().splitlines()[-1])["frames"]
    return summarise({**json.loads(sender.stdout.strip().splitlines()[-1]), "frames": frames})


SENDER_NS, RECEIVER_NS = "rcbw-send", "rcbw-recv"
SENDER_ADDRESS, RECEIVER_ADDRESS = "198.51.100.1", "198.51.100.2"
"""``--kernel``: the two processes in namespaces of their own, joined by a veth pair whose
sender end carries the uplink cap as a kernel ``tbf`` (loss, delay and outages stay in user
space: this kernel has no ``sch_netem``)."""


def _in(namespace: str, args: argparse.Namespace) -> list[str]:
    return ["ip", "netns", "exec", namespace] if args.kernel else []


def _ip(*command: str) -> None:
    subprocess.run(["ip", *command], check=True)


def _make_namespaces() -> None:
    _remove_namespaces()
    for ns in (SENDER_NS, RECEIVER_NS):
        _ip("netns", "add", ns)
    _ip("link", "add", "rcbw0", "netns", SENDER_NS, "type", "veth", "peer", "name", "rcbw1",
        "netns", RECEIVER_NS)
    for ns, dev, address in ((SENDER_NS, "rcbw0", SENDER_ADDRESS),
                             (RECEIVER_NS, "rcbw1", RECEIVER_ADDRESS)):
        _ip("-n", ns, "addr", "add", f"{address}/24", "dev", dev)
        _ip("-n", ns, "link", "set", dev, "up")
        _ip("-n", ns, "link", "set", "lo", "up")


def _remove_namespaces() -> None:
    for ns in (SENDER_NS, RECEIVER_NS):
        subprocess.run(["ip", "netns", "delete", ns], stderr=subprocess.DEVNULL, check=False)


def _tbf(rate: int | None) -> None:
    """The sender's uplink cap, as the reference measurement set it (or none)."""
    base = ["ip", "netns", "exec", SENDER_NS, "tc", "qdisc"]
    if rate is None:
        subprocess.run([*base, "del", "dev", "rcbw0", "root"], stderr=subprocess.DEVNULL,
                       check=False)
    else:
        subprocess.run([*base, "replace", "dev", "rcbw0", "root", "tbf", "rate",
                        f"{rate // 1000}kbit", "burst", "3000", "latency", "200ms"], check=True)


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    """The figures of one case from the receiver's frame list and the sender's counters."""
    wall0, wall1 = raw["window"]
    frames = [f for f in raw["frames"] if wall0 <= f[0] <= wall1]
    good = [f for f in frames if f[1] & 1]
    span = wall1 - wall0
    times = [wall0] + [f[0] for f in good] + [wall1]
    freezes = sum(1 for a, b in itertools.pairwise(times) if b - a > 0.5)
    latencies = [f[2] for f in good]
    recover: float | None = None
    if raw["outage"] is not None:
        end = raw["outage"][1]
        after = [f[0] for f in good if f[0] >= end]
        for i, t in enumerate(after):
            if sum(1 for u in after[i:i + RECOVERED_FPS + 5] if u < t + 1.0) >= RECOVERED_FPS:
                recover = t - end
                break
    widths = sorted({f[3] for f in good})
    return {
        "good_fps": len(good) / span,
        "share": len(good) / len(frames) if frames else 0.0,
        "p50": _pct(latencies, 0.5), "p95": _pct(latencies, 0.95),
        "freezes": freezes, "send_kbps": raw["send_kbps"],
        "keyframes": raw["keyframes_made"], "retransmits": raw["retransmits"],
        "recover": recover, "outage": raw["outage"] is not None, "widths": widths,
    }


def _fmt(row: dict[str, Any]) -> list[str]:
    recover = "-" if not row["outage"] else (
        "never" if row["recover"] is None else f"{row['recover']:.1f} s")
    latency = "-" if row["good_fps"] == 0 else f"{row['p50']:.0f}/{row['p95']:.0f}"
    return [f"{row['good_fps']:.1f}", f"{row['share']:.2f}", latency, str(row["freezes"]),
            f"{row['send_kbps']:.0f}", "-" if row["keyframes"] is None else str(row["keyframes"]),
            str(row["retransmits"]), recover]


def table(rows: dict[tuple[str, str], dict[str, Any]], names: list[str]) -> list[str]:
    """Markdown rows: one line per condition, roomcall beside plain aiortc."""
    head = ["good fps", "decodable", "latency p50/p95 ms", "freezes", "send kbit/s",
            "keyframes", "resent", "recovery"]
    lines = ["| condition | " + " | ".join(f"{h} rc / aiortc" for h in head) + " | rc sizes |",
             "|---|" + "---:|" * len(head) + "---|"]
    for name in names:
        ours, theirs = rows["roomcall", name], rows["aiortc", name]
        cells = [f"{a} / {b}" for a, b in zip(_fmt(ours), _fmt(theirs), strict=True)]
        sizes = ", ".join(str(w) for w in ours["widths"]) or "-"
        lines.append(f"| {CONDITIONS[name].describe} | " + " | ".join(cells) + f" | {sizes} |")
    return lines


def checks(rows: dict[tuple[str, str], dict[str, Any]]) -> list[tuple[str, bool, str]]:
    """The issue's targets, for the conditions that ran."""
    found: list[tuple[str, bool, str]] = []
    for name in ("cap800", "cap500"):
        if ("roomcall", name) in rows:
            ours, theirs = rows["roomcall", name]["good_fps"], rows["aiortc", name]["good_fps"]
            ok = ours >= 25 and ours >= 0.95 * theirs
            found.append((f"{CONDITIONS[name].describe}: >= 25 good fps and >= 0.95x aiortc", ok,
                          f"{ours:.1f} vs {theirs:.1f}"))
    if ("roomcall", "cap300") in rows:
        ours = rows["roomcall", "cap300"]["good_fps"]
        found.append(("uplink 300 kbit/s: >= 15 good fps", ours >= 15, f"{ours:.1f}"))
    for name in ("out5", "out20", "out40"):
        if ("roomcall", name) in rows:
            recover = rows["roomcall", name]["recover"]
            ok = recover is not None and recover <= 10
            found.append((f"{CONDITIONS[name].describe}: video back within 10 s", ok,
                          "never" if recover is None else f"{recover:.1f} s"))
    return found


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def orchestrate(args: argparse.Namespace) -> int:
    names = [n for n in args.conditions.split(",") if n]
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown:
        print(f"unknown condition(s): {', '.join(unknown)}; known: {', '.join(CONDITIONS)}")
        return 2
    started, load_before = time.monotonic(), _load()
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    if args.kernel:
        _make_namespaces()
    try:
        for name in names:
            for mode in ("roomcall", "aiortc"):
                rows[mode, name] = _run_case(mode, CONDITIONS[name], args)
                print(f"  {name:>8} {mode:>8}: {' | '.join(_fmt(rows[mode, name]))}", flush=True)
    finally:
        if args.kernel:
            _remove_namespaces()
    command = " ".join(["bench/network.py", *sys.argv[1:]])
    caps = "kernel tbf between two namespaces" if args.kernel else "user-space shaper"
    intro = (f"`.venv/bin/python {command}` ({datetime.date.today()}, caps: {caps}): "
             f"camera-like 640x480@30, "
             f"{args.warmup:g} s warm-up then a {args.seconds:g} s window (outages: the cut "
             f"starts {OUTAGE_AT:g} s in, the window runs {AFTER_OUTAGE:g} s past it); "
             f"CPython {platform.python_version()}, 2 cores shared with other work, load "
             f"average {load_before} before, {_load()} after.")
    lines = table(rows, names)
    results = checks(rows)
    print("\n" + intro + "\n")
    print("\n".join(lines))
    print()
    for name, ok, shown in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {shown}")
    print(f"\ntotal {time.monotonic() - started:.0f} s")
    if args.update_doc:
        _update_doc(intro, lines, results, kernel=args.kernel)
    return 0 if all(ok for _, ok, _ in results) else 1


def _update_doc(intro: str, lines: list[str], results: list[tuple[str, bool, str]], *,
                kernel: bool) -> None:
    begin, end = MARKERS[kernel]
    body = [begin, intro, "", *lines, "", "| target | result | figure |", "|---|---|---|"]
    body += [f"| {name} | {'PASS' if ok else 'FAIL'} | {shown} |" for name, ok, shown in results]
    body.append(end)
    text = DOC.read_text()
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + "\n".join(body) + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Network\n\n" + "\n".join(body) + "\n"
    DOC.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", default=",".join(CONDITIONS),
                        help=f"comma-separated subset of: {', '.join(CONDITIONS)}")
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window")
    parser.add_argument("--warmup", type=float, default=6.0, help="settling time before it")
    parser.add_argument("--kernel", action="store_true",
                        help="sender and receiver in network namespaces, caps as kernel tbf")
    parser.add_argument("--update-doc", action="store_true",
                        help="write the table into docs/benchmarks.md")
    parser.add_argument("--role", choices=["orchestrate", "sender", "receiver"],
                        default="orchestrate", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["roomcall", "aiortc"], help=argparse.SUPPRESS)
    parser.add_argument("--condition", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "receiver":
        asyncio.run(run_receiver(args.host))
        return 0
    if args.role == "sender":
        asyncio.run(run_sender(args.mode, CONDITIONS[args.condition], args.port, args.warmup,
                               args.seconds, args.kernel))
        return 0
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
