"""One remote member's jitter buffer: adaptive target, loss concealment, slow time-stretching.

A :class:`JitterBuffer` holds decoded 48 kHz stereo audio between its arrival from the network
and the mixer taking it 20 ms at a time. In its default (adaptive) mode it works like a small
NetEq:

- **target**: each frame's arrival is compared with its media time (pts); the 95th percentile
  of the relative delay over the last 5 s, plus a 10 ms margin, bounded to ``min_ms..max_ms``,
  is the audio kept in reserve after each pull. On a clean link that is ``min_ms`` (20 ms).
- **steady**: the reserve moves towards the target by time-stretching one pitch period (2.5 to
  7.5 ms) at a time, crossfaded: at most one period per 20 ms when growing and one per 40 ms
  when shrinking, so the latency drifts instead of jumping (the echo canceller downstream and
  the listener both prefer that).
- **concealment**: a pull that finds less than 20 ms, or a gap in the pts (a lost packet),
  is filled by repeating the last pitch period with a fading gain (silent after 60 ms), and
  real audio that follows is crossfaded in, so a loss is a soft blur rather than a click. A
  frame that arrives after its slot was concealed is still played (counted ``late_frames``):
  the reserve grows by the concealed time, which is how the buffer grows at once after a spike.

``fixed_ms`` selects the former behaviour instead (buffer that much before playing, silence and
re-buffering after an underrun, no concealment), kept as the baseline the benchmark measures
against. Pure numpy; time is passed in by the caller.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["CHANNELS", "FRAME_MS", "FRAME_SAMPLES", "SAMPLE_RATE", "JitterBuffer",
           "JitterStats", "Samples"]

SAMPLE_RATE: Final = 48_000
CHANNELS: Final = 2
FRAME_MS: Final = 20
FRAME_SAMPLES: Final = SAMPLE_RATE * FRAME_MS // 1000
"""Samples per channel in one 20 ms frame."""

Samples = npt.NDArray[np.int16]
"""Interleaved audio as a ``(samples, CHANNELS)`` int16 array."""
_Float = npt.NDArray[np.float64]

_WINDOW: Final = 250
"""Frames (5 s) of arrival history the target is computed from."""
_MARGIN_MS: Final = 10.0
_HYSTERESIS_MS: Final = 5.0
_LEVEL_SMOOTHING: Final = 0.05
"""Weight of each new level in the smoothed reserve (a time constant of about 0.4 s)."""
_MIN_PERIOD: Final = SAMPLE_RATE * 25 // 10_000
_MAX_PERIOD: Final = SAMPLE_RATE * 75 // 10_000
_OVERLAP: Final = SAMPLE_RATE // 1000
"""Crossfade length (1 ms) for every join of two pieces of audio."""
_FADE_FRAMES: Final = 3
"""Concealed frames in a row before the concealment has faded to silence (the first at
full level, the next two fading)."""
_JOIN: Final = SAMPLE_RATE * 5 // 1000
"""Crossfade (5 ms) from concealment back into real audio: the two differ in phase."""
_GAP_TOLERANCE_S: Final = 0.0025
_RESYNC_S: Final = 1.0
"""A pts jump beyond this is a new stream (a restarted sender), not a loss."""
_HISTORY: Final = 2 * _MAX_PERIOD + _OVERLAP
_LAGS: Final = range(_MIN_PERIOD, _MAX_PERIOD + 1)


@dataclass
class JitterStats:
    """Counters of one member's jitter buffer (a snapshot; the SDK can report it as is)."""

    buffered_ms: float = 0.0
    """Audio held right now."""
    reserve_ms: float = 0.0
    """Smoothed audio held just after each pull: the buffer's added latency, less the phase
    between packet arrivals and pulls (0-20 ms)."""
    target_ms: float = 0.0
    """The reserve the buffer steers towards (fixed mode: its fixed prefetch)."""
    jitter_ms: float = 0.0
    """95th percentile of the arrival delay relative to the fastest recent frame (5 s)."""
    frames_played: int = 0
    """20 ms pulls that took this member's audio (real or concealed)."""
    concealed_frames: int = 0
    """20 ms worth of audio synthesised to cover a loss or a late frame."""
    late_frames: int = 0
    """Frames that arrived after their slot had already been concealed (played anyway)."""
    lost_frames: int = 0
    """20 ms worth of audio missing from the pts sequence (never arrived)."""
    underruns: int = 0
    """Pulls that found less than 20 ms buffered while playing."""
    stretched_ms: float = 0.0
    """Audio inserted by time-stretching to grow the reserve."""
    compressed_ms: float = 0.0
    """Audio removed by time-stretching to shrink the reserve."""
    dropped_ms: float = 0.0
    """Audio discarded because the buffer ran past its maximum."""
    received_ms: float = 0.0
    """Audio pushed in total."""

    @property
    def concealed_share(self) -> float:
        """Concealed share of the audio played (0.0-1.0)."""
        return self.concealed_frames / self.frames_played if self.frames_played else 0.0


