"""Network grades from loss, RTT and jitter, and the figures of a link between two samples of
stream counters (no network: the counters are given)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from roomcall.sdk import NetworkGrade, NetworkQuality
from roomcall.sdk.figures import StreamCounters
from roomcall.sdk.quality import REPORT_STALE, LinkFigures, grade, link_figures

G = NetworkGrade


@pytest.mark.parametrize(("figures", "expected"), [
    (LinkFigures(), G.UNKNOWN),
    (LinkFigures(loss=0.0, rtt=0.002, jitter=0.001), G.EXCELLENT),
    (LinkFigures(loss=0.009, rtt=0.099, jitter=0.019), G.EXCELLENT),
    (LinkFigures(loss=0.01), G.GOOD),
    (LinkFigures(rtt=0.150), G.GOOD),
    (LinkFigures(loss=0.0, jitter=0.030), G.GOOD),
    (LinkFigures(loss=0.05, rtt=0.010), G.FAIR),
    (LinkFigures(loss=0.0, rtt=0.399), G.FAIR),
    (LinkFigures(loss=0.10, rtt=0.010), G.POOR),
    (LinkFigures(loss=0.0, rtt=0.400), G.POOR),
    (LinkFigures(loss=0.0, rtt=0.010, jitter=0.150), G.POOR),
])
def test_a_grade_is_the_worst_any_figure_allows(figures: LinkFigures, expected: NetworkGrade
                                                ) -> None:
    """Each figure has its band per grade (the documented table); the grade is the worst band
    any known figure falls in, and nothing known is UNKNOWN."""
    assert grade(figures) is expected


def _in(media_id: str, peer: str, packets: int, lost: int, kind: str = "audio",
        jitter: float | None = 0.002) -> StreamCounters:
    return StreamCounters(media_id, peer, kind, outbound=False, packets=packets,
                          packets_lost=lost, jitter=jitter)


def _out(media_id: str, peer: str, packets: int, fraction: float | None,
         rtt: float | None = 0.004) -> StreamCounters:
    return StreamCounters(media_id, peer, "video", outbound=True, packets=packets,
                          fraction_lost=fraction, rtt=rtt)


def test_inbound_loss_counts_only_the_interval() -> None:
    """What was lost before the previous sample does not count again: 10 lost out of 100
    expected since then is 10 %."""
    before = [_in("a", "bob", 1000, 200)]
    after = [_in("a", "bob", 1090, 210)]
    figures = link_figures(before, after, outbound=False, peer_id="bob")
    assert figures.loss == pytest.approx(0.10)


def test_outbound_loss_is_the_receivers_report_weighted_by_what_was_sent() -> None:
    """Two peers' receiver reports (20 % and 0 %) weigh by the packets sent to each over the
    interval; one peer alone is its own report."""
    before = [_out("v", "bob", 100, None), _out("v", "carol", 100, None)]
    after = [_out("v", "bob", 400, 0.2), _out("v", "carol", 200, 0.0)]
    assert link_figures(before, after, outbound=True).loss == pytest.approx(0.15)
    assert link_figures(before, after, outbound=True, peer_id="bob").loss == pytest.approx(0.2)


def test_jitter_comes_from_audio_where_there_is_audio() -> None:
    """Video's jitter (spread by the pacer) is left out when an audio stream has one."""
    after = [_in("a", "bob", 10, 0, "audio", 0.003), _in("v", "bob", 10, 0, "video", 0.090)]
    assert link_figures([], after, outbound=False).jitter == pytest.approx(0.003)
    only_video = [_in("v", "bob", 10, 0, "video", 0.090)]
    assert link_figures([], only_video, outbound=False).jitter == pytest.approx(0.090)


def test_no_streams_give_unknown_figures() -> None:
    """A direction with no stream measures nothing, which grades UNKNOWN."""
    after = [_out("v", "bob", 10, 0.0)]
    assert link_figures([], after, outbound=False) == LinkFigures()
    assert grade(link_figures([], after, outbound=False)) is G.UNKNOWN
    assert not NetworkQuality().known
    assert NetworkQuality(uplink=G.GOOD).known


def test_the_sdk_with_its_report_types_loads_without_media_libraries() -> None:
    """``import roomcall.sdk`` (which exports the grade and stats types) loads neither aiortc
    nor PyAV nor numpy: a signalling-only client never pays for them."""
    code = ("import sys, roomcall.sdk; "
            "print(sorted(m for m in ('aiortc', 'av', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_inbound_streams_that_stop_arriving_count_as_lost() -> None:
    """Streams that had been arriving and brought nothing over the interval are a dead link
    (all lost), unless their publisher muted them; one stream still arriving is not."""
    before = [_in("a", "bob", 500, 0), _in("v", "bob", 300, 0, "video")]
    dead = [_in("a", "bob", 500, 0), _in("v", "bob", 300, 0, "video")]
    assert link_figures(before, dead, outbound=False).loss == 1.0
    assert grade(link_figures(before, dead, outbound=False)) is G.POOR
    muted = link_figures(before, dead, outbound=False, flowing=lambda c: False)
    assert muted.loss is None
    half = [_in("a", "bob", 650, 0), _in("v", "bob", 300, 0, "video")]
    assert link_figures(before, half, outbound=False).loss == 0.0
    first = link_figures([], dead, outbound=False)
    assert first.loss == 0.0  # nothing known to have stopped: 800 received, none lost


def test_sending_without_receiver_reports_counts_as_lost() -> None:
    """A stream sent over the interval whose receiver's last report is older than
    REPORT_STALE counts as all lost; one not sending keeps its last report."""
    before = [_out("v", "bob", 100, 0.0)]
    stale = StreamCounters("v", "bob", "video", outbound=True, packets=200, fraction_lost=0.0,
                           report_age=REPORT_STALE + 1)
    assert link_figures(before, [stale], outbound=True).loss == 1.0
    idle = StreamCounters("v", "bob", "video", outbound=True, packets=100, fraction_lost=0.0,
                          report_age=REPORT_STALE + 1)
    assert link_figures(before, [idle], outbound=True).loss == 0.0
