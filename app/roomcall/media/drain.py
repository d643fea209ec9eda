"""Newest-frame-only sinks for received tracks.

aiortc puts received frames into an unbounded queue, so a consumer that falls behind grows
latency and memory without limit (media-facts). A :class:`TrackDrain` reads its track
continuously in its own task and keeps only the newest few frames.

>>> drain = TrackDrain(remote_track)          # doctest: +SKIP
>>> drain.start()                              # doctest: +SKIP
>>> frame = await drain.recv()                 # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeAlias

import av
from aiortc.mediastreams import MediaStreamError

from roomcall.aio import cancel_and_wait

__all__ = ["Frame", "FrameCallback", "FrameSource", "TrackDrain"]

logger = logging.getLogger(__name__)

Frame: TypeAlias = av.VideoFrame | av.AudioFrame
FrameCallback: TypeAlias = Callable[[Frame], None]


class FrameSource(Protocol):
    """What a drain reads: an aiortc ``MediaStreamTrack``, the SDK's ``RemoteTrack``, or
    anything else with a ``kind`` and an awaitable ``recv()`` that raises aiortc's
    ``MediaStreamError`` once it has ended. An ``id`` (aiortc's) or ``track_id`` (the SDK's),
    if present, names the drain in logs."""

    @property
    def kind(self) -> str: ...

    async def recv(self) -> Any: ...


def source_label(track: FrameSource) -> str:
    """``track``'s id for logs and task names (``?`` if it has none)."""
    return str(getattr(track, "id", None) or getattr(track, "track_id", None) or "?")


class TrackDrain:
    """Reads ``track`` as fast as it delivers and holds at most ``keep`` unread frames.

    When a new frame arrives and ``keep`` unread frames are already held, the oldest unread
    one is dropped (``frames_dropped``), so the newest frame always wins. Use ``keep=1`` for
    video (display only the newest picture) and a few for audio (a little slack for the
    mixer).

    Attributes:
        frames_received: Frames read from the track so far.
        frames_dropped: Frames discarded unread because newer ones arrived.
        on_frame: Called in the event loop with every frame as it arrives (e.g. to render);
            an exception it raises is logged and does not stop the drain.
    """

    def __init__(
        self,
        track: FrameSource,
        *,
        keep: int = 1,
        on_frame: FrameCallback | None = None,
    ) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, got {keep}")
        self.track = track
        self._label = f"{track.kind}-{source_label(track)}"
        self.keep = keep
        self.on_frame = on_frame
        self.frames_received = 0
        self.frames_dropped = 0
        self._unread: collections.deque[Frame] = collections.deque()
        self._latest: Frame | None = None
        self._arrived = asyncio.Event()
        self._ended = False
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def kind(self) -> str:
        """The drained track's kind: ``"audio"`` or ``"video"``."""
        return str(self.track.kind)

    @property
    def ended(self) -> bool:
        """True once the track ended or the drain was stopped."""
        return self._ended

    @property
    def pending(self) -> int:
        """Frames received but not yet returned by :meth:`recv` (never more than ``keep``)."""
        return len(self._unread)

    def start(self) -> None:
        """Start reading the track in a task of the running loop (idempotent)."""
        if self._task is None and not self._ended:
            loop = asyncio.get_running_loop()
            run = self._run()
            try:
                self._task = loop.create_task(run, name=f"drain-{self._label}")
            except BaseException:
                # No task will ever await it (the loop is closing, say): close it here, or
                # Python warns "coroutine 'TrackDrain._run' was never awaited".
                run.close()
                raise

    async def stop(self) -> None:
        """Stop reading; pending and future :meth:`recv` calls raise MediaStreamError.

        The track itself is left alone: whoever owns it stops it.
        """
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        self._finish()

    async def wait_ended(self) -> None:
        """Return once the track ended or the drain was stopped."""
        await self._done.wait()

    def latest(self) -> Frame | None:
        """The newest frame received, read or not (None before the first)."""
        return self._latest

    async def recv(self) -> Frame:
        """The oldest frame not yet returned, waiting for one if none is held.

        Raises:
            MediaStreamError: the track ended (or the drain stopped) and nothing is left.
        """
        while not self._unread:
            if self._ended:
                raise MediaStreamError
            self._arrived.clear()
            await self._arrived.wait()
        return self._unread.popleft()

    async def _run(self) -> None:
        try:
            while True:
                frame = await self.track.recv()
                if not isinstance(frame, av.VideoFrame | av.AudioFrame):
                    continue  # encoded packets are not for display or playout
                self._accept(frame)
        except MediaStreamError:
            logger.debug("track %s ended after %d frames", self._label, self.frames_received)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("reading track %s failed; drain ends", self._label)
        finally:
            self._finish()

    def _accept(self, frame: Frame) -> None:
        self.frames_received += 1
        if len(self._unread) >= self.keep:
            self._unread.popleft()
            self.frames_dropped += 1
        self._unread.append(frame)
        self._latest = frame
        self._arrived.set()
        if self.on_frame is not None:
            try:
                self.on_frame(frame)
            except Exception:
                logger.exception("on_frame callback failed")

    def _finish(self) -> None:
        self._ended = True
        self._arrived.set()
        self._done.set()
