"""Per-peer send-rate estimate and retransmission budget, sans I/O (time is passed in).

On the encode-once path aiortc's ``RTCRtpSender`` only packetises, so nothing adapts the
bitrate to the peer's downlink: aiortc applies the receiver's REMB to its own encoder only and
has no loss-based control at all. A :class:`BandwidthEstimator` per peer combines

- the receiver's delay-based estimate (REMB, from abs-send-time: aiortc's receiver sends it), and
- receiver-report loss with the loss rule of GCC (draft-ietf-rmcat-gcc-02, section 6): loss above
  10 % cuts the rate by half the loss, loss below 2 % lets it grow, in between it holds;

the estimate is the smaller of the two. A :class:`RetransmitBudget` bounds the bytes the
sender resends for NACKs to a share of that estimate, so that heavy loss on a capped link does
not turn into a retransmission storm that starves the media itself.
"""

from __future__ import annotations

from collections import deque
from typing import Final

START_BITRATE: Final = 600_000
"""bit/s assumed for a new peer until its first reports: low enough that a capped link is
not flooded while the first estimates arrive (REMB needs about 3 s), on the top rung."""
MIN_BITRATE: Final = 60_000
"""The estimate never falls below this: the bottom rung's floor."""
MAX_BITRATE: Final = 1_500_000
"""Nor rises above this: the top rung's ceiling (aiortc's VP8 clamp)."""
LOSS_HIGH: Final = 0.10
LOSS_LOW: Final = 0.02
RAMP_PER_SECOND: Final = 1.08
"""Growth per second while loss is low; GCC's 1.05 per report is slower than aiortc's REMB
climb (1.08 per second), so the loss rule would lag behind a recovering link."""
REMB_STALE: Final = 5.0
"""Seconds after which a REMB no longer caps the estimate (the receiver stopped sending it)."""
SENT_WINDOW: Final = 1.0
"""Seconds over which the rate sent to the peer is measured (aiortc's receiver measures what
arrives over the same span)."""
REMB_TAKES_ALL: Final = 0.9
"""A REMB of at least this share of the rate sent says the receiver takes all it gets, not
that its link is full: aiortc's estimator cuts to 0.85 x what arrives on overuse."""


class BandwidthEstimator:
    """The send rate one peer's downlink allows, from its REMB and receiver reports."""

    def __init__(
        self, *, start: int = START_BITRATE, floor: int = MIN_BITRATE,
        ceiling: int = MAX_BITRATE,
    ) -> None:
        if not 0 < floor <= start <= ceiling:
            raise ValueError(f"need 0 < floor <= start <= ceiling, got {floor}, {start}, {ceiling}")
        self.floor = floor
        self.ceiling = ceiling
        self._loss_rate = float(start)
        self._last_report: float | None = None
        self._remb: int | None = None
        self._remb_at = float("-inf")
        self._remb_limits = True
        """False while the last REMB showed the peer taking all it was sent."""
        self._sent: deque[tuple[float, int]] = deque()
        self._sent_bytes = 0
        self._sending_since: float | None = None
        self.fraction_lost = 0.0
        """Loss of the last receiver report, 0..1."""
        self.round_trip_time: float | None = None
        """Smoothed RTT in seconds from the receiver reports, once known."""
        self.reports = 0
        """Receiver reports taken."""

    def on_sent(self, size: int, now: float) -> None:
        """``size`` bytes of RTP were sent to the peer at ``now``."""
        if self._sending_since is None:
            self._sending_since = now
        self._sent.append((now, size))
        self._sent_bytes += size
        while self._sent and self._sent[0][0] <= now - SENT_WINDOW:
            self._sent_bytes -= self._sent.popleft()[1]

    def sent_rate(self, now: float) -> int | None:
        """bit/s sent over the last SENT_WINDOW, None until sending for that long."""
        if self._sending_since is None or now - self._sending_since < SENT_WINDOW:
            return None
        recent = sum(size for at, size in self._sent if at > now - SENT_WINDOW)
        return int(recent * 8 / SENT_WINDOW)

    def on_remb(self, bitrate: int, now: float) -> None:
        """The receiver's REMB: its delay-based estimate of what it can take, in bit/s.

        aiortc's receiver starts its estimate at the rate that arrives (after 3 s without
        overuse, ``rate.AimdRateControl``) and grows it to at most 1.5 x that rate. So while
        the peer takes all it is sent, a REMB only says what the encoder happened to send (a
        simple picture needs far less than its target): it then bounds only the loss rule's
        growth (to twice the REMB), not the estimate, until a lower one shows overuse. Taken
        as a limit, a 640x480 encoder undershooting its target sent a clean link's estimate
        below the top rung's floor, and the lower rung's smaller rate kept the REMB, and so
        the peer, down there.
        """
        remb, previous = max(0, int(bitrate)), self._remb
        sent = self.sent_rate(now)
        if previous is not None and remb < previous:
            self._remb_limits = True  # only overuse lowers aiortc's estimate
        elif sent is None or remb >= REMB_TAKES_ALL * sent:
            self._remb_limits = sent is None
        elif previous is None:
            self._remb_limits = True  # overuse before the first estimate: 0.85 x the arrivals
        # else rising, yet under what is sent: it lags a step up of ours; nothing new
        self._remb = remb
        self._remb_at = now

    def on_report(self, fraction_lost: float, now: float, rtt: float | None = None) -> None:
        """A receiver report: ``fraction_lost`` (0..1) since the previous one, and the RTT."""
        loss = min(1.0, max(0.0, fraction_lost))
        self.fraction_lost = loss
        self.reports += 1
        if rtt is not None:
            self.round_trip_time = rtt
        elapsed = 1.0 if self._last_report is None else min(2.0, max(0.0, now - self._last_report))
        self._last_report = now
        if loss > LOSS_HIGH:
            self._loss_rate *= 1.0 - 0.5 * loss
        elif loss < LOSS_LOW:
            self._loss_rate *= RAMP_PER_SECOND ** elapsed
            remb = self._remb_cap(now)
            if remb is not None:
                # Growing far past what the receiver says it takes only delays the next cut.
                self._loss_rate = min(self._loss_rate, max(2.0 * remb, float(self.floor)))
        self._loss_rate = min(float(self.ceiling), max(float(self.floor), self._loss_rate))

    def estimate(self, now: float) -> int:
        """The rate to send this peer at, in bit/s, within [floor, ceiling]."""
        rate = self._loss_rate
        remb = self._remb_cap(now)
        if remb is not None and self._remb_limits:
            rate = min(rate, float(remb))
        return int(min(float(self.ceiling), max(float(self.floor), rate)))

    def _remb_cap(self, now: float) -> int | None:
        if self._remb is None or now - self._remb_at > REMB_STALE:
            return None
        return self._remb


