"""One call participant for the network test bed, run as a process inside a client namespace.

    ip netns exec <client ns> python -m tests.network.peer --url ws://203.0.113.10:7880 \\
        --token TOKEN --label alice [--ice server|none|JSON] [--no-compat]

It joins with ``TOKEN``, publishes a synthetic test pattern (labelled ``--label``) and a tone,
receives everything the others publish, and reports on stdout, one JSON object a line, each
with ``t`` (``time.time()``) and ``event``:

- ``joined``: ``{"seconds": join() duration}``; ``join_failed``: ``{"code", "message"}``
- ``gathered``: ICE candidate gathering of one peer connection finished: ``{"seconds",
  "types": ["host", "srflx", "relay", ...]}``
- ``frame``: a decoded remote video frame: ``{"from": user id, "identity", "counter"}``
- ``path``: with a user's first frame, the nominated ICE pair's candidate types: ``{"from",
  "local": "host" | "srflx" | "prflx" | "relay", "remote": ...}``
- ``audio``: the first remote audio frame of a user: ``{"from"}``
- ``state``: ``{"state": connection state name}``; ``peer_state``: ``{"user", "state"}`` when
  the SDK reports the media path's state
- ``left``: ``{"seconds": leave() duration}`` (at most ``LEAVE_LIMIT``)

It runs until its stdin closes (or SIGTERM), then leaves and exits 0. ``--ice server`` (the
default) uses only what the room server hands out; ``none`` forces host candidates; a JSON list
of ``{"urls", "username", "credential"}`` gives explicit servers. ``--no-compat`` gathers the
way plain aiortc does (first STUN and first TURN URL only), to measure the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from typing import Any

import aioice.ice
from aiortc import RTCIceServer

from roomcall.media.pattern import decode_pattern
from roomcall.media.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from roomcall.sdk import JoinError, RTCClient
from roomcall.sdk.compat import gather_from_every_ice_server
from roomcall.sdk.events import EVENT_NAMES
from roomcall.sdk.tracks import RemoteTrack

LEAVE_LIMIT = 60.0
"""Seconds the process waits for ``leave()`` before it exits anyway."""


def report(event: str, **fields: Any) -> None:
    """Write one report line (flushed: the bed reads them as they come)."""
    sys.stdout.write(json.dumps({"t": time.time(), "event": event, **fields}) + "\n")
    sys.stdout.flush()


def _time_gathering() -> None:
    """Report every ICE gathering with its duration and candidate types (a probe for tests:
    the SDK has no gathering event)."""
    gather = aioice.ice.Connection.gather_candidates

    async def timed(self: aioice.ice.Connection) -> None:
        start = time.monotonic()
        await gather(self)
        report("gathered", seconds=round(time.monotonic() - start, 3),
               types=sorted(c.type for c in self.local_candidates))

    aioice.ice.Connection.gather_candidates = timed  # type: ignore[method-assign]


def _ice_servers(choice: str) -> list[RTCIceServer] | None:
    if choice == "server":
        return None
    if choice == "none":
        return []
    return [RTCIceServer(urls=s["urls"], username=s.get("username"),
                         credential=s.get("credential")) for s in json.loads(choice)]


def _report_path(client: RTCClient, user_id: str) -> None:
    """Report the candidate types of the ICE pair carrying ``user_id``'s media."""
    pc = client.peer_connection(user_id)
    for transceiver in pc.getTransceivers() if pc is not None else []:
        transport = transceiver.receiver.transport
        nominated = transport.transport._connection._nominated if transport else {}
        for pair in nominated.values():
            report("path", local=pair.local_candidate.type, remote=pair.remote_candidate.type,
                   **{"from": user_id})
            return


async def _drain(client: RTCClient, user_id: str, track: RemoteTrack) -> None:
    """Receive every frame of ``track`` (never let it queue), reporting what arrives."""
    first_audio = first_video = True
    while True:
        try:
            frame = await track.recv()
        except Exception:  # the track ended (user left, connection closed)
            return
        if track.kind == "audio":
            if first_audio:
                report("audio", **{"from": user_id})
                first_audio = False
            continue
        info = decode_pattern(frame)  # type: ignore[arg-type]
        if info is not None and first_video:
            _report_path(client, user_id)
            first_video = False
        if info is not None:
            report("frame", identity=info.identity, counter=info.counter, **{"from": user_id})


async def run(args: argparse.Namespace) -> int:
    """Join, publish, report until stdin closes; the exit status."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def stdin_closed() -> None:
        await reader.read()
        stop.set()

    watcher = asyncio.create_task(stdin_closed())
    drains: set[asyncio.Task[None]] = set()
    client = RTCClient(args.url, ice_servers=_ice_servers(args.ice))
    client.on("connection_state_changed", lambda state, info: report("state", state=state.name))
    if "peer_state_changed" in EVENT_NAMES:  # the SDK's media-path states, once it has them
        client.on("peer_state_changed",  # type: ignore[arg-type]
                  lambda user, state: report("peer_state", user=user, state=state.name))

    def subscribed(user_id: str, track: RemoteTrack) -> None:
        task = asyncio.create_task(_drain(client, user_id, track))
        drains.add(task)
        task.add_done_callback(drains.discard)

    client.on("track_subscribed", subscribed)
    video = SyntheticVideoTrack(args.label, width=320, height=240, fps=15)
    audio = SyntheticAudioTrack()
    started = time.monotonic()
    try:
        await client.join(args.token)
    except JoinError as exc:
        report("join_failed", code=exc.code, message=str(exc))
        return 1
    report("joined", seconds=round(time.monotonic() - started, 3))
    try:
        await client.publish([video, audio])
        await stop.wait()
    finally:
        watcher.cancel()
        leaving = time.monotonic()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.leave(), LEAVE_LIMIT)
        report("left", seconds=round(time.monotonic() - leaving, 3))
        video.stop()
        audio.stop()
        for task in list(drains):
            task.cancel()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--ice", default="server")
    parser.add_argument("--no-compat", action="store_true")
    args = parser.parse_args()
    # The SDK's log (pair states, restarts, gathering) goes to stderr: the bed's peer log.
    logging.basicConfig(level=os.environ.get("ROOMCALL_LOG", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.no_compat:
        import roomcall.sdk.mesh_peer  # noqa: F401  (its import turns the workaround on)

        gather_from_every_ice_server(False)
    _time_gathering()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
