"""Synthetic media sources for machines without devices, and checks for what they carry.

:class:`SyntheticVideoTrack` yields a test pattern whose pixels carry the sender's identity,
a frame counter and the send time (:mod:`roomcall.media.pattern`), on a background coloured per
label with a moving bar, so both people and tests can tell streams apart.
:class:`CameraLikeVideoTrack` carries the same code over moving texture and sensor-like noise,
which fills a VP8 budget of 1 Mbit/s and more as a webcam does (the plain pattern needs only
about 230 kbit/s, so it hides every bandwidth cap).
:class:`SyntheticAudioTrack` yields a continuous sine tone; :func:`dominant_frequency`
tells a receiver which tone it got.
"""

from __future__ import annotations

import asyncio
import colorsys
import fractions
import math
import time
from typing import Final

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack, VideoStreamTrack

from roomcall.media.glyphs import stamp_text
from roomcall.media.pattern import (
    CodeGeometry,
    PatternInfo,
    decode_pattern,
    encode_bits,
    identity_code,
)

__all__ = [
    "CameraLikeVideoTrack",
    "PatternInfo",
    "SyntheticAudioTrack",
    "SyntheticVideoTrack",
    "decode_pattern",
    "dominant_frequency",
    "identity_code",
]

VIDEO_CLOCK_RATE: Final = 90_000
"""RTP clock rate of video, the time base aiortc's encoders expect."""
AUDIO_PTIME: Final = 0.020
"""Audio frame duration: 20 ms, what aiortc's Opus encoder packetises."""
_MAX_LATE_S: Final = 0.5
"""How far behind schedule the video source may fall before it skips frames."""


def _label_colour(identity: int) -> tuple[int, int, int]:
    """A mid-bright, saturated YUV (BT.601, limited range) colour chosen by ``identity``."""
    hue = (identity & 0xFFFF) / 0x10000
    r, g, b = colorsys.hsv_to_rgb(hue, 0.65, 0.75)
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return round(y), round(u), round(v)


