"""Per-peer bandwidth estimate, retransmission budget, pacer and rung choice (sans I/O)."""

from __future__ import annotations

import pytest

from roomcall.media.bandwidth import (
    MAX_BITRATE,
    MIN_BITRATE,
    REMB_STALE,
    RETRANSMIT_MAX_TIMES,
    BandwidthEstimator,
    Pacer,
    RetransmitBudget,
)
from roomcall.media.ladder import (
    LADDER,
    MIN_KEYFRAME_INTERVAL,
    UP_HOLD,
    UP_MARGIN,
    Rung,
    RungEncoder,
    RungSelector,
    best_rung,
)


def test_high_loss_cuts_the_rate_by_half_the_loss() -> None:
    """Loss above 10 % multiplies the rate by 1 - loss / 2 (GCC's loss rule)."""
    estimator = BandwidthEstimator(start=1_000_000)
    estimator.on_report(0.4, now=1.0)
    assert estimator.estimate(1.0) == 800_000
    estimator.on_report(0.2, now=2.0)
    assert estimator.estimate(2.0) == 720_000


def test_moderate_loss_holds_and_low_loss_ramps_up_per_second() -> None:
    """Loss between 2 and 10 % holds the rate; below 2 % it grows with the time elapsed."""
    estimator = BandwidthEstimator(start=500_000)
    estimator.on_report(0.05, now=1.0)
    assert estimator.estimate(1.0) == 500_000
    estimator.on_report(0.0, now=2.0)
    grown = estimator.estimate(2.0)
    assert 530_000 <= grown <= 545_000
    estimator.on_report(0.01, now=2.5)  # half a second: about half the growth
    assert grown < estimator.estimate(2.5) < grown * 1.05


def test_remb_caps_the_estimate_until_it_goes_stale() -> None:
    """The receiver's REMB bounds the estimate; once it stops coming the loss rule alone rules."""
    estimator = BandwidthEstimator(start=1_000_000)
    estimator.on_remb(300_000, now=0.0)
    assert estimator.estimate(1.0) == 300_000
    assert estimator.estimate(REMB_STALE + 0.5) == 1_000_000


def test_ramping_stops_well_above_what_remb_allows() -> None:
    """With a low REMB, loss-free reports cannot push the loss-based rate past twice the REMB."""
    estimator = BandwidthEstimator(start=300_000)
    for second in range(60):
        estimator.on_remb(200_000, now=float(second))
        estimator.on_report(0.0, now=float(second))
    assert estimator.estimate(60.0) == 200_000
    assert estimator._loss_rate <= 400_000



def test_a_remb_that_matches_what_was_sent_does_not_pull_the_estimate_down() -> None:
    """aiortc's first REMB is the rate that arrived: at what was sent it leaves the estimate be,
    while one well under what was sent (an overuse cut) caps it."""
    estimator = BandwidthEstimator(start=600_000)
    for tick in range(301):  # 400 kbit/s sent for 3 s: the encoder undershot its target
        estimator.on_sent(500, now=tick / 100)
    assert estimator.sent_rate(3.0) == 400_000
    estimator.on_remb(395_000, now=3.0)
    assert estimator.estimate(3.0) == 600_000
    estimator.on_remb(int(0.85 * 400_000), now=3.0)
    assert estimator.estimate(3.0) == 340_000


def test_the_estimate_stays_within_floor_and_ceiling() -> None:
    """Total loss never drives the estimate below the floor, nor a long clean run above the cap."""
    estimator = BandwidthEstimator()
    for second in range(40):
        estimator.on_report(1.0, now=float(second))
    assert estimator.estimate(40.0) == MIN_BITRATE
    for second in range(40, 200):
        estimator.on_report(0.0, now=float(second))
    assert estimator.estimate(200.0) == MAX_BITRATE


def test_a_capped_link_sequence_settles_near_the_cap() -> None:
    """A 1 Mbit/s start on a link whose REMB says 280 kbit/s and reports 60 % loss comes down
    below the cap at once, and stays there once loss stops."""
    estimator = BandwidthEstimator(start=1_000_000)
    estimator.on_report(0.6, now=1.0)
    estimator.on_remb(280_000, now=1.5)
    assert estimator.estimate(1.5) == 280_000
    for second in range(2, 12):
        estimator.on_report(0.0, now=float(second))
        estimator.on_remb(280_000, now=float(second))
    assert estimator.estimate(12.0) == 280_000


def test_bad_estimator_limits_are_refused() -> None:
    """A start outside floor..ceiling is a programming error, said clearly."""
    with pytest.raises(ValueError, match="floor"):
        BandwidthEstimator(start=10, floor=100, ceiling=1000)


