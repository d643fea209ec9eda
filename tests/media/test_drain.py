"""TrackDrain: bounded, newest-frame-wins reading of a track, and end-of-track propagation."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings

import av
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from roomcall.media.drain import Frame, TrackDrain
from roomcall.media.synthetic import SyntheticVideoTrack, decode_pattern
from tests.waiting import WAIT


class FastTrack(MediaStreamTrack):
    """A video track that yields ``limit`` numbered frames as fast as the loop allows."""

    kind = "video"

    def __init__(self, limit: int, *, width: int = 64, height: int = 48) -> None:
        super().__init__()
        self.limit = limit
        self.produced = 0
        self.size = (width, height)

    async def recv(self) -> Frame:
        """The next numbered frame, or MediaStreamError after ``limit``."""
        await asyncio.sleep(0)
        if self.produced >= self.limit or self.readyState != "live":
            self.stop()
            raise MediaStreamError
        frame = av.VideoFrame(*self.size, "yuv420p")
        frame.pts = self.produced
        self.produced += 1
        return frame


class BlockedTrack(MediaStreamTrack):
    """A track that delivers nothing until told to end."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def recv(self) -> Frame:
        """Wait for release, then end."""
        await self.release.wait()
        raise MediaStreamError


async def wait_for(condition: asyncio.Event) -> None:
    """Wait for ``condition``, at most 5 s."""
    await asyncio.wait_for(condition.wait(), WAIT)


def live_video_frames() -> int:
    """How many av.VideoFrame objects exist in this process."""
    gc.collect()
    return sum(isinstance(o, av.VideoFrame) for o in gc.get_objects())


async def test_newest_frame_wins_when_nobody_reads() -> None:
    """With keep=1 and no reader, only the newest frame is held and the rest count as dropped."""
    track = FastTrack(200)
    most_pending = 0

    def observe(_frame: Frame) -> None:
        nonlocal most_pending
        most_pending = max(most_pending, drain.pending)

    drain = TrackDrain(track, on_frame=observe)
    drain.start()
    await asyncio.wait_for(drain.wait_ended(), WAIT)
    first = await drain.recv()
    with pytest.raises(MediaStreamError):
        await drain.recv()
    assert first.pts == 199
    assert drain.frames_received == 200
    assert drain.frames_dropped == 199
    assert most_pending == 1
    latest = drain.latest()
    assert latest is not None and latest.pts == 199


async def test_slow_consumer_gets_increasing_newest_frames() -> None:
    """A reader slower than the producer gets ever newer frames and never more than keep held."""
    track = FastTrack(300)
    progressed = asyncio.Event()
    target = 0
    most_pending = 0

    def observe(_frame: Frame) -> None:
        nonlocal most_pending
        most_pending = max(most_pending, drain.pending)
        if drain.frames_received >= target:
            progressed.set()

    drain = TrackDrain(track, keep=3, on_frame=observe)
    drain.start()
    seen: list[int] = []
    while True:
        try:
            frame = await asyncio.wait_for(drain.recv(), WAIT)
        except MediaStreamError:
            break
        seen.append(frame.pts)
        # Slow consumer: let the producer run 10 frames ahead before reading again.
        target = drain.frames_received + 10
        progressed.clear()
        waits = [
            asyncio.ensure_future(progressed.wait()),
            asyncio.ensure_future(drain.wait_ended()),
        ]
        _, unfinished = await asyncio.wait(waits, timeout=WAIT, return_when="FIRST_COMPLETED")
        assert len(unfinished) == 1
        unfinished.pop().cancel()
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen[-1] == 299
    assert most_pending <= 3
    assert drain.frames_received == 300
    assert drain.frames_dropped == 300 - len(seen)
    assert len(seen) < 100


async def test_memory_stays_bounded_with_a_stalled_reader() -> None:
    """Thousands of 640x480 frames pass through a drain nobody reads; live frames stay few."""
    baseline = live_video_frames()
    track = FastTrack(2000, width=640, height=480)
    done = asyncio.Event()
    drain = TrackDrain(track, on_frame=lambda f: done.set() if f.pts == 1500 else None)
    drain.start()
    await wait_for(done)
    assert live_video_frames() - baseline <= 3
    await drain.stop()
    assert drain.frames_received >= 1501


async def test_end_of_track_wakes_a_waiting_reader() -> None:
    """A recv() waiting on a silent track raises MediaStreamError when the track ends."""
    track = BlockedTrack()
    drain = TrackDrain(track, keep=4)
    drain.start()
    waiting = asyncio.ensure_future(drain.recv())
    await asyncio.sleep(0)
    assert not waiting.done()
    track.release.set()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(waiting, WAIT)
    assert drain.ended and drain.latest() is None


async def test_stop_ends_reading_but_not_the_track() -> None:
    """stop() ends the drain (recv raises) and leaves the track live for its owner."""
    track = SyntheticVideoTrack("gina", width=64, height=48, fps=100)
    drain = TrackDrain(track)
    drain.start()
    frame = await asyncio.wait_for(drain.recv(), WAIT)
    info = decode_pattern(frame)
    assert info is not None and info.counter == 0
    await drain.stop()
    assert track.readyState == "live"
    with pytest.raises(MediaStreamError):
        await drain.recv()
    track.stop()


async def test_failing_callback_is_logged_and_reading_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An on_frame callback that raises is logged; the drain still reads every frame."""

    def broken(_frame: Frame) -> None:
        raise RuntimeError("render failed")

    drain = TrackDrain(FastTrack(5), on_frame=broken)
    with caplog.at_level(logging.ERROR, logger="roomcall.media.drain"):
        drain.start()
        with pytest.raises(MediaStreamError):
            while True:
                await asyncio.wait_for(drain.recv(), WAIT)
    assert drain.frames_received == 5
    assert "on_frame callback failed" in caplog.text


def test_keep_must_be_positive() -> None:
    """keep=0 would hold nothing and is refused."""
    with pytest.raises(ValueError, match="keep"):
        TrackDrain(FastTrack(1), keep=0)


class NamedSource:
    """Not an aiortc track: a ``kind``, a ``track_id`` and ``recv()``, as the SDK's
    RemoteTrack has."""

    kind = "video"
    track_id = "t3"

    def __init__(self) -> None:
        self.inner = FastTrack(3)

    async def recv(self) -> Frame:
        """The inner track's next frame."""
        return await self.inner.recv()


async def test_any_source_with_recv_is_drained_and_named_by_its_track_id() -> None:
    """A source without aiortc's ``id`` drains to its end; its task is named after the
    ``track_id``."""
    drain = TrackDrain(NamedSource())
    drain.start()
    assert drain._task is not None and drain._task.get_name() == "drain-video-t3"
    await asyncio.wait_for(drain.wait_ended(), WAIT)
    assert drain.frames_received == 3


async def test_a_drain_that_cannot_get_a_task_leaves_no_unawaited_coroutine() -> None:
    """When the loop refuses the drain's task (as a closing loop does), start() raises and no
    "coroutine 'TrackDrain._run' was never awaited" warning follows."""
    loop = asyncio.get_running_loop()

    def refuse(loop: asyncio.AbstractEventLoop, coro: object) -> asyncio.Task[None]:
        raise RuntimeError("Event loop is closed")

    drain = TrackDrain(FastTrack(1))
    loop.set_task_factory(refuse)  # type: ignore[arg-type]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError):
                drain.start()
            gc.collect()
    finally:
        loop.set_task_factory(None)
    assert not [w for w in caught if "never awaited" in str(w.message)]
