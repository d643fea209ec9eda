"""Remote audio playout: every member's audio track, mixed, to one output device.

aiortc has no audio playout (media-facts). :class:`AudioPlayout` drains each remote audio
track into an :class:`~roomcall.media.mixer.AudioMixer` (an adaptive jitter buffer per member)
and plays the mix on a PortAudio output stream (``sounddevice``). The output callback mixes
the next 20 ms itself when it needs them (the device's clock drives the mix, as in WebRTC's
audio device module), so no queue of finished mixes adds latency between the jitter buffers
and the device; when the device is not asking (none, stalled, starting), the event loop's
clock mixes instead so that tracks keep draining in real time. The output callback also
writes exactly what it gives the device into a
:class:`~roomcall.media.processing.FarEndReference`, with PortAudio's output delay, for the
microphone's echo canceller. Without an output device, or without PortAudio, it says so
through :attr:`AudioPlayout.error` (23008) and keeps draining and mixing in real time, so
tracks never back up and everything else goes on.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Hashable
from typing import Any, Final, TypeAlias

import av
import numpy as np

from roomcall.aio import TaskSet, cancel_and_wait
from roomcall.media.devices import DeviceError, DeviceInfo, audio_backend, resolve_audio_device
from roomcall.media.drain import Frame, FrameSource, TrackDrain
from roomcall.media.mixer import (
    CHANNELS,
    FRAME_MS,
    FRAME_SAMPLES,
    SAMPLE_RATE,
    AudioMixer,
    Samples,
    SourceStats,
)
from roomcall.media.processing import FarEndReference, device_delay, shared_far_end
from roomcall.protocol.errors import ErrorCode

__all__ = ["AudioPlayout", "OutputQueue"]

logger = logging.getLogger(__name__)

_MAX_CATCH_UP: Final = 10
"""Most 20 ms mixes pulled at once after the loop stalled (more is dropped, not played)."""
_HEADROOM_MS: Final = 60
"""Queued audio allowed above ``device_queue_ms`` before mixes are dropped."""
_TRIM_WINDOW: Final = 50
"""Mixes (1 s) over which the queue's low level is watched for excess latency."""
_STALL_S: Final = 3.0
"""A device that asked for nothing this long is reported (devices may take 2 s to start)."""
_PULL_GAP_S: Final = 0.1
"""A device that pulled no mix this long is not driving the mix: the loop's clock takes over."""


