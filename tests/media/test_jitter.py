"""JitterBuffer: a small reserve on a clean link, growing with jitter, losses concealed."""

from __future__ import annotations

import numpy as np
import pytest

from roomcall.media.jitter import FRAME_SAMPLES, SAMPLE_RATE, JitterBuffer, Samples
from tests.media.arrivals import play, tone, uniform_delays

SECOND = SAMPLE_RATE // FRAME_SAMPLES
"""Pulls per second."""


def largest_step(audio: Samples) -> int:
    """The largest sample-to-sample jump of the left channel."""
    return int(np.abs(np.diff(audio[:, 0].astype(np.int32))).max())


def natural_step(frequency: float, amplitude: float = 0.5) -> float:
    """The largest sample-to-sample jump of a clean sine."""
    return amplitude * 32767 * 2 * np.pi * frequency / SAMPLE_RATE


def test_a_clean_link_keeps_a_small_reserve_and_conceals_nothing() -> None:
    """Frames arriving within a millisecond of their time: 20-40 ms held, nothing concealed."""
    buffer = JitterBuffer()
    run = play(buffer, tone(300, 30 * SECOND), uniform_delays(1.0))
    stats = buffer.snapshot()
    settled = run.reserve_ms[5 * SECOND :]
    assert min(settled) >= 15 and max(settled) <= 40
    assert stats.target_ms == pytest.approx(20, abs=2)
    assert stats.concealed_frames == 0 and stats.underruns == 0 and stats.late_frames == 0
    assert stats.frames_played >= 30 * SECOND - 2


def test_thirty_ms_of_jitter_settles_in_range_with_under_one_percent_concealed() -> None:
    """Delays spread over 30 ms: the reserve settles within 20-60 ms, conceals under 1 %."""
    buffer = JitterBuffer()
    run = play(buffer, tone(300, 60 * SECOND), uniform_delays(30.0))
    stats = buffer.snapshot()
    settled = run.reserve_ms[10 * SECOND :]
    assert min(settled) >= 20 and max(settled) <= 60
    assert 25 <= stats.jitter_ms <= 31
    assert stats.concealed_share < 0.01, stats


def test_growing_jitter_grows_the_reserve_slowly() -> None:
    """From a clean link to 30 ms of jitter the reserve rises step by step, never jumping."""
    buffer = JitterBuffer()
    clean, jittery = uniform_delays(1.0), uniform_delays(30.0, seed=2)
    run = play(buffer, tone(300, 30 * SECOND), lambda k: clean(k) if k < 10 * SECOND
               else jittery(k))
    before = np.mean(run.reserve_ms[8 * SECOND : 10 * SECOND])
    after = np.mean(run.reserve_ms[25 * SECOND :])
    assert after > before + 10
    steps = np.abs(np.diff(run.reserve_ms[10 * SECOND :]))
    assert steps.max() <= 10  # at most about one pitch period or one frame at a time


def test_a_lost_packet_is_concealed_without_a_click() -> None:
    """One lost frame of a tone: filled in, and no sample jump beyond the tone's own."""
    buffer = JitterBuffer()
    run = play(buffer, tone(440, 5 * SECOND), uniform_delays(1.0), lost=[3 * SECOND])
    stats = buffer.snapshot()
    assert stats.lost_frames == 1 and stats.concealed_frames == 1
    audio = run.audio()
    playing = audio[np.argmax(np.abs(audio[:, 0]) > 0) :]
    assert largest_step(playing) <= 1.5 * natural_step(440)
    # The tone goes on through the gap: no frame of silence in it.
    levels = [np.abs(playing[i : i + FRAME_SAMPLES, 0]).max()
              for i in range(0, len(playing) - 2 * FRAME_SAMPLES, FRAME_SAMPLES)]
    assert min(levels) > 0.2 * 32767


def test_a_late_packet_is_concealed_then_played_and_counted() -> None:
    """A frame held up 50 ms: its slot is concealed, it is played after, counted late."""
    buffer = JitterBuffer()
    clean = uniform_delays(0.5)
    run = play(buffer, tone(440, 5 * SECOND),
               lambda k: 0.05 if k == 3 * SECOND else clean(k))
    stats = buffer.snapshot()
    assert stats.late_frames == 1 and stats.lost_frames == 0
    assert 1 <= stats.concealed_frames <= 4
    audio = run.audio()
    playing = audio[np.argmax(np.abs(audio[:, 0]) > 0) :]
    assert largest_step(playing) <= 1.5 * natural_step(440)


def test_the_fixed_mode_splices_over_a_loss() -> None:
    """The former behaviour (the benchmark's baseline): a loss is skipped, with a click."""
    buffer = JitterBuffer(fixed_ms=80)
    run = play(buffer, tone(440, 3 * SECOND), uniform_delays(1.0), lost=[2 * SECOND])
    stats = buffer.snapshot()
    assert stats.concealed_frames == 0 and stats.lost_frames == 0
    audio = run.audio()
    playing = audio[np.argmax(np.abs(audio[:, 0]) > 0) :]
    assert largest_step(playing) > 3 * natural_step(440)


def test_a_sender_that_stops_fades_out_and_restarts_cleanly() -> None:
    """No frames for a second: three concealed frames fade to silence, then it re-buffers."""
    buffer = JitterBuffer()
    audio = tone(440, 4 * SECOND)
    run = play(buffer, audio, uniform_delays(0.5), lost=range(SECOND, 2 * SECOND))
    stats = buffer.snapshot()
    assert stats.concealed_frames == 3 and stats.underruns == 1
    played = run.audio()
    silent = [not played[i : i + FRAME_SAMPLES].any()
              for i in range(0, len(played), FRAME_SAMPLES)]
    assert sum(silent) >= SECOND - 10
    assert np.abs(played[-10 * FRAME_SAMPLES :, 0]).max() > 0.4 * 32767
