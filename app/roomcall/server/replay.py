"""The replay cache: signatures of state-changing management requests already accepted.

Qiniu's MAC has no nonce; what bounds a captured request is its signed ``X-Qiniu-Date``, which
the verifier accepts only within ``MAX_DATE_SKEW`` of the server's clock. Inside that window the
same signed bytes could be sent again, so the server remembers every signature of a POST or
DELETE it accepted until the signature's date has left the window (after that the date check
refuses it anyway). Sans-I/O: the caller passes ``now``.

>>> cache = ReplayCache(max_entries=2)
>>> cache.add("Qiniu AK:sig1", signed_at=1000, now=1000)
True
>>> cache.add("Qiniu AK:sig1", signed_at=1000, now=1001)
False
"""

from __future__ import annotations

import heapq

from roomcall.protocol.mac import MAX_DATE_SKEW

MAX_ENTRIES = 100_000
"""Signatures remembered at most (about 20 MiB when full: bench/replay_cache.py): over a
hundred state-changing requests a second for the whole window, far more than managing rooms
takes."""


class ReplayCacheFull(Exception):
    """Every remembered signature is still inside its window and there is no room for one
    more: the request is refused (forgetting one would let it be replayed)."""


class ReplayCache:
    """Signatures seen, each kept until its ``X-Qiniu-Date`` leaves the accepted window."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES,
                 window: float = MAX_DATE_SKEW) -> None:
        self._max_entries = max_entries
        self._window = window
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._expiry)

    def add(self, signature: str, *, signed_at: float, now: float) -> bool:
        """Remember ``signature``: True if it is new, False if it was seen inside its window
        (a replay). Raises :class:`ReplayCacheFull` rather than forget a live signature."""
        self._forget_expired(now)
        if signature in self._expiry:
            return False
        if len(self._expiry) >= self._max_entries:
            raise ReplayCacheFull(f"{len(self._expiry)} signed requests in the last "
                                  f"{self._window:g} s")
        # the verifier accepts the date until signed_at + window; keep it a second longer
        # because the date has one-second resolution
        expiry = signed_at + self._window + 1
        self._expiry[signature] = expiry
        heapq.heappush(self._heap, (expiry, signature))
        return True

    def _forget_expired(self, now: float) -> None:
        while self._heap and self._heap[0][0] < now:
            _, signature = heapq.heappop(self._heap)
            del self._expiry[signature]
