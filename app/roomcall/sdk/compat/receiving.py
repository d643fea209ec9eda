"""RTP receiving: video gaps bounded, audio straight to the decoder, receivers flushed after
a long gap, stalls seen, keyframes asked for (aiortc 1.16.0)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiortc.clock
import aiortc.jitterbuffer
import aiortc.rtcicetransport
import aiortc.rtcrtpreceiver
from aiortc.rtp import (
    RtpPacket,
)

if TYPE_CHECKING:
    pass


if TYPE_CHECKING:  # aiortc loads only for clients that use media
    from aiortc import RTCRtpReceiver, RTCRtpTransceiver
    from aiortc.mediastreams import MediaStreamTrack

log = logging.getLogger(__name__)


VIDEO_GAP_WAIT = 0.4
"""Seconds a video receiver waits for a missing packet (its retransmission) before it skips
the incomplete frame and asks for a keyframe."""


VIDEO_BACKLOG_FRAMES = 6
"""Complete frames left buffered behind the one handed out that make a receiver ask for a
keyframe (PLI) to catch up on: 200 ms at 30 fps."""
BACKLOG_PLI_INTERVAL = 1.0
"""Seconds between two such requests."""


class _GapSkippingJitterBuffer(aiortc.jitterbuffer.JitterBuffer):
    """aiortc's video jitter buffer, made to give up on a gap and to catch up on a backlog.

    aiortc 1.16 ``JitterBuffer`` (video: 512 packets) hands out frames strictly in sequence
    order, one per packet added, and drops a missing packet only once 512 newer ones arrived.
    So a lost or refused retransmission stops a 300 kbit/s stream for ~15 s, and any wait
    leaves a backlog that never drains at one packet per frame: the picture then runs seconds
    behind (network-facts: "aiortc's receive buffer is not flushed"). Here a gap is skipped
    after ``VIDEO_GAP_WAIT`` (with a PLI); a backlog asks for a keyframe, and a keyframe's first
    packet drops everything buffered before it, since nothing before it is needed to decode.
    """

    def __init__(self, capacity: int, prefetch: int = 0, is_video: bool = False) -> None:
        super().__init__(capacity, prefetch=prefetch, is_video=is_video)
        self._last_frame = time.monotonic()
        self._last_pli = float("-inf")

    def add(self, packet: RtpPacket) -> tuple[bool, aiortc.jitterbuffer.JitterFrame | None]:
        if self._is_video and self._origin is not None and _starts_vp8_keyframe(packet):
            ahead = (packet.sequence_number - self._origin) % (1 << 16)
            if 0 < ahead < self._capacity:
                self.remove(ahead)  # the keyframe decodes without anything before it
        pli_flag, frame = super().add(packet)
        if not self._is_video:
            return pli_flag, frame
        now = time.monotonic()
        if frame is not None:
            self._last_frame = now
            if (now - self._last_pli >= BACKLOG_PLI_INTERVAL
                    and self._complete_frames() > VIDEO_BACKLOG_FRAMES):
                self._last_pli = now
                pli_flag = True
            return pli_flag, frame
        if now - self._last_frame < VIDEO_GAP_WAIT or not self._skip_gap():
            return pli_flag, frame
        self._last_frame = now
        return True, self._remove_frame(packet.sequence_number)

    def _slots(self) -> list[RtpPacket | None]:
        assert self._origin is not None
        return [self._packets[(self._origin + i) % self._capacity] for i in range(self._capacity)]

    def _complete_frames(self) -> int:
        """Frames buffered in sequence from the head (the last one may be incomplete)."""
        if self._origin is None:
            return 0
        stamps: set[int] = set()
        for slot in self._slots():
            if slot is None:
                break
            stamps.add(slot.timestamp)
        return max(0, len(stamps) - 1)

    def _skip_gap(self) -> bool:
        """Drop everything before the newest frame after the first hole; False if there is no
        hole with packets after it."""
        if self._origin is None:
            return False
        slots = self._slots()
        hole = next((i for i, p in enumerate(slots) if p is None), None)
        last = max((i for i, p in enumerate(slots) if p is not None), default=None)
        if hole is None or last is None or last < hole:
            return False
        newest = slots[last]
        assert newest is not None
        first = next(i for i in range(hole, last + 1)
                     if (p := slots[i]) is not None and p.timestamp == newest.timestamp)
        self.remove(first)
        return True


def _starts_vp8_keyframe(packet: RtpPacket) -> bool:
    """Whether ``packet`` carries the start of a VP8 keyframe (RFC 7741: descriptor S bit and
    partition 0, then the frame tag's inverse key-frame bit), as aiortc's depacketiser left it
    in ``_data``."""
    payload, data = packet.payload, getattr(packet, "_data", b"")
    return bool(payload) and bool(data) and payload[0] & 0x1F == 0x10 and data[0] & 0x01 == 0


def bound_video_gaps() -> None:
    """Give every RTCRtpReceiver made from now on a video jitter buffer that skips a gap after
    VIDEO_GAP_WAIT (see ``_GapSkippingJitterBuffer``); idempotent."""
    global _video_buffer
    _video_buffer = _GapSkippingJitterBuffer
    _install_receive_buffers()

async def request_keyframe(receiver: RTCRtpReceiver, ssrc: int) -> None:
    """Send an RTCP PLI for the stream ``ssrc`` that ``receiver`` receives.

    aiortc 1.16 sends PLI only from inside ``RTCRtpReceiver`` (jitter buffer gaps, decode
    errors; aiortc/aiortc#58); there is no public call to ask for a keyframe.
    """
    await receiver._send_rtcp_pli(ssrc)


def flush_receiver(receiver: RTCRtpReceiver) -> int:
    """Drop every packet and frame ``receiver`` holds but has not handed on; returns how many.

    aiortc 1.16 keeps a 512-packet video jitter buffer that waits for a missing packet until
    512 newer ones have arrived (``JitterBuffer.add``), and an unbounded decoder queue: after
    a long gap a low-rate stream runs seconds behind. After a freeze the newest picture
    should win: flush, then ask for a keyframe (:func:`request_keyframe`).
    """
    dropped = 0
    jitter = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
    if jitter is not None and jitter._origin is not None:
        # No origin: nothing was buffered since it was made or last flushed (and aiortc's
        # ``remove`` cannot run then: it counts from the origin).
        dropped += sum(p is not None for p in jitter._packets)
        jitter.remove(jitter.capacity)
        jitter._origin = None
    decoder: queue.Queue[Any] | None = getattr(receiver, "_RTCRtpReceiver__decoder_queue", None)
    if decoder is not None:
        kept: list[None] = []
        with contextlib.suppress(queue.Empty):
            while True:
                item = decoder.get_nowait()
                if item is None:
                    kept.append(item)  # the receiver is stopping: its decoder must see this
                else:
                    dropped += 1
        for item in kept:
            decoder.put(item)
    return dropped


def stalled_at(receiver: RTCRtpReceiver) -> int | None:
    """Where ``receiver``'s jitter buffer starts (its oldest frame's first sequence number)
    while a packet is missing with newer ones queued behind it; None when nothing is missing.

    aiortc 1.16's ``JitterBuffer`` hands a frame on only once every packet before it arrived
    (or 512 newer ones did): a packet lost for good, retransmission included, holds the whole
    stream back. Seeing the same number twice a second apart means it is not coming.
    """
    jitter = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
    origin = getattr(jitter, "_origin", None)
    if jitter is None or origin is None:
        return None
    capacity = jitter.capacity
    held = [jitter._packets[(origin + i) % capacity] is not None for i in range(capacity)]
    if False not in held:
        return None
    gap = held.index(False)
    return int(origin) if any(held[gap:]) else None


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[Any]:
    """The codecs negotiated for ``transceiver``'s m-line, preferred first.

    aiortc 1.16 keeps them in ``RTCRtpTransceiver._codecs`` only (no public getter; the sender
    packs with ``codecs[0]``).
    """
    return list(getattr(transceiver, "_codecs", []))


def end_remote_track(track: MediaStreamTrack) -> None:
    """Stop a received track and wake its reader.

    aiortc 1.16 ends a ``RemoteStreamTrack`` by queueing None in its private ``_queue`` (what
    ``RTCRtpReceiver.stop`` does); an m-line turned inactive never does it, so the reader
    would wait for ever.
    """
    track.stop()
    track_queue = getattr(track, "_queue", None)
    if isinstance(track_queue, asyncio.Queue):
        track_queue.put_nowait(None)


# --- audio packets straight to the decoder ----------------------------------------------

_receiver_module: Any = aiortc.rtcrtpreceiver  # its JitterBuffer global is replaced below
_plain_jitter_buffer = aiortc.jitterbuffer.JitterBuffer
_MAX_MISORDER = 100


class _UnbufferedAudio(aiortc.jitterbuffer.JitterBuffer):
    """Hands each audio packet to the decoder as it arrives (one Opus packet is one frame),
    dropping duplicates and packets older than one already handed on."""

    def __init__(self, capacity: int, prefetch: int = 0, is_video: bool = False) -> None:
        super().__init__(capacity)
        self._last: int | None = None

    def add(self, packet: Any) -> tuple[bool, Any]:
        sequence = int(packet.sequence_number)
        if self._last is not None:
            behind = (self._last - sequence) % 0x10000
            if behind < _MAX_MISORDER:
                return False, None
        self._last = sequence
        return False, aiortc.jitterbuffer.JitterFrame(data=packet._data,
                                                      timestamp=packet.timestamp)


_video_buffer: Callable[..., Any] = _plain_jitter_buffer
_audio_buffer: Callable[..., Any] = _plain_jitter_buffer


def _jitter_buffer(capacity: int, prefetch: int = 0, is_video: bool = False) -> Any:
    make = _video_buffer if is_video else _audio_buffer
    return make(capacity, prefetch=prefetch, is_video=is_video)


def _install_receive_buffers() -> None:
    # ``RTCRtpReceiver.__init__`` looks ``JitterBuffer`` up in its module when it runs: the one
    # seam, shared by the video and the audio workaround.
    _receiver_module.JitterBuffer = _jitter_buffer


def unbuffered_audio_receivers(enabled: bool = True) -> None:
    """Pass received audio packets straight to the decoder, for every peer connection of this
    process; ``False`` restores aiortc's audio jitter buffer.

    aiortc 1.16's ``RTCRtpReceiver`` holds audio in ``JitterBuffer(capacity=16,
    prefetch=4)``: every frame waits for four more (80 ms), and after one lost packet the
    buffer stalls until 16 are queued and then stays 14 deep, adding about 280 ms for the
    rest of the call (aiortc issue #543, closed unfixed). roomcall's playout has its own
    adaptive jitter buffer with loss concealment (``roomcall.media.jitter``), so the
    receiver only needs to keep the order: the one seam is the module global the receiver
    builds its buffer from.
    """
    global _audio_buffer
    _audio_buffer = _UnbufferedAudio if enabled else _plain_jitter_buffer
    _install_receive_buffers()
