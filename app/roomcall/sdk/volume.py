"""Volume indication: every member's audio level, every interval (Qiniu's
``onUserVolumeIndication``).

Levels are RMS in dBFS mapped from -60 dBFS (0.0) to 0 dBFS (1.0), rising at once and falling
by at most 1.0 per second (:mod:`roomcall.media.level`), so normal speech reads about 0.3-0.8
and silence 0. Where each comes from:

- the local user: its published audio tracks as they are sent (a track with a ``level`` of
  its own, like the microphone's, which meters after echo cancellation, is read as is; any
  other is metered frame by frame on its way to the encoder); a muted track reads 0;
- a remote member: what is received of its audio tracks, or, with a playout attached
  (:meth:`VolumeIndicator.attach_playout`), what is played of it.

A member with several audio tracks reads the loudest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamTrack

from roomcall.aio import cancel_and_wait
from roomcall.media.level import LevelMeter

if TYPE_CHECKING:
    from roomcall.media.jitter import JitterStats
    from roomcall.sdk.tracks import LocalPublication

__all__ = ["Playout", "VolumeIndicator", "frame_samples"]

log = logging.getLogger(__name__)

STALE: Final = 0.1
"""Seconds without a frame after which a stream's level starts to fall (muted, or lost)."""


class Playout(Protocol):
    """What the SDK reads of an attached playout (``roomcall.media.playout.AudioPlayout``)."""

    @property
    def user_ids(self) -> list[str]:
        """Members whose audio is being mixed."""
        ...

    def levels(self) -> Mapping[Hashable, float]:
        """Each member's level in what is played."""
        ...

    def stats(self, user_id: str) -> JitterStats:
        """``user_id``'s jitter buffer counters."""
        ...


