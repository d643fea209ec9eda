"""Capture processing: echo removed through the microphone's real path, the talker kept."""

from __future__ import annotations

import numpy as np
import pytest

from roomcall.media.microphone import MicrophoneTrack
from roomcall.media.processing import CaptureOptions, FarEndReference
from tests.media.speech import RATE, Wave, room_echo, speech

BLOCK = RATE // 50
"""One 20 ms block, as PortAudio hands them to both callbacks."""


def to_int16(wave: Wave) -> np.ndarray:
    """Float samples on the int16 scale, clipped and rounded."""
    return np.clip(np.rint(wave), -32768, 32767).astype(np.int16)


async def capture(options: CaptureOptions, far: Wave, mic: Wave) -> tuple[Wave, Wave]:
    """Play ``far`` through a far-end reference and capture ``mic`` through a
    MicrophoneTrack, block by block as the two PortAudio callbacks would; returns what the
    track sends and the automatic gain applied to each block."""
    reference = FarEndReference()
    track = MicrophoneTrack(sample_rate=RATE, channels=1, processing=options,
                            far_end=reference)
    sent, gains = [], []
    for start in range(0, len(far) - BLOCK + 1, BLOCK):
        # The output callback hands a block to the device, then the input callback gets one.
        stereo = np.repeat(to_int16(far[start : start + BLOCK])[:, None], 2, axis=1)
        reference.write(stereo, output_delay_s=0.02)
        track.on_block(to_int16(mic[start : start + BLOCK])[:, None], BLOCK, None, None)
        frame = await track.recv()
        sent.append(frame.to_ndarray().reshape(-1).astype(np.float64))
        gains.append(np.full(BLOCK, track.processor.gain_db))
    track.stop()
    assert reference.resyncs == 0
    return np.concatenate(sent), np.concatenate(gains)


def erle_db(mic: Wave, sent: Wave, echo: Wave, noise_power: float, start_s: float,
            end_s: float) -> float:
    """Echo return loss enhancement over the blocks where the echo is active (30 dB above the
    noise floor): microphone power over sent power."""
    blocks = [i for i in range(int(start_s * RATE), int(end_s * RATE) - BLOCK, BLOCK)
              if np.mean(echo[i : i + BLOCK] ** 2) > 1000 * noise_power]
    assert len(blocks) > 100
    heard = sum(float(np.mean(mic[i : i + BLOCK] ** 2)) for i in blocks)
    left = sum(float(np.mean(sent[i : i + BLOCK] ** 2)) for i in blocks)
    return 10 * np.log10(heard / left)


@pytest.mark.parametrize("options", [CaptureOptions(),
                                     CaptureOptions(auto_gain_control=False)],
                         ids=["defaults", "without-gain-control"])
async def test_echo_is_cancelled_and_the_near_talker_passes(options: CaptureOptions) -> None:
    """An 80 ms, reverberant, 10 dB weaker echo of 22 s of far-end speech loses at least
    35 dB after convergence; a near talker joining at 14 s loses at most 6 dB."""
    far = speech(22, seed=1, dbfs=-20)
    echo = room_echo(far, delay_ms=80, attenuation_db=10, t60_ms=60)
    noise = np.random.default_rng(3).standard_normal(len(far)) * 32767 * 10 ** (-65 / 20)
    near = speech(22, seed=5, pitch_hz=210, dbfs=-22)
    near[: 14 * RATE] = 0
    mic = echo + noise + near
    sent, gain_db = await capture(options, far, mic)
    # The gain control's own gain is not echo: measure the canceller without it.
    cancelled = sent * 10 ** (-gain_db / 20)
    assert erle_db(mic, cancelled, echo, float(np.mean(noise**2)), 4, 13) >= 35
    talk = slice(15 * RATE, 22 * RATE)
    kept_db = 10 * np.log10(np.mean(cancelled[talk] ** 2) / np.mean(near[talk] ** 2))
    assert kept_db >= -6
    if not options.auto_gain_control:
        assert np.array_equal(gain_db, np.zeros_like(gain_db))


async def test_without_processing_the_echo_is_sent_as_is() -> None:
    """The same echo with processing off comes out as it went in: the test can tell."""
    far = speech(6, seed=1, dbfs=-20)
    echo = room_echo(far, delay_ms=80, attenuation_db=10, t60_ms=60)
    sent, _ = await capture(CaptureOptions.off(), far, echo)
    assert np.array_equal(sent, to_int16(echo)[: len(sent)].astype(np.float64))
