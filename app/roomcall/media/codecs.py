"""The shared encoders: VP8 (libvpx) and Opus (libopus).

VP8 takes its libvpx settings from a :class:`VideoSettings`: :data:`CAMERA_VP8` is aiortc's
camera set-up, :data:`SCREEN_VP8` the one for screen content (text, still pictures). It calls
libvpx directly (:mod:`roomcall.media.libvpx`) so that a new target bit rate applies from the
next frame on; where that library cannot be reached it encodes through PyAV, which has to
re-open the encoder (and so send a keyframe) for each new target.
"""

from __future__ import annotations

import fractions
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import av
from aiortc.codecs.vpx import number_of_threads
from av.audio.resampler import AudioResampler
from av.video.frame import PictureType

from roomcall.media import libvpx

VIDEO_TIME_BASE: Final = fractions.Fraction(1, 90_000)
OPUS_RATE: Final = 48_000
OPUS_FRAME_SAMPLES: Final = 960
"""20 ms at 48 kHz: the frame size aiortc's Opus depacketiser and jitter buffer expect."""
AUDIO_BITRATE: Final = 64_000
VIDEO_BITRATE: Final = 1_000_000
"""Initial VP8 target in bit/s."""


@dataclass(frozen=True)
class VideoSettings:
    """How libvpx encodes one kind of content (realtime CBR at the target bit rate either way)."""

    name: str
    framerate: int
    """The frame rate libvpx's rate control plans for."""
    qmax: int
    """Coarsest quantizer allowed (63 is libvpx's coarsest)."""
    options: Mapping[str, str]
    """libvpx options (FFmpeg names) besides the rate ones."""


CAMERA_VP8: Final = VideoSettings("camera", 30, 56, {
    "cpu-used": "-6",
    "deadline": "realtime",
    "lag-in-frames": "0",
    "noise-sensitivity": "4",
    "overshoot-pct": "15",
    "partitions": "0",
    "static-thresh": "1",
    "undershoot-pct": "100",
})
"""aiortc's ``Vp8Encoder`` settings, for cameras."""

SCREEN_VP8: Final = VideoSettings("screen", 15, 63, {
    # libvpx's screen-content tools (mode 2 adds re-encoding on overshoot: 25 % slower for
    # the same rate on scrolling text here, bench/screen.py).
    "screen-content-mode": "1",
    # Near the fastest realtime speed: 1080p scrolling text 8 ms a frame instead of 11-24 ms
    # with the camera's -6; 14 keeps 1 dB more of the text than 16 for 0.5 ms a frame.
    "cpu-used": "14",
    "deadline": "realtime",
    "lag-in-frames": "0",
    # Denoising blurs the strokes of text and costs time; a screen has no sensor noise.
    "noise-sensitivity": "0",
    "overshoot-pct": "15",
    "partitions": "0",
    # Blocks this close to the reference are skipped: unchanged parts of a screen cost nothing.
    "static-thresh": "100",
    "undershoot-pct": "100",
})
"""For screens and windows: text stays sharp (a coarser quantizer is allowed instead of
blurring), unchanged areas are skipped, and bursts are held to the target."""


class VideoCodec:
    """A VP8 encoder, realtime CBR, set up by ``settings``."""

    def __init__(self, settings: VideoSettings = CAMERA_VP8) -> None:
        self.settings = settings
        self.bitrate = VIDEO_BITRATE
        """Target bit/s; a change applies from the next frame on."""
        self.reopened = 0
        """Times the encoder was opened again for a new size or (through PyAV) a new rate."""
        self._library = libvpx.load()
        """The libvpx called directly, or None: encode through PyAV."""
        self._direct: libvpx.Encoder | None = None
        self._codec: av.VideoCodecContext | None = None
        self._next_pts = 0

    @property
    def in_place_retarget(self) -> bool:
        """Whether a new target applies without re-opening the encoder (and so without a
        keyframe): libvpx is called directly."""
        return self._library is not None

    def encode(self, frame: av.VideoFrame, keyframe: bool) -> list[av.Packet[Any]]:
        """Encode one frame (a keyframe if asked); runs in an executor thread."""
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        if frame.pts is None or frame.time_base is None:
            frame.pts = self._next_pts
            frame.time_base = VIDEO_TIME_BASE
        self._next_pts = int(frame.pts) + 3000
        if self._library is not None:
            return self._encode_direct(self._library, frame, keyframe)
        codec = self._codec
        if codec is not None and (
            frame.width != codec.width
            or frame.height != codec.height
            or codec.bit_rate != self.bitrate
        ):
            codec = None
            self.reopened += 1
        if codec is None:
            codec = self._codec = self._open(frame)
        # Always set: FFmpeg's libvpx wrapper makes a keyframe of every frame marked I, and
        # frames decoded from a grabber or a raw camera (rawvideo) all come marked I.
        frame.pict_type = PictureType.I if keyframe else PictureType.NONE
        return list(codec.encode(frame))

    def _encode_direct(self, library: libvpx.Library, frame: av.VideoFrame,
                       keyframe: bool) -> list[av.Packet[Any]]:
        encoder = self._direct
        if encoder is not None and (frame.width, frame.height) != (encoder.setup.width,
                                                                   encoder.setup.height):
            encoder.close()
            encoder = None
            self.reopened += 1
        if encoder is None:
            encoder = self._direct = libvpx.Encoder(library, self._setup(frame), self.bitrate)
        else:
            encoder.set_bitrate(self.bitrate)
        time_base = frame.time_base or VIDEO_TIME_BASE
        pts = int(frame.pts or 0) * time_base / VIDEO_TIME_BASE
        packets = []
        for data, is_key in encoder.encode(frame, int(pts), keyframe):
            packet = av.Packet(data)
            packet.pts, packet.time_base = frame.pts, time_base
            packet.is_keyframe = is_key
            packets.append(packet)
        return packets

    def _setup(self, frame: av.VideoFrame) -> libvpx.EncoderSetup:
        options = self.settings.options
        return libvpx.EncoderSetup(
            width=frame.width, height=frame.height,
            threads=number_of_threads(frame.width * frame.height, os.cpu_count() or 1),
            framerate=self.settings.framerate, qmin=2, qmax=self.settings.qmax,
            undershoot_pct=int(options.get("undershoot-pct", "100")),
            overshoot_pct=int(options.get("overshoot-pct", "15")),
            controls={control: int(options[name])
                      for name, control in libvpx.CONTROLS.items() if name in options},
        )

    def _open(self, frame: av.VideoFrame) -> av.VideoCodecContext:
        codec = av.CodecContext.create("libvpx", "w")
        assert isinstance(codec, av.VideoCodecContext)
        codec.width = frame.width
        codec.height = frame.height
        codec.pix_fmt = "yuv420p"
        codec.time_base = frame.time_base or VIDEO_TIME_BASE
        codec.framerate = fractions.Fraction(self.settings.framerate, 1)
        codec.bit_rate = self.bitrate
        codec.gop_size = 3000  # keyframes come on request, not on a timer
        codec.qmin = 2
        codec.qmax = self.settings.qmax
        rate = str(self.bitrate)
        codec.options = {
            **self.settings.options,
            "bufsize": rate,
            # minrate = maxrate = bit_rate makes libvpx run CBR, as aiortc does.
            "minrate": rate,
            "maxrate": rate,
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
