"""Watching one connection of a mesh pair for the ways it fails that aiortc reports late or
never: not connecting, a far side gone silent, and video held up by a packet lost for good.

Each watcher runs while its connection is the pair's current one and reports a failure once,
through ``failed(why)``; what follows (a fresh connection) is the mesh's business.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiortc import RTCPeerConnection

from roomcall.sdk.compat import packets_received, stalled_at
from roomcall.sdk.mesh_peer import MeshPeer

logger = logging.getLogger(__name__)

Failed = Callable[[str], None]
"""``failed(why)``: the watched connection has failed."""

WATCH_INTERVAL = 0.5
"""Seconds between checks of a connection that is not connected yet."""
STALL_CHECK = 1.0
"""Seconds between checks of a connected pair: a video receiver held up by a packet that
never came, and a far side gone silent."""
SILENT_CHECKS = 6
"""Checks in a row with nothing received from a far side that sends (every sender of aiortc
sends an RTCP report at least every 1.5 s) after which the connection counts as failed.

aiortc only notices a dead path when ICE consent fails, ~30 s later, and never when the far
side still answers consent but its media no longer arrives (a changed address, a one-way
cut). Counted in checks, not elapsed time, so a stalled process is not mistaken for it."""
BACK_SILENT_CHECKS = 3
"""Silent checks after which a connected pair counts as failed once the signalling said its
member is back from a gap (``MeshPeer.back_from_gap``: it lost its link, as an address change
or an outage does), without waiting for the rest of SILENT_CHECKS: the gap explains the
silence. Until the far side is heard again after the member came back."""


def far_side_sends(pc: RTCPeerConnection) -> bool:
    """Whether the far side has a sender on ``pc`` (whose RTCP reports keep arriving)."""
    return any(t.currentDirection in ("recvonly", "sendrecv") for t in pc.getTransceivers())


async def watch_connecting(peer: MeshPeer, pc: RTCPeerConnection, connect_timeout: float,
                           failed: Failed, offline_timeout: float | None = None) -> None:
    """A connection that has not connected within ``connect_timeout`` of its first
    exchange (``offline_timeout`` if it gathered while no ICE server answered) has failed.
    (Until an exchange is made, e.g. while neither member publishes, there is nothing to
    connect, and nothing fails.)"""
    loop = asyncio.get_running_loop()
    negotiated: float | None = None
    offline = connect_timeout if offline_timeout is None else offline_timeout
    while peer.pc is pc and not peer.closed and pc.connectionState != "connected":
        if negotiated is None and pc.remoteDescription is not None \
                and pc.localDescription is not None:
            negotiated = loop.time()
        limit = offline if peer.gathered_offline else connect_timeout
        if negotiated is not None and loop.time() - negotiated >= limit:
            failed(f"not connected {limit:.0f} s after negotiating"
                   + (" (gathered with no ICE server answering)" if peer.gathered_offline
                      else ""))
            return
        await asyncio.sleep(min(WATCH_INTERVAL, limit))


async def watch_connected(peer: MeshPeer, pc: RTCPeerConnection, failed: Failed) -> None:
    """While ``pc`` is the pair's connected connection: a far side silent for
    SILENT_CHECKS checks (BACK_SILENT_CHECKS after a signalling gap) fails it (a fresh one
    follows); a video receiver waiting for the same lost packet at two checks in a row
    (after a network gap, say) is flushed and asks for a keyframe, so the picture resumes
    at once instead of seconds later."""
    waiting: dict[int, int] = {}
    received, silent = -1, 0
    while peer.pc is pc and not peer.closed:
        await asyncio.sleep(STALL_CHECK)
        if pc.connectionState != "connected":
            received, silent = -1, 0
            peer.silent_checks = 0
            continue
        if far_side_sends(pc):
            now = packets_received(pc)
            silent = silent + 1 if now == received else 0
            received = now
            peer.silent_checks = silent
            if peer.back_from_gap is not None and now > peer.back_from_gap:
                peer.back_from_gap = None  # heard since the member is back: the path works
            if silent >= (SILENT_CHECKS if peer.back_from_gap is None else BACK_SILENT_CHECKS):
                failed(f"nothing received for {silent} checks")
                return
        for transceiver in pc.getTransceivers():
            track = transceiver.receiver.track
            if transceiver.kind != "video" or track is None:
                continue
            at, key = stalled_at(transceiver.receiver), id(transceiver)
            if at is not None and waiting.get(key) == at:
                logger.info("video from %s stalled at packet %d: flushing", peer.user_id, at)
                await peer.ask_keyframes([track.id], flush=True)
                at = None
            if at is None:
                waiting.pop(key, None)
            else:
                waiting[key] = at
