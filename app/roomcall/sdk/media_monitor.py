"""What a client reports about its media: volume indication, network quality, call stats.

A :class:`MediaMonitor` belongs to one media session. It reads the topology only through
:class:`~roomcall.sdk.figures.MediaFigures`: every :data:`~roomcall.sdk.quality.QUALITY_INTERVAL`
it takes a sample of the stream counters, grades every member's uplink and downlink from it
and the sample before (:mod:`roomcall.sdk.quality`), and emits ``network_quality_changed``
for each grade that changed or became known; ``get_stats()`` takes a fresh sample and
computes the rates against the latest one at least :data:`MIN_STATS_INTERVAL` old that holds
the same streams (taking one and waiting that long when there is none). Levels come from its
:class:`~roomcall.sdk.volume.VolumeIndicator`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Final

from roomcall.aio import cancel_and_wait
from roomcall.protocol.messages import TrackInfo
from roomcall.sdk.figures import MediaFigures, StreamCounters
from roomcall.sdk.quality import (
    QUALITY_INTERVAL,
    NetworkGrade,
    NetworkQuality,
    grade,
    link_figures,
)
from roomcall.sdk.stats import CallStats, Owner, Sample, build_stats
from roomcall.sdk.volume import VolumeIndicator

__all__ = ["MIN_STATS_INTERVAL", "MediaMonitor"]

log = logging.getLogger(__name__)

MIN_STATS_INTERVAL: Final = 1.0
"""Shortest span ``get_stats()`` measures rates over (it waits that long after a first call)."""
_KEPT_SAMPLES: Final = 8


class MediaMonitor:
    """Network quality every few seconds and call stats on demand, for one media session.

    Args:
        local_user_id: the local user's id.
        figures: the topology's stream counters.
        emit: the client's emitter.
        tracks: every local and subscribed remote track now, by (publisher, media_id).
        volume: the session's volume indicator (levels and concealment for the stats).
        interval: seconds between two quality evaluations.
    """

    def __init__(self, local_user_id: str, figures: MediaFigures, emit: Callable[..., None],
                 tracks: Callable[[], Mapping[Owner, TrackInfo]], volume: VolumeIndicator,
                 *, interval: float = QUALITY_INTERVAL) -> None:
        self._local_user_id = local_user_id
        self._figures = figures
        self._emit = emit
        self._tracks = tracks
        self._volume = volume
        self._interval = interval
        self._samples: deque[Sample] = deque(maxlen=_KEPT_SAMPLES)
        self._graded: Sample | None = None
        """The sample the last quality evaluation ended with."""
        self._quality: dict[str, NetworkQuality] = {}
        self._left_at: dict[str, float] = {}
        """Loop time each member was last forgotten (a sample begun before says nothing)."""
        self._sampling = asyncio.Lock()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="media-monitor")

    def quality(self, user_id: str) -> NetworkQuality:
        """``user_id``'s network quality as last evaluated (UNKNOWN before)."""
        return self._quality.get(user_id, NetworkQuality())

    def forget(self, user_id: str) -> None:
        """``user_id`` left: drop its grades (a member who comes back starts UNKNOWN)."""
        self._quality.pop(user_id, None)
        self._left_at[user_id] = asyncio.get_running_loop().time()

    async def stats(self) -> CallStats:
        """Every track's figures, rates over at least :data:`MIN_STATS_INTERVAL`."""
        current = await self._sample()
        baseline = self._baseline(current)
        if baseline is None:  # a first call, or a stream that began since the last samples
            baseline = current
            await asyncio.sleep(MIN_STATS_INTERVAL)
            current = await self._sample()
        return build_stats(baseline, current, self._local_user_id, self._tracks(),
                           level=self._volume.level, concealed=self._volume.concealed,
                           quality=self._quality)

    async def close(self) -> None:
        """Stop evaluating."""
        await cancel_and_wait(self._task)

    # --- internals -----------------------------------------------------------------------

    def _baseline(self, current: Sample) -> Sample | None:
        """The newest sample at least MIN_STATS_INTERVAL older than ``current`` that holds
        every stream ``current`` does."""
        wanted = {c.key for c in current[1]}
        for sample in reversed(self._samples):
            if (current[0] - sample[0] >= MIN_STATS_INTERVAL
                    and wanted <= {c.key for c in sample[1]}):
                return sample
        return None

    async def _sample(self) -> Sample:
        async with self._sampling:  # one getStats() pass at a time
            counters = await self._figures.stream_counters()
            sample = (asyncio.get_running_loop().time(), counters)
            self._samples.append(sample)
            return sample

    async def _run(self) -> None:
        while True:
            try:
                await self._evaluate()
            except Exception:
                log.exception("evaluating network quality failed")
            await asyncio.sleep(self._interval)

    async def _evaluate(self) -> None:
        started = asyncio.get_running_loop().time()
        previous, current = self._graded, await self._sample()
        self._graded = current
        if previous is None:
            return  # loss over an interval needs two samples
        before, after = previous[1], current[1]
        tracks = self._tracks()

        def flowing(c: StreamCounters) -> bool:
            info = tracks.get((c.peer_id, c.media_id))
            return info is None or not info.muted

        peers = sorted({c.peer_id for c in after if c.peer_id})
        graded = {self._local_user_id: NetworkQuality(
            uplink=grade(link_figures(before, after, outbound=True)),
            downlink=grade(link_figures(before, after, outbound=False, flowing=flowing)))}
        for peer in peers:
            if self._left_at.get(peer, float("-inf")) >= started:
                continue  # it left while the sample was taken
            graded[peer] = NetworkQuality(
                uplink=grade(link_figures(before, after, outbound=False, peer_id=peer,
                                          flowing=flowing)),
                downlink=grade(link_figures(before, after, outbound=True, peer_id=peer)))
        for user_id, quality in graded.items():
            self._update(user_id, quality)

    def _update(self, user_id: str, measured: NetworkQuality) -> None:
        """Take ``measured``; a direction with nothing measured keeps its last grade."""
        old = self._quality.get(user_id, NetworkQuality())
        new = NetworkQuality(
            uplink=measured.uplink if measured.uplink is not NetworkGrade.UNKNOWN else old.uplink,
            downlink=(measured.downlink if measured.downlink is not NetworkGrade.UNKNOWN
                      else old.downlink))
        if new == old:
            return
        self._quality[user_id] = new
        log.info("network quality of %s: %s/%s -> %s/%s", user_id, old.uplink.name,
                 old.downlink.name, new.uplink.name, new.downlink.name)
        self._emit("network_quality_changed", user_id, new)
