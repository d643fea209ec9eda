"""AudioMixer: several tones in, their sum out, with bounded per-source jitter buffers."""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest

from roomcall.media.mixer import FRAME_SAMPLES, AudioMixer, Samples
from roomcall.media.synthetic import SyntheticAudioTrack, dominant_frequency
from tests.media.conftest import peak_frequencies


def tone_frames(frequency: float, count: int, **options: int) -> list[av.AudioFrame]:
    """``count`` consecutive 20 ms frames of a tone."""
    track = SyntheticAudioTrack(frequency=frequency, **options)
    return [track.render(i * track.samples_per_frame) for i in range(count)]


def mix_many(mixer: AudioMixer, count: int) -> Samples:
    """``count`` consecutive mixes joined."""
    return np.concatenate([mixer.mix() for _ in range(count)])


def test_two_tones_in_both_out() -> None:
    """Mixing a 440 Hz and a 1000 Hz member gives a signal holding both frequencies."""
    mixer = AudioMixer(target_ms=60)
    mixer.add_source("alice")
    mixer.add_source("bob")
    for a, b in zip(tone_frames(440, 20), tone_frames(1000, 20), strict=True):
        mixer.push("alice", a)
        mixer.push("bob", b)
    mixed = mix_many(mixer, 10)
    assert mixed.shape == (10 * FRAME_SAMPLES, 2) and mixed.dtype == np.int16
    assert sorted(peak_frequencies(mixed, 2)) == [pytest.approx(440, abs=10),
                                                  pytest.approx(1000, abs=10)]
    assert np.array_equal(mixed[:, 0], mixed[:, 1])  # mono sources land on both channels


def test_source_is_silent_until_its_buffer_reaches_the_target() -> None:
    """A member is heard only once target_ms of its audio is buffered."""
    mixer = AudioMixer(target_ms=80)
    mixer.add_source("alice")
    frames = tone_frames(440, 4)
    for frame in frames[:3]:
        mixer.push("alice", frame)
    assert not mixer.mix().any()
    assert mixer.stats("alice").buffered_ms == pytest.approx(60)
    mixer.push("alice", frames[3])
    assert mixer.mix().any()
    assert mixer.stats("alice").buffered_ms == pytest.approx(60)


def test_stalled_source_does_not_stall_the_mix() -> None:
    """When one member stops sending, the mix goes on with the other and counts an underrun."""
    mixer = AudioMixer(target_ms=40)
    mixer.add_source("alice")
    mixer.add_source("bob")
    alice, bob = tone_frames(440, 30), tone_frames(1000, 3)
    for frame in bob:
        mixer.push("bob", frame)
    outputs = []
    for frame in alice:
        mixer.push("alice", frame)
        outputs.append(mixer.mix())
    late = np.concatenate(outputs[10:])
    assert peak_frequencies(late, 1) == [pytest.approx(440, abs=10)]
    assert np.abs(late).max() > 0.25 * 32767
    assert mixer.stats("bob").underruns == 1
    assert mixer.stats("alice").underruns == 0


def test_a_source_running_ahead_is_bounded() -> None:
    """Two seconds pushed with nobody mixing keep at most max_ms, dropping the oldest."""
    mixer = AudioMixer(target_ms=80, max_ms=200)
    mixer.add_source("alice")
    for frame in tone_frames(440, 100):
        mixer.push("alice", frame)
        assert mixer.stats("alice").buffered_ms <= 200
    stats = mixer.stats("alice")
    assert stats.received_ms == pytest.approx(2000)
    assert stats.dropped_ms == pytest.approx(2000 - stats.buffered_ms)
    # The newest audio is kept: its last sample is the last sample pushed.
    last_pushed = tone_frames(440, 100)[-1].to_ndarray().reshape(-1)[-1]
    remaining = mix_many(mixer, int(stats.buffered_ms) // 20)
    assert remaining[-1, 0] == last_pushed


def test_sum_is_clipped_not_wrapped() -> None:
    """Two loud in-phase members clip at full scale instead of wrapping to negative values."""
    mixer = AudioMixer(target_ms=20)
    for key in ("alice", "bob"):
        mixer.add_source(key)
        mixer.push_samples(key, np.full((FRAME_SAMPLES, 2), 30_000, dtype=np.int16))
    mixed = mixer.mix()
    assert (mixed == 32767).all()
    mixer.push_samples("alice", np.full((FRAME_SAMPLES, 2), -30_000, dtype=np.int16))
    mixer.push_samples("bob", np.full((FRAME_SAMPLES, 2), -30_000, dtype=np.int16))
    assert (mixer.mix() == -32768).all()


def test_other_rates_and_layouts_are_resampled() -> None:
    """A 44.1 kHz mono and a 16 kHz stereo source come out at 48 kHz with their pitch."""
    mixer = AudioMixer(target_ms=40)
    mixer.add_source("cd")
    mixer.add_source("phone")
    for frame in tone_frames(700, 25, sample_rate=44_100):
        mixer.push("cd", frame)
    for frame in tone_frames(300, 25, sample_rate=16_000, channels=2):
        mixer.push("phone", frame)
    mixed = mix_many(mixer, 15)
    assert sorted(peak_frequencies(mixed, 2)) == [pytest.approx(300, abs=10),
                                                  pytest.approx(700, abs=10)]


def test_mix_frame_is_an_s16_stereo_48k_frame() -> None:
    """mix_frame() wraps the mix in an av.AudioFrame playable or encodable as is."""
    mixer = AudioMixer(target_ms=20)
    mixer.add_source("alice")
    for frame in tone_frames(440, 2):
        mixer.push("alice", frame)
    frame = mixer.mix_frame(pts=960)
    assert frame.format.name == "s16" and len(frame.layout.channels) == 2
    assert frame.sample_rate == 48_000 and frame.samples == FRAME_SAMPLES and frame.pts == 960
    frame.time_base = fractions.Fraction(1, 48_000)
    assert dominant_frequency(frame) == pytest.approx(440, abs=15)


def test_unknown_and_removed_sources_are_ignored() -> None:
    """Frames for a member not (or no longer) mixed change nothing."""
    mixer = AudioMixer(target_ms=20)
    mixer.push("ghost", tone_frames(440, 1)[0])
    mixer.add_source("alice")
    mixer.push("alice", tone_frames(440, 1)[0])
    mixer.remove_source("alice")
    mixer.remove_source("alice")
    assert mixer.sources == []
    assert not mixer.mix().any()


def test_bad_buffer_sizes_are_refused() -> None:
    """A target at or above the maximum cannot work and is refused."""
    with pytest.raises(ValueError):
        AudioMixer(target_ms=200, max_ms=200)
