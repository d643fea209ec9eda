"""Encode each local track once and hand the packets to every peer.

With aiortc's normal path every ``RTCRtpSender`` runs its own encoder, so a 640x480 camera sent
to 7 peers costs 7 VP8 encodes per frame (61 % of a core measured, against 12.5 % encoding once;
see docs/benchmarks.md). A :class:`TrackEncoder` reads its source track, encodes VP8 (video) or
Opus (audio) with PyAV once, and pushes each ``av.Packet`` to one :class:`PacketTrack` per peer;
the senders then only packetise.

What aiortc does for the frame path and we must do ourselves on the packet path:

- keyframes: a PLI / FIR from any peer is routed here
  (:func:`roomcall.sdk.compat.route_keyframe_requests`) and the one encoder makes the next
  frame a keyframe; a peer whose sender starts gets one at once;
- bitrate: REMB is ignored for packets, so the target is fixed by the number of peers
  (:func:`bitrate_for_peers`), as an uplink budget for a mesh.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import os
import time
from typing import Any, Final

import av
from aiortc.codecs.vpx import number_of_threads
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.audio.resampler import AudioResampler
from av.frame import Frame
from av.video.frame import PictureType

from roomcall.aio import cancel_and_wait
from roomcall.media.packet_track import PacketTrack

logger = logging.getLogger(__name__)

VIDEO_TIME_BASE: Final = fractions.Fraction(1, 90_000)
OPUS_RATE: Final = 48_000
OPUS_FRAME_SAMPLES: Final = 960
"""20 ms at 48 kHz: the frame size aiortc's Opus depacketiser and jitter buffer expect."""
AUDIO_BITRATE: Final = 64_000
MIN_KEYFRAME_INTERVAL: Final = 0.2
"""Seconds between keyframes forced by PLI / FIR, so lossy peers cannot ask for one per frame."""


def bitrate_for_peers(peers: int) -> int:
    """VP8 target in bit/s for a 640x480 camera sent to ``peers`` peers over one uplink.

    A mesh sends every packet once per peer, so the per-stream rate falls as the room grows:
    1 Mbit/s to one peer, 800 kbit/s to up to three, 600 kbit/s beyond (4.2 Mbit/s for 7 peers).
    Inside aiortc's VP8 clamp of 250 kbit/s to 1.5 Mbit/s.
    """
    if peers <= 1:
        return 1_000_000
    if peers <= 3:
        return 800_000
    return 600_000


class VideoCodec:
    """A VP8 encoder (libvpx through PyAV) set up like aiortc's ``Vp8Encoder`` (realtime CBR)."""

    def __init__(self) -> None:
        self.bitrate = bitrate_for_peers(1)
        """Target bit/s; a change re-creates the encoder (and so starts with a keyframe)."""
        self._codec: av.VideoCodecContext | None = None
        self._next_pts = 0

    def encode(self, frame: av.VideoFrame, keyframe: bool) -> list[av.Packet[Any]]:
        """Encode one frame (a keyframe if asked); runs in an executor thread."""
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        if frame.pts is None or frame.time_base is None:
            frame.pts = self._next_pts
            frame.time_base = VIDEO_TIME_BASE
        self._next_pts = int(frame.pts) + 3000
        codec = self._codec
        if codec is not None and (
            frame.width != codec.width
            or frame.height != codec.height
            or codec.bit_rate != self.bitrate
        ):
            codec = None
        if codec is None:
            codec = self._codec = self._open(frame)
        elif keyframe:
            frame.pict_type = PictureType.I
        return list(codec.encode(frame))

    def _open(self, frame: av.VideoFrame) -> av.VideoCodecContext:
        codec = av.CodecContext.create("libvpx", "w")
        assert isinstance(codec, av.VideoCodecContext)
        codec.width = frame.width
        codec.height = frame.height
        codec.pix_fmt = "yuv420p"
        codec.time_base = frame.time_base or VIDEO_TIME_BASE
        codec.framerate = fractions.Fraction(30, 1)
        codec.bit_rate = self.bitrate
        codec.gop_size = 3000  # keyframes come on request, not on a timer
        codec.qmin = 2
        codec.qmax = 56
        rate = str(self.bitrate)
        codec.options = {
            "bufsize": rate,
            "cpu-used": "-6",
            "deadline": "realtime",
            "lag-in-frames": "0",
            # minrate = maxrate = bit_rate makes libvpx run CBR, as aiortc does.
            "minrate": rate,
            "maxrate": rate,
            "noise-sensitivity": "4",
            "overshoot-pct": "15",
            "partitions": "0",
            "static-thresh": "1",
            "undershoot-pct": "100",
        }
        codec.thread_count = number_of_threads(frame.width * frame.height, os.cpu_count() or 1)
        return codec


class AudioCodec:
    """An Opus encoder (libopus through PyAV): 48 kHz stereo, 20 ms packets."""

    def __init__(self) -> None:
        codec = av.CodecContext.create("libopus", "w")
        assert isinstance(codec, av.AudioCodecContext)
        codec.bit_rate = AUDIO_BITRATE
        codec.format = "s16"
        codec.layout = "stereo"
        codec.sample_rate = OPUS_RATE
        codec.time_base = fractions.Fraction(1, OPUS_RATE)
        codec.options = {"application": "voip"}
        self._codec = codec
        self._resampler = AudioResampler(
            format="s16", layout="stereo", rate=OPUS_RATE, frame_size=OPUS_FRAME_SAMPLES
        )

    def encode(self, frame: av.AudioFrame, keyframe: bool) -> list[av.Packet[Any]]:
        """Encode one source frame (any rate / layout); may return zero or more packets."""
        del keyframe  # every Opus packet decodes on its own
        packets: list[av.Packet[Any]] = []
        for chunk in self._resampler.resample(frame):
            packets.extend(self._codec.encode(chunk))
        return packets


