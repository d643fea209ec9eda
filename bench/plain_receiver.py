"""bench/network.py's receiver for the plain-aiortc baseline: aiortc as it ships, nothing of
roomcall's SDK loaded in the process (its receive-side changes, such as asking for a keyframe
after a 0.4 s gap, would otherwise apply to every peer connection here too).

    python bench/plain_receiver.py HOST

prints ``{"port": N}``, takes one sender's offer over the control link, answers it, and once
its stdin ends prints every decoded frame as bench/network.py records it (``{"frames": ...}``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aioice.ice  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import MediaStreamTrack  # noqa: E402

from bench.link import RECEIVER, SENDER, Link, stdin_closed  # noqa: E402
from roomcall.media.drain import TrackDrain  # noqa: E402
from roomcall.media.synthetic import decode_pattern, identity_code  # noqa: E402

LABEL = "sender"
"""The label the sender's camera-like source draws into its code."""
LINK_LINE_LIMIT = 16 * 1024 * 1024
"""Longest control line: a long run's per-frame record is one line."""

FrameRecord = tuple[float, int, float, int]
"""(received at, 1 if the code reads and names the sender, latency ms or -1, frame width)."""


def frame_record(frame: Any, identity: int) -> FrameRecord:
    """What the bench keeps of one decoded frame."""
    now = time.time()
    info = decode_pattern(frame)
    good = info is not None and info.identity == identity
    latency = now * 1000 - info.sent_at_ms if good and info is not None else -1.0
    return now, int(good), latency, int(frame.width)


class Recording:
    """The frames of every video track handed to :meth:`watch`, as the bench records them."""

    def __init__(self) -> None:
        self.frames: list[FrameRecord] = []
        self._identity = identity_code(LABEL)
        self._drains: list[TrackDrain] = []

    def watch(self, track: MediaStreamTrack) -> None:
        """Record ``track``'s decoded frames (audio tracks are ignored)."""
        if track.kind == "video":
            drain = TrackDrain(
                track, on_frame=lambda f: self.frames.append(frame_record(f, self._identity)))
            drain.start()
            self._drains.append(drain)

    async def stop(self) -> None:
        for drain in self._drains:
            await drain.stop()


async def serve_until_stopped(
        host: str,
        on_connection: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
        recording: Recording, close: Callable[[], Awaitable[None]]) -> None:
    """A receiver's life: serve the control link on ``host`` (its port printed first); once
    stdin ends, ``close()`` the receiving end, stop ``recording`` and print its frames (on
    stdout, for the orchestrator, not over the link: with ``--kernel`` that link crosses the
    capped veth, where the report would compete with the media it measures)."""
    server = await asyncio.start_server(on_connection, host, 0, limit=LINK_LINE_LIMIT)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await stdin_closed()
    server.close()
    await close()
    await recording.stop()
    print(json.dumps({"frames": recording.frames}), flush=True)


async def run(host: str) -> None:
    """Answer one sender with a plain RTCPeerConnection on ``host``; once stdin ends, print
    its frames on stdout."""
    # Host candidates on the bench's own address only (roomcall.sdk.compat's
    # restrict_host_addresses does this, but loading it loads the SDK).
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [host]
    recording = Recording()
    pcs: list[RTCPeerConnection] = []

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = Link(reader, writer)
        try:
            async for message in link.messages():
                data = message.get("data") or {}
                if message.get("to") == RECEIVER and data.get("type") == "offer" and not pcs:
                    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
                    pcs.append(pc)
                    pc.on("track", recording.watch)
                    await pc.setRemoteDescription(RTCSessionDescription(data["sdp"], "offer"))
                    await pc.setLocalDescription(await pc.createAnswer())
                    await link.send({"from": RECEIVER, "to": SENDER, "data": {
                        "type": "answer", "sdp": pc.localDescription.sdp, "pc": data.get("pc"),
                        "seq": data.get("seq", 1)}})
        finally:
            writer.close()

    async def close() -> None:
        for pc in pcs:
            await pc.close()

    await serve_until_stopped(host, on_connection, recording, close)


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1]))