def _ms(samples: float) -> float:
    return samples * 1000 / SAMPLE_RATE


def _ramp(length: int) -> _Float:
    """A raised-cosine ramp from 0 to 1 as a ``(length, 1)`` column."""
    return (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, length)))[:, None]


def _best_lag(audio: _Float, at: int, lags: range, *, back: bool) -> int:
    """The lag in ``lags`` at which the 1 ms of audio at ``at`` best repeats, looking
    ``back`` (earlier audio) or ahead."""
    mono = audio.sum(axis=1)
    ref = mono[at : at + _OVERLAP]
    best, best_score = lags.start, -np.inf
    for lag in lags:
        start = at - lag if back else at + lag
        other = mono[start : start + _OVERLAP]
        if start < 0 or len(other) < _OVERLAP:
            continue
        norm = float(np.sqrt(np.dot(ref, ref) * np.dot(other, other))) or 1.0
        score = float(np.dot(ref, other)) / norm
        if score > best_score:
            best, best_score = lag, score
    return best


def _fade(start: int, length: int) -> _Float:
    """Gains for samples ``start..start+length`` of a concealment: 1.0 for the first frame,
    then falling linearly to silence at ``_FADE_FRAMES`` frames."""
    at = np.arange(start, start + length) - FRAME_SAMPLES
    span = (_FADE_FRAMES - 1) * FRAME_SAMPLES
    return np.clip(1.0 - at / span, 0.0, 1.0)[:, None]