class OutputQueue:
    """Mixed 20 ms chunks on their way from the event loop to PortAudio's audio thread.

    The loop appends, the audio thread pops: ``collections.deque`` does both atomically, so
    neither side takes a lock and the audio callback never waits. The loop bounds the queue
    (see ``AudioPlayout._play``). Given ``pull``, a callback that finds the queue empty
    mixes the next chunk itself (recorded in ``made`` for the loop to report); without it,
    it plays silence. One queue serves one stream: a finished stream's late callbacks cannot
    touch the next one's state.
    """

    def __init__(self, channels: int, far_end: FarEndReference | None = None,
                 pull: Callable[[], Samples] | None = None) -> None:
        self.channels = channels
        self.far_end = far_end
        self.pull = pull
        self.made: collections.deque[Samples] = collections.deque(maxlen=50)
        """Mixes the callback pulled, not yet reported by the loop."""
        self.last_pull = -1.0
        """``time.monotonic()`` of the callback's last pull (-1: none yet)."""
        self.callbacks = 0
        """Blocks the device asked for (its progress, watched for stalls)."""
        self.underruns = 0
        """Blocks the device asked for and got (partly) silence instead of audio."""
        self.finished = False
        """PortAudio stopped the stream (device unplugged, or closed)."""
        self._chunks: collections.deque[Samples] = collections.deque()
        self._current: Samples | None = None
        self._offset = 0

    def queued_ms(self) -> float:
        """Audio waiting to be played (an estimate: the audio thread moves on meanwhile)."""
        current = self._current
        partial = len(current) - self._offset if current is not None else 0
        return float(len(self._chunks) * FRAME_SAMPLES + partial) * 1000 / SAMPLE_RATE

    def put(self, samples: Samples) -> None:
        """Queue 20 ms of stereo mix (down-mixed here for a mono device)."""
        self._chunks.append(self._for_device(samples))

    def _for_device(self, samples: Samples) -> Samples:
        if self.channels == 1:
            samples = (samples.astype(np.int32).sum(axis=1, keepdims=True) // 2).astype(np.int16)
        return samples

    def callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's output callback: fill ``outdata`` ``(frames, channels)`` int16."""
        self.callbacks += 1
        filled = 0
        while filled < frames:
            if self._current is None:
                try:
                    self._current, self._offset = self._chunks.popleft(), 0
                except IndexError:
                    if self.pull is None:
                        break
                    mixed = self.pull()
                    self.made.append(mixed)
                    self.last_pull = time.monotonic()
                    self._current, self._offset = self._for_device(mixed), 0
            take = min(frames - filled, len(self._current) - self._offset)
            outdata[filled : filled + take] = self._current[self._offset : self._offset + take]
            filled += take
            self._offset += take
            if self._offset == len(self._current):
                self._current = None
        if filled < frames:
            outdata[filled:] = 0
            self.underruns += 1
        if self.far_end is not None:
            self.far_end.write(outdata[:frames], device_delay(time_info, "outputBufferDacTime"))

    def on_finished(self) -> None:
        """PortAudio's finished callback."""
        self.finished = True


_Opened: TypeAlias = tuple[Any, OutputQueue]
"""A started ``sounddevice.OutputStream`` and the queue its callback reads."""


def _open_output(
    device: DeviceInfo | None, queue_ms: int, far_end: FarEndReference | None,
    pull: Callable[[], Samples] | None,
) -> _Opened | str:
    """Open and start an output stream on ``device`` (None: default), or say why not.

    Runs on any thread; touches no playout state.
    """
    sd, why = audio_backend()
    if sd is None:
        return why
    code = ErrorCode.SPEAKER_ERROR
    try:
        try:
            _, endpoint = resolve_audio_device("speaker", device, code)
        except DeviceError:
            if device is None:
                raise
            logger.warning("output %s is gone; using the default", device.name)
            _, endpoint = resolve_audio_device("speaker", None, code)
    except DeviceError:
        return "no audio output device"
    queue = OutputQueue(min(CHANNELS, endpoint.channels), far_end, pull)
    # Start with queue_ms of silence, so bursty device reads do not underrun.
    for _ in range(max(1, queue_ms // FRAME_MS)):
        queue.put(np.zeros((FRAME_SAMPLES, CHANNELS), np.int16))
    try:
        stream = sd.OutputStream(
            samplerate=SAMPLE_RATE,
            blocksize=FRAME_SAMPLES,
            device=endpoint.index,
            channels=queue.channels,
            dtype="int16",
            latency="low",
            callback=queue.callback,
            finished_callback=queue.on_finished,
        )
    except (sd.PortAudioError, ValueError) as exc:
        return f"cannot play on {endpoint.info.name}: {exc}"
    try:
        stream.start()
    except sd.PortAudioError as exc:
        stream.close(ignore_errors=True)
        return f"cannot start {endpoint.info.name}: {exc}"
    logger.info("playing audio on %s", endpoint.info.name)
    return stream, queue


def _close_unused(opening: asyncio.Future[_Opened | str]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opened = opening.result()
        if not isinstance(opened, str):
            opened[0].close(ignore_errors=True)


def _now() -> float:
    # The loop's clock where there is a loop (it is monotonic): arrival times for the mixer.
    return asyncio.get_running_loop().time()


class AudioPlayout:
    """Plays the mix of all added audio tracks on one output device.

    Args:
        target_ms: None (default) for adaptive jitter buffers; a number for the former fixed
            prefetch per member (see :class:`AudioMixer`).
        device_queue_ms: Mixed audio kept queued for the output device.
        far_end: Where what is played is recorded for the echo canceller (default: the
            process's shared reference, which the default microphone reads).
        device_clock: True (default): the output callback mixes on demand; False: the
            former path, the loop mixes and queues up to ``device_queue_ms`` (+60 ms) ahead
            of the device (kept as the benchmark's baseline).

    Attributes:
        mixer: The mixer; its per-member stats show buffering, underruns and drops.
        error: Why nothing is audible (23008: no audio backend, no output device, the
            device failed or stalled), or None.
        on_mixed: Called with every 20 ms of mixed audio, heard or not (for level meters).
        frames_mixed: 20 ms mixes produced since start.
        output_overflows: Mixes dropped because the device queue was full (a device slower
            than the loop's clock, or one that stopped reading; ``device_clock=False`` only).
    """

    def __init__(self, *, target_ms: int | None = None, device_queue_ms: int = 40,
                 far_end: FarEndReference | None = None, device_clock: bool = True) -> None:
        self.mixer = AudioMixer(target_ms=target_ms)
        self.device_clock = device_clock
        self.device_queue_ms = device_queue_ms
        self.far_end = far_end if far_end is not None else shared_far_end()
        self.error: DeviceError | None = None
        self.on_mixed: Callable[[Samples], None] | None = None
        self.frames_mixed = 0
        self.output_overflows = 0
        self._underruns_before = 0
        self._last_callbacks = -1
        self._last_progress = 0.0
        self._window_low = float("inf")
        self._window_count = 0
        self._device: DeviceInfo | None = None
        self._stream: Any = None
        self._queue: OutputQueue | None = None
        self._drains: dict[str, TrackDrain] = {}
        self._stopping = TaskSet(logger, "drain stop")
        self._pump: asyncio.Task[None] | None = None
        self._starting = False

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._pump is not None

    @property
    def output_device(self) -> DeviceInfo | None:
        """The chosen output device (None: the system default)."""
        return self._device

    @property
    def audible(self) -> bool:
        """True when the mix goes to an output device that is playing."""
        return self._stream is not None and self.error is None

    @property
    def output_underruns(self) -> int:
        """Device blocks that got (partly) silence because no mix was queued in time."""
        queue = self._queue
        return self._underruns_before + (queue.underruns if queue is not None else 0)

    @property
    def user_ids(self) -> list[str]:
        """Members whose audio is being mixed."""
        return list(self._drains)

    def levels(self) -> dict[Hashable, float]:
        """Each member's level (0.0-1.0) in what is played, for volume indication."""
        return self.mixer.levels()

    def stats(self, user_id: str) -> SourceStats:
        """``user_id``'s jitter buffer counters (concealed and late frames, reserve, ...)."""
        return self.mixer.stats(user_id)

    def add_track(self, user_id: str, track: FrameSource) -> None:
        """Mix ``track`` as ``user_id``'s audio (replacing a previous one of that user).

        ``track`` is anything with ``kind`` ``"audio"`` and ``await recv()``: an aiortc
        track, or the SDK's ``RemoteTrack`` as ``track_subscribed`` delivers it."""
        if track.kind != "audio":
            raise ValueError(f"only audio tracks can be played, got {track.kind}")
        self.remove_track(user_id)
        self.mixer.add_source(user_id)

        def push(frame: Frame, user_id: str = user_id) -> None:
            if isinstance(frame, av.AudioFrame):
                self.mixer.push(user_id, frame, arrival=_now())

        drain = TrackDrain(track, keep=1, on_frame=push)
        self._drains[user_id] = drain
        if self.running:
            drain.start()

    def remove_track(self, user_id: str) -> None:
        """Stop mixing ``user_id``'s audio (a no-op for unknown members)."""
        drain = self._drains.pop(user_id, None)
        self.mixer.remove_source(user_id)
        if drain is not None and self.running:
            self._stopping.spawn(drain.stop())

    def set_output_device(self, device: DeviceInfo | None) -> None:
        """Play on ``device`` (a ``list_speakers()`` entry; None: the system default).

        While playing, the switch happens before this returns (it may block briefly).
        """
        self._device = device
        if self.running:
            self._close_stream()
            self._open_stream()

    async def start(self) -> None:
        """Open the output device and start draining and mixing every added track."""
        if self.running or self._starting:
            return
        self._starting = True
        # Opening may take a second (PortAudio's first device scan, a sound server waking
        # up): do it off the event loop.
        loop = asyncio.get_running_loop()
        opening = loop.run_in_executor(
            None, _open_output, self._device, self.device_queue_ms, self.far_end, self._puller)
        try:
            opened = await asyncio.shield(opening)
        except asyncio.CancelledError:
            # The thread opens the device anyway: close it once it has.
            opening.add_done_callback(_close_unused)
            raise
        finally:
            self._starting = False
        self._open_stream(opened)
        for drain in self._drains.values():
            drain.start()
        self._pump = asyncio.get_running_loop().create_task(self._run(), name="audio-playout")

    async def stop(self) -> None:
        """Stop playing and draining; tracks stay added and play again after :meth:`start`."""
        pump, self._pump = self._pump, None
        if pump is not None:
            await cancel_and_wait(pump)
        drains = list(self._drains.items())
        await asyncio.gather(*(drain.stop() for _, drain in drains), self._stopping.wait())
        for user_id, drain in drains:
            # A stopped drain cannot restart: give each track a fresh one for the next start.
            self._drains[user_id] = TrackDrain(drain.track, keep=1, on_frame=drain.on_frame)
        self._close_stream()

    def _open_stream(self, opened: _Opened | str | None = None) -> None:
        """Take a stream opened by :func:`_open_output` (opening it here if not given)."""
        if opened is None:
            opened = _open_output(self._device, self.device_queue_ms, self.far_end, self._puller)
        self.error = None
        if isinstance(opened, str):
            self._no_output(opened)
            return
        self._stream, self._queue = opened
        self._last_callbacks = -1
        self._last_progress = asyncio.get_running_loop().time()

    @property
    def _puller(self) -> Callable[[], Samples] | None:
        return self.mixer.mix if self.device_clock else None

    def _no_output(self, why: str) -> None:
        self.error = DeviceError(ErrorCode.SPEAKER_ERROR, why)
        logger.warning("remote audio is not audible: %s; still draining", why)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        queue, self._queue = self._queue, None
        if queue is not None:
            self._underruns_before += queue.underruns
        if stream is not None:
            try:
                stream.close(ignore_errors=True)
            except Exception:
                logger.exception("closing the audio output failed")

    def _emit(self, samples: Samples) -> None:
        self.frames_mixed += 1
        if self.on_mixed is not None:
            try:
                self.on_mixed(samples)
            except Exception:
                logger.exception("on_mixed callback failed")

    async def _run(self) -> None:
        # Whoever asks paces the mix, so every member's track drains at the real rate and a
        # stalled or vanished device can never stall the mix: the device's callback while it
        # pulls (device_clock), the loop's clock otherwise. On the loop's clock with a queue
        # (device_clock=False) the queue absorbs the difference between the two clocks; past
        # its high-water mark a 20 ms mix is dropped (clock drift: one every few minutes).
        loop = asyncio.get_running_loop()
        period = FRAME_MS / 1000
        started = loop.time()
        pulled = 0
        while True:
            self._check_stream(loop.time())
            queue = self._queue
            if queue is not None and queue.pull is not None and (
                    time.monotonic() - queue.last_pull < _PULL_GAP_S):
                while queue.made:
                    self._emit(queue.made.popleft())
                started, pulled = loop.time(), 0
                await asyncio.sleep(period)
                continue
            due = int((loop.time() - started) / period) + 1 - pulled
            if due > _MAX_CATCH_UP:
                pulled += due - _MAX_CATCH_UP
                due = _MAX_CATCH_UP
            for _ in range(due):
                samples = self.mixer.mix()
                if queue is not None and queue.pull is None:
                    self._play(queue, samples)
                self._emit(samples)
                pulled += 1
            await asyncio.sleep(max(0.0, started + pulled * period - loop.time()))

    def _play(self, queue: OutputQueue, samples: Samples) -> None:
        queued = queue.queued_ms()
        # Lowest queue level over the last second: if even that stayed a frame above the
        # target (after a slow device start, say), the queue only adds latency; trim it.
        self._window_low = min(self._window_low, queued)
        self._window_count += 1
        trim = False
        if self._window_count >= _TRIM_WINDOW:
            trim = self._window_low > self.device_queue_ms + FRAME_MS
            self._window_low, self._window_count = float("inf"), 0
        if trim or queued > self.device_queue_ms + _HEADROOM_MS:
            self.output_overflows += 1
        else:
            queue.put(samples)

    def _check_stream(self, now: float) -> None:
        stream, queue = self._stream, self._queue
        if stream is None or queue is None:
            return
        if queue.finished or not stream.active:
            self._close_stream()
            self._no_output("audio output stopped (device removed or failed)")
            return
        if queue.callbacks != self._last_callbacks:
            self._last_callbacks, self._last_progress = queue.callbacks, now
            if self.error is not None:
                logger.info("audio output plays again")
                self.error = None
        elif now - self._last_progress > _STALL_S and self.error is None:
            self._no_output("audio output stalled")
