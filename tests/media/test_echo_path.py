"""End to end through PulseAudio null devices: the playout's sound picked up by the microphone
(the null sink's monitor) is removed by the capture processing before it is sent back."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from roomcall.media.devices import open_microphone
from roomcall.media.playout import AudioPlayout
from roomcall.media.processing import CaptureOptions, FarEndReference
from roomcall.media.synthetic import SyntheticAudioTrack
from tests.media.pulse import PulseUnavailable, pulse_devices

TONE_HZ = 440
SECONDS = 6


def tone_dbfs(samples: np.ndarray, frequency: float, rate: int) -> float:
    """Power (dBFS) of ``samples`` within 30 Hz of ``frequency``."""
    values = samples.astype(np.float64) / 32768
    spectrum = np.abs(np.fft.rfft(values * np.hanning(len(values)))) ** 2
    bins = np.fft.rfftfreq(len(values), 1 / rate)
    band = np.abs(bins - frequency) <= 30
    return float(10 * np.log10(spectrum[band].sum() / len(values) ** 2 + 1e-20))


async def tone_sent_back(processing: CaptureOptions) -> tuple[float, FarEndReference, int | None]:
    """Play a remote member's tone, capture the monitor, and measure the tone in what the
    microphone track would send over its last 2 s."""
    try:
        speaker, microphone = pulse_devices()
    except PulseUnavailable as exc:
        pytest.skip(str(exc))
    reference = FarEndReference()
    playout = AudioPlayout(far_end=reference)
    playout.set_output_device(speaker)
    remote = SyntheticAudioTrack(frequency=TONE_HZ)
    playout.add_track("remote", remote)
    await playout.start()
    track = open_microphone(microphone, processing=processing, far_end=reference)
    try:
        assert playout.audible, playout.error
        frames = []
        async with asyncio.timeout(SECONDS + 10):
            while len(frames) < SECONDS * 50:
                frames.append((await track.recv()).to_ndarray().reshape(-1, track.channels))
        sent = np.concatenate(frames[-100:])[:, 0]
        return tone_dbfs(sent, TONE_HZ, track.sample_rate), reference, (
            track.processor.stream_delay_ms)
    finally:
        track.stop()
        await playout.stop()
        remote.stop()


async def test_the_tone_sent_back_is_25_db_weaker_with_processing(
    pulse_null_sink: None,
) -> None:
    """The remote's tone, played and captured back through real devices, comes back at
    least 25 dB weaker with the capture processing on than off."""
    unprocessed, _, _ = await tone_sent_back(CaptureOptions.off())
    assert unprocessed > -30  # the monitor really carries the tone
    processed, reference, delay_ms = await tone_sent_back(CaptureOptions())
    assert delay_ms is not None
    print(f"tone sent back: {unprocessed:.1f} dBFS unprocessed, {processed:.1f} dBFS "
          f"processed; echo delay told {delay_ms} ms; far end re-aligned {reference.resyncs}x")
    assert unprocessed - processed >= 25
