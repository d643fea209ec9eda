"""Workarounds for aiortc and aioice behaviour, in one place so that an upgrade of either is one
file to re-check. Each names what it works around upstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import aioice.ice
from aiortc import RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    RtpPacket,
    unpack_remb_fci,
)

_gather_every_interface = aioice.ice.get_host_addresses


def restrict_host_addresses(addresses: Sequence[str] | None) -> None:
    """Gather ICE host candidates on ``addresses`` only, for every peer connection of this
    process; ``None`` restores aioice's default (every interface but loopback).

    aioice 0.13 offers no per-connection choice of interfaces: ``Connection.gather_candidates``
    calls the module-level ``get_host_addresses``, which lists every adapter and always skips
    127.0.0.1. Calls that must stay on this machine (the self-test, the test suite) pass
    ``["127.0.0.1"]``.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _gather_every_interface
        return
    chosen = list(addresses)

    def only_chosen(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = only_chosen


class SenderFeedback(Protocol):
    """Who takes one video sender's RTCP feedback (a per-peer packet track)."""

    def on_remb(self, bitrate: int) -> None:
        """The receiver's REMB, in bit/s."""

    def on_report(self, fraction_lost: float, rtt: float | None) -> None:
        """A receiver report: loss since the previous one (0..1) and the RTT in seconds."""

    def may_retransmit(self, size: int, age: float) -> bool:
        """Whether a NACKed packet of ``size`` bytes, ``age`` seconds old, may be resent."""


_RTP_CLOCK = 90_000
"""Video RTP clock rate: only video senders are tapped."""
RTP_HISTORY_SIZE = 128
"""aiortc 1.16 ``rtcrtpsender.RTP_HISTORY_SIZE``: the sender keeps the last 128 packets."""
_RTP_HEADER = 12
"""Bytes of RTP header (plus extensions, roughly) a resent packet costs beyond its payload."""


def tap_sender_feedback(sender: RTCRtpSender, feedback: SenderFeedback) -> None:
    """Hand ``sender``'s REMB and receiver reports to ``feedback`` and bound its retransmissions.

    aiortc 1.16 ``RTCRtpSender._handle_rtcp_packet``:

    - applies REMB only as ``self.__encoder.target_bitrate``, i.e. to its own encoder; a track
      that yields encoded ``av.Packet`` objects has none, so the estimate is dropped;
    - turns every NACK into ``_retransmit`` for each listed sequence number, with no budget and
      no age limit (its 128-packet history): on a capped link the resends compete with the
      media for the same bandwidth and the loss only grows;
    - keeps the receiver-report loss and RTT for ``getStats()`` only.

    The RTCP router looks the handler up on the sender instance for each packet, so an instance
    attribute shadows it for this sender only (the sender is made by RTCPeerConnection, so a
    subclass cannot be slotted in). The RTT and the retransmission history are read from the
    sender's private (name-mangled) fields; re-check both on an aiortc upgrade.
    """
    original = sender._handle_rtcp_packet

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            for seq in packet.lost:
                if _may_resend(sender, seq, feedback):
                    await sender._retransmit(seq)
            return
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                pass
            else:
                if sender._ssrc in ssrcs:
                    feedback.on_remb(bitrate)
        await original(packet)
        if isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == sender._ssrc:
                    rtt: float | None = getattr(sender, "_RTCRtpSender__rtt", None)
                    feedback.on_report(report.fraction_lost / 256.0, rtt)

    setattr(sender, "_handle_rtcp_packet", handle_rtcp_packet)  # noqa: B010


def _may_resend(sender: RTCRtpSender, seq: int, feedback: SenderFeedback) -> bool:
    history: dict[int, RtpPacket] = getattr(sender, "_RTCRtpSender__rtp_history", {})
    packet = history.get(seq % RTP_HISTORY_SIZE)
    if packet is None or packet.sequence_number != seq:
        return False  # no longer held: aiortc would skip it too
    latest: int = getattr(sender, "_RTCRtpSender__rtp_timestamp", packet.timestamp)
    age = ((latest - packet.timestamp) % (1 << 32)) / _RTP_CLOCK
    return feedback.may_retransmit(len(packet.payload) + _RTP_HEADER, age)
