"""The mesh's RTP streams as :class:`~roomcall.sdk.figures.StreamCounters`.

For each peer connection: each live sender (one local track's stream to that member) from
aiortc's ``RTCRtpSender.getStats()`` (packets and bytes sent; the member's receiver report:
loss, jitter, RTT), with the frames its per-peer packet track handed on and the size of the
ladder rung it takes; each live receiver from ``RTCRtpReceiver.getStats()`` (packets, loss,
jitter) with the bytes counted by :func:`~roomcall.sdk.compat.count_received_bytes` and the
frames and size the SDK's drain of that track saw.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from roomcall.media.packet_track import PacketTrack
from roomcall.sdk.compat import count_received_bytes, received_bytes, retransmission_ssrcs
from roomcall.sdk.figures import StreamCounters

if TYPE_CHECKING:
    from aiortc import RTCPeerConnection, RTCRtpTransceiver

    from roomcall.media.drain import TrackDrain
    from roomcall.media.encoder import TrackEncoder
    from roomcall.sdk.mesh import Mesh

__all__ = ["MeshFigures"]

_CLOCK_RATE = {"audio": 48_000, "video": 90_000}
"""RTP clock of each kind as negotiated here (Opus, VP8): jitter is reported in its units."""

DrainOf = Callable[[str, str], "TrackDrain | None"]


class Encoding(Protocol):
    """Where the local tracks' encoders are found (a mesh, an SFU)."""

    @property
    def encoders(self) -> Mapping[str, TrackEncoder]: ...
"""``drain_of(user_id, media_id)``: the SDK's drain of a received track, if any."""


class MeshFigures:
    """:class:`~roomcall.sdk.figures.MediaFigures` of a :class:`~roomcall.sdk.mesh.Mesh`."""

    def __init__(self, mesh: Mesh, drain_of: DrainOf) -> None:
        self._mesh = mesh
        self._encoding: Encoding = mesh
        self._drain_of = drain_of

    async def stream_counters(self) -> list[StreamCounters]:
        """Every live stream of every peer connection, with its counters."""
        result: list[StreamCounters] = []
        for user_id in sorted(self._mesh.peers):
            pc = self._mesh.connection(user_id)
            if pc is not None:
                result.extend(await self._peer(user_id, pc))
        return result

    async def _peer(self, user_id: str, pc: RTCPeerConnection) -> list[StreamCounters]:
        sent: list[StreamCounters] = []
        received: list[StreamCounters] = []
        for transceiver in pc.getTransceivers():
            outbound = await self._sent(user_id, transceiver)
            if outbound is not None:
                sent.append(outbound)
            inbound = await self._received(user_id, transceiver)
            if inbound is not None:
                received.append(inbound)
        # The RTT of the connection is measured by its senders (receiver reports answering
        # our sender reports); the streams it receives share it.
        rtts = [c.rtt for c in sent if c.rtt is not None]
        rtt = sum(rtts) / len(rtts) if rtts else None
        return sent + [_with_rtt(c, rtt) for c in received]

    async def _sent(self, user_id: str, transceiver: RTCRtpTransceiver) -> StreamCounters | None:
        track = transceiver.sender.track
        if not isinstance(track, PacketTrack) or track.readyState != "live":
            return None
        out: Any = None
        remote: Any = None
        for stats in (await transceiver.sender.getStats()).values():
            if stats.type == "outbound-rtp":
                out = stats
            elif stats.type == "remote-inbound-rtp":
                remote = stats
        width = height = None
        frames = 0
        if track.kind == "video":
            frames = track.packets_sent  # one packet per encoded frame
            encoder = self._encoding.encoders.get(track.id)
            if encoder is not None and track.rung < len(encoder.rungs):
                size = encoder.rungs[track.rung].size
                if size is not None:
                    width, height = size
        clock = _CLOCK_RATE.get(track.kind, 90_000)
        return StreamCounters(
            media_id=track.id, peer_id=user_id, kind=track.kind, outbound=True,
            ssrc=out.ssrc if out is not None else 0,
            bytes=out.bytesSent if out is not None else 0,
            packets=out.packetsSent if out is not None else 0,
            packets_lost=max(0, remote.packetsLost) if remote is not None else 0,
            fraction_lost=remote.fractionLost / 256.0 if remote is not None else None,
            report_age=_age(remote.timestamp) if remote is not None else None,
            rtt=remote.roundTripTime if remote is not None else None,
            jitter=remote.jitter / clock if remote is not None else None,
            frames=frames, width=width, height=height,
        )

    async def _received(self, user_id: str, transceiver: RTCRtpTransceiver,
                        media_id: str | None = None) -> StreamCounters | None:
        """``media_id``: the publisher's id of the track received (the mesh's receiver
        tracks carry it as their id, an SFU's do not)."""
        track = transceiver.receiver.track
        if (track is None or track.readyState != "live"
                or transceiver.currentDirection not in ("recvonly", "sendrecv")):
            return None
        receiver = transceiver.receiver
        count_received_bytes(receiver)
        rtx = retransmission_ssrcs(receiver)
        media = [s for s in (await receiver.getStats()).values()
                 if s.type == "inbound-rtp" and s.ssrc not in rtx]
        inbound: Any = max(media, key=lambda s: s.packetsReceived, default=None)
        frames = 0
        width = height = None
        media_id = media_id or track.id
        drain = self._drain_of(user_id, media_id)
        if track.kind == "video" and drain is not None:
            frames = drain.frames_received
            latest: Any = drain.latest()
            if latest is not None:
                width, height = latest.width, latest.height
        clock = _CLOCK_RATE.get(track.kind, 90_000)
        return StreamCounters(
            media_id=media_id, peer_id=user_id, kind=track.kind, outbound=False,
            ssrc=inbound.ssrc if inbound is not None else 0,
            bytes=received_bytes(receiver),
            packets=inbound.packetsReceived if inbound is not None else 0,
            packets_lost=max(0, inbound.packetsLost) if inbound is not None else 0,
            jitter=inbound.jitter / clock if inbound is not None else None,
            frames=frames, width=width, height=height,
        )


def _with_rtt(counters: StreamCounters, rtt: float | None) -> StreamCounters:
    return replace(counters, rtt=rtt)


def _age(timestamp: datetime.datetime) -> float:
    """Seconds since ``timestamp`` (aiortc stamps its stats in UTC)."""
    return max(0.0, (datetime.datetime.now(datetime.UTC) - timestamp).total_seconds())