def frame_samples(frame: av.AudioFrame) -> npt.NDArray[np.int16]:
    """``frame``'s audio as ``(samples, channels)`` int16, whatever its sample format."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    samples = data.T if frame.format.is_planar else data.reshape(-1, channels)
    if samples.dtype == np.int16:
        return samples.astype(np.int16, copy=False)
    if np.issubdtype(samples.dtype, np.integer):
        shift = 8 * (samples.dtype.itemsize - 2)
        return (samples.astype(np.int64) >> shift).astype(np.int16)
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


class StreamLevel:
    """The level of one stream of frames, falling once frames stop coming."""

    def __init__(self) -> None:
        self.meter = LevelMeter()
        self._at: float | None = None

    def measure(self, frame: av.AudioFrame, now: float) -> None:
        """Take in ``frame``, arrived at ``now`` (seconds, the loop's clock)."""
        self.meter.sample_rate = frame.sample_rate or self.meter.sample_rate
        self.meter.measure(frame_samples(frame))
        self._at = now

    def read(self, now: float) -> float:
        """The level at ``now``."""
        if self._at is None:
            return 0.0
        if now - self._at > STALE:
            self.meter.decay(int((now - self._at) * self.meter.sample_rate))
            self._at = now
        return self.meter.level


class MeteredTrack(MediaStreamTrack):
    """Passes ``source``'s frames on unchanged, metering their level."""

    kind = "audio"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source
        self.stream = StreamLevel()

    async def recv(self) -> Any:
        """The source's next frame."""
        frame = await self.source.recv()
        if isinstance(frame, av.AudioFrame):
            self.stream.measure(frame, asyncio.get_running_loop().time())
        return frame


class VolumeIndicator:
    """Meters every member's audio and emits ``volume_indication`` while enabled.

    Args:
        local_user_id: the local user's id (its key in the levels).
        emit: the client's emitter (``emit(name, *args)``).
        publications: the local publications right now.
        remote_audio: (user_id, media_id) of every subscribed remote audio track right now.
    """

    def __init__(self, local_user_id: str, emit: Callable[..., None],
                 publications: Callable[[], Iterable[LocalPublication]],
                 remote_audio: Callable[[], Iterable[tuple[str, str]]]) -> None:
        self._local_user_id = local_user_id
        self._emit = emit
        self._publications = publications
        self._remote_audio = remote_audio
        self._metered: dict[MediaStreamTrack, MeteredTrack] = {}
        self._remote: dict[tuple[str, str], StreamLevel] = {}
        self._playout: Playout | None = None
        self._interval_ms = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def interval_ms(self) -> int:
        """Milliseconds between two events; 0 while off."""
        return self._interval_ms

    def set_interval(self, interval_ms: int) -> None:
        """Emit every ``interval_ms`` ms from now on; 0 or negative: stop."""
        interval_ms = max(0, int(interval_ms))
        if interval_ms == self._interval_ms:
            return
        self._interval_ms = interval_ms
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if interval_ms > 0:
            self._task = asyncio.get_running_loop().create_task(
                self._run(interval_ms / 1000), name="volume-indication")

    def attach_playout(self, playout: Playout | None) -> None:
        """Read remote members' levels from what ``playout`` plays (None: from what arrives)."""
        self._playout = playout

    def metered(self, track: MediaStreamTrack) -> MediaStreamTrack:
        """What to send instead of ``track`` so that its level is known: ``track`` itself if
        it has a level of its own or is not audio, else a :class:`MeteredTrack` of it."""
        if track.kind != "audio" or isinstance(getattr(track, "level", None), float):
            return track
        wrapped = self._metered.get(track)
        if wrapped is None:
            wrapped = self._metered[track] = MeteredTrack(track)
        return wrapped

    def forget(self, track: MediaStreamTrack) -> None:
        """``track`` is no longer published."""
        self._metered.pop(track, None)

    def on_remote_frame(self, user_id: str, media_id: str, frame: Any) -> None:
        """A frame of ``user_id``'s track ``media_id`` arrived (video frames are ignored)."""
        if isinstance(frame, av.AudioFrame):
            stream = self._remote.get((user_id, media_id))
            if stream is None:
                stream = self._remote[(user_id, media_id)] = StreamLevel()
            stream.measure(frame, asyncio.get_running_loop().time())

    def level(self, user_id: str, media_id: str) -> float | None:
        """The current level of one audio track (local or remote), None if not metered."""
        now = asyncio.get_running_loop().time()
        if user_id == self._local_user_id:
            for pub in self._publications():
                if pub.media_id == media_id:
                    return self._local_level(pub, now)
            return None
        stream = self._remote.get((user_id, media_id))
        return stream.read(now) if stream is not None else None

    def levels(self) -> dict[str, float]:
        """user id -> level of every member with audio, the local user included."""
        now = asyncio.get_running_loop().time()
        result: dict[str, float] = {}
        local = [self._local_level(p, now) for p in self._publications() if p.kind == "audio"]
        if local:
            result[self._local_user_id] = max(local)
        played: Mapping[Hashable, float] = {}
        if self._playout is not None:
            played = self._playout.levels()
        subscribed = set(self._remote_audio())
        for key in list(self._remote):
            if key not in subscribed:
                del self._remote[key]  # unsubscribed: its meter is not needed any more
        for user_id, media_id in subscribed:
            if user_id in played:
                level = played[user_id]
            else:
                stream = self._remote.get((user_id, media_id))
                level = stream.read(now) if stream is not None else 0.0
            result[user_id] = max(result.get(user_id, 0.0), level)
        return result

    def concealed(self, user_id: str) -> float | None:
        """The share of ``user_id``'s played audio its jitter buffer concealed (None without
        a playout that mixes it)."""
        playout = self._playout
        if playout is None or user_id not in playout.user_ids:
            return None
        return playout.stats(user_id).concealed_share

    async def close(self) -> None:
        """Stop emitting."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)

    def _local_level(self, pub: LocalPublication, now: float) -> float:
        if pub.muted:
            return 0.0
        own = getattr(pub.track, "level", None)
        if isinstance(own, float):
            return own
        wrapped = self._metered.get(pub.track)
        return wrapped.stream.read(now) if wrapped is not None else 0.0

    async def _run(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += interval
            await asyncio.sleep(max(0.0, due - loop.time()))
            due = max(due, loop.time() - interval)  # after a stall, no burst of catch-up events
            try:
                levels = self.levels()
            except Exception:
                log.exception("measuring levels failed")
                continue
            self._emit("volume_indication", levels)
