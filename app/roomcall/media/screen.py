"""Screen capture as a video track: :func:`open_screen` gives a :class:`ScreenTrack`.

A thread of its own reads the platform's grabber (:mod:`roomcall.media.screen_targets`), so
the event loop never waits on the display server: FFmpeg's grabbers block until the next
frame is due. The thread also does what the encoder would otherwise do on the loop's
executor: it scales the picture to fit the chosen size (keeping its aspect) and converts it
to yuv420p, the encoder's input (3.5 ms for 1080p bgr0, media-facts).

Still content is sent at a low rate: a frame whose pixels did not change (sampled every
:data:`SAMPLE_ROW_STEP` rows: any line of text or caret spans more) is skipped, and while
nothing changes only one frame per :data:`STILL_INTERVAL` goes out, so that libvpx refines
the picture and a receiver that lost packets recovers. The first changed frame goes out at
once. Publish the track with ``tag="screen"``: the SDK then encodes it with the screen
profile (:data:`roomcall.media.profile.SCREEN`).

>>> track = open_screen(list_share_targets()[0])       # doctest: +SKIP
>>> await client.publish([track], tag="screen")        # doctest: +SKIP
>>> track.stop()                                       # releases the grabber  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.video.reformatter import Interpolation, VideoReformatter

from roomcall.media.devices import DeviceError
from roomcall.media.screen_targets import ShareTarget, capture_source
from roomcall.protocol.errors import ErrorCode

__all__ = ["STILL_INTERVAL", "ScreenTrack", "ShareSettings", "fit_size", "grab_thumbnail",
           "open_screen"]

logger = logging.getLogger(__name__)

VIDEO_TIME_BASE: Final = fractions.Fraction(1, 90_000)
STILL_INTERVAL: Final = 1.0
"""Seconds between frames sent while the picture does not change."""
SAMPLE_ROW_STEP: Final = 4
"""Rows compared to tell a changed picture: every 4th (a quarter of the pixels)."""
STOP_WAIT: Final = 2.0
"""Seconds :meth:`ScreenTrack.wait_released` allows the grabber to close."""


@dataclass(frozen=True)
class ShareSettings:
    """What the person picks for sharing (defaults: 15 fps, at most 1920x1080)."""

    fps: int = 15
    max_width: int = 1920
    max_height: int = 1080
    show_cursor: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.fps <= 60:
            raise ValueError(f"fps must be within 1..60, got {self.fps}")
        if self.max_width < 64 or self.max_height < 64:
            raise ValueError(f"size must be at least 64x64, got "
                             f"{self.max_width}x{self.max_height}")


def fit_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """The even size a ``width`` x ``height`` picture is sent at: scaled down (never up) to
    fit ``max_width`` x ``max_height``, keeping its aspect."""
    scale = min(1.0, max_width / width, max_height / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


class _ChangeDetector:
    """Whether a captured picture differs from the previous one (sampled rows, first plane)."""

    def __init__(self) -> None:
        self._previous = b""

    def changed(self, frame: av.VideoFrame) -> bool:
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(-1, plane.line_size)
        # One copy of the sampled rows, compared with memcmp (stops at the first difference).
        sample = rows[: frame.height : SAMPLE_ROW_STEP].tobytes()
        if sample == self._previous:
            return False
        self._previous = sample
        return True


class ScreenTrack(MediaStreamTrack):
    """A screen or window, captured on a thread, as yuv420p frames in a 90 kHz time base.

    ``recv()`` gives the newest captured frame (older ones are dropped, never queued).
    ``stop()`` ends the track and makes the thread close the grabber within a frame interval;
    :meth:`wait_released` waits for that. A capture that fails on its way (the window was
    closed, the display went away) ends the track, with the reason in :attr:`error`, and
    emits aiortc's ``"ended"`` event once it has been read from a loop.
    """

    kind = "video"

    def __init__(self, target: ShareTarget, container: Any, settings: ShareSettings) -> None:
        """Use :func:`open_screen`; ``container`` is the opened PyAV input."""
        super().__init__()
        self.target = target
        self.settings = settings
        self.error: DeviceError | None = None
        """Why capture ended by itself, if it did."""
        self.frames_captured = 0
        """Pictures read from the grabber."""
        self.frames_skipped = 0
        """Unchanged pictures not sent (see STILL_INTERVAL)."""
        self.frames_delivered = 0
        """Frames handed to the track's reader (via :meth:`recv`'s slot)."""
        self._container = container
        self._lock = threading.Lock()
        self._latest: av.VideoFrame | None = None
        self._ended = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fresh: asyncio.Event | None = None
        self._stopping = threading.Event()
        self._released = threading.Event()
        self._thread = threading.Thread(target=self._capture, name=f"screen-{target.id}",
                                        daemon=True)
        self._thread.start()

    @property
    def released(self) -> bool:
        """True once the grabber is closed (after :meth:`stop` or a capture failure)."""
        return self._released.is_set()

    async def recv(self) -> av.VideoFrame:
        """The newest captured frame, waiting for one; ``MediaStreamError`` once ended."""
        if self._fresh is None:
            self._loop = asyncio.get_running_loop()
            self._fresh = asyncio.Event()
            with self._lock:
                if self._latest is not None or self._ended:
                    self._fresh.set()
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            with self._lock:
                frame, self._latest = self._latest, None
                ended = self._ended
            if frame is not None:
                return frame
            if ended:
                raise MediaStreamError
            self._fresh.clear()
            await self._fresh.wait()

    def stop(self) -> None:
        """End the track and release the grabber (the thread closes it, never the caller)."""
        self._stopping.set()
        super().stop()
        self._wake()

    async def wait_released(self, within: float = STOP_WAIT) -> bool:
        """Wait (without blocking the loop) up to ``within`` seconds for the grabber to close;
        True if it was."""
        return await asyncio.get_running_loop().run_in_executor(
            None, self._released.wait, within)

    # --- the capture thread ----------------------------------------------------------------

    def _capture(self) -> None:
        settings = self.settings
        detector = _ChangeDetector()
        reformatter = VideoReformatter()
        started = time.monotonic()
        last_sent = float("-inf")
        try:
            for frame in self._container.decode(video=0):
                if self._stopping.is_set():
                    break
                self.frames_captured += 1
                now = time.monotonic()
                if not detector.changed(frame) and now - last_sent < STILL_INTERVAL:
                    self.frames_skipped += 1
                    continue
                width, height = fit_size(frame.width, frame.height,
                                         settings.max_width, settings.max_height)
                scaling = (width, height) != (frame.width, frame.height)
                out = reformatter.reformat(
                    frame, width=width, height=height, format="yuv420p",
                    # Scaling: area averaging keeps thin strokes of text where bilinear drops
                    # them. Not scaling: point-sampled chroma, a third faster at 1080p (luma,
                    # which carries text, is converted exactly either way).
                    interpolation=Interpolation.AREA if scaling else Interpolation.POINT)
                out.pts = round((now - started) * VIDEO_TIME_BASE.denominator)
                out.time_base = VIDEO_TIME_BASE
                last_sent = now
                self._deliver(out)
            else:
                if not self._stopping.is_set():
                    self.error = DeviceError(ErrorCode.SCREEN_CAPTURE_FAILED,
                                             f"{self.target.name!r}: capture ended")
        except (av.FFmpegError, OSError, ValueError) as exc:
            if not self._stopping.is_set():
                logger.info("capturing %s failed: %s", self.target.id, exc)
                self.error = DeviceError(ErrorCode.SCREEN_CAPTURE_FAILED,
                                         f"capturing {self.target.name!r} failed: {exc}")
        finally:
            try:
                self._container.close()
            finally:
                self._released.set()
                with self._lock:
                    self._ended = True
                self._wake()
                if self.error is not None and self._loop is not None:
                    # Ended by itself: stop() on the loop, so "ended" listeners hear of it.
                    with contextlib.suppress(RuntimeError):
                        self._loop.call_soon_threadsafe(self.stop)
                logger.info("screen capture of %s stopped after %d frames (%d skipped)",
                            self.target.id, self.frames_captured, self.frames_skipped)

    def _deliver(self, frame: av.VideoFrame) -> None:
        with self._lock:
            self._latest = frame
        self.frames_delivered += 1
        self._wake()

    def _wake(self) -> None:
        loop, fresh = self._loop, self._fresh
        if loop is None or fresh is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(fresh.set)


def open_screen(target: ShareTarget, settings: ShareSettings | None = None) -> ScreenTrack:
    """Start capturing ``target`` (a :func:`~roomcall.media.screen_targets.list_share_targets`
    entry) as a live video track.

    Opening blocks while the grabber starts (and, on macOS, while the OS asks for the Screen
    Recording permission): call it from an executor in a GUI.

    Raises:
        DeviceError: 23003 when the target cannot be captured.
    """
    settings = settings or ShareSettings()
    source = capture_source(target, settings.fps, show_cursor=settings.show_cursor)
    try:
        container = av.open(source.file, format=source.format, options=source.options)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise DeviceError(ErrorCode.SCREEN_CAPTURE_FAILED,
                          f"cannot capture {target.name!r}: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise DeviceError(ErrorCode.SCREEN_CAPTURE_FAILED, f"{target.name!r} gave no video")
    logger.info("capturing %s (%s) at %d fps", target.id, target.name, settings.fps)
    return ScreenTrack(target, container, settings)


def grab_thumbnail(target: ShareTarget, width: int = 192, height: int = 108
                   ) -> npt.NDArray[np.uint8] | None:
    """One small picture of ``target`` for the picker, as an ``(h, w, 3)`` RGB array fitting
    ``width`` x ``height``; None when it cannot be captured (no error: the picker shows the
    name alone). Blocks for one grab (a few ms): call it from an executor."""
    try:
        source = capture_source(target, 30, show_cursor=False)
        # No probing: FFmpeg would otherwise wait for several frames before the first one.
        options = {**source.options, "probesize": "32", "analyzeduration": "0"}
        with av.open(source.file, format=source.format, options=options) as container:
            frame = next(container.decode(video=0))
    except (av.FFmpegError, OSError, ValueError, StopIteration, DeviceError) as exc:
        logger.debug("no thumbnail of %s: %s", target.id, exc)
        return None
    size = fit_size(frame.width, frame.height, width, height)
    small = frame.reformat(width=size[0], height=size[1], format="rgb24",
                           interpolation=Interpolation.AREA)
    picture = np.asarray(small.to_ndarray(), dtype=np.uint8)
    return picture
