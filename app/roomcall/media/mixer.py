"""Mixing remote audio from several members into one 48 kHz stereo s16 stream.

Each source has its own :class:`~roomcall.media.jitter.JitterBuffer`: adaptive by default
(a small reserve on a clean link, growing with measured jitter, losses concealed), or the
former fixed prefetch when ``target_ms`` is given. A stalled source contributes silence and
never holds up the others. Each source's level (for volume indication) is metered on the audio
it contributes to the mix. Pure numpy; no I/O, no clock: arrival times are passed in. One
lock makes it safe to mix on an audio thread while the event loop pushes.

>>> mixer = AudioMixer()
>>> mixer.add_source("alice")
>>> mixer.mix().shape
(960, 2)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable

import av
import numpy as np

from roomcall.media.jitter import (
    CHANNELS,
    FRAME_MS,
    FRAME_SAMPLES,
    SAMPLE_RATE,
    JitterBuffer,
    JitterStats,
    Samples,
)
from roomcall.media.level import LevelMeter

__all__ = ["CHANNELS", "FRAME_MS", "FRAME_SAMPLES", "SAMPLE_RATE", "AudioMixer", "Samples",
           "SourceStats"]

logger = logging.getLogger(__name__)

SourceStats = JitterStats
"""Counters of one source's jitter buffer."""


class _Source:
    def __init__(self, buffer: JitterBuffer) -> None:
        self.buffer = buffer
        self.meter = LevelMeter()
        self.resampler: av.AudioResampler | None = None
        self.resampler_layout = ""

    def convert(self, frame: av.AudioFrame) -> Samples:
        # Mono stays mono through the resampler and is duplicated here: swresample's
        # mono-to-stereo upmix lowers the level by 3 dB.
        layout = "mono" if len(frame.layout.channels) == 1 else "stereo"
        if self.resampler is None or layout != self.resampler_layout:
            self.resampler, self.resampler_layout = _new_resampler(layout), layout
        try:
            converted = self.resampler.resample(frame)
        except ValueError:
            # The source changed rate or format mid-stream: start a resampler for the new one.
            self.resampler = _new_resampler(layout)
            converted = self.resampler.resample(frame)
        parts = [f.to_ndarray().reshape(-1) for f in converted]
        if not parts:
            return np.zeros((0, CHANNELS), dtype=np.int16)
        joined = np.concatenate(parts).astype(np.int16, copy=False)
        if layout == "mono":
            return np.repeat(joined[:, None], CHANNELS, axis=1)
        return joined.reshape(-1, CHANNELS)


def _new_resampler(layout: str) -> av.AudioResampler:
    return av.AudioResampler(format="s16", layout=layout, rate=SAMPLE_RATE)


class AudioMixer:
    """Sums 20 ms frames from any number of sources, each behind its own jitter buffer.

    Args:
        target_ms: None (the default) for adaptive jitter buffers; a number for the former
            fixed prefetch: a source is heard once that much is buffered, and again after
            each underrun (the benchmark's baseline).
        max_ms: Most audio a source may hold; beyond it the oldest is dropped.
        min_ms: Least reserve an adaptive buffer keeps.
    """

    def __init__(self, *, target_ms: int | None = None, max_ms: int = 200,
                 min_ms: int = 20) -> None:
        JitterBuffer(fixed_ms=target_ms, min_ms=min_ms, max_ms=max_ms)  # validates the sizes
        self.target_ms = target_ms
        self.max_ms = max_ms
        self.min_ms = min_ms
        self._sources: dict[Hashable, _Source] = {}
        self._lock = threading.Lock()

    @property
    def max_samples(self) -> int:
        """Most samples a source may hold."""
        return SAMPLE_RATE * self.max_ms // 1000

    @property
    def sources(self) -> list[Hashable]:
        """Keys of the sources being mixed."""
        return list(self._sources)

    def add_source(self, key: Hashable) -> None:
        """Start mixing ``key`` (a fresh, empty buffer; re-adding resets it)."""
        buffer = JitterBuffer(fixed_ms=self.target_ms, min_ms=self.min_ms, max_ms=self.max_ms)
        with self._lock:
            self._sources[key] = _Source(buffer)

    def remove_source(self, key: Hashable) -> None:
        """Stop mixing ``key`` and drop what it had buffered (unknown keys are ignored)."""
        with self._lock:
            self._sources.pop(key, None)

    def stats(self, key: Hashable) -> SourceStats:
        """A snapshot of ``key``'s jitter buffer counters."""
        with self._lock:
            return self._sources[key].buffer.snapshot()

    def levels(self) -> dict[Hashable, float]:
        """Each source's current level, 0.0 (silent, -60 dBFS or less) to 1.0 (full scale)."""
        with self._lock:
            return {key: source.meter.level for key, source in self._sources.items()}

    def push(self, key: Hashable, frame: av.AudioFrame, arrival: float | None = None) -> None:
        """Add a decoded frame from ``key`` (any rate, layout and sample format), received at
        ``arrival`` seconds (any forward-only clock; None: no jitter measurement).

        The frame's pts (with its time base) places it in the member's timeline, which is how
        losses and late frames are recognised. Frames from unknown keys are ignored: a track
        removed while a frame was in flight.
        """
        source = self._sources.get(key)
        if source is None:
            return
        media_time = None
        if frame.pts is not None and frame.time_base is not None:
            media_time = float(frame.pts * frame.time_base)
        self.push_samples(key, source.convert(frame), media_time=media_time, arrival=arrival)

    def push_samples(self, key: Hashable, samples: Samples, *, media_time: float | None = None,
                     arrival: float | None = None) -> None:
        """Add interleaved 48 kHz stereo int16 samples ``(n, 2)`` from ``key``."""
        with self._lock:
            source = self._sources.get(key)
            if source is not None:
                source.buffer.push(samples, media_time=media_time, arrival=arrival)

    def mix(self) -> Samples:
        """The next 20 ms of the mix as ``(FRAME_SAMPLES, 2)`` int16, clipped, never blocking.

        Sources still buffering, or empty, add silence.
        """
        total = np.zeros((FRAME_SAMPLES, CHANNELS), dtype=np.int32)
        with self._lock:
            for source in self._sources.values():
                taken = source.buffer.pull()
                if taken is None:
                    source.meter.decay(FRAME_SAMPLES)
                    continue
                source.meter.measure(taken)
                total += taken
        mixed: Samples = np.clip(total, -32768, 32767).astype(np.int16)
        return mixed

    def mix_frame(self, pts: int | None = None) -> av.AudioFrame:
        """:meth:`mix` as an s16 stereo 48 kHz ``av.AudioFrame``."""
        frame = av.AudioFrame.from_ndarray(self.mix().reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = pts
        return frame
