"""Calls between two homes behind NATs, through the network test bed: which paths carry media,
using what the room server hands out."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest

from tests.network.bed import Bed, Peer

pytestmark = pytest.mark.network

log = logging.getLogger(__name__)

FIRST_FRAME = 20.0
"""Seconds from starting a peer process (Python, aiortc, join, ICE) to its first frame."""
NO_MEDIA_BOUND = 10.0
"""Seconds a call that cannot connect is watched for media that must not come."""
GATHER_STALL = 5.0
"""aiortc's gathering stall behind a UDP-blocking firewall, without the compat workaround."""
RECOVERY_BOUND = 10.0
"""Seconds within which media must flow again once the network works (the SDK's promise)."""
LEAVE_BOUND = 5.0
"""Seconds ``leave()`` may take with nothing answering: it gives up the server's confirmation
after 2 s, then closes the socket (a 1 s closing handshake) while the peer connections close
(each TURN allocation's deletion given up after 1 s: one each for TURN/UDP and TURN/TCP)."""


async def call(bed: Bed, room: str, *, ice: str = "server") -> tuple[Peer, Peer]:
    """Alice at home 1 and bob at home 2, both publishing, in ``room``."""
    alice = await bed.home(1).client(bed.token(room, "alice"), "alice", ice=ice)
    bob = await bed.home(2).client(bed.token(room, "bob"), "bob", ice=ice)
    return alice, bob


async def sees(peer: Peer, other: Peer, within: float = FIRST_FRAME, after: float = 0.0
               ) -> dict[str, object]:
    """The first frame ``peer`` decodes from ``other`` (its pattern, not just any frame)."""
    return await peer.wait_event("frame", lambda e: e["from"] == other.label, within, after)


async def test_stun_connects_two_cone_nats(bed: Bed, room: str) -> None:
    """With only STUN, two port-restricted cone NATs punch through: media flows both ways on
    server-reflexive candidates, with no relay."""
    stun_only = json.dumps([{"urls": list(bed.stun_urls)}])
    alice, bob = await call(bed, room, ice=stun_only)
    await sees(alice, bob)
    await sees(bob, alice)
    for peer, other in ((alice, bob), (bob, alice)):
        (path,) = peer.named("path", lambda e, o=other: e["from"] == o.label)  # type: ignore[misc]
        assert (path["local"], path["remote"]) != ("host", "host")
        assert "relay" not in (path["local"], path["remote"])


async def test_host_candidates_alone_never_cross_nats(bed: Bed, room: str) -> None:
    """With host candidates only (no ICE servers), two NATed clients negotiate but no media
    ever reaches either within the bound."""
    alice, bob = await call(bed, room, ice="none")
    for peer in (alice, bob):
        gathered = await peer.wait_event("gathered")
        assert gathered["types"] == ["host"]
    for failed in await asyncio.gather(sees(alice, bob, within=NO_MEDIA_BOUND),
                                       sees(bob, alice, within=NO_MEDIA_BOUND),
                                       return_exceptions=True):
        assert isinstance(failed, AssertionError) and "no frame within" in str(failed)
    # Once the SDK reports media paths (peer_state_changed), nothing here may say CONNECTED.
    assert not alice.named("peer_state", lambda e: e["state"] == "CONNECTED")


async def test_turn_udp_connects_two_symmetric_nats_with_server_config(bed: Bed,
                                                                       room: str) -> None:
    """Behind two symmetric NATs, using only what the room server hands out, both clients see
    each other's video, relayed by coturn with the server-minted credentials."""
    bed.set_nat(1, "symmetric")
    bed.set_nat(2, "symmetric")
    alice, bob = await call(bed, room)
    for peer, other in ((alice, bob), (bob, alice)):
        frame = await sees(peer, other)
        assert frame["identity"] is not None
        (path,) = peer.named("path", lambda e, o=other: e["from"] == o.label)  # type: ignore[misc]
        assert "relay" in (path["local"], path["remote"])


