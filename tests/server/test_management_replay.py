"""The replay cache behind the management API: seen once, forgotten after the window,
bounded in size."""

from __future__ import annotations

import pytest

from roomcall.protocol.mac import MAX_DATE_SKEW
from roomcall.server.replay import ReplayCache, ReplayCacheFull


def test_a_signature_is_new_once() -> None:
    """The first add is new; the same signature again inside the window is a replay."""
    cache = ReplayCache()
    assert cache.add("Qiniu AK:a", signed_at=1000, now=1000)
    assert not cache.add("Qiniu AK:a", signed_at=1000, now=1000 + MAX_DATE_SKEW)
    assert cache.add("Qiniu AK:b", signed_at=1000, now=1001)


def test_signatures_are_forgotten_once_their_date_is_out_of_the_window() -> None:
    """After signed_at + window (+1 s of date resolution) the entry is dropped: by then the
    date check refuses the request anyway."""
    cache = ReplayCache(window=10)
    cache.add("Qiniu AK:a", signed_at=1000, now=1000)
    cache.add("Qiniu AK:b", signed_at=1005, now=1005)
    assert len(cache) == 2
    assert cache.add("Qiniu AK:c", signed_at=1012, now=1012)
    assert len(cache) == 2  # a expired at 1011
    assert not cache.add("Qiniu AK:b", signed_at=1005, now=1016)


def test_a_full_cache_refuses_rather_than_forget() -> None:
    """With every entry still live, a new signature is refused (forgetting one would let it
    be replayed); once entries expire there is room again."""
    cache = ReplayCache(max_entries=2, window=10)
    cache.add("Qiniu AK:a", signed_at=1000, now=1000)
    cache.add("Qiniu AK:b", signed_at=1000, now=1000)
    with pytest.raises(ReplayCacheFull):
        cache.add("Qiniu AK:c", signed_at=1001, now=1001)
    assert not cache.add("Qiniu AK:a", signed_at=1000, now=1002)  # replays still detected
    assert cache.add("Qiniu AK:c", signed_at=1012, now=1012)
