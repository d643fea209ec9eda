"""Calls across NATs in the network test bed: join to first frame per NAT case, and ICE
gathering behind a UDP-blocking firewall with and without the compat workaround.

Two client processes (tests/network/peer.py) in two home networks call each other through
`roomcall serve` and coturn in the bed (tests/network/bed.py). The server hands out STUN,
TURN/UDP and TURN/TCP. For each case and sample, a fresh room:

- join to first frame: from the start of ``join()`` to the first decoded frame of the other
  member's pattern, per client; "none" if nothing arrives within ``--wait`` seconds.
- gathering: ICE candidate gathering of the first peer connection of the client behind the
  firewall; baseline: the same client with plain aiortc gathering (``--no-compat``: only the
  first STUN and the first TURN URL), measured in the same run.

    .venv/bin/python bench/nat.py               # root; about 2 minutes
    .venv/bin/python bench/nat.py --samples 1   # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.network.bed import Bed, Peer, unavailable  # noqa: E402

CASES: list[dict[str, Any]] = [
    {"name": "host candidates only, cone - cone", "nat": ("cone", "cone"), "ice": "none"},
    {"name": "STUN only, cone - cone", "nat": ("cone", "cone"), "ice": "stun"},
    {"name": "server's ICE servers, symmetric - symmetric", "nat": ("symmetric", "symmetric"),
     "ice": "server"},
    {"name": "server's ICE servers, UDP blocked - cone", "nat": ("cone", "cone"),
     "ice": "server", "block_udp": True},
]


def first_frame(peer: Peer, other: str) -> float | None:
    """Seconds from the start of ``peer``'s join to its first frame from ``other``."""
    joined = peer.named("joined")
    frames = peer.named("frame", lambda e: e["from"] == other)
    if not joined or not frames:
        return None
    return float(frames[0]["t"]) - (float(joined[0]["t"]) - float(joined[0]["seconds"]))


async def sample(bed: Bed, room: str, case: dict[str, Any], wait: float, compat: bool = True
                 ) -> dict[str, Any]:
    """One call of ``case``; join to first frame of each side and alice's gathering."""
    bed.reset()
    for home, nat in zip((1, 2), case["nat"], strict=True):
        bed.set_nat(home, nat)
    if case.get("block_udp"):
        bed.block_udp(1)
    ice = json.dumps([{"urls": list(bed.stun_urls)}]) if case["ice"] == "stun" else case["ice"]
    alice = await bed.home(1).client(bed.token(room, "alice"), "alice", ice=ice, compat=compat)
    bob = await bed.home(2).client(bed.token(room, "bob"), "bob", ice=ice, compat=compat)
    try:
        # A frame each way, waited for together; a timeout (AssertionError) is reported as
        # "none" below.
        await asyncio.gather(*(peer.wait_event("frame", lambda e, o=other.label: e["from"] == o,
                                               within=wait)
                               for peer, other in ((alice, bob), (bob, alice))),
                             return_exceptions=True)
        gathered = alice.named("gathered")
        return {"alice": first_frame(alice, "bob"), "bob": first_frame(bob, "alice"),
                "gather": float(gathered[0]["seconds"]) if gathered else None,
                "types": gathered[0]["types"] if gathered else []}
    finally:
        await asyncio.gather(alice.stop(), bob.stop())
        bed.peers.clear()


def show(values: list[float | None]) -> str:
    got = [v for v in values if v is not None]
    if not got:
        return "none"
    text = f"{statistics.median(got):.2f} s"
    return text if len(got) == len(values) else f"{text} ({len(values) - len(got)} none)"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--wait", type=float, default=12.0,
                        help="seconds to wait for a first frame")
    args = parser.parse_args()
    reason = unavailable()
    if reason is not None:
        print(f"SKIP: {reason}")
        return 0
    bed = Bed(Path(tempfile.mkdtemp(prefix="roomcall-nat-")))
    bed.start()
    rooms = iter(range(1, 10_000))
    load_before = os.getloadavg()[0]
    try:
        print(f"bench/nat.py ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}, "
              f"load {load_before:.1f}); median of {args.samples}, join -> first frame:")
        blocked: dict[bool, list[dict[str, Any]]] = {True: [], False: []}
        for case in CASES:
            runs = [await sample(bed, f"nat-{next(rooms)}", case, args.wait)
                    for _ in range(args.samples)]
            if case.get("block_udp"):
                blocked[True] = runs
                blocked[False] = [await sample(bed, f"nat-{next(rooms)}", case, args.wait,
                                               compat=False) for _ in range(args.samples)]
            print(f"  {case['name']:<46} alice {show([r['alice'] for r in runs]):<10} "
                  f"bob {show([r['bob'] for r in runs])}")
        print("UDP blocked at home 1, STUN + TURN/UDP + TURN/TCP listed: ICE gathering")
        for compat, label in ((False, "plain aiortc (baseline)"), (True, "roomcall compat")):
            runs = blocked[compat]
            print(f"  {label:<24} {show([r['gather'] for r in runs]):<10} candidates "
                  f"{sorted({t for r in runs for t in r['types']})}, first frame "
                  f"{show([r['alice'] for r in runs])}")
        print(f"load {os.getloadavg()[0]:.1f} after")
    finally:
        bed.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
