"""MicrophoneTrack: PortAudio's blocks cut into 20 ms frames with continuous pts, bounded."""

from __future__ import annotations

import asyncio
import fractions
import threading
from typing import Any

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from roomcall.media.microphone import MicrophoneTrack
from roomcall.media.processing import CaptureOptions
from tests.waiting import WAIT


def ramp(start: int, frames: int, channels: int) -> np.ndarray[Any, np.dtype[np.int16]]:
    """``frames`` rows of a sample counter (wrapping at int16), as PortAudio's ``indata``."""
    values = (np.arange(start, start + frames) % 30_000).astype(np.int16)
    return np.repeat(values[:, None], channels, axis=1)


class Overflow:
    """The part of ``sounddevice.CallbackFlags`` the callback reads."""

    input_overflow = True


class ClosableStream:
    """Stands in for a started ``sounddevice.InputStream``: records that it was closed."""

    def __init__(self) -> None:
        self.closed = False

    def close(self, ignore_errors: bool = True) -> None:
        """Pa_CloseStream."""
        self.closed = True


async def test_exact_blocks_become_frames_with_sample_pts() -> None:
    """Three 20 ms blocks give three s16 mono frames with pts 0, 960, 1920 in 1/48000."""
    track = MicrophoneTrack(sample_rate=48_000, channels=1, processing=CaptureOptions.off())
    for block in range(3):
        track.on_block(ramp(block * 960, 960, 1), 960, None, None)
    frames = [await track.recv() for _ in range(3)]
    assert [f.pts for f in frames] == [0, 960, 1920]
    for index, frame in enumerate(frames):
        assert frame.time_base == fractions.Fraction(1, 48_000) and frame.sample_rate == 48_000
        assert frame.format.name == "s16" and frame.layout.name == "mono"
        assert frame.samples == 960
        assert np.array_equal(frame.to_ndarray().reshape(-1), ramp(index * 960, 960, 1)[:, 0])
    assert track.frames_captured == 3 and track.frames_dropped == 0
    track.stop()


async def test_odd_blocks_are_rejoined_into_whole_frames() -> None:
    """Stereo blocks of 256 samples come out as 20 ms frames holding the audio in order."""
    track = MicrophoneTrack(sample_rate=48_000, channels=2, processing=CaptureOptions.off())
    total = 0
    for _ in range(12):  # 3072 samples: three whole frames and 192 samples held back
        block = ramp(total, 256, 2)
        block[:, 1] = -block[:, 1]  # the right channel differs from the left
        track.on_block(block, 256, None, Overflow() if total == 0 else None)
        total += 256
    frames = [await track.recv() for _ in range(3)]
    assert [f.pts for f in frames] == [0, 960, 1920] and track.input_overflows == 1
    left = np.concatenate([f.to_ndarray().reshape(-1, 2)[:, 0] for f in frames])
    right = np.concatenate([f.to_ndarray().reshape(-1, 2)[:, 1] for f in frames])
    assert np.array_equal(left, ramp(0, 2880, 1)[:, 0]) and np.array_equal(right, -left)
    assert all(f.layout.name == "stereo" for f in frames)
    # The held-back 192 samples lead the next frame once 768 more arrive.
    track.on_block(ramp(total, 768, 2), 768, None, None)
    fourth = await track.recv()
    assert fourth.pts == 2880
    assert np.array_equal(fourth.to_ndarray().reshape(-1, 2)[:, 0], ramp(2880, 960, 1)[:, 0])
    track.stop()


async def test_a_late_reader_gets_the_newest_audio_and_pts_show_the_gap() -> None:
    """With 60 ms of room, ten unread frames keep only the newest three."""
    track = MicrophoneTrack(sample_rate=16_000, channels=1, queue_ms=60,
                            processing=CaptureOptions.off())
    assert track.frame_samples == 320
    for block in range(10):
        track.on_block(ramp(block * 320, 320, 1), 320, None, None)
    assert track.frames_dropped == 7
    frames = [await track.recv() for _ in range(3)]
    assert [f.pts for f in frames] == [7 * 320, 8 * 320, 9 * 320]
    track.stop()


async def test_a_block_from_another_thread_wakes_a_waiting_reader() -> None:
    """recv() waits for capture and returns once PortAudio's thread delivers a block."""
    track = MicrophoneTrack(sample_rate=48_000, channels=1)
    reader = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)  # let the reader start waiting
    assert not reader.done()
    capture = threading.Thread(target=track.on_block, args=(ramp(0, 960, 1), 960, None, None))
    capture.start()
    frame = await asyncio.wait_for(reader, WAIT)
    capture.join(5.0)
    assert frame.pts == 0 and frame.samples == 960
    track.stop()


async def test_stop_ends_a_waiting_reader_and_closes_the_device() -> None:
    """stop() closes the attached stream and a waiting recv() raises MediaStreamError."""
    track = MicrophoneTrack()
    stream = ClosableStream()
    track.attach(stream)
    reader = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    track.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(reader, WAIT)
    assert stream.closed and track.readyState == "ended"


async def test_a_stream_that_finishes_ends_the_track_after_its_last_frames() -> None:
    """When the device goes away, frames already captured are still read, then the track ends."""
    track = MicrophoneTrack()
    track.on_block(ramp(0, 960, 1), 960, None, None)
    track.on_finished()
    assert (await track.recv()).pts == 0
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(track.recv(), WAIT)
    assert track.readyState == "ended"


def test_only_mono_or_stereo() -> None:
    """A channel count the encoder cannot take is refused at construction."""
    with pytest.raises(ValueError, match="channels"):
        MicrophoneTrack(channels=6)


async def test_processing_is_on_by_default_and_switchable() -> None:
    """By default every processing step is on and changes the audio (a DC offset is removed
    by the high-pass filter); switched off, the next blocks pass untouched."""
    track = MicrophoneTrack(sample_rate=48_000, channels=1)
    assert track.processing == CaptureOptions()
    options = track.processing
    assert options.echo_cancellation and options.noise_suppression
    assert options.auto_gain_control and options.high_pass_filter
    offset = np.full((960, 1), 8000, np.int16)
    frames = []
    for _ in range(50):  # a second: the filter has settled
        track.on_block(offset, 960, None, None)
        frames.append(await track.recv())
    assert np.abs(frames[-1].to_ndarray()).mean() < 8000 / 10
    track.set_processing(CaptureOptions.off())
    assert track.processing == CaptureOptions.off()
    track.on_block(offset, 960, None, None)
    assert np.array_equal((await track.recv()).to_ndarray().reshape(-1), offset[:, 0])
    assert track.processor.error is None
    track.stop()


def test_a_bad_noise_suppression_level_is_refused() -> None:
    """Only WebRTC's four suppression levels exist."""
    with pytest.raises(ValueError, match="noise_suppression_level"):
        CaptureOptions(noise_suppression_level=4)
