"""What a media topology tells the SDK about its RTP streams: the seam behind stats and quality.

Network quality (:mod:`roomcall.sdk.quality`), ``get_stats()`` (:mod:`roomcall.sdk.stats`) and
nothing else read these figures; they never look at peer connections themselves. A topology
(the mesh, :class:`~roomcall.sdk.mesh_figures.MeshFigures`; with an SFU beside it,
:class:`~roomcall.sdk.topology_figures.TopologyFigures`) provides one
object with one coroutine, :meth:`MediaFigures.stream_counters`, returning a
:class:`StreamCounters` per RTP stream it sends or receives right now, every counter
cumulative since that stream began. Rates (bit/s, frames/s) and loss over an interval are
computed here from two successive samples, so a topology only counts.

For an SFU: an outbound stream per local track (``peer_id`` ``""``: one stream serves every
member; the RTCP receiver reports then come from the SFU), an inbound stream per subscribed
remote track (``peer_id`` the publisher). A remote member's downlink is then unknown to this
client (it is graded from what that member reports receiving from us) unless the topology has
it from the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["MediaFigures", "StreamCounters"]


@dataclass(frozen=True)
class StreamCounters:
    """Cumulative counters of one RTP stream at one moment."""

    media_id: str
    """The track's id on the wire: a local track's (outbound) or the publisher's (inbound)."""
    peer_id: str
    """The member at the other end: the receiver of an outbound stream (``""`` when one
    stream serves every member, as through an SFU), the publisher of an inbound one."""
    kind: str
    """``"audio"`` or ``"video"``."""
    outbound: bool
    """True for what this client sends, False for what it receives."""
    ssrc: int = 0
    """The RTP stream's SSRC: a stream started afresh (a restarted connection) has a new one,
    so its counters are never taken for a continuation of the old ones."""
    bytes: int = 0
    """RTP payload bytes sent / received."""
    packets: int = 0
    """RTP packets sent / received."""
    packets_lost: int = 0
    """Outbound: lost as the receiver reports (RTCP receiver report, cumulative); inbound:
    missing from the sequence numbers received."""
    fraction_lost: float | None = None
    """Outbound: the share lost in the receiver's latest report (0.0-1.0), None before one;
    inbound: None (computed from ``packets_lost`` over an interval)."""
    report_age: float | None = None
    """Outbound: seconds since the receiver's latest report, None before one; inbound: None."""
    rtt: float | None = None
    """Round-trip time of the stream's connection in seconds, None before it is measured."""
    jitter: float | None = None
    """Interarrival jitter in seconds: outbound as the receiver reports it, inbound measured
    here; None before it is known."""
    frames: int = 0
    """Video: frames sent to this peer (outbound) / decoded (inbound); 0 for audio."""
    width: int | None = None
    """Video: width of the frames sent (the ladder rung's) / received; None for audio."""
    height: int | None = None


    @property
    def key(self) -> tuple[str, str, bool, int]:
        """What names this stream across samples."""
        return self.peer_id, self.media_id, self.outbound, self.ssrc


class MediaFigures(Protocol):
    """What a topology provides for stats and network quality."""

    async def stream_counters(self) -> list[StreamCounters]:
        """Every RTP stream this client sends or receives now, with its counters."""
        ...