def _continue(history: _Float, length: int) -> _Float:
    """``length`` samples continuing ``history`` by repeating its last pitch period."""
    if len(history) < _MIN_PERIOD + _OVERLAP:
        return np.zeros((length, CHANNELS))
    at = len(history) - _OVERLAP
    period = _best_lag(history, at, range(_MIN_PERIOD, min(_MAX_PERIOD, at) + 1), back=True)
    cycle = history[len(history) - period :]
    reps = -(-length // period)
    return np.tile(cycle, (reps, 1))[:length]


class JitterBuffer:
    """Audio of one member on its way to the mix; see the module docstring.

    Args:
        fixed_ms: None for the adaptive buffer; a number for the former fixed prefetch.
        min_ms: Least reserve the adaptive buffer keeps (a clean link's).
        max_ms: Most audio held; past it the oldest is dropped down to the target.
    """

    def __init__(self, *, fixed_ms: int | None = None, min_ms: int = 20,
                 max_ms: int = 200) -> None:
        floor = fixed_ms if fixed_ms is not None else min_ms
        if not 0 <= floor < max_ms:
            raise ValueError(f"need 0 <= target < max_ms, got {floor}, {max_ms}")
        self.fixed_ms = fixed_ms
        self.min_ms = min_ms
        self.max_ms = max_ms
        self.stats = JitterStats(target_ms=float(floor))
        self._buffer: _Float = np.zeros((0, CHANNELS))
        self._played: _Float = np.zeros((_HISTORY, CHANNELS))
        self._playing = False
        self._end_pts: float | None = None
        self._concealed_run = 0
        self._concealed_ahead = 0
        self._fade_in_from: _Float | None = None
        self._transits: collections.deque[float] = collections.deque(maxlen=_WINDOW)
        self._reserve = float(floor)
        self._since_stretch = 0

    @property
    def adaptive(self) -> bool:
        """False in the former fixed-prefetch mode."""
        return self.fixed_ms is None

    def snapshot(self) -> JitterStats:
        """A copy of the counters, ``buffered_ms`` up to date."""
        self.stats.buffered_ms = _ms(len(self._buffer))
        return JitterStats(**vars(self.stats))

    # --- arrival ---------------------------------------------------------------------------

    def push(self, samples: Samples, *, media_time: float | None = None,
             arrival: float | None = None) -> None:
        """Add decoded ``(n, 2)`` int16 audio whose first sample has pts ``media_time`` (s),
        received at ``arrival`` (s, any clock that only moves forward)."""
        if len(samples) == 0:
            return
        self.stats.received_ms += _ms(len(samples))
        audio = samples.astype(np.float64)
        if media_time is not None and arrival is not None:
            self._note_arrival(arrival - media_time)
        if media_time is not None and self.adaptive:
            placed = self._place(audio, media_time)
            if placed is None:
                return
            audio = placed
        self._append(audio)
        if len(self._buffer) > self.max_ms * SAMPLE_RATE // 1000:
            keep = int(self.stats.target_ms * SAMPLE_RATE / 1000)
            drop = len(self._buffer) - keep
            self._buffer = self._buffer[drop:]
            self.stats.dropped_ms += _ms(drop)
        start = max(1, int(self.stats.target_ms * SAMPLE_RATE / 1000))
        if self.adaptive:
            start += FRAME_SAMPLES  # the reserve is what is left after the first pull
        if not self._playing and len(self._buffer) >= start:
            self._playing = True
            if self.adaptive:  # from silence: fade in rather than start with a step
                self._buffer[:_JOIN] *= _ramp(min(_JOIN, len(self._buffer)))

    def _note_arrival(self, transit: float) -> None:
        self._transits.append(transit)
        fastest = min(self._transits)
        delays = np.fromiter(self._transits, float, len(self._transits)) - fastest
        self.stats.jitter_ms = float(np.percentile(delays, 95)) * 1000
        if self.adaptive:
            target = self.stats.jitter_ms + _MARGIN_MS
            self.stats.target_ms = float(min(max(target, self.min_ms), self.max_ms - 2 * FRAME_MS))

    def _place(self, audio: _Float, media_time: float) -> _Float | None:
        """Fit a frame at ``media_time`` into the timeline: conceal gaps, merge late frames."""
        duration = len(audio) / SAMPLE_RATE
        end = self._end_pts
        self._end_pts = media_time + duration
        if end is None or abs(media_time - end) > _RESYNC_S or not (
                self._playing or len(self._buffer)):
            self._concealed_ahead = 0
            return audio
        if media_time + duration <= end + _GAP_TOLERANCE_S:
            self._end_pts = end
            return None  # a duplicate, or older than audio already held
        gap = round((media_time - end) * SAMPLE_RATE)
        if gap > _GAP_TOLERANCE_S * SAMPLE_RATE:
            self.stats.lost_frames += round(gap / FRAME_SAMPLES)
            covered = min(gap, self._concealed_ahead)
            self._concealed_ahead -= covered
            missing = gap - covered
            if missing > 0:
                # Lost in the middle of what is buffered: conceal it in place.
                history = self._buffer if len(self._buffer) >= _HISTORY else np.concatenate(
                    [self._played, self._buffer])
                filler = _continue(history, missing + _JOIN) * _fade(0, missing + _JOIN)
                self.stats.concealed_frames += round(missing / FRAME_SAMPLES)
                self._buffer = np.concatenate([self._buffer, filler[:missing]])
                self._fade_in_from = filler[missing:]
        elif gap < 0:
            audio = audio[-gap:]  # overlaps audio already held: keep the new part only
        if self._concealed_ahead > 0:
            # Its slot was concealed already: play it anyway, the reserve grows.
            self.stats.late_frames += 1
            self._concealed_ahead = 0
        return audio

    def _append(self, audio: _Float) -> None:
        if self._fade_in_from is not None:
            # After concealment, fade from its continuation into the real audio.
            ramp = _ramp(min(len(audio), len(self._fade_in_from)))
            n = len(ramp)
            audio = audio.copy()
            audio[:n] = audio[:n] * ramp + self._fade_in_from[:n] * (1 - ramp)
            self._fade_in_from = None
        self._buffer = np.concatenate([self._buffer, audio])

    # --- playout ---------------------------------------------------------------------------

    def pull(self) -> Samples | None:
        """The next 20 ms as ``(FRAME_SAMPLES, 2)`` int16, or None while not playing."""
        if not self._playing:
            return None
        if len(self._buffer) >= FRAME_SAMPLES:
            out = raw = self._take()
        elif self.adaptive:
            out, raw = self._conceal()
        else:
            # Former behaviour: what is left, then silence, and re-buffer before resuming.
            out = raw = np.zeros((FRAME_SAMPLES, CHANNELS))
            out[: len(self._buffer)] = self._buffer
            self._buffer = self._buffer[:0]
            self._playing = False
            self.stats.underruns += 1
        self.stats.frames_played += 1
        # Concealment continues the unfaded signal, so that its fade is applied once.
        self._played = np.concatenate([self._played, raw])[-_HISTORY:]
        level = _ms(len(self._buffer))
        self._reserve += _LEVEL_SMOOTHING * (level - self._reserve)
        self.stats.reserve_ms = self._reserve
        result: Samples = np.clip(np.rint(out), -32768, 32767).astype(np.int16)
        return result

    def _take(self) -> _Float:
        self._concealed_run = 0
        self._since_stretch += 1
        excess = self._reserve - self.stats.target_ms
        need = FRAME_SAMPLES + _MAX_PERIOD + 2 * _OVERLAP
        if self.adaptive and len(self._buffer) >= need:
            if excess > _HYSTERESIS_MS and self._since_stretch >= 2:
                return self._compress()
            if excess < -_HYSTERESIS_MS and self._since_stretch >= 1:
                return self._stretch()
        out = self._buffer[:FRAME_SAMPLES]
        self._buffer = self._buffer[FRAME_SAMPLES:]
        return out

    def _compress(self) -> _Float:
        """20 ms out of 20 ms plus one pitch period: the reserve shrinks by that period."""
        at = FRAME_SAMPLES // 2
        lag = _best_lag(self._buffer, at, _LAGS, back=False)
        self.stats.compressed_ms += _ms(lag)
        return self._splice(at, at + lag)

    def _stretch(self) -> _Float:
        """20 ms out of 20 ms less one pitch period (played twice): the reserve grows."""
        at = FRAME_SAMPLES // 2
        lag = _best_lag(self._buffer, at, _LAGS, back=False)
        self.stats.stretched_ms += _ms(lag)
        return self._splice(at + lag, at)

    def _splice(self, leave: int, join: int) -> _Float:
        """20 ms that play the buffer up to ``leave``, crossfade to ``join`` and go on from
        there: ``join - leave`` samples skipped (or, if negative, repeated)."""
        x = self._buffer
        ramp = _ramp(_OVERLAP)
        joined = x[leave : leave + _OVERLAP] * (1 - ramp) + x[join : join + _OVERLAP] * ramp
        end = join + FRAME_SAMPLES - leave
        out = np.concatenate([x[:leave], joined, x[join + _OVERLAP : end]])
        self._buffer = x[end:]
        self._since_stretch = 0
        self._reserve -= _ms(join - leave)  # the level moved by exactly that much
        return out

    def _conceal(self) -> tuple[_Float, _Float]:
        """What is left, continued by a fading repetition of the last pitch period; and the
        same unfaded."""
        have = len(self._buffer)
        history = np.concatenate([self._played, self._buffer])
        missing = FRAME_SAMPLES - have
        run = self._concealed_run
        raw = _continue(history, missing + _JOIN)
        filler = raw * _fade(run * FRAME_SAMPLES, missing + _JOIN)
        out = np.concatenate([self._buffer, filler[:missing]])
        unfaded = np.concatenate([self._buffer, raw[:missing]])
        self._buffer = self._buffer[:0]
        self._fade_in_from = filler[missing:]
        self.stats.underruns += 1 if run == 0 else 0
        if run < _FADE_FRAMES:
            self.stats.concealed_frames += 1
            self._concealed_ahead += missing
        else:
            # Faded out: the member stopped sending; wait for a full reserve again.
            self._playing = False
            self._concealed_ahead = 0
            self._fade_in_from = None
        self._concealed_run += 1
        return out, unfaded