class SyntheticVideoTrack(VideoStreamTrack):
    """A test-pattern video source paced in real time.

    Each yuv420p frame carries ``identity_code(label)``, a counter and ``time.time()`` in ms,
    readable with :func:`decode_pattern` after VP8 coding and scaling. The counter is the
    frame's slot since the first frame (0, 1, 2, ...); when the reader falls more than half a
    second behind, missed slots are skipped, so counters rise but may jump. Generating a frame
    rewrites only the code rows and the moving bar of a prebuilt buffer.
    """

    kind = "video"

    def __init__(self, label: str, *, width: int = 640, height: int = 480, fps: int = 30) -> None:
        super().__init__()
        if width % 2 or height % 2:
            raise ValueError(f"width and height must be even, got {width}x{height}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.label = label
        self.identity = identity_code(label)
        self.width = width
        self.height = height
        self.fps = fps
        self.frames_sent = 0
        """Frames returned so far (fewer than the last counter if frames were skipped)."""
        self._geometry = CodeGeometry(width, height)
        self._background_y, u, v = _label_colour(self.identity)
        # The whole yuv420p image as one (height * 3 / 2, width) array, as from_ndarray wants.
        self._yuv = np.empty((height * 3 // 2, width), dtype=np.uint8)
        self._yuv[:height] = self._background_y
        self._draw_label()
        self._base_luma = self._yuv[:height].copy()
        chroma = self._yuv[height:].reshape(-1)
        quarter = width * height // 4
        chroma[:quarter] = u
        chroma[quarter:] = v
        # Neutral chroma behind the code: plain black and white, for people and codecs alike.
        code_chroma_rows = -(-self._geometry.code_height // 2)
        for plane in (chroma[:quarter], chroma[quarter:]):
            plane.reshape(height // 2, width // 2)[:code_chroma_rows] = 128
        self._bar_width = max(2, width // 40)
        self._bar_x = 0
        self._start: float
        self._timestamp: int
        self._slot = 0

    def _draw_label(self) -> None:
        """Stamp the label, big, in the lower left (once: frames only rewrite code and bar)."""
        margin = max(2, self.height // 24)
        fit = (self.width - 2 * margin) // (6 * max(1, len(self.label)))
        scale = max(1, min(self.height // 60, fit))
        x, y = margin, self.height - margin - 7 * scale
        luma = self._yuv[: self.height]
        shadow = max(1, scale // 2)
        stamp_text(luma, self.label, x + shadow, y + shadow, scale, 16)
        stamp_text(luma, self.label, x, y, scale, 235)

    async def next_timestamp(self) -> tuple[int, fractions.Fraction]:
        """Wait until the next frame is due; its pts in a 90 kHz time base."""
        if self.readyState != "live":
            raise MediaStreamError
        if hasattr(self, "_timestamp"):
            self._slot += 1
            late = time.time() - (self._start + self._slot / self.fps)
            if late > _MAX_LATE_S:
                # Far behind (a stalled loop or a slow reader): skip the missed slots like a
                # camera dropping frames, rather than bursting out stale ones.
                self._slot += int(late * self.fps)
            self._timestamp = round(self._slot * VIDEO_CLOCK_RATE / self.fps)
            wait = self._start + self._timestamp / VIDEO_CLOCK_RATE - time.time()
            await asyncio.sleep(wait)
        else:
            self._start = time.time()
            self._timestamp = 0
            self._slot = 0
        return self._timestamp, fractions.Fraction(1, VIDEO_CLOCK_RATE)

    async def recv(self) -> av.VideoFrame:
        """The next pattern frame, when it is due; its counter is its frame slot since start."""
        pts, time_base = await self.next_timestamp()
        frame = self.render(self._slot, int(time.time() * 1000))
        frame.pts = pts
        frame.time_base = time_base
        self.frames_sent += 1
        return frame

    def render(self, counter: int, sent_at_ms: int) -> av.VideoFrame:
        """Draw the frame numbered ``counter`` stamped ``sent_at_ms`` (no pacing, no pts)."""
        # encode_bits keeps the counter and the time within their field widths.
        info = PatternInfo(self.identity, counter, sent_at_ms)
        luma = self._yuv[: self.height]
        top = self._geometry.code_height
        luma[:top] = self._geometry.render(encode_bits(info))
        # Moving bar under the code: shows at a glance whether the picture is live.
        bar = slice(self._bar_x, self._bar_x + self._bar_width)
        luma[top:, bar] = self._base_luma[top:, bar]
        span = self.width - self._bar_width
        self._bar_x = (counter * max(1, self.width // 160)) % span if span > 0 else 0
        luma[top:, self._bar_x : self._bar_x + self._bar_width] = 235
        return av.VideoFrame.from_ndarray(self._yuv, format="yuv420p")


_NOISE_FRAMES: Final = 7
"""Distinct noise fields cycled through (a prime, so the cycle never lines up with motion)."""


class CameraLikeVideoTrack(SyntheticVideoTrack):
    """The test pattern's code over a moving, noisy scene, like a webcam for the encoder.

    Below the code rows: a textured scene (sinusoids of several scales and directions plus
    smooth random blobs) panning along a circle, slowly changing colour, with fresh
    sensor-like noise on every frame. Frames still carry ``identity_code(label)``, the counter
    and the send time in the code rows, readable with :func:`decode_pattern`.
    """

    def __init__(
        self, label: str, *, width: int = 640, height: int = 480, fps: int = 30,
        noise: int = 6, seed: int = 0,
    ) -> None:
        super().__init__(label, width=width, height=height, fps=fps)
        rng = np.random.default_rng(seed)
        self._pan = max(8, width // 8)
        tall, wide = height + 2 * self._pan, width + 2 * self._pan
        y, x = np.mgrid[0:tall, 0:wide].astype(np.float32)
        scene = (
            40 * np.sin(x / (wide / 23)) * np.cos(y / (tall / 17))
            + 25 * np.sin((x + 2 * y) / 5.0)
            + 18 * np.sin((3 * x - y) / 2.3)
        )
        blobs = rng.normal(0.0, 1.0, (tall // 16 + 2, wide // 16 + 2)).astype(np.float32)
        blobs = np.kron(blobs, np.ones((16, 16), dtype=np.float32))[:tall, :wide]
        self._scene = np.clip(self._background_y + scene + 20 * blobs, 16, 235).astype(np.int16)
        self._noise = rng.integers(-noise, noise + 1, (_NOISE_FRAMES, height, width),
                                   dtype=np.int16)
        cy, cx = np.mgrid[0 : height // 2, 0 : width // 2].astype(np.float32)
        self._chroma_wave = (12 * np.sin(cx / 11.0 + cy / 7.0)).astype(np.int16)

    def render(self, counter: int, sent_at_ms: int) -> av.VideoFrame:
        """Draw the frame numbered ``counter`` stamped ``sent_at_ms`` (no pacing, no pts)."""
        angle = counter * 2 * math.pi / (4 * self.fps)  # one turn every 4 s
        dx = self._pan + round(self._pan * math.cos(angle))
        dy = self._pan + round(self._pan * math.sin(angle))
        top = self._geometry.code_height
        view = self._scene[dy : dy + self.height, dx : dx + self.width]
        luma = view + self._noise[counter % _NOISE_FRAMES]
        self._yuv[top : self.height] = np.clip(luma[top:], 0, 255)
        info = PatternInfo(self.identity, counter, sent_at_ms)
        self._yuv[:top] = self._geometry.render(encode_bits(info))
        chroma = self._yuv[self.height :].reshape(2, self.height // 2, self.width // 2)
        shift = counter % (self.width // 2)
        wave = np.roll(self._chroma_wave, shift, axis=1)
        chroma_top = -(-top // 2)
        chroma[:, chroma_top:] = np.clip(128 + wave[chroma_top:], 0, 255)
        chroma[:, :chroma_top] = 128  # neutral behind the code, as the plain pattern
        return av.VideoFrame.from_ndarray(self._yuv, format="yuv420p")


class SyntheticAudioTrack(MediaStreamTrack):
    """A continuous sine tone as 20 ms s16 frames, paced in real time."""

    kind = "audio"

    def __init__(
        self,
        *,
        frequency: float = 440.0,
        sample_rate: int = 48_000,
        channels: int = 1,
        amplitude: float = 0.3,
    ) -> None:
        super().__init__()
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        if not 0.0 <= amplitude <= 1.0:
            raise ValueError(f"amplitude must be within [0, 1], got {amplitude}")
        if not 0 < frequency < sample_rate / 2:
            raise ValueError(f"frequency must be within (0, {sample_rate / 2}), got {frequency}")
        self.frequency = frequency
        self.sample_rate = sample_rate
        self.channels = channels
        self.amplitude = amplitude
        self.samples_per_frame = round(AUDIO_PTIME * sample_rate)
        self._sample_index = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        """The next 20 ms of tone, when it is due."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        else:
            wait = self._start + self._sample_index / self.sample_rate - time.time()
            await asyncio.sleep(wait)
        frame = self.render(self._sample_index)
        self._sample_index += self.samples_per_frame
        return frame

    def render(self, first_sample: int) -> av.AudioFrame:
        """The frame starting at sample ``first_sample`` (pts in a 1/sample_rate time base)."""
        n = np.arange(first_sample, first_sample + self.samples_per_frame, dtype=np.float64)
        # Phase from the absolute sample index keeps the tone continuous across frames.
        wave = np.sin(2 * math.pi * self.frequency * n / self.sample_rate)
        mono = np.round(wave * self.amplitude * 32767).astype(np.int16)
        interleaved = np.repeat(mono, self.channels).reshape(1, -1)
        layout = "mono" if self.channels == 1 else "stereo"
        frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
        frame.sample_rate = self.sample_rate
        frame.pts = first_sample
        frame.time_base = fractions.Fraction(1, self.sample_rate)
        return frame


def audio_samples(frame: av.AudioFrame) -> npt.NDArray[np.float64]:
    """The frame's first channel as floats in [-1, 1] (any packed or planar s16/flt format)."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    first = data[0] if frame.format.is_planar else data.reshape(-1, channels)[:, 0]
    if np.issubdtype(first.dtype, np.integer):
        scale = float(np.iinfo(first.dtype).max)
        return first.astype(np.float64) / scale
    return first.astype(np.float64)


def dominant_frequency(frame: av.AudioFrame) -> float:
    """The strongest frequency in ``frame``, in Hz (FFT with a Hann window, peak interpolated).

    Returns 0.0 for a silent or empty frame.
    """
    samples = audio_samples(frame)
    if samples.size < 4 or not np.any(samples):
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    spectrum[0] = 0.0  # ignore DC
    peak = int(np.argmax(spectrum))
    offset = 0.0
    if 0 < peak < spectrum.size - 1:
        # Parabolic interpolation on log magnitudes refines the peak between bins.
        a, b, c = np.log(spectrum[peak - 1 : peak + 2] + 1e-12)
        denominator = a - 2 * b + c
        offset = 0.5 * (a - c) / denominator if denominator else 0.0
    return float((peak + offset) * frame.sample_rate / samples.size)
