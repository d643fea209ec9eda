"""Replay cache benchmark: memory and time per signature when full, beside a plain ``set`` of
the same signatures (the least any cache of them could hold).

The management API remembers the signature of every accepted POST / DELETE for the 15-minute
date window (app/roomcall/server/replay.py). This fills the cache to its cap with 28-character
signatures, as Qiniu's MAC makes them, dated across the window.

    .venv/bin/python bench/replay_cache.py
"""

from __future__ import annotations

import base64
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "app"))

from roomcall.server.replay import MAX_ENTRIES, ReplayCache


def _measure(fill: Callable[[list[str]], None], signatures: list[str]) -> tuple[float, float]:
    """(MiB held beyond the signature strings, microseconds per add)."""
    tracemalloc.start()
    start = time.perf_counter()
    fill(signatures)
    elapsed = time.perf_counter() - start
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return held / 2**20, elapsed / len(signatures) * 1e6


def main() -> None:
    signatures = [base64.urlsafe_b64encode(os.urandom(20)).decode() for _ in range(MAX_ENTRIES)]
    strings = sum(sys.getsizeof(s) for s in signatures) / 2**20
    keep: list[object] = []

    def plain(sigs: list[str]) -> None:
        keep.append(set(sigs))

    def cache(sigs: list[str]) -> None:
        replays = ReplayCache()
        for i, sig in enumerate(sigs):
            when = 1_800_000_000 + i * 900 // len(sigs)
            replays.add(sig, signed_at=when, now=when)
        keep.append(replays)

    base_mib, base_us = _measure(plain, signatures)
    mib, us = _measure(cache, signatures)
    print(f"{MAX_ENTRIES} signatures ({strings:.1f} MiB of strings, held by both):")
    print(f"  baseline set():  {base_mib:5.1f} MiB more, {base_us:5.2f} us per add")
    print(f"  ReplayCache:     {mib:5.1f} MiB more, {us:5.2f} us per add")
    print(f"  when full:       {mib + strings:5.1f} MiB in all")


if __name__ == "__main__":
    main()
