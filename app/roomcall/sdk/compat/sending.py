"""RTP sending: sender feedback (REMB, receiver reports) tapped, retransmissions bounded,
packets paced, keyframe requests routed to the one encoder (aiortc 1.16.0)."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import aiortc.clock
import aiortc.jitterbuffer
import aiortc.rtcicetransport
import aiortc.rtcrtpreceiver
from aiortc import RTCDtlsTransport, RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    RtpPacket,
    is_rtcp,
    unpack_remb_fci,
)

if TYPE_CHECKING:
    pass


if TYPE_CHECKING:  # aiortc loads only for clients that use media
    from aiortc import RTCRtpSender

log = logging.getLogger(__name__)


class SenderFeedback(Protocol):
    """Who takes one video sender's RTCP feedback (a per-peer packet track)."""

    def on_remb(self, bitrate: int) -> None:
        """The receiver's REMB, in bit/s."""

    def on_report(self, fraction_lost: float, rtt: float | None) -> None:
        """A receiver report: loss since the previous one (0..1) and the RTT in seconds."""

    def may_retransmit(self, seq: int, size: int, age: float) -> bool:
        """Whether NACKed packet ``seq`` of ``size`` bytes, ``age`` seconds old, may be resent."""

    def pace(self, size: int, *, wait: bool) -> float:
        """Seconds to hold an outgoing RTP packet of ``size`` bytes (0 when ``wait`` is False)."""


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
    _install_pacing()
    _paced_media[sender._ssrc] = feedback
    _paced_senders[sender._ssrc] = sender
    _paced_rtx[sender._rtx_ssrc] = feedback


_paced_media: weakref.WeakValueDictionary[int, SenderFeedback] = weakref.WeakValueDictionary()
"""RTP SSRC of a tapped video sender -> its feedback; gone with the per-peer track."""
_paced_rtx: weakref.WeakValueDictionary[int, SenderFeedback] = weakref.WeakValueDictionary()
"""The same for its retransmissions (RTX SSRC): counted, never held."""
_paced_senders: weakref.WeakValueDictionary[int, RTCRtpSender] = weakref.WeakValueDictionary()
"""RTP SSRC of a tapped video sender -> the sender, whose header extensions a held packet's
send time is rewritten with."""
_send_rtp_unpaced = RTCDtlsTransport._send_rtp


def _install_pacing() -> None:
    """Pace the RTP of tapped senders (aiortc 1.16 has no pacer; every packet of a frame is
    sent at once by ``RTCRtpSender._run_rtp``).

    ``RTCDtlsTransport._send_rtp`` carries every sender of a connection, so it is wrapped once
    for the class and looks the packet's SSRC up: tapped video is held (which slows only that
    sender's own RTP loop), its retransmissions are only counted (they are sent from the RTCP
    handler, which must not block), everything else passes untouched.

    A held packet's abs-send-time is stamped again as it leaves: ``_run_rtp`` stamps it before
    calling ``_send_rtp``, so without this every hold would reach the receiver as queuing
    delay. aiortc's receiver-side estimator (``rate.RemoteBitrateEstimator``, the REMB) reads
    a growing delay as overuse and cuts to 0.85 x the incoming rate; the pacer spreads each
    640x480 keyframe over ~0.3 s, so a clean link's REMB fell below the top rung, and at the
    lower rung's rate (REMB grows to at most 1.5 x what arrives) it took tens of seconds to
    come back.
    """
    if RTCDtlsTransport._send_rtp is not _send_rtp_unpaced:
        return

    async def send_rtp(self: RTCDtlsTransport, data: bytes) -> None:
        if len(data) >= 12 and not is_rtcp(data):
            ssrc = int.from_bytes(data[8:12], "big")
            media = _paced_media.get(ssrc)
            if media is not None:
                delay = media.pace(len(data), wait=True)
                if delay > 0:
                    await asyncio.sleep(delay)
                    data = _stamp_send_time(data, _paced_senders.get(ssrc))
            else:
                rtx = _paced_rtx.get(ssrc)
                if rtx is not None:
                    rtx.pace(len(data), wait=False)
        await _send_rtp_unpaced(self, data)

    RTCDtlsTransport._send_rtp = send_rtp  # type: ignore[method-assign]


def _stamp_send_time(data: bytes, sender: RTCRtpSender | None) -> bytes:
    """``data`` (an RTP packet of ``sender``) with its abs-send-time set to now, as
    ``RTCRtpSender._run_rtp`` sets it (aiortc 1.16; the map is the sender's private field)."""
    extensions = getattr(sender, "_RTCRtpSender__rtp_header_extensions_map", None)
    if extensions is None:
        return data
    packet = RtpPacket.parse(data, extensions)
    if packet.extensions.abs_send_time is None:
        return data
    packet.extensions.abs_send_time = (aiortc.clock.current_ntp_time() >> 14) & 0x00FFFFFF
    return bytes(packet.serialize(extensions))


def _may_resend(sender: RTCRtpSender, seq: int, feedback: SenderFeedback) -> bool:
    history: dict[int, RtpPacket] = getattr(sender, "_RTCRtpSender__rtp_history", {})
    packet = history.get(seq % RTP_HISTORY_SIZE)
    if packet is None or packet.sequence_number != seq:
        return False  # no longer held: aiortc would skip it too
    latest: int = getattr(sender, "_RTCRtpSender__rtp_timestamp", packet.timestamp)
    age = ((latest - packet.timestamp) % (1 << 32)) / _RTP_CLOCK
    return feedback.may_retransmit(seq, len(packet.payload) + _RTP_HEADER, age)


# --- RTP senders and receivers --------------------------------------------------------------


def route_keyframe_requests(sender: RTCRtpSender, request: Callable[[], None]) -> None:
    """Make PLI / FIR received by ``sender`` call ``request`` (the one encoder's keyframe ask).

    aiortc 1.16 ``RTCRtpSender._handle_rtcp_packet`` turns PLI and FIR into
    ``self._send_keyframe()``, which only sets a private flag that ``_next_encoded_frame``
    reads on the frame path (``force_keyframe`` for its own encoder). When the track yields
    already encoded ``av.Packet`` objects that flag is never read, so the request would be
    lost. Overriding the method on this one sender instance forwards it instead; the sender
    object is created by ``RTCPeerConnection`` itself, so a subclass cannot be slotted in.
    """
    original = sender._send_keyframe

    def send_keyframe() -> None:
        original()
        request()

    # Instance attribute shadows the method for this sender only.
    setattr(sender, "_send_keyframe", send_keyframe)  # noqa: B010
