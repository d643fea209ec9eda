"""Network quality: each member's uplink and downlink graded from loss, RTT and jitter.

Qiniu's SDK reports a grade per user every few seconds (``QNNetworkQuality`` with
``uplinkNetworkGrade`` / ``downlinkNetworkGrade``); so does this one, through the event
``network_quality_changed(user_id, quality)`` (see :mod:`roomcall.sdk.events`) and
``client.network_quality(user_id)``.

A link's grade is the worst that any of its three figures allows (a figure not measured yet
is left out; with none, the grade is UNKNOWN):

============  ===========  ==========  ==============
grade         packet loss  RTT         jitter
============  ===========  ==========  ==============
EXCELLENT     < 1 %        < 100 ms    < 20 ms
GOOD          < 3 %        < 200 ms    < 50 ms
FAIR          < 10 %       < 400 ms    < 100 ms
POOR          otherwise (loss >= 10 %, RTT >= 400 ms or jitter >= 100 ms)
============  ===========  ==========  ==============

These follow the bands Qiniu and Agora describe for their grades (excellent: no perceptible
impairment; poor: loss beyond 10 % or a round trip beyond 400 ms, where calls stutter and
talk-over begins; ITU-T G.114 puts the limit of comfortable conversation at 400 ms RTT). The
figures come from the RTCP receiver reports both ways and the receivers' own counters: see
:func:`link_figures` for which stream counts for whom.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from roomcall.sdk.figures import StreamCounters

__all__ = [
    "GRADE_LIMITS",
    "QUALITY_INTERVAL",
    "REPORT_STALE",
    "LinkFigures",
    "NetworkGrade",
    "NetworkQuality",
    "grade",
    "link_figures",
]

QUALITY_INTERVAL: Final = 3.0
"""Seconds between two evaluations of every member's network quality."""
REPORT_STALE: Final = 5.0
"""Seconds without a receiver report after which a stream that is being sent counts as all
lost (receivers report about once a second)."""


class NetworkGrade(enum.Enum):
    """How good one direction of a link is (Qiniu's ``QNNetworkGrade``; its INVALID is
    UNKNOWN here)."""

    UNKNOWN = "UNKNOWN"
    """Nothing measured yet (before the first report)."""
    EXCELLENT = "EXCELLENT"
    GOOD = "GOOD"
    FAIR = "FAIR"
    POOR = "POOR"


@dataclass(frozen=True)
class NetworkQuality:
    """One member's link as this client sees it."""

    uplink: NetworkGrade = NetworkGrade.UNKNOWN
    """What the member sends: for the local user its own sending; for a remote member what
    reaches this client from it."""
    downlink: NetworkGrade = NetworkGrade.UNKNOWN
    """What the member receives: for the local user what reaches it; for a remote member
    what it reports receiving from this client (RTCP receiver reports)."""

    @property
    def known(self) -> bool:
        """True once either direction has a grade."""
        return (self.uplink is not NetworkGrade.UNKNOWN
                or self.downlink is not NetworkGrade.UNKNOWN)


GRADE_LIMITS: Final = (
    (NetworkGrade.EXCELLENT, 0.01, 0.100, 0.020),
    (NetworkGrade.GOOD, 0.03, 0.200, 0.050),
    (NetworkGrade.FAIR, 0.10, 0.400, 0.100),
)
"""(grade, loss below, RTT below in s, jitter below in s), best first; beyond: POOR."""


@dataclass(frozen=True)
class LinkFigures:
    """What one direction of a link measured over the last interval (None: not measured)."""

    loss: float | None = None
    """Share of packets lost, 0.0-1.0."""
    rtt: float | None = None
    """Round-trip time in seconds."""
    jitter: float | None = None
    """Interarrival jitter in seconds (RFC 3550)."""


def grade(figures: LinkFigures) -> NetworkGrade:
    """The grade ``figures`` earn (see the module's table); UNKNOWN when nothing is known."""
    if figures.loss is None and figures.rtt is None and figures.jitter is None:
        return NetworkGrade.UNKNOWN
    for name, loss, rtt, jitter in GRADE_LIMITS:
        if ((figures.loss is None or figures.loss < loss)
                and (figures.rtt is None or figures.rtt < rtt)
                and (figures.jitter is None or figures.jitter < jitter)):
            return name
    return NetworkGrade.POOR


def link_figures(previous: Iterable[StreamCounters], current: Iterable[StreamCounters], *,
                 outbound: bool, peer_id: str | None = None,
                 flowing: Callable[[StreamCounters], bool] = lambda counters: True,
                 ) -> LinkFigures:
    """The figures of the streams going one way (``outbound``: what this client sends), to
    or from ``peer_id`` (None: every peer), between two samples of the same streams.

    - loss: of outbound streams, the receiver's latest ``fraction_lost`` (RTCP receiver
      report), weighted by the packets sent; a stream that sent while its receiver's reports
      stopped for :data:`REPORT_STALE` counts as all lost. Of inbound streams, the packets
      missing over the interval (lost / expected); when every stream that had been arriving
      and should be (``flowing``: its publisher has not muted it) brought nothing, all lost
      (a receiver only counts a gap once a later packet arrives);
    - RTT: the mean of the streams that know one (the RTT of a connection is the same both
      ways, so an inbound stream takes its connection's);
    - jitter: of audio streams where there are any (video's is inflated by the sender's
      pacer spreading each frame), the largest.
    """
    before = {c.key: c for c in previous}
    streams = [c for c in current if c.outbound == outbound
               and (peer_id is None or c.peer_id == peer_id)]
    if not streams:
        return LinkFigures()
    loss = _outbound_loss(before, streams) if outbound else _inbound_loss(
        before, streams, flowing)
    rtts = [c.rtt for c in streams if c.rtt is not None]
    audio = [c.jitter for c in streams if c.jitter is not None and c.kind == "audio"]
    jitters = audio or [c.jitter for c in streams if c.jitter is not None]
    return LinkFigures(loss=loss, rtt=sum(rtts) / len(rtts) if rtts else None,
                       jitter=max(jitters) if jitters else None)


_Before = dict[tuple[str, str, bool, int], StreamCounters]


def _outbound_loss(before: _Before, streams: list[StreamCounters]) -> float | None:
    weighted: list[tuple[float, int]] = []
    for c in streams:
        sent = c.packets - _packets(before, c)
        if sent > 0 and c.report_age is not None and c.report_age > REPORT_STALE:
            weighted.append((1.0, sent))  # sending, and the receiver has stopped reporting
        elif c.fraction_lost is not None:
            weighted.append((c.fraction_lost, max(1, sent)))
    if not weighted:
        return None
    return sum(f * n for f, n in weighted) / sum(n for _, n in weighted)


def _inbound_loss(before: _Before, streams: list[StreamCounters],
                  flowing: Callable[[StreamCounters], bool]) -> float | None:
    received = lost = expected = stalled = 0
    for c in streams:
        old = before.get(c.key)
        got = c.packets - (old.packets if old is not None else 0)
        received += got
        lost += max(0, c.packets_lost - (old.packets_lost if old is not None else 0))
        if old is not None and old.packets > 0 and flowing(c):
            expected += 1
            stalled += got == 0
    if expected and stalled == expected:
        return 1.0
    return lost / (received + lost) if received + lost > 0 else None


def _packets(before: _Before, c: StreamCounters) -> int:
    old = before.get(c.key)
    return old.packets if old is not None else 0
