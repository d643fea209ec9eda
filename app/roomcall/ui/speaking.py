"""Who is speaking, and who the active speaker is, from the SDK's volume indication.

Levels are the SDK's ``volume_indication`` figures: 0.0 at -60 dBFS or below to 1.0 at full
scale (``roomcall.media.level``), one report per member every interval. A member *speaks* from
a report at or above :data:`SPEAKING_LEVEL` until :data:`SPEAKING_HOLD` seconds after the last
such report, so the ring does not blink off between words. The *active speaker* (what the
speaker view shows) is the remote member with the highest smoothed level among those speaking;
another member takes over only after leading for :data:`SPEAKER_LEAD` seconds, so a cough or a
short reply does not swap the stage.

Time is passed in (``now``, monotonic seconds); nothing here reads a clock or knows Qt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

SPEAKING_LEVEL: Final = 0.35
"""Speech: -39 dBFS and up. A quiet room through the capture processing reads well below
(noise suppression leaves about -55 dBFS, 0.08); a person talking at a laptop reads 0.5-0.7."""
SPEAKING_HOLD: Final = 0.6
"""Seconds a member still counts as speaking after its last loud report (gaps between words
are 0.2-0.5 s)."""
SPEAKER_LEAD: Final = 1.5
"""Seconds another member must lead before the speaker view switches to them."""
_SMOOTHING: Final = 0.4
"""Weight of the newest report in the smoothed level that picks the leader."""


class Speaking:
    """Follows the reports; :attr:`speaking` and :attr:`active_speaker` say the outcome.

    >>> s = Speaking()
    >>> s.feed({"me": 0.0, "bob": 0.6, "eve": 0.0}, now=0.0, local="me")
    >>> sorted(s.speaking), s.active_speaker
    (['bob'], 'bob')
    >>> s.feed({"bob": 0.0, "eve": 0.7}, now=0.5, local="me")
    >>> sorted(s.speaking), s.active_speaker   # bob is held, eve does not lead long enough
    (['bob', 'eve'], 'bob')
    >>> s.feed({"bob": 0.0, "eve": 0.7}, now=2.1, local="me")
    >>> sorted(s.speaking), s.active_speaker
    (['eve'], 'eve')
    """

    def __init__(self, *, threshold: float = SPEAKING_LEVEL, hold: float = SPEAKING_HOLD,
                 lead: float = SPEAKER_LEAD) -> None:
        self.threshold = threshold
        self.hold = hold
        self.lead = lead
        self._loud_at: dict[str, float] = {}
        self._smoothed: dict[str, float] = {}
        self._challenger: str | None = None
        self._challenger_since = 0.0
        self.speaking: frozenset[str] = frozenset()
        """User ids speaking now (the local user's included)."""
        self.active_speaker: str | None = None
        """The remote member the speaker view shows, None until someone spoke."""

    def feed(self, levels: Mapping[str, float], now: float, local: str | None = None) -> None:
        """Take in one report (user id to level); ``local`` never becomes the active
        speaker (the speaker view shows the others)."""
        for user_id, level in levels.items():
            level = min(1.0, max(0.0, float(level)))
            previous = self._smoothed.get(user_id, 0.0)
            self._smoothed[user_id] = previous + _SMOOTHING * (level - previous)
            if level >= self.threshold:
                self._loud_at[user_id] = now
        for user_id in [u for u in self._smoothed if u not in levels]:
            self._smoothed[user_id] *= 1 - _SMOOTHING  # no report: silent
        self.speaking = frozenset(u for u, at in self._loud_at.items() if now - at <= self.hold)
        self._follow_leader(now, local)

    def forget(self, user_ids: Iterable[str]) -> None:
        """Drop members who left."""
        for user_id in user_ids:
            self._loud_at.pop(user_id, None)
            self._smoothed.pop(user_id, None)
            if self.active_speaker == user_id:
                self.active_speaker = None
            if self._challenger == user_id:
                self._challenger = None
        self.speaking = self.speaking - frozenset(user_ids)

    def _follow_leader(self, now: float, local: str | None) -> None:
        candidates = [u for u in self.speaking if u != local]
        if not candidates:
            self._challenger = None
            return
        leader = max(candidates, key=lambda u: (self._smoothed.get(u, 0.0), u))
        if self.active_speaker is None or self.active_speaker not in self._smoothed:
            self.active_speaker, self._challenger = leader, None
        elif leader == self.active_speaker:
            self._challenger = None
        elif leader != self._challenger:
            self._challenger, self._challenger_since = leader, now
        elif now - self._challenger_since >= self.lead:
            self.active_speaker, self._challenger = leader, None