def test_retransmissions_stay_within_a_share_of_the_rate() -> None:
    """At 400 kbit/s half the rate for half a second allows 12.5 KB at once, then 25 KB/s."""
    budget = RetransmitBudget()
    allowed = sum(budget.allow(seq, 1000, 0.1, 400_000, now=0.0) for seq in range(100))
    assert allowed == 12
    assert budget.refused == 88
    later = sum(budget.allow(seq, 1000, 0.1, 400_000, now=1.0) for seq in range(100, 200))
    assert later == 12  # the bucket holds half a second of budget at most


def test_old_or_just_resent_packets_are_not_resent_again() -> None:
    """A packet older than a second is refused; the same packet again only after 1.5 RTT and
    at most RETRANSMIT_MAX_TIMES times."""
    budget = RetransmitBudget()
    assert not budget.allow(1, 500, 1.5, 1_000_000, now=0.0)
    assert budget.allow(2, 500, 0.1, 1_000_000, now=0.0, rtt=0.1)
    assert not budget.allow(2, 500, 0.1, 1_000_000, now=0.1, rtt=0.1)
    times = 1
    for step in range(2, 10):
        times += budget.allow(2, 500, 0.1, 1_000_000, now=0.2 * step, rtt=0.1)
    assert times == RETRANSMIT_MAX_TIMES


def test_the_pacer_spreads_a_burst_at_one_and_a_half_times_the_rate() -> None:
    """Ten 1200-byte packets at once leave 1200 * 8 / (1.5 * 320 kbit/s) = 20 ms apart."""
    pacer = Pacer()
    delays = [pacer.delay(1200, 320_000, now=0.0) for _ in range(10)]
    assert delays[0] == 0.0
    assert delays[-1] == pytest.approx(9 * 0.02)
    # A retransmission never waits, but it takes its share: the next packet waits longer.
    assert pacer.delay(1200, 320_000, now=0.0, wait=False) == 0.0
    assert pacer.delay(1200, 320_000, now=0.0) == pytest.approx(11 * 0.02)


def test_best_rung_is_the_best_whose_floor_the_estimate_reaches() -> None:
    """Each estimate maps to the best rung it can carry; below every floor, the last rung."""
    assert best_rung(1_000_000) == 0
    assert best_rung(LADDER[0].min_bitrate - 1) == 1
    assert best_rung(LADDER[1].min_bitrate - 1) == 2
    assert best_rung(1_000) == 2


def test_a_peer_drops_a_rung_at_once_and_climbs_only_after_a_steady_margin() -> None:
    """Down on the first low estimate; up only after UP_HOLD s at UP_MARGIN x the floor."""
    selector = RungSelector()
    assert selector.update(200_000, now=0.0) == 1
    high = int(LADDER[0].min_bitrate * UP_MARGIN) + 1
    assert selector.update(LADDER[0].min_bitrate + 1, now=1.0) == 1  # within the margin
    assert selector.update(high, now=2.0) == 1
    assert selector.update(high, now=2.0 + UP_HOLD / 2) == 1
    assert selector.update(LADDER[0].min_bitrate + 1, now=2.0 + UP_HOLD) == 1  # dip: restart
    assert selector.update(high, now=10.0) == 1
    assert selector.update(high, now=10.0 + UP_HOLD) == 0


def test_rungs_scale_down_to_fit_and_never_up() -> None:
    """A rung fits the source within its box, keeping even sizes; smaller sources stay as is."""
    box = Rung("box", 320, 240, 1, 2)
    assert box.size_for(640, 480) == (320, 240)
    assert box.size_for(1280, 720) == (320, 180)
    assert box.size_for(160, 120) == (160, 120)
    assert LADDER[0].size_for(1280, 720) == (1280, 720)


def test_picture_loss_keyframes_keep_their_minimum_interval_per_rung() -> None:
    """Requests on one rung get at most one keyframe per MIN_KEYFRAME_INTERVAL; another rung's
    keyframes do not use up its interval, and an urgent request (a rung switch) goes first."""
    top, low = RungEncoder(LADDER[0]), RungEncoder(LADDER[2])
    made = {"top": 0, "low": 0}
    for step in range(100):  # 10 ms apart: 1 s of a PLI on every frame, on both rungs
        now = step * 0.01
        for name, rung in (("top", top), ("low", low)):
            rung.want_keyframe(urgent=False)
            if rung.take_keyframe(now):
                made[name] += 1
                rung.last_keyframe = now
    allowed = int(0.99 / MIN_KEYFRAME_INTERVAL) + 1  # the first, then one per interval
    assert made == {"top": allowed, "low": allowed}
    top.want_keyframe(urgent=True)
    assert top.take_keyframe(top.last_keyframe + 0.01)
