"""Speech-like test signals made on the spot: voiced harmonics under formant-shaped peaks with
a wandering pitch, syllable and word envelopes, and fricative noise bursts in 2-6 kHz."""

from __future__ import annotations

from typing import Any

import numpy as np

RATE = 48_000
Wave = np.ndarray[Any, np.dtype[np.float64]]


def speech(seconds: float, seed: int, *, pitch_hz: float = 140.0, dbfs: float = -20.0) -> Wave:
    """``seconds`` of a talker at ``dbfs`` RMS (float samples on the int16 scale)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    pitch = pitch_hz * (1 + 0.12 * np.sin(2 * np.pi * 0.7 * t + seed)
                        + 0.05 * np.sin(2 * np.pi * 2.3 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voiced = np.zeros(n)
    for k in range(1, int(7000 // pitch_hz)):
        f = k * pitch_hz
        gain = 0.05 + sum(np.exp(-(((f - peak) / width) ** 2))
                          for peak, width in ((500, 300), (1500, 400), (2500, 500)))
        voiced += gain * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    syllables = np.clip(np.sin(2 * np.pi * 3.1 * t + seed), 0, None) ** 0.6
    words = (np.sin(2 * np.pi * 0.37 * t + seed) > -0.4).astype(float)
    noise = rng.standard_normal(n)
    band = (np.convolve(noise, np.ones(4) / 4, "same")
            - np.convolve(noise, np.ones(12) / 12, "same"))
    fricatives = band * (np.sin(2 * np.pi * 1.7 * t + 2 * seed) > 0.8)
    signal = (voiced * syllables + 0.8 * fricatives) * words
    rms = float(np.sqrt(np.mean(signal**2)))
    return signal / rms * 32767 * 10 ** (dbfs / 20)


def room_echo(far: Wave, *, delay_ms: float, attenuation_db: float, t60_ms: float,
              seed: int = 1) -> Wave:
    """``far`` as a microphone hears it from a loudspeaker: a direct path plus an
    exponentially decaying reverberant tail (falling 60 dB in ``t60_ms``), delayed and
    attenuated."""
    rng = np.random.default_rng(seed)
    length = int(t60_ms * RATE / 1000)
    tail = np.exp(-np.arange(length) * np.log(1000) / length) * rng.standard_normal(length)
    response = tail / np.sqrt(np.sum(tail**2))
    response[0] += 3.0  # the direct path dominates, as from a laptop's own speaker
    response /= np.sqrt(np.sum(response**2))
    wet = np.convolve(far, response)[: len(far)]
    delay = int(delay_ms * RATE / 1000)
    return np.concatenate([np.zeros(delay), wet])[: len(far)] * 10 ** (-attenuation_db / 20)
