"""Levels for volume indication: dBFS mapped to 0.0-1.0, per remote member and for the mic."""

from __future__ import annotations

import numpy as np
import pytest

from roomcall.media.level import LevelMeter, level_of
from roomcall.media.microphone import MicrophoneTrack
from roomcall.media.mixer import FRAME_SAMPLES, AudioMixer
from roomcall.media.processing import CaptureOptions
from tests.media.arrivals import tone


def test_level_maps_minus_60_to_0_dbfs_onto_0_to_1() -> None:
    """Silence reads 0, -60 dBFS or less reads 0, -30 dBFS 0.5, full scale 1."""
    assert level_of(np.zeros((960, 2), np.int16)) == 0.0
    assert level_of(np.full((960, 1), 16, np.int16)) == 0.0  # about -66 dBFS
    assert level_of(np.full((960, 1), 1036, np.int16)) == pytest.approx(0.5, abs=0.01)
    assert level_of(np.full((960, 1), 32767, np.int16)) == pytest.approx(1.0, abs=0.001)
    assert level_of(np.zeros((0, 1), np.int16)) == 0.0


def test_a_meter_rises_at_once_and_falls_within_a_second() -> None:
    """A loud block sets the level; silence lowers it by at most 1.0 per second."""
    meter = LevelMeter(48_000)
    loud = meter.measure(np.full((960, 1), 16_000, np.int16))
    assert loud == pytest.approx(1 - 6.2 / 60, abs=0.01)  # -6.2 dBFS
    meter.measure(np.zeros((960, 1), np.int16))
    assert meter.level == pytest.approx(loud - 0.02)
    for _ in range(49):
        meter.decay(960)
    assert meter.level == 0.0


def test_the_mixer_meters_each_member_on_what_it_contributes() -> None:
    """A talking member reads high, a silent one 0, an unknown one is not listed."""
    mixer = AudioMixer()
    mixer.add_source("alice")
    mixer.add_source("bob")
    talk = tone(440, 10, amplitude=0.3)
    for k in range(10):
        frame = talk[k * FRAME_SAMPLES : (k + 1) * FRAME_SAMPLES]
        mixer.push_samples("alice", frame, media_time=k * 0.02, arrival=k * 0.02)
        mixer.push_samples("bob", np.zeros_like(frame), media_time=k * 0.02,
                           arrival=k * 0.02)
    for _ in range(5):
        mixer.mix()
    levels = mixer.levels()
    assert set(levels) == {"alice", "bob"}
    assert levels["alice"] == pytest.approx(level_of(talk[:FRAME_SAMPLES]), abs=0.05)
    assert levels["alice"] > 0.7 and levels["bob"] == 0.0


async def test_the_microphone_meters_what_it_sends() -> None:
    """The local level follows the captured audio (here unprocessed)."""
    track = MicrophoneTrack(processing=CaptureOptions.off())
    assert track.level == 0.0
    track.on_block(tone(440, 1, amplitude=0.3)[:, :1], FRAME_SAMPLES, None, None)
    await track.recv()
    assert track.level > 0.7
    track.stop()
