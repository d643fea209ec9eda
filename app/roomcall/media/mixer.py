"""Mixing remote audio from several members into one 48 kHz stereo s16 stream.

Each source gets a small jitter buffer: it starts contributing once ``target_ms`` of audio
is buffered (so packet-arrival jitter does not cut the sound), falls back to buffering after
an underrun, and drops its oldest audio when it runs more than ``max_ms`` ahead (a sender
whose clock is fast, or a burst after a stall), so latency stays bounded. A stalled source
contributes silence and never holds up the others. Pure numpy; no I/O, no clock.

>>> mixer = AudioMixer(target_ms=40)
>>> mixer.add_source("alice")
>>> mixer.mix().shape
(960, 2)
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Final

import av
import numpy as np
import numpy.typing as npt

__all__ = ["CHANNELS", "FRAME_SAMPLES", "SAMPLE_RATE", "AudioMixer", "SourceStats"]

logger = logging.getLogger(__name__)

SAMPLE_RATE: Final = 48_000
CHANNELS: Final = 2
FRAME_MS: Final = 20
FRAME_SAMPLES: Final = SAMPLE_RATE * FRAME_MS // 1000
"""Samples per channel in one mixed 20 ms frame."""

Samples = npt.NDArray[np.int16]
"""Interleaved audio as a ``(samples, CHANNELS)`` int16 array."""


@dataclass
class SourceStats:
    """Counters of one source's jitter buffer."""

    buffered_ms: float = 0.0
    """Audio held right now."""
    underruns: int = 0
    """Times the buffer ran dry while playing (each one re-buffers ``target_ms``)."""
    dropped_ms: float = 0.0
    """Audio discarded because the source ran ahead of ``max_ms``."""
    received_ms: float = 0.0
    """Audio pushed in total."""


class _Source:
    def __init__(self) -> None:
        self.buffer: Samples = np.zeros((0, CHANNELS), dtype=np.int16)
        self.playing = False
        self.stats = SourceStats()
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


def _ms(samples: int) -> float:
    return samples * 1000 / SAMPLE_RATE


class AudioMixer:
    """Sums 20 ms frames from any number of sources, each behind its own jitter buffer.

    Args:
        target_ms: Audio a source buffers before it is heard (and again after an underrun).
        max_ms: Most audio a source may hold; beyond it the oldest is dropped down to
            ``target_ms``.
    """

    def __init__(self, *, target_ms: int = 80, max_ms: int = 200) -> None:
        if not 0 <= target_ms < max_ms:
            raise ValueError(f"need 0 <= target_ms < max_ms, got {target_ms}, {max_ms}")
        self.target_samples = SAMPLE_RATE * target_ms // 1000
        self.max_samples = SAMPLE_RATE * max_ms // 1000
        self._sources: dict[Hashable, _Source] = {}

    @property
    def sources(self) -> list[Hashable]:
        """Keys of the sources being mixed."""
        return list(self._sources)

    def add_source(self, key: Hashable) -> None:
        """Start mixing ``key`` (a fresh, empty buffer; re-adding resets it)."""
        self._sources[key] = _Source()

    def remove_source(self, key: Hashable) -> None:
        """Stop mixing ``key`` and drop what it had buffered (unknown keys are ignored)."""
        self._sources.pop(key, None)

    def stats(self, key: Hashable) -> SourceStats:
        """A snapshot of ``key``'s counters."""
        source = self._sources[key]
        source.stats.buffered_ms = _ms(len(source.buffer))
        return SourceStats(**vars(source.stats))

    def push(self, key: Hashable, frame: av.AudioFrame) -> None:
        """Add a decoded frame from ``key`` (any rate, layout and sample format).

        Frames from unknown keys are ignored: a track removed while a frame was in flight.
        """
        source = self._sources.get(key)
        if source is None:
            return
        self.push_samples(key, source.convert(frame))

    def push_samples(self, key: Hashable, samples: Samples) -> None:
        """Add interleaved 48 kHz stereo int16 samples ``(n, 2)`` from ``key``."""
        source = self._sources.get(key)
        if source is None or len(samples) == 0:
            return
        source.stats.received_ms += _ms(len(samples))
        source.buffer = np.concatenate([source.buffer, samples])
        excess = len(source.buffer) - self.max_samples
        if excess > 0:
            drop = len(source.buffer) - self.target_samples
            source.buffer = source.buffer[drop:]
            source.stats.dropped_ms += _ms(drop)
        if not source.playing and len(source.buffer) >= max(self.target_samples, 1):
            source.playing = True

    def mix(self) -> Samples:
        """The next 20 ms of the mix as ``(FRAME_SAMPLES, 2)`` int16, clipped, never blocking.

        Sources still buffering, or empty, add silence.
        """
        total = np.zeros((FRAME_SAMPLES, CHANNELS), dtype=np.int32)
        for source in self._sources.values():
            if not source.playing:
                continue
            take = source.buffer[:FRAME_SAMPLES]
            total[: len(take)] += take
            source.buffer = source.buffer[len(take) :]
            if len(source.buffer) == 0 and len(take) < FRAME_SAMPLES:
                # Ran dry mid-frame: re-buffer before being heard again, so the gaps that
                # follow a late packet are one pause rather than a stutter.
                source.playing = False
                source.stats.underruns += 1
        mixed: Samples = np.clip(total, -32768, 32767).astype(np.int16)
        return mixed

    def mix_frame(self, pts: int | None = None) -> av.AudioFrame:
        """:meth:`mix` as an s16 stereo 48 kHz ``av.AudioFrame``."""
        frame = av.AudioFrame.from_ndarray(self.mix().reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = pts
        return frame
