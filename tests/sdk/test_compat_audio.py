"""The workaround that hands received audio packets straight to the decoder."""

from __future__ import annotations

import aiortc.rtcrtpreceiver
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

import roomcall.sdk.mesh_peer  # noqa: F401  (applies the workaround, as every SDK call does)
from roomcall.sdk import compat
from roomcall.sdk.compat import receiving


def packet(sequence: int) -> RtpPacket:
    """An audio packet whose depayloaded data names its sequence number."""
    rtp = RtpPacket(sequence_number=sequence % 0x10000, timestamp=960 * sequence)
    rtp._data = str(sequence).encode()  # type: ignore[attr-defined]
    return rtp


def test_each_audio_packet_goes_on_at_once_even_after_a_loss() -> None:
    """With packet 8 lost, every other packet is a frame as it arrives (aiortc's own buffer
    held each for four more and, after the loss, stalled for 16: aiortc issue #543)."""
    buffer = aiortc.rtcrtpreceiver.JitterBuffer(capacity=16, prefetch=4)
    released = []
    for sequence in [*range(0, 8), *range(9, 30)]:
        _, frame = buffer.add(packet(sequence))
        assert frame is not None and frame.data == str(sequence).encode()
        released.append(frame.timestamp // 960)
    assert released == [*range(0, 8), *range(9, 30)]


def test_duplicates_and_stale_packets_are_dropped_and_a_restart_is_followed() -> None:
    """A repeated or older packet gives nothing; a jump far ahead (a restarted sender, or a
    wrap of the sequence number) is followed."""
    buffer = aiortc.rtcrtpreceiver.JitterBuffer(capacity=16, prefetch=4)
    assert buffer.add(packet(65_534))[1] is not None
    assert buffer.add(packet(65_535))[1] is not None
    assert buffer.add(packet(65_536))[1] is not None  # wraps to 0
    assert buffer.add(packet(65_536))[1] is None
    assert buffer.add(packet(65_535))[1] is None
    assert buffer.add(packet(20_000))[1] is not None


def test_video_keeps_a_reassembling_buffer_and_the_switch_restores_aiortc_s_audio() -> None:
    """Video frames still need reassembly (aiortc's buffer, or its gap-skipping subclass);
    turning the audio workaround off brings back aiortc's audio buffer."""
    video = aiortc.rtcrtpreceiver.JitterBuffer(capacity=512, is_video=True)
    assert isinstance(video, JitterBuffer) and not isinstance(video, receiving._UnbufferedAudio)
    try:
        compat.unbuffered_audio_receivers(False)
        plain = aiortc.rtcrtpreceiver.JitterBuffer(capacity=16, prefetch=4)
        assert type(plain) is JitterBuffer
        assert plain.add(packet(0))[1] is None  # aiortc's prefetch holds it
    finally:
        compat.unbuffered_audio_receivers(True)
    audio = aiortc.rtcrtpreceiver.JitterBuffer(capacity=16, prefetch=4)
    assert isinstance(audio, receiving._UnbufferedAudio)
