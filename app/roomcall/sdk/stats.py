"""Per-track call statistics: what ``await client.get_stats()`` returns.

Figures for a bug report or a stats panel, per local and remote track: bitrate and frame rate
over the last interval, resolution, packets lost, RTT and jitter, and for audio its level and
(where a playout is attached) the share its jitter buffer concealed. They are computed from
two samples of the topology's stream counters (:mod:`roomcall.sdk.figures`), the later one
taken for the call.

In a mesh each local track is sent once per peer, possibly at different ladder rungs, so a
local track has one :class:`TrackStats` per member it goes to (``peer_id``); a remote track
has one (``peer_id`` is its publisher).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from roomcall.protocol.messages import Kind, TrackInfo
from roomcall.sdk.figures import StreamCounters
from roomcall.sdk.quality import NetworkQuality

__all__ = ["CallStats", "Sample", "TrackStats", "build_stats"]


@dataclass(frozen=True)
class TrackStats:
    """One track's figures (for a local track: its stream to one member)."""

    track_id: str
    """Server-assigned id of the publication."""
    user_id: str
    """The publisher (the local user for a local track)."""
    kind: Kind
    """``"audio"`` or ``"video"``."""
    tag: str
    local: bool
    """True for a track this client publishes."""
    peer_id: str
    """Local track: the member this stream goes to (``""`` when one stream serves all, as
    through an SFU). Remote track: the publisher."""
    bitrate: int
    """bit/s of RTP payload sent / received over the last interval."""
    frame_rate: float | None
    """Video: frames/s sent to that member / decoded, over the last interval; None for audio."""
    width: int | None
    """Video: the frames' width (a local track: the ladder rung sent); None for audio or
    before the first frame."""
    height: int | None
    packets: int
    """RTP packets sent / received since the stream began."""
    packets_lost: int
    """Since the stream began: as the receiving member reports (local), or missing from
    what arrived (remote)."""
    loss: float | None
    """Share of packets lost over the last interval (local: the receiver's latest report),
    0.0-1.0; None before it is known."""
    rtt_ms: float | None
    """Round-trip time of the connection carrying the track, in ms; None before measured,
    and on a connection this client sends nothing on (RTCP measures it from the receiver
    reports answering the sender's reports)."""
    jitter_ms: float | None
    """Interarrival jitter in ms (local: as the receiver reports); None before known."""
    level: float | None = None
    """Audio: the current level, 0.0-1.0 (the volume indication's scale); None for video."""
    concealed: float | None = None
    """Remote audio with a playout attached: the share of the played audio the jitter buffer
    concealed (lost or late packets), 0.0-1.0; None otherwise."""


@dataclass(frozen=True)
class CallStats:
    """A snapshot of every track's figures (``await client.get_stats()``)."""

    tracks: tuple[TrackStats, ...] = ()
    interval: float = 0.0
    """Seconds the rates (bitrate, frame rate, loss) were measured over."""
    quality: Mapping[str, NetworkQuality] = field(default_factory=dict)
    """Each member's current network quality (the local user included), by user id."""

    @property
    def local(self) -> list[TrackStats]:
        """The figures of the local tracks (one per member each goes to)."""
        return [t for t in self.tracks if t.local]

    @property
    def remote(self) -> list[TrackStats]:
        """The figures of the subscribed remote tracks."""
        return [t for t in self.tracks if not t.local]

    def track(self, track_id: str) -> list[TrackStats]:
        """The figures of ``track_id`` (several for a local track in a mesh)."""
        return [t for t in self.tracks if t.track_id == track_id]


Sample = tuple[float, list[StreamCounters]]
"""Stream counters and the time (s, any forward-only clock) they were taken at."""

Owner = tuple[str, str]
"""(publisher user id, media_id): names a track in both directions."""


def build_stats(
    previous: Sample | None,
    current: Sample,
    local_user: str,
    tracks: Mapping[Owner, TrackInfo],
    *,
    level: Callable[[str, str], float | None] = lambda user_id, media_id: None,
    concealed: Callable[[str], float | None] = lambda user_id: None,
    quality: Mapping[str, NetworkQuality] | None = None,
) -> CallStats:
    """The figures of every stream in ``current`` whose track is in ``tracks``, with rates
    over the time since ``previous`` (rates are 0 without one).

    ``level(user_id, media_id)`` gives an audio track's level; ``concealed(user_id)`` a remote
    member's concealed share (None: not available).
    """
    now, streams = current
    before: dict[tuple[str, str, bool, int], StreamCounters] = {}
    elapsed = 0.0
    if previous is not None:
        elapsed = max(0.0, now - previous[0])
        before = {c.key: c for c in previous[1]}
    result = []
    for c in streams:
        owner = local_user if c.outbound else c.peer_id
        info = tracks.get((owner, c.media_id))
        if info is None:
            continue  # not (or no longer) published or subscribed
        old = before.get(c.key)
        rate = _rate(c.bytes * 8, old.bytes * 8 if old else None, elapsed)
        frame_rate = None
        if c.kind == "video":
            frame_rate = _rate(c.frames, old.frames if old else None, elapsed, whole=False)
        result.append(TrackStats(
            track_id=info.track_id, user_id=owner, kind=info.kind, tag=info.tag,
            local=c.outbound, peer_id=c.peer_id, bitrate=int(rate or 0),
            frame_rate=frame_rate, width=c.width, height=c.height, packets=c.packets,
            packets_lost=c.packets_lost, loss=_loss(c, old),
            rtt_ms=None if c.rtt is None else c.rtt * 1000,
            jitter_ms=None if c.jitter is None else c.jitter * 1000,
            level=level(owner, c.media_id) if c.kind == "audio" else None,
            concealed=concealed(owner) if c.kind == "audio" and not c.outbound else None,
        ))
    return CallStats(tuple(result), elapsed, dict(quality or {}))


def _rate(value: int, old: int | None, elapsed: float, *, whole: bool = True) -> float | None:
    if elapsed <= 0 or old is None:
        return 0.0 if whole else None
    return max(0, value - old) / elapsed


def _loss(c: StreamCounters, old: StreamCounters | None) -> float | None:
    if c.outbound:
        return c.fraction_lost
    if old is None:
        return None
    received = c.packets - old.packets
    lost = max(0, c.packets_lost - old.packets_lost)
    return lost / (received + lost) if received + lost > 0 else None
