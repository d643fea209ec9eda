"""A live microphone as an aiortc audio track, fed by a PortAudio input stream.

PortAudio calls :meth:`MicrophoneTrack.on_block` on its own audio thread with each captured
block. That callback cuts the audio into 20 ms frames, runs each through the capture processing
(echo cancellation against what the playout plays, noise suppression, gain, high-pass filter:
:mod:`roomcall.media.processing`, on this one thread), meters its level, appends it to a
bounded deque (the oldest is dropped when the reader falls behind, so latency stays bounded)
and wakes the reader; it never waits. :meth:`MicrophoneTrack.recv` runs in the event loop and
turns the frames into ``av.AudioFrame`` objects.

>>> track = MicrophoneTrack(sample_rate=48_000, channels=1)
>>> track.frame_samples
960
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fractions
import logging
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from roomcall.media.level import LevelMeter
from roomcall.media.mixer import FRAME_MS
from roomcall.media.processing import (
    CaptureOptions,
    CaptureProcessor,
    FarEndReference,
    device_delay,
    shared_far_end,
)

__all__ = ["FRAME_MS", "CaptureOptions", "MicrophoneTrack"]

logger = logging.getLogger(__name__)

_Block = npt.NDArray[np.int16]


class MicrophoneTrack(MediaStreamTrack):
    """20 ms s16 frames of captured audio with pts counted in samples since capture began.

    Args:
        sample_rate: Rate the device captures at.
        channels: 1 (mono) or 2 (stereo, interleaved).
        queue_ms: Most captured audio held for a reader that is late; beyond it the oldest
            frames are dropped (``frames_dropped``), their pts skipped.
        processing: Echo cancellation, noise suppression, gain and high-pass filter, all on
            by default; ``CaptureOptions.off()`` sends the samples as captured.
        far_end: What the playout plays, for the echo canceller (default: the process's
            shared reference, which the default ``AudioPlayout`` writes).

    Attributes:
        frames_captured: 20 ms frames cut from the device's blocks so far.
        frames_dropped: Frames discarded unread because the reader fell behind.
        input_overflows: Blocks PortAudio flagged as having lost input (a busy machine).
        processor: The capture processing (its ``stream_delay_ms``, ``gain_db``, ``error``).
    """

    kind = "audio"

    def __init__(
        self, *, sample_rate: int = 48_000, channels: int = 1, queue_ms: int = 200,
        processing: CaptureOptions | None = None, far_end: FarEndReference | None = None,
    ) -> None:
        super().__init__()
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        self.sample_rate = sample_rate
        self.channels = channels
        self.frame_samples = sample_rate * FRAME_MS // 1000
        self.frames_captured = 0
        self.frames_dropped = 0
        self.input_overflows = 0
        self.processor = CaptureProcessor(
            processing if processing is not None else CaptureOptions(),
            far_end if far_end is not None else shared_far_end(),
            sample_rate=sample_rate, channels=channels)
        self._meter = LevelMeter(sample_rate)
        self._time_base = fractions.Fraction(1, sample_rate)
        self._layout = "mono" if channels == 1 else "stereo"
        # deque.append and popleft are atomic, and maxlen drops the oldest on append: the
        # capture thread and the event loop share it without a lock.
        self._frames: collections.deque[tuple[int, _Block]] = collections.deque(
            maxlen=max(1, queue_ms // FRAME_MS)
        )
        self._pending: _Block = np.zeros((0, channels), dtype=np.int16)
        self._next_pts = 0
        self._finished = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Event | None = None
        self._stream: Any = None

    @property
    def processing(self) -> CaptureOptions:
        """The capture processing in force."""
        return self.processor.options

    def set_processing(self, options: CaptureOptions) -> None:
        """Switch processing on or off (any thread; applies from the next captured block)."""
        self.processor.set_options(options)

    @property
    def level(self) -> float:
        """The level of what is being sent, 0.0-1.0 (after processing: echo does not count)."""
        return self._meter.level

    def attach(self, stream: Any) -> None:
        """Own ``stream`` (a started ``sounddevice.InputStream``): :meth:`stop` closes it."""
        self._stream = stream

    # --- capture thread ----------------------------------------------------------------

    def on_block(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's input callback: ``indata`` is ``(frames, channels)`` int16.

        Runs on PortAudio's thread (or in a test, anywhere): cuts 20 ms frames and wakes
        the reader, never blocking.
        """
        if status is not None and getattr(status, "input_overflow", False):
            self.input_overflows += 1
        block = np.asarray(indata, dtype=np.int16).reshape(-1, self.channels)[:frames]
        if len(self._pending) == 0 and len(block) == self.frame_samples:
            chunks = [block.copy()]  # PortAudio reuses indata's memory after we return
        else:
            joined = np.concatenate([self._pending, block])
            whole = len(joined) - len(joined) % self.frame_samples
            step = self.frame_samples
            chunks = [joined[i : i + step] for i in range(0, whole, step)]
            self._pending = joined[whole:].copy()
        delay = device_delay(time_info, "inputBufferAdcTime")
        for captured in chunks:
            chunk = self.processor.process(captured, delay)
            self._meter.measure(chunk)
            if len(self._frames) == self._frames.maxlen:
                self.frames_dropped += 1
            self._frames.append((self._next_pts, chunk))
            self._next_pts += self.frame_samples
            self.frames_captured += 1
        if chunks:
            self._wake()

    def on_finished(self) -> None:
        """PortAudio's finished callback: the stream ended (closed, or the device failed)."""
        self._finished = True
        self._wake()

    def _wake(self) -> None:
        loop, arrived = self._loop, self._arrived
        if loop is None or arrived is None:
            return  # nobody has waited yet
        # The one asyncio call that is safe from another thread; it does not block. A closed
        # loop raises RuntimeError: nobody is left to wake then.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(arrived.set)

    # --- event loop --------------------------------------------------------------------

    async def recv(self) -> av.AudioFrame:
        """The next 20 ms of captured audio, as soon as it has been captured."""
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self._frames:
                pts, samples = self._frames.popleft()
                return self._frame(pts, samples)
            if self._finished:
                logger.warning("microphone stream ended")
                self.stop()
                raise MediaStreamError
            if self._arrived is None:
                self._arrived = asyncio.Event()
                self._loop = asyncio.get_running_loop()
            self._arrived.clear()
            if not self._frames and not self._finished:
                await self._arrived.wait()

    def stop(self) -> None:
        """End the track and close the device."""
        super().stop()
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close(ignore_errors=True)
            except Exception:
                logger.exception("closing the microphone failed")
        self._wake()

    def _frame(self, pts: int, samples: _Block) -> av.AudioFrame:
        frame = av.AudioFrame.from_ndarray(
            samples.reshape(1, -1), format="s16", layout=self._layout
        )
        frame.sample_rate = self.sample_rate
        frame.pts = pts
        frame.time_base = self._time_base
        return frame

