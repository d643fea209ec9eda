"""Audio level for volume indication: 0.0 (silence) to 1.0 (full scale).

The level of a block is its RMS in dBFS mapped linearly from -60 dBFS (0.0) to 0 dBFS (1.0),
the scale Qiniu's ``onUserVolumeIndication`` reports on. A :class:`LevelMeter` follows a
stream: it rises at once to a louder block and falls by at most 1.0 per second, so a poll every
few hundred milliseconds still sees a word spoken in between, and a talker who stops reads 0
within a second.

>>> import numpy as np
>>> round(level_of(np.full((960, 1), 3277, np.int16)), 2)  # -20 dBFS
0.67
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["FLOOR_DBFS", "LevelMeter", "level_of"]

FLOOR_DBFS: Final = -60.0
"""The level that reads 0.0; anything quieter reads 0.0 too."""
_FALL_PER_SECOND: Final = 1.0


def level_of(samples: npt.NDArray[np.int16]) -> float:
    """The level (0.0-1.0) of int16 audio of any shape, from its RMS over all samples."""
    if samples.size == 0:
        return 0.0
    values = samples.astype(np.float64)
    rms = math.sqrt(float(np.mean(values * values))) / 32768.0
    if rms <= 0.0:
        return 0.0
    dbfs = 20.0 * math.log10(rms)
    return min(1.0, max(0.0, 1.0 - dbfs / FLOOR_DBFS))


class LevelMeter:
    """The level of a stream of blocks, rising fast and falling slowly.

    Args:
        sample_rate: Rate of the blocks measured (sets how far ``decay`` falls per block).

    Attributes:
        level: The current level, 0.0-1.0 (read from any thread: a float is set atomically).
    """

    def __init__(self, sample_rate: int = 48_000) -> None:
        self.sample_rate = sample_rate
        self.level = 0.0

    def measure(self, samples: npt.NDArray[np.int16]) -> float:
        """Take in a block of ``(frames, channels)`` audio; returns the new level."""
        fallen = self._fallen(len(samples))
        self.level = max(level_of(samples), fallen)
        return self.level

    def decay(self, frames: int) -> None:
        """Let ``frames`` samples of nothing pass (a source that contributed no audio)."""
        self.level = self._fallen(frames)

    def _fallen(self, frames: int) -> float:
        return max(0.0, self.level - _FALL_PER_SECOND * frames / self.sample_rate)
