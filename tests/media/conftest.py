"""Shared helpers for the media tests: spectrum peaks, a machine without PortAudio, and a
private PulseAudio server with a null sink."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from roomcall.media import devices
from roomcall.media.mixer import SAMPLE_RATE, Samples
from tests.media.pulse import PulseUnavailable, private_pulseaudio


def peak_frequencies(samples: Samples, count: int) -> list[float]:
    """The ``count`` strongest frequencies (Hz) of the left channel, strongest first."""
    left = samples[:, 0].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(left * np.hanning(len(left))))
    bin_hz = SAMPLE_RATE / len(left)
    found: list[float] = []
    for index in np.argsort(spectrum)[::-1]:
        frequency = float(index * bin_hz)
        if all(abs(frequency - f) > 50 for f in found):
            found.append(frequency)
        if len(found) == count:
            break
    return found


@pytest.fixture
def no_portaudio(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """sounddevice's import fails as it does on Linux without libportaudio2."""

    def missing() -> Any:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(devices, "_import_sounddevice", missing)
    devices._load_backend.cache_clear()
    yield
    devices._load_backend.cache_clear()


@pytest.fixture
def pulse_null_sink() -> Iterator[None]:
    """A private PulseAudio server with one null sink, reachable through ALSA's "pulse"."""
    try:
        with private_pulseaudio():
            yield
    except PulseUnavailable as exc:
        pytest.skip(str(exc))
