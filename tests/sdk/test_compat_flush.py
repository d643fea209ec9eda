"""Flushing a receiver's buffers after a freeze (compat.flush_receiver)."""

from __future__ import annotations

from aiortc import RTCPeerConnection
from aiortc.rtp import RtpPacket

from roomcall.sdk import compat
from roomcall.sdk.peer_config import new_connection


def _video_packet(sequence: int) -> RtpPacket:
    """A packet as the receiver hands it to its jitter buffer (depayloaded data attached)."""
    packet = RtpPacket(payload_type=96, sequence_number=sequence, timestamp=3000 * sequence)
    packet._data = b"\x00"  # type: ignore[attr-defined]
    return packet


async def test_flush_drops_what_is_held_and_a_second_flush_is_harmless() -> None:
    """A flush empties the video jitter buffer; flushing again before a new packet arrives
    (a member back twice in a row) drops nothing and raises nothing, on video and audio."""
    pc: RTCPeerConnection = new_connection([])
    try:
        video = pc.addTransceiver("video").receiver
        audio = pc.addTransceiver("audio").receiver
        assert compat.flush_receiver(video) == 0  # never received anything
        buffer = video._RTCRtpReceiver__jitter_buffer  # type: ignore[attr-defined]
        for sequence in (10, 11, 13):  # 12 missing: 10 and 11 stay held with 13 behind
            buffer.add(_video_packet(sequence))
        assert compat.flush_receiver(video) >= 1
        assert all(p is None for p in buffer._packets)
        assert compat.flush_receiver(video) == 0
        assert compat.flush_receiver(audio) == 0
    finally:
        await pc.close()
