"""Synthetic packet arrivals through a jitter buffer: a sender's 20 ms frames, network delays
drawn per packet and delivered in order (as a queue delivers them), and a playout pulling
20 ms at a steady clock. Shared by the jitter buffer tests and ``bench/audio.py``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from roomcall.media.jitter import FRAME_SAMPLES, SAMPLE_RATE, JitterBuffer, Samples

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


def tone(frequency: float, frames: int, amplitude: float = 0.5) -> Samples:
    """``frames`` 20 ms frames of a stereo sine, joined."""
    n = np.arange(frames * FRAME_SAMPLES)
    wave = np.round(amplitude * 32767 * np.sin(2 * np.pi * frequency * n / SAMPLE_RATE))
    return np.repeat(wave.astype(np.int16)[:, None], 2, axis=1)


def uniform_delays(spread_ms: float, seed: int = 1) -> Callable[[int], float]:
    """Per-packet extra delay drawn uniformly from 0 to ``spread_ms`` (peak to peak)."""
    rng = np.random.default_rng(seed)
    return lambda _index: float(rng.uniform(0.0, spread_ms)) / 1000


@dataclass
class Run:
    """What the playout took, pull by pull."""

    out: list[Samples] = field(default_factory=list)
    reserve_ms: list[float] = field(default_factory=list)
    """The buffer's smoothed reserve after each pull."""

    def audio(self) -> Samples:
        """Everything played, joined (pulls that gave nothing as silence)."""
        return np.concatenate(self.out)


def play(buffer: JitterBuffer, audio: Samples, delay: Callable[[int], float], *,
         base_s: float = 0.005, phase_s: float = 0.007,
         lost: Sequence[int] = ()) -> Run:
    """Send ``audio`` in 20 ms frames through ``buffer`` and pull at a steady 20 ms clock.

    Frame ``k`` leaves at ``k * 20 ms`` and arrives ``base_s + delay(k)`` later, but never
    before the frame sent ahead of it; ``lost`` frames never arrive. The playout pulls at
    ``phase_s + j * 20 ms``.
    """
    frames = len(audio) // FRAME_SAMPLES
    arrivals: list[tuple[float, int]] = []
    latest = 0.0
    for k in range(frames):
        latest = max(latest, k * FRAME_S + base_s + delay(k))
        if k not in lost:
            arrivals.append((latest, k))
    run = Run()
    pulls = int(arrivals[-1][0] / FRAME_S) + 2
    next_arrival = 0
    for j in range(pulls):
        now = phase_s + j * FRAME_S
        while next_arrival < len(arrivals) and arrivals[next_arrival][0] <= now:
            at, k = arrivals[next_arrival]
            frame = audio[k * FRAME_SAMPLES : (k + 1) * FRAME_SAMPLES]
            buffer.push(frame, media_time=k * FRAME_S, arrival=at)
            next_arrival += 1
        taken = buffer.pull()
        run.out.append(taken if taken is not None else np.zeros((FRAME_SAMPLES, 2), np.int16))
        run.reserve_ms.append(buffer.stats.reserve_ms)
    return run
