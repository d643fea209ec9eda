"""Screen sharing benchmark: capture + encode CPU, sent bit rate against its cap, latency, and
whether text stays decodable, for the screen profile beside the camera settings.

A private Xvfb (1920x1080) shows a full-screen painter window (tests/media/screen_painter.py)
scrolling text at 15 frames/s under the synthetic pattern's code, which carries the frame
number and the time the frame was drawn. Everything is captured through the real x11grab
source (:func:`roomcall.media.screen.open_screen`, 15 fps, up to 1920x1080).

1. Encode: for each profile (``screen``: :data:`roomcall.media.codecs.SCREEN_VP8`;
   ``camera``, the baseline: aiortc's camera settings), rounds of ``--seconds`` each,
   alternating: capture + VP8 encode at the cap (1.5 Mbit/s, the screen profile's one-peer
   ceiling). CPU is this process's CPU time over the round (the capture thread, the
   conversion to yuv420p and the encoder), in % of one core; the X server's and the painter's
   are not counted. Sent bit rate: encoded bytes over the round. Capture-to-encoded latency:
   from the painter drawing a frame to its packet. Afterwards the packets are decoded: the
   share of frames whose code reads, and the text area's PSNR against the captured picture.
   Then one round of the screen profile with the scrolling stopped: unchanged pictures are
   not sent, one a second refreshes the picture.
2. Call: a real room server on loopback, Alice publishes the screen with ``tag="screen"``
   (then, as the baseline, ``tag="camera"``: the camera profile), Bob receives; latency from
   drawn to decoded at Bob, and the bit rate sent against the encoder's target (the cap that
   follows Bob's bandwidth estimate).

Medians over rounds / frames. The machine is shared with other work: figures move with load.

    .venv/bin/python bench/screen.py                 # the full run (about 3 minutes)
    .venv/bin/python bench/screen.py --rounds 1 --seconds 5 --call-seconds 8   # quick check
    .venv/bin/python bench/screen.py --update-doc    # and rewrite its docs/benchmarks.md section
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
import numpy as np

from bench.doc_section import update_section
from roomcall.media.codecs import CAMERA_VP8, SCREEN_VP8, VideoCodec, VideoSettings
from roomcall.media.pattern import CodeGeometry, decode_pattern, luma_plane
from roomcall.media.screen import ShareSettings, open_screen
from roomcall.media.screen_targets import list_share_targets
from roomcall.sdk import RTCClient
from roomcall.server import RoomServer, ServerConfig
from tests.media.xvfb import ScreenPainter, XvfbUnavailable, private_xvfb

CAP = 1_500_000
"""bit/s: the screen profile's ceiling for one peer, and the baseline's target."""
FPS = 15
TARGET_CPU = 20.0
"""% of one core for capture + encode."""
TARGET_RATE_ERROR = 0.15
"""Sent bit rate within this share of the cap."""
PSNR_FRAMES = 12
"""Captured pictures kept per round for the text PSNR."""


@dataclass
class EncodeRound:
    """One round of capture + encode with one profile."""

    cpu: float
    """% of one core."""
    bitrate: float
    latencies: list[float]
    frames: int
    decodable: float
    """Share of encoded frames whose code reads after decoding."""
    psnr: list[float] = field(default_factory=list)
    fps: float = 0.0
    """Frames encoded per second (unchanged pictures are not sent)."""


def _text_psnr(source: np.ndarray[Any, Any], decoded: np.ndarray[Any, Any], top: int) -> float:
    a = source[top:].astype(np.float32)
    b = decoded[top:].astype(np.float32)
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * float(np.log10(255.0 ** 2 / mse))


async def encode_round(settings: VideoSettings, seconds: float) -> EncodeRound:
    """Capture the screen and encode it with ``settings`` for ``seconds``."""
    target = next(t for t in list_share_targets() if t.kind == "screen")
    track = open_screen(target, ShareSettings(fps=FPS))
    codec = VideoCodec(settings)
    codec.bitrate = CAP
    loop = asyncio.get_running_loop()
    packets: list[tuple[int, bytes]] = []
    kept: dict[int, np.ndarray[Any, Any]] = {}
    latencies: list[float] = []
    size = 0
    try:
        await track.recv()  # the grabber has started
        cpu0, wall0 = time.process_time(), time.monotonic()
        while time.monotonic() - wall0 < seconds:
            frame = await track.recv()
            info = decode_pattern(frame)
            out = await loop.run_in_executor(None, codec.encode, frame, False)
            done_ms = time.time() * 1000
            if info is None:
                continue
            for packet in out:
                packets.append((info.counter, bytes(packet)))
                size += packet.size
            if out:
                latencies.append(done_ms - info.sent_at_ms)
            if len(kept) < PSNR_FRAMES and info.counter % 5 == 0:
                kept[info.counter] = luma_plane(frame).copy()
        elapsed = time.monotonic() - wall0
        cpu = (time.process_time() - cpu0) / elapsed * 100
        bitrate = size * 8 / elapsed
    finally:
        track.stop()
        await track.wait_released()
    decoder = av.CodecContext.create("libvpx", "r")
    readable = total = 0
    psnr: list[float] = []
    top = CodeGeometry(target.width, target.height).code_height
    for counter, data in packets:
        for decoded in decoder.decode(av.Packet(data)):
            total += 1
            picture = luma_plane(decoded)
            info = decode_pattern(decoded)
            readable += info is not None and info.counter == counter
            if counter in kept:
                psnr.append(_text_psnr(kept[counter], picture, top))
    return EncodeRound(cpu, bitrate, latencies, total, readable / total if total else 0.0, psnr,
                       len(latencies) / elapsed)


@dataclass
class CallRun:
    """One call: Bob's view of Alice's screen."""

    latencies: list[float]
    sent_bitrate: float
    target_bitrate: float
    frames: int
    decodable: float


async def call_run(tag: str, seconds: float, data_dir: Path) -> CallRun:
    """Alice shares the screen with ``tag`` to Bob for ``seconds`` over a loopback server."""
    server = RoomServer(ServerConfig(port=0, data_dir=data_dir))
    await server.start()
    alice, bob = RTCClient(server.url), RTCClient(server.url)
    target = next(t for t in list_share_targets() if t.kind == "screen")
    track = open_screen(target, ShareSettings(fps=FPS))
    subscribed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    bob.on("track_subscribed", lambda _uid, t: None if subscribed.done()
           else subscribed.set_result(t))
    latencies: list[float] = []
    frames = readable = 0
    try:
        await alice.join(server.token("bench", "alice"))
        await bob.join(server.token("bench", "bob"))
        await alice.publish([track], tag=tag)
        remote = await asyncio.wait_for(subscribed, 20)
        warm = time.monotonic() + 3.0  # the estimate climbs from its start
        while time.monotonic() < warm:
            await asyncio.wait_for(remote.recv(), 10)
        pc = alice.peer_connection("bob")
        assert pc is not None
        sent0 = _bytes_sent(await pc.getStats())
        # The encoder's target is not in the SDK's stats yet: read it from the mesh.
        encoder = next(iter(alice._media._mesh.encoders.values()))  # type: ignore[union-attr]
        targets: list[int] = []
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            frame = await asyncio.wait_for(remote.recv(), 10)
            now_ms = time.time() * 1000
            frames += 1
            info = decode_pattern(frame)
            if info is not None:
                readable += 1
                latencies.append(now_ms - info.sent_at_ms)
            if encoder.rungs[0].bitrate is not None:
                targets.append(encoder.rungs[0].bitrate)
        elapsed = time.monotonic() - start
        sent = (_bytes_sent(await pc.getStats()) - sent0) * 8 / elapsed
    finally:
        await asyncio.gather(alice.leave(), bob.leave(), return_exceptions=True)
        track.stop()
        await track.wait_released()
        await server.stop()
    return CallRun(latencies, sent, statistics.median(targets) if targets else float("nan"),
                   frames, readable / frames if frames else 0.0)


def _bytes_sent(report: Any) -> int:
    return sum(s.bytesSent for s in report.values()
               if getattr(s, "type", "") == "outbound-rtp" and s.kind == "video")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace, painter: ScreenPainter) -> int:
    rounds: dict[str, list[EncodeRound]] = {"screen": [], "camera": []}
    profiles = {"screen": SCREEN_VP8, "camera": CAMERA_VP8}
    for index in range(args.rounds):
        for name in ("screen", "camera"):
            result = await encode_round(profiles[name], args.seconds)
            rounds[name].append(result)
            print(f"round {index + 1} {name}: CPU {result.cpu:.1f} %, "
                  f"{result.bitrate / 1e6:.2f} Mbit/s, latency p50 "
                  f"{_pct(result.latencies, .5):.0f} ms, decodable {result.decodable:.0%}, "
                  f"{result.fps:.1f} frames/s encoded",
                  flush=True)
    painter.scroll(False)
    still = await encode_round(SCREEN_VP8, args.seconds)
    painter.scroll(True)
    print(f"still screen: CPU {still.cpu:.1f} %, {still.bitrate / 1e6:.3f} Mbit/s, "
          f"{still.fps:.1f} frames/s encoded", flush=True)
    calls: dict[str, CallRun] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tag in ("screen", "camera"):
            calls[tag] = await call_run(tag, args.call_seconds, Path(tmp) / tag)
            c = calls[tag]
            print(f"call {tag}: latency p50 {_pct(c.latencies, .5):.0f} ms, sent "
                  f"{c.sent_bitrate / 1e6:.2f} Mbit/s vs target {c.target_bitrate / 1e6:.2f}, "
                  f"decodable {c.decodable:.0%} of {c.frames}", flush=True)

    def med(name: str, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in rounds[name])

    def lat(name: str) -> tuple[float, float]:
        values = [v for r in rounds[name] for v in r.latencies]
        return _pct(values, .5), _pct(values, .95)

    def psnr(name: str) -> float:
        values = [v for r in rounds[name] for v in r.psnr]
        return statistics.median(values) if values else float("nan")

    cpu_s, cpu_c = med("screen", "cpu"), med("camera", "cpu")
    rate_s, rate_c = med("screen", "bitrate"), med("camera", "bitrate")
    error_s = (rate_s - CAP) / CAP
    call_s, call_c = calls["screen"], calls["camera"]
    call_error = abs(call_s.sent_bitrate - call_s.target_bitrate) / call_s.target_bitrate
    checks = [
        (f"capture + encode CPU <= {TARGET_CPU:.0f} % of a core", cpu_s <= TARGET_CPU,
         f"{cpu_s:.1f} %"),
        (f"sent bit rate within {TARGET_RATE_ERROR:.0%} of the {CAP / 1e6:.1f} Mbit/s cap",
         abs(error_s) <= TARGET_RATE_ERROR, f"{rate_s / 1e6:.2f} Mbit/s ({error_s:+.0%})"),
        (f"in a call: sent within {TARGET_RATE_ERROR:.0%} of the encoder's target",
         call_error <= TARGET_RATE_ERROR,
         f"{call_s.sent_bitrate / 1e6:.2f} vs {call_s.target_bitrate / 1e6:.2f} Mbit/s"),
        ("text still decodable (code read after encoding, in the call)",
         med("screen", "decodable") >= 0.95 and call_s.decodable >= 0.95,
         f"{med('screen', 'decodable'):.0%} / {call_s.decodable:.0%}"),
    ]
    load = os.getloadavg()
    rows = [
        ("capture + encode CPU, 1080p scrolling text at 15 fps",
         f"{cpu_s:.1f} %", f"{cpu_c:.1f} %", f"<= {TARGET_CPU:.0f} %"),
        (f"sent bit rate, cap {CAP / 1e6:.1f} Mbit/s", f"{rate_s / 1e6:.2f} Mbit/s",
         f"{rate_c / 1e6:.2f} Mbit/s", f"within {TARGET_RATE_ERROR:.0%}"),
        ("drawn to encoded p50 / p95", "{:.0f} / {:.0f} ms".format(*lat("screen")),
         "{:.0f} / {:.0f} ms".format(*lat("camera")), ""),
        ("frames encoded per second (painter at 15)", f"{med('screen', 'fps'):.1f}",
         f"{med('camera', 'fps'):.1f}", ""),
        ("still screen (scrolling stopped): CPU, bit rate, frames/s",
         f"{still.cpu:.1f} %, {still.bitrate / 1e6:.3f} Mbit/s, {still.fps:.1f}",
         "scrolling: see above", ""),
        ("code readable after encoding", f"{med('screen', 'decodable'):.0%}",
         f"{med('camera', 'decodable'):.0%}", ">= 95 %"),
        ("text area PSNR (median)", f"{psnr('screen'):.1f} dB", f"{psnr('camera'):.1f} dB", ""),
        ("call: drawn to decoded at the far end p50 / p95",
         f"{_pct(call_s.latencies, .5):.0f} / {_pct(call_s.latencies, .95):.0f} ms",
         f"{_pct(call_c.latencies, .5):.0f} / {_pct(call_c.latencies, .95):.0f} ms", ""),
        ("call: sent against the encoder's target",
         f"{call_s.sent_bitrate / 1e6:.2f} / {call_s.target_bitrate / 1e6:.2f} Mbit/s",
         f"{call_c.sent_bitrate / 1e6:.2f} / {call_c.target_bitrate / 1e6:.2f} Mbit/s",
         f"within {TARGET_RATE_ERROR:.0%}"),
        ("call: frames whose code reads at the far end", f"{call_s.decodable:.0%}",
         f"{call_c.decodable:.0%}", ">= 95 %"),
    ]
    print(f"\n{'measure':<52} | {'screen':>22} | {'camera (baseline)':>22} | target")
    for name, screen, camera, target in rows:
        print(f"{name:<52} | {screen:>22} | {camera:>22} | {target}")
    print()
    for name, ok, shown in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {shown}")
    print(f"\nload average {load[0]:.1f} after the run (the machine is shared)")
    if args.update_doc:
        command = " ".join(["bench/screen.py", *sys.argv[1:]]).replace(" --update-doc", "")
        table = "\n".join(f"| {n} | {s} | {c} | {t} | {_verdict(n, checks)} |"
                          for n, s, c, t in rows)
        text = (
            "## Screen sharing\n\n"
            f"`.venv/bin/python {command}` ({datetime.date.today()}, {platform.machine()}, "
            f"{os.cpu_count()} cores shared with other work, Python {platform.python_version()}, "
            f"load average {load[0]:.1f} after; Xvfb 1920x1080, x11grab at {FPS} fps, "
            f"{args.rounds} rounds of {args.seconds:.0f} s per profile, calls of "
            f"{args.call_seconds:.0f} s):\n\n"
            "| measure | screen profile | camera settings (baseline) | target | result |\n"
            "|---|---|---|---|---|\n"
            f"{table}\n\n"
            "A full-screen window scrolls antialiased text 3 px a frame at 15 fps under the "
            "synthetic pattern's code (frame number, time drawn). CPU is the sharing process's "
            "CPU time (capture thread, bgr0 to yuv420p conversion, VP8 encode) over wall time; "
            "the X server and the painter are other processes. Baseline: the same capture "
            "encoded with aiortc's camera settings at the same cap, and in the call published "
            "with the camera tag (the camera profile), same run. The call's target is the "
            "encoder's bit rate, which follows the receiver's estimate (REMB, reports) on "
            "loopback. Medians over rounds; latencies over frames. The camera settings' "
            "overshoot once measured on this content (3.6-5 Mbit/s for a 1.5 Mbit/s target) "
            "came from every grabbed frame being encoded as a keyframe (FFmpeg's rawvideo "
            "decoder marks each frame I and libvpx obeys); the shared VP8 encoder now clears "
            "that mark, for both profiles.\n\n")
        update_section("## Screen sharing", text)
    return 0 if all(ok for _, ok, _ in checks) else 1


def _verdict(name: str, checks: list[tuple[str, bool, str]]) -> str:
    keys = {"capture + encode CPU": 0, "sent bit rate, cap": 1,
            "call: sent against": 2, "call: frames whose": 3, "code readable": 3}
    for prefix, index in keys.items():
        if name.startswith(prefix):
            return "met" if checks[index][1] else "not met"
    return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="encode rounds per profile")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a round")
    parser.add_argument("--call-seconds", type=float, default=15.0, help="length of a call")
    parser.add_argument("--update-doc", action="store_true",
                        help="rewrite the Screen sharing section of docs/benchmarks.md")
    args = parser.parse_args()
    try:
        with private_xvfb(1920, 1080) as display:
            os.environ["DISPLAY"] = display
            os.environ.pop("WAYLAND_DISPLAY", None)
            os.environ["XDG_SESSION_TYPE"] = "x11"
            with ScreenPainter(display, "scroll", "bench-screen", fps=FPS) as painter:
                return asyncio.run(run(args, painter))
    except XvfbUnavailable as exc:
        print(f"cannot run: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
