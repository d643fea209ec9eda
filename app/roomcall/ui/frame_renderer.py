"""Newest-frame-only video rendering with the colour conversion off the GUI thread.

Measured with ``bench/ui_render.py`` (docs/benchmarks.md): converting YUV420P to BGRA *at the
tile's size* in swscale costs about 0.3 ms of CPU, and PyAV releases the GIL while swscale runs,
so doing it on an executor thread leaves the GUI thread only a 1:1 blit of an already scaled
image, against 0.7-1.0 ms for the usual path (``to_ndarray("rgb24")`` then a scaled
``drawImage`` on the GUI thread). ``QVideoSink`` is not an option: it lives in QtMultimedia,
which PySide6-Essentials does not ship.

What else the GUI thread used to pay per frame, and why it no longer does (profiled with perf):

- ``frame.reformat()`` hangs a fresh swscale context, with its own threads, on the *source*
  frame; freeing that frame on the loop's thread ran ``sws_freeContext`` and joined those
  threads there. Each renderer now keeps one single-threaded ``VideoReformatter`` (which also
  cuts the worker's cost per conversion from about 0.9 to 0.3 ms).
- Dropping the previous BGRA frame freed 0.6 MB allocated by a worker thread (glibc then trims
  that thread's heap with ``madvise``). The renderer hands frames the tile let go of back to the
  next conversion job, which drops them on the worker.
- The ``QImage`` wrapper is built on the worker, next to the pixels it wraps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import av
from av.video.reformatter import Interpolation, VideoReformatter
from PySide6.QtGui import QImage

from roomcall.aio import cancel_and_wait

log = logging.getLogger(__name__)


class FrameSource(Protocol):
    """Anything with aiortc's ``recv()``: a remote track or a local feed's tap."""

    async def recv(self) -> Any: ...


@dataclass(frozen=True, eq=False)
class RenderedFrame:
    """A BGRA frame at display size and the ``QImage`` wrapping its pixels.

    The ``QImage`` does not own the pixels: it is valid while this object (which holds the
    frame) is alive, so keep the ``RenderedFrame``, not just the image.
    """

    frame: av.VideoFrame
    width: int
    height: int
    stride: int
    pts: int | None
    image: QImage

    def buffer(self) -> memoryview:
        """The BGRA pixels (``stride`` bytes per row)."""
        return memoryview(self.frame.planes[0])


def fit_size(src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest even size with the source's aspect ratio that fits the box.

    >>> fit_size(640, 480, 400, 400)
    (400, 300)
    """
    if src_w <= 0 or src_h <= 0 or box_w <= 1 or box_h <= 1:
        return (2, 2)
    scale = min(box_w / src_w, box_h / src_h)
    return (max(2, int(src_w * scale) & ~1), max(2, int(src_h * scale) & ~1))


def convert_for_display(frame: av.VideoFrame, box_w: int, box_h: int,
                        reformatter: VideoReformatter | None = None) -> RenderedFrame:
    """``frame`` scaled to fit ``box_w`` x ``box_h`` and converted to BGRA (GIL released).

    Pass the same ``reformatter`` for a stream's frames: it keeps its swscale context while the
    sizes stay the same. Without one a new context is made (and freed) for this call.
    """
    width, height = fit_size(frame.width, frame.height, box_w, box_h)
    out = (reformatter or VideoReformatter()).reformat(
        frame, width=width, height=height, format="bgra",
        interpolation=Interpolation.BILINEAR, threads=1)
    stride = out.planes[0].line_size
    image = QImage(memoryview(out.planes[0]), width, height, stride, QImage.Format.Format_RGB32)
    return RenderedFrame(out, width, height, stride, frame.pts, image)


def _convert_job(frame: av.VideoFrame, box_w: int, box_h: int, reformatter: VideoReformatter,
                 retired: list[RenderedFrame]) -> RenderedFrame:
    """The executor's job: drop frames no longer shown here, then convert ``frame``."""
    retired.clear()
    return convert_for_display(frame, box_w, box_h, reformatter)


class TrackRenderer:
    """Drains a video source continuously and renders only the newest frame.

    One task receives every frame as it arrives (a queue that is not drained grows without
    bound in aiortc); another converts the newest one for display on an executor thread and
    hands it to ``on_frame`` on the loop's thread. Frames that arrive during a conversion are
    skipped, so a slow display never adds latency. ``on_ended`` runs once when the source ends.
    """

    def __init__(
        self,
        source: FrameSource,
        on_frame: Callable[[RenderedFrame], None],
        box_size: Callable[[], tuple[int, int]],
        on_ended: Callable[[], None] | None = None,
    ) -> None:
        self._source = source
        self._on_frame = on_frame
        self._box_size = box_size
        self._on_ended = on_ended
        self._latest: av.VideoFrame | None = None
        self._reformatter = VideoReformatter()
        self._shown: RenderedFrame | None = None
        self._retired: list[RenderedFrame] = []
        self._fresh = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.frames_received = 0
        """Frames taken from the source (for tests and the benchmark)."""
        self.frames_rendered = 0
        """Frames converted and handed to ``on_frame``."""

    def start(self) -> None:
        """Start draining and rendering on the running loop."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._drain()), loop.create_task(self._render())]

    def cancel(self) -> None:
        """Ask both tasks to stop now: from here on neither calls ``on_frame``, ``box_size``
        or ``on_ended`` (a task resumes only to be cancelled), so their widget may be deleted
        at once. :meth:`stop` waits for them."""
        for task in self._tasks:
            task.cancel()

    async def stop(self) -> None:
        """Stop both tasks and wait for them to finish."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks = []
        self._shown, self._retired = None, []

    @property
    def running(self) -> bool:
        """True while the tasks run."""
        return any(not t.done() for t in self._tasks)

    async def _drain(self) -> None:
        try:
            while True:
                frame = await self._source.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                self.frames_received += 1
                self._latest = frame
                self._fresh.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # aiortc's MediaStreamError: the track ended
            log.debug("video source ended: %r", exc)
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        if self._on_ended is not None:
            self._on_ended()

    async def _render(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._fresh.wait()
            self._fresh.clear()
            frame = self._latest
            if frame is None:
                continue
            box_w, box_h = self._box_size()
            # The job empties ``retired`` on the worker: the frames' memory is freed there.
            retired, self._retired = self._retired, []
            try:
                rendered = await loop.run_in_executor(
                    None, _convert_job, frame, box_w, box_h, self._reformatter, retired)
            except (ValueError, av.FFmpegError) as exc:
                log.warning("could not convert a video frame: %s", exc)
                continue
            self.frames_rendered += 1
            if self._shown is not None:
                # on_frame replaces it; if the receiver let it go, only our reference is left.
                self._retired.append(self._shown)
            self._shown = rendered
            self._on_frame(rendered)