RETRANSMIT_SHARE: Final = 0.5
"""Retransmitted bytes may use up to this share of the estimated send rate."""
RETRANSMIT_BURST: Final = 0.5
"""Seconds of that budget that may be spent at once (a burst of NACKs after a short gap)."""
RETRANSMIT_MAX_AGE: Final = 1.0
"""Packets older than this (seconds of RTP time) are not resent: they would arrive too late
to be played and only delay what follows."""
RETRANSMIT_MIN_GAP: Final = 0.05
"""A packet is resent again only after max(this, 1.5 RTT): aiortc's receiver NACKs every
packet it still misses with each new gap, so one lost packet is asked for many times."""
RETRANSMIT_MAX_TIMES: Final = 3
"""Times one packet may be resent."""


class RetransmitBudget:
    """Which NACKed packets to resend: a token bucket in bytes, refilled at ``share`` of the
    current send-rate estimate, plus per packet an age limit and a spacing between resends."""

    def __init__(self, *, share: float = RETRANSMIT_SHARE, burst: float = RETRANSMIT_BURST,
                 max_age: float = RETRANSMIT_MAX_AGE) -> None:
        self.share = share
        self.burst = burst
        self.max_age = max_age
        self.resent = 0
        """Packets resent."""
        self.refused = 0
        """NACKed packets not resent (no budget left, too old, or just resent)."""
        self._tokens = 0.0
        self._at: float | None = None
        self._history: dict[int, tuple[float, int]] = {}
        """seq -> (last resend time, times resent), for recent packets only."""

    def allow(self, seq: int, size: int, age: float, bitrate: int, now: float,
              rtt: float | None = None) -> bool:
        """Whether NACKed packet ``seq`` of ``size`` bytes, sent ``age`` seconds ago, may be
        resent while the peer's estimate is ``bitrate`` bit/s; spends the budget if so."""
        rate = self.share * bitrate / 8.0
        capacity = max(rate * self.burst, float(size))
        if self._at is None:
            self._tokens = capacity
        else:
            self._tokens = min(capacity, self._tokens + rate * max(0.0, now - self._at))
        self._at = now
        last, times = self._history.get(seq, (float("-inf"), 0))
        gap = max(RETRANSMIT_MIN_GAP, 1.5 * rtt if rtt is not None else 0.0)
        if (age > self.max_age or self._tokens < size or now - last < gap
                or times >= RETRANSMIT_MAX_TIMES):
            self.refused += 1
            return False
        self._tokens -= size
        self.resent += 1
        self._history[seq] = (now, times + 1)
        if len(self._history) > 512:
            # Sequence numbers wrap: forget resends older than any packet still asked for.
            self._history = {k: v for k, v in self._history.items()
                             if now - v[0] <= self.max_age}
        return True


PACING_FACTOR: Final = 1.5
"""Packets leave at up to this many times the estimate. aiortc has no pacer: a whole frame
goes out at once, and a keyframe (15 KB at 320x240, 40 KB at 640x480) overflows the queue of a
300 kbit/s bottleneck by itself; libwebrtc paces at 2.5x, which still overflows a 200 ms
queue with keyframes this size."""


class Pacer:
    """A leaky bucket: how long to hold each packet so a peer's stream leaves smoothly."""

    def __init__(self, factor: float = PACING_FACTOR) -> None:
        self.factor = factor
        self._free_at = 0.0

    def delay(self, size: int, bitrate: int, now: float, *, wait: bool = True) -> float:
        """Seconds to hold a packet of ``size`` bytes at ``now`` (``wait=False``: one that
        cannot wait, e.g. a retransmission, which only takes its share of the rate)."""
        start = max(now, self._free_at)
        self._free_at = start + size * 8 / (self.factor * bitrate)
        return start - now if wait else 0.0