class TrackEncoder:
    """Reads one local track, encodes it once, and fans the packets out to one track per peer.

    Create it, :meth:`start` it, and give each peer's sender a :meth:`subscribe` track. Frames
    are only encoded while at least one peer's sender is reading and the track is not muted.
    """

    def __init__(self, source: MediaStreamTrack, media_id: str) -> None:
        if source.kind not in ("audio", "video"):
            raise ValueError(f"cannot encode a track of kind {source.kind!r}")
        self.source = source
        self.media_id = media_id
        self.kind: str = source.kind
        self._codec: VideoCodec | AudioCodec = (
            VideoCodec() if self.kind == "video" else AudioCodec()
        )
        self._outputs: list[PacketTrack] = []
        self._task: asyncio.Task[None] | None = None
        self._muted = False
        self._keyframe_wanted = False
        self._keyframe_urgent = False
        self._last_keyframe = float("-inf")
        self.frames_read = 0
        """Frames taken from the source."""
        self.frames_encoded = 0
        """Encoder invocations: one per frame, whatever the number of peers."""
        self.keyframes = 0
        """Keyframes produced (video)."""

    @property
    def outputs(self) -> tuple[PacketTrack, ...]:
        """The live per-peer tracks."""
        return tuple(self._outputs)

    @property
    def muted(self) -> bool:
        """While muted no frame is encoded and no packet reaches any peer."""
        return self._muted

    @muted.setter
    def muted(self, muted: bool) -> None:
        if muted == self._muted:
            return
        self._muted = muted
        if not muted:
            self._want_keyframe(urgent=True)

    def start(self) -> None:
        """Start reading and encoding (call once, inside the running loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"encoder-{self.media_id}")

    def subscribe(self, *, held: bool = False) -> PacketTrack:
        """A new per-peer track fed by this encoder; stopping it detaches it.

        ``held``: see :class:`~roomcall.media.packet_track.PacketTrack` (video waits to be asked).
        """
        track = PacketTrack(self, self.kind, self.media_id, held=held)
        self._outputs.append(track)
        self._update_bitrate()
        return track

    async def stop(self) -> None:
        """Stop encoding and end every per-peer track; the source track is left running."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        for track in list(self._outputs):
            track.stop()

    # --- PacketSource ----------------------------------------------------------------------

    def output_started(self, track: PacketTrack) -> None:
        """A peer's sender began reading: give it a keyframe without delay."""
        self._want_keyframe(urgent=True)

    def request_keyframe(self, *, urgent: bool = False) -> None:
        """A peer reported lost pictures (PLI / FIR): a keyframe, after the minimum interval
        since the last one unless ``urgent``."""
        self._want_keyframe(urgent=urgent)

    def detach(self, track: PacketTrack) -> None:
        """Stop feeding ``track``."""
        if track in self._outputs:
            self._outputs.remove(track)
            self._update_bitrate()

    # --- internals -------------------------------------------------------------------------

    def _want_keyframe(self, *, urgent: bool) -> None:
        self._keyframe_wanted = True
        self._keyframe_urgent = self._keyframe_urgent or urgent

    def _take_keyframe(self) -> bool:
        if not self._keyframe_wanted:
            return False
        if not self._keyframe_urgent and (
            time.monotonic() - self._last_keyframe < MIN_KEYFRAME_INTERVAL
        ):
            return False  # kept pending until the interval has passed
        self._keyframe_wanted = self._keyframe_urgent = False
        return True

    def _update_bitrate(self) -> None:
        if isinstance(self._codec, VideoCodec):
            self._codec.bitrate = bitrate_for_peers(len(self._outputs))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await self.source.recv()
                self.frames_read += 1
                if self._muted or not any(t.started for t in self._outputs):
                    continue
                keyframe = self._take_keyframe()
                try:
                    # Encoding takes milliseconds: keep it off the event loop, as aiortc does.
                    packets = await loop.run_in_executor(None, self._encode, frame, keyframe)
                except (av.FFmpegError, ValueError):
                    logger.exception("encoding a %s frame of %s failed", self.kind, self.media_id)
                    continue
                self.frames_encoded += 1
                self._fan_out(packets)
        except MediaStreamError:
            logger.info("source of %s ended", self.media_id)
            for track in list(self._outputs):
                track.stop()

    def _encode(self, frame: Frame | av.Packet[Any], keyframe: bool) -> list[av.Packet[Any]]:
        if isinstance(self._codec, VideoCodec) and isinstance(frame, av.VideoFrame):
            return self._codec.encode(frame, keyframe)
        if isinstance(self._codec, AudioCodec) and isinstance(frame, av.AudioFrame):
            return self._codec.encode(frame, keyframe)
        raise ValueError(f"{self.kind} source gave {type(frame).__name__}")

    def _fan_out(self, packets: list[av.Packet[Any]]) -> None:
        for packet in packets:
            keyframe = self.kind == "audio" or bool(packet.is_keyframe)
            if keyframe and self.kind == "video":
                self.keyframes += 1
                self._last_keyframe = time.monotonic()
            for track in list(self._outputs):
                track.push(packet, keyframe)