async def test_turn_tcp_through_a_udp_blocking_firewall_without_stall(bed: Bed,
                                                                       room: str) -> None:
    """Behind a firewall dropping all UDP, with STUN, TURN/UDP and TURN/TCP listed, the client
    gathers its TCP relay well under aiortc's 5 s stall and the call flows through it."""
    bed.block_udp(1)
    alice, bob = await call(bed, room)
    gathered = await alice.wait_event("gathered")
    assert "relay" in gathered["types"]
    assert gathered["seconds"] < GATHER_STALL / 2
    await sees(alice, bob)
    await sees(bob, alice)
    (path,) = alice.named("path")
    assert path["local"] == "relay"


async def test_media_flows_under_a_bandwidth_cap(bed: Bed, room: str) -> None:
    """A home line capped to 500 kbit/s each way still carries the call: frames keep coming,
    counters rising, well after the first."""
    bed.cap(1, 500, downlink_kbit=500)
    alice, bob = await call(bed, room)
    for peer, other in ((alice, bob), (bob, alice)):
        first = await sees(peer, other)
        later = await sees(peer, other, after=float(first["t"]) + 3)  # type: ignore[arg-type]
        assert later["counter"] > first["counter"]  # type: ignore[operator]


async def test_media_returns_after_a_20_s_outage(bed: Bed, room: str) -> None:
    """After home 1 is cut off for 20 s, media flows again both ways within 10 s of the
    network returning."""
    alice, bob = await call(bed, room)
    await sees(alice, bob)
    await sees(bob, alice)
    back = await bed.outage(1, 20)
    seen = [await sees(alice, bob, within=RECOVERY_BOUND, after=back),
            await sees(bob, alice, within=RECOVERY_BOUND, after=back)]
    log.info("media back %s s after the network",
             " / ".join(f"{float(f['t']) - back:.2f}" for f in seen))  # type: ignore[arg-type]


async def test_media_returns_after_an_address_change(bed: Bed, room: str) -> None:
    """After home 1's router gets a new public address, each side sees its media path break
    (RECOVERING) and then receives the other's video again, within 10 s of the change."""
    alice, bob = await call(bed, room)
    await sees(alice, bob)
    await sees(bob, alice)
    changed = time.time()
    bed.change_address(1)
    seen = []
    for peer, other in ((alice, bob), (bob, alice)):
        # Frames in flight at the change still arrive: only those after the break count.
        broken = await peer.wait_event(
            "peer_state", lambda e, o=other: e["user"] == o.label  # type: ignore[misc]
            and e["state"] == "RECOVERING", within=RECOVERY_BOUND, after=changed)
        seen.append(await sees(peer, other, within=RECOVERY_BOUND, after=broken["t"]))
    log.info("media back %s s after the address change",
             " / ".join(f"{float(f['t']) - changed:.2f}" for f in seen))  # type: ignore[arg-type]
    assert all(float(f["t"]) - changed < RECOVERY_BOUND for f in seen)  # type: ignore[arg-type]


async def test_leaving_a_relayed_call_during_an_outage_is_prompt(bed: Bed, room: str) -> None:
    """Alice, relayed through coturn between two symmetric NATs, leaves while her home is cut
    off: neither the room server nor coturn can answer, and still leave() returns within a few
    seconds (aioice alone retries the TURN deletion for about 31 s)."""
    bed.set_nat(1, "symmetric")
    bed.set_nat(2, "symmetric")
    alice, bob = await call(bed, room)
    await sees(alice, bob)
    await sees(bob, alice)
    bed.cut(1)
    try:
        assert await alice.stop(timeout=90) == 0
    finally:
        bed.restore(1)
    (left,) = alice.named("left")
    log.info("leave() took %.2f s during the outage", left["seconds"])
    assert left["seconds"] < LEAVE_BOUND
