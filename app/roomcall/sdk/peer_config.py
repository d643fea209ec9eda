"""How roomcall's RTCPeerConnections (the mesh's, and those to an SFU) are configured:
explicit ICE servers, one bundled transport, only the codecs the shared encoders produce, and
each sender's RTCP routed to the packet track it sends."""

from __future__ import annotations

from collections.abc import Iterable

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
)

from roomcall.media.packet_track import PacketTrack
from roomcall.sdk.compat import (
    bound_turn_deletion,
    bound_video_gaps,
    gather_from_every_ice_server,
    negotiated_codecs,
    route_keyframe_requests,
    tap_sender_feedback,
    unbuffered_audio_receivers,
)

# aiortc alone gathers from the first STUN and the first TURN URL only (see compat).
gather_from_every_ice_server()
# aiortc's audio jitter buffer adds 80 ms and stalls on loss; the playout buffers instead.
unbuffered_audio_receivers()
# aiortc's video jitter buffer waits for 512 packets on a gap and never drains a backlog.
bound_video_gaps()
# aioice waits ~31 s for an unreachable TURN server to confirm a deletion when a call closes.
bound_turn_deletion()


def new_connection(ice_servers: Iterable[RTCIceServer]) -> RTCPeerConnection:
    """A fresh RTCPeerConnection configured for roomcall's media."""
    # Explicit ICE servers always: aiortc's default asks Google's STUN server, which stalls
    # setLocalDescription for 5 s where it is unreachable.
    # max-bundle: every m-line rides the first one's transport from the start. Under aiortc
    # 1.16's default (balanced) the second m-line of a kind new to the connection reuses the
    # first one's fresh transport and is flagged bundled, so applying the BUNDLE answer leaves
    # it on that transport, which is then discarded: its track never flows.
    return RTCPeerConnection(RTCConfiguration(
        iceServers=list(ice_servers), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


def pin_codecs(transceiver: RTCRtpTransceiver) -> None:
    """Offer only VP8 (+ RTX) or Opus: the shared encoder's packets must match the m-line."""
    wanted = ("video/vp8", "video/rtx") if transceiver.kind == "video" else ("audio/opus",)
    codecs = RTCRtpSender.getCapabilities(transceiver.kind).codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType.lower() in wanted])


def carries_shared_codec(transceiver: RTCRtpTransceiver) -> bool:
    """Whether the m-line's first negotiated codec is the one our shared encoders produce.

    The sender packs with ``codecs[0]``; an offer from elsewhere preferring, say, H.264 would
    otherwise get VP8 bytes packed as H.264.
    """
    codecs = negotiated_codecs(transceiver)
    wanted = "video/vp8" if transceiver.kind == "video" else "audio/opus"
    return bool(codecs) and str(codecs[0].mimeType).lower() == wanted


def wire_sender(sender: RTCRtpSender, track: PacketTrack) -> None:
    """Route ``sender``'s RTCP to the peer's track: keyframe requests, and for video the REMB
    and receiver reports its bandwidth estimate follows (retransmissions bounded by it)."""
    route_keyframe_requests(sender, track.picture_lost)
    if track.kind == "video":
        tap_sender_feedback(sender, track)
