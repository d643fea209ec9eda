"""AudioPlayout: remote tracks drained and mixed in real time, with or without a sound card."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import numpy as np
import pytest

from roomcall.media.devices import (
    DeviceInfo,
    list_microphones,
    list_speakers,
    open_microphone,
)
from roomcall.media.drain import TrackDrain
from roomcall.media.mixer import FRAME_SAMPLES, SAMPLE_RATE, Samples
from roomcall.media.playout import AudioPlayout, OutputQueue
from roomcall.media.processing import CaptureOptions
from roomcall.media.synthetic import SyntheticAudioTrack, SyntheticVideoTrack, dominant_frequency
from roomcall.protocol.messages import TrackInfo
from roomcall.sdk.tracks import RemoteTrack
from tests.media.conftest import peak_frequencies
from tests.waiting import scaled


class MixCollector:
    """Collects ``wanted`` non-silent 20 ms mixes made once ``ready()`` holds."""

    def __init__(self, wanted: int, ready: Callable[[], bool] = lambda: True) -> None:
        self.wanted = wanted
        self.ready = ready
        self.chunks: list[Samples] = []
        self.enough = asyncio.Event()

    def __call__(self, samples: Samples) -> None:
        """on_mixed callback."""
        if samples.any() and self.ready():
            self.chunks.append(samples.copy())
        if len(self.chunks) >= self.wanted:
            self.enough.set()

    async def wait(self) -> Samples:
        """The collected audio, once there is enough (at most 10 s)."""
        await asyncio.wait_for(self.enough.wait(), scaled(10.0))
        return np.concatenate(self.chunks[-self.wanted :])


def assert_playout_state_is_consistent(playout: AudioPlayout) -> None:
    """Either the mix is audible, or error says why (Qiniu's speaker code)."""
    if playout.audible:
        assert playout.error is None
    else:
        assert playout.error is not None and playout.error.code == 23008


async def test_two_members_are_mixed_even_without_an_output_device() -> None:
    """Two tone tracks are drained and mixed in real time; no sound card breaks nothing."""
    playout = AudioPlayout(target_ms=60)
    alice, bob = SyntheticAudioTrack(frequency=440), SyntheticAudioTrack(frequency=1000)
    playout.add_track("alice", alice)
    await playout.start()
    playout.add_track("bob", bob)
    # Bob joined after alice: listen once his jitter buffer has filled and played a while.
    collector = MixCollector(10, ready=lambda: playout.mixer.stats("bob").received_ms > 200)
    playout.on_mixed = collector
    mixed = await collector.wait()
    assert sorted(peak_frequencies(mixed, 2)) == [
        pytest.approx(440, abs=10),
        pytest.approx(1000, abs=10),
    ]
    assert_playout_state_is_consistent(playout)
    assert playout.user_ids == ["alice", "bob"]
    await playout.stop()
    assert not playout.running
    assert alice.readyState == "live" and bob.readyState == "live"
    alice.stop()
    bob.stop()


async def test_removed_member_is_no_longer_mixed() -> None:
    """remove_track() takes a member out of the mix and stops draining its track."""
    playout = AudioPlayout(target_ms=40)
    alice, bob = SyntheticAudioTrack(frequency=440), SyntheticAudioTrack(frequency=1000)
    playout.add_track("alice", alice)
    playout.add_track("bob", bob)
    await playout.start()
    playout.remove_track("bob")
    playout.remove_track("nobody")
    assert playout.user_ids == ["alice"] and playout.mixer.sources == ["alice"]
    collector = MixCollector(wanted=8)
    playout.on_mixed = collector
    mixed = await collector.wait()
    assert peak_frequencies(mixed, 1) == [pytest.approx(440, abs=10)]
    await playout.stop()
    alice.stop()
    bob.stop()


async def test_ended_track_and_failing_listener_do_not_stop_playout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A member whose track ends goes silent; a raising on_mixed is logged; mixing goes on."""
    playout = AudioPlayout(target_ms=40)
    alice, bob = SyntheticAudioTrack(frequency=440), SyntheticAudioTrack(frequency=1000)
    playout.add_track("alice", alice)
    playout.add_track("bob", bob)
    failed = asyncio.Event()

    def broken(_samples: Samples) -> None:
        failed.set()
        raise RuntimeError("meter failed")

    playout.on_mixed = broken
    with caplog.at_level(logging.ERROR, logger="roomcall.media.playout"):
        await playout.start()
        await asyncio.wait_for(failed.wait(), scaled(10.0))
    assert "on_mixed callback failed" in caplog.text
    bob.stop()
    # Listen once bob's last buffered audio has played out.
    collector = MixCollector(10, ready=lambda: playout.mixer.stats("bob").buffered_ms == 0)
    playout.on_mixed = collector
    mixed = await collector.wait()
    assert peak_frequencies(mixed, 1) == [pytest.approx(440, abs=10)]
    await playout.stop()
    alice.stop()


async def test_restart_and_output_device_changes() -> None:
    """Start/stop/restart and switching outputs (even to a gone one) keep a consistent state."""
    playout = AudioPlayout(target_ms=40)
    alice = SyntheticAudioTrack(frequency=440)
    playout.add_track("alice", alice)
    await playout.start()
    assert_playout_state_is_consistent(playout)
    playout.set_output_device(DeviceInfo("no-such-output", "Gone speaker", "speaker"))
    assert_playout_state_is_consistent(playout)
    speakers = list_speakers()
    playout.set_output_device(speakers[0] if speakers else None)
    await playout.stop()
    collector = MixCollector(wanted=5)
    playout.on_mixed = collector
    await playout.start()
    mixed = await collector.wait()
    assert peak_frequencies(mixed, 1) == [pytest.approx(440, abs=10)]
    await playout.stop()
    alice.stop()


def test_video_tracks_are_refused() -> None:
    """Only audio tracks can be played out."""
    track = SyntheticVideoTrack("v")
    with pytest.raises(ValueError, match="audio"):
        AudioPlayout().add_track("alice", track)


async def drain_for(
    playout: AudioPlayout, mixes: int, watch: Callable[[], None] = lambda: None
) -> None:
    """Wait (at most 10 s) until ``mixes`` more 20 ms mixes were made; ``watch`` sees each."""
    target = playout.frames_mixed + mixes
    done = asyncio.Event()

    def mixed(_samples: Samples) -> None:
        watch()
        if playout.frames_mixed >= target:
            done.set()

    playout.on_mixed = mixed
    await asyncio.wait_for(done.wait(), scaled(10.0))


async def test_without_portaudio_the_error_says_so_and_draining_goes_on(
    no_portaudio: None,
) -> None:
    """No PortAudio library: 23008 naming the missing library; the track is still drained."""
    playout = AudioPlayout(target_ms=40)
    alice = SyntheticAudioTrack(frequency=440)
    playout.add_track("alice", alice)
    await playout.start()
    assert not playout.audible
    assert playout.error is not None and playout.error.code == 23008
    assert "libportaudio2" in playout.error.message
    await drain_for(playout, 10)
    assert playout.mixer.stats("alice").received_ms >= 100
    await playout.stop()
    alice.stop()


async def test_without_an_output_device_the_mix_stays_real_time_and_bounded() -> None:
    """No speaker: 23008, and a second of audio is drained with the buffer kept bounded."""
    if list_speakers():
        pytest.skip("this machine has an audio output")
    playout = AudioPlayout(target_ms=60)
    alice = SyntheticAudioTrack(frequency=440)
    playout.add_track("alice", alice)
    await playout.start()
    assert not playout.audible and playout.output_underruns == 0
    assert playout.error is not None and playout.error.code == 23008
    buffered: list[float] = []
    await drain_for(playout, 50, lambda: buffered.append(playout.mixer.stats("alice").buffered_ms))
    stats = playout.mixer.stats("alice")
    # The mix ran at the track's pace: ~1 s received, jitter buffer never past its bound.
    assert stats.received_ms >= 800 and stats.dropped_ms <= 100
    assert max(buffered) <= playout.mixer.max_samples * 1000 / SAMPLE_RATE
    await playout.stop()
    alice.stop()


def test_output_queue_fills_blocks_in_order_and_counts_underruns() -> None:
    """The device callback plays queued chunks across block edges, then silence, counted."""
    queue = OutputQueue(channels=2)
    chunks = [np.full((FRAME_SAMPLES, 2), value, np.int16) for value in (1, 2)]
    for chunk in chunks:
        queue.put(chunk)
    assert queue.queued_ms() == 40
    out = np.empty((600, 2), np.int16)
    queue.callback(out, 600, None, None)  # 600 of chunk 1
    assert (out == 1).all() and queue.queued_ms() == pytest.approx(27.5)
    queue.callback(out, 600, None, None)  # its last 360, then 240 of chunk 2
    assert (out[:360] == 1).all() and (out[360:] == 2).all()
    queue.callback(out, 600, None, None)  # 600 more of chunk 2
    assert (out == 2).all() and queue.underruns == 0
    queue.callback(out, 600, None, None)  # its last 120, then nothing left
    assert (out[:120] == 2).all() and (out[120:] == 0).all()
    assert queue.underruns == 1 and queue.queued_ms() == 0
    queue.callback(out, 600, None, None)
    assert (out == 0).all() and queue.underruns == 2 and queue.callbacks == 5


def test_output_queue_downmixes_for_a_mono_device() -> None:
    """A mono output gets the average of left and right."""
    queue = OutputQueue(channels=1)
    stereo = np.zeros((FRAME_SAMPLES, 2), np.int16)
    stereo[:, 0], stereo[:, 1] = 30_000, 10_000
    queue.put(stereo)
    out = np.empty((FRAME_SAMPLES, 1), np.int16)
    queue.callback(out, FRAME_SAMPLES, None, None)
    assert (out == 20_000).all() and queue.underruns == 0


async def test_a_tone_plays_out_and_is_captured_back(pulse_null_sink: None) -> None:
    """Real PortAudio both ways: the mix plays on a null sink whose monitor the mic records."""
    speaker = next((d for d in list_speakers() if d.name == "pulse"), None)
    microphone = next((d for d in list_microphones() if d.name == "pulse"), None)
    if speaker is None or microphone is None:
        pytest.skip("ALSA's pulse plugin is not installed")
    playout = AudioPlayout(target_ms=40)
    playout.set_output_device(speaker)
    alice = SyntheticAudioTrack(frequency=440)
    playout.add_track("alice", alice)
    await playout.start()
    assert playout.audible and playout.error is None
    # Unprocessed: the echo canceller would (rightly) remove the playout from the capture.
    track = open_microphone(microphone, processing=CaptureOptions.off())
    heard: list[float] = []
    async with asyncio.timeout(scaled(10.0)):
        while len(heard) < 10:
            frame = await track.recv()
            assert frame.samples == track.frame_samples
            if frame.to_ndarray().any():
                heard.append(dominant_frequency(frame))
    assert heard[-5:] == [pytest.approx(440, abs=25)] * 5
    assert playout.audible and playout.output_device == speaker
    track.stop()
    await playout.stop()
    alice.stop()
    assert track.readyState == "ended" and not playout.audible


async def test_the_sdks_remote_track_plays_as_it_is_delivered() -> None:
    """``track_subscribed``'s RemoteTrack (``track_id``, no aiortc ``id``) goes straight into
    the playout, with no adapter, and is mixed."""
    source = SyntheticAudioTrack(frequency=440)
    drain = TrackDrain(source, keep=4)
    drain.start()
    remote = RemoteTrack("alice", TrackInfo(track_id="t7", kind="audio"), source, drain)
    playout = AudioPlayout(target_ms=60)
    playout.add_track("alice", remote)
    await playout.start()
    try:
        collector = MixCollector(5, ready=lambda: playout.mixer.stats("alice").received_ms > 100)
        playout.on_mixed = collector
        mixed = await collector.wait()
        assert peak_frequencies(mixed, 1) == [pytest.approx(440, abs=10)]
        assert playout.user_ids == ["alice"]
    finally:
        await playout.stop()
        await remote.stop()
        source.stop()
