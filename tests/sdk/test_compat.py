"""The workaround that makes aiortc gather from every listed STUN and TURN URL."""

from __future__ import annotations

import asyncio
import time

import aiortc.rtcicetransport
from aioice import Candidate
from aiortc import RTCIceServer

from roomcall.sdk import compat
from roomcall.sdk.compat import ice


def relay(port: int) -> Candidate:
    """A relayed candidate on a documentation address."""
    return Candidate(foundation="f", component=1, transport="udp", priority=1,
                     host="203.0.113.10", port=port, type="relay")


def test_every_url_is_kept_in_order() -> None:
    """Every STUN and TURN URL survives, in list order, with its credentials and transport;
    URLs aiortc cannot use (turns over UDP) are left out as aiortc leaves them out."""
    kwargs = ice._every_server_kwargs([
        RTCIceServer(urls=["stun:203.0.113.10:3478", "stun:203.0.113.11"]),
        RTCIceServer(urls=["turn:203.0.113.10:3478?transport=udp",
                           "turn:203.0.113.10:443?transport=tcp",
                           "turns:203.0.113.10:5349?transport=udp"],
                     username="1700000000:alice", credential="pw"),
    ])
    assert kwargs["stun_servers"] == (("203.0.113.10", 3478), ("203.0.113.11", 3478))
    assert [(t.address, t.transport, t.ssl, t.username, t.password)
            for t in kwargs["turn_servers"]] == [
        (("203.0.113.10", 3478), "udp", False, "1700000000:alice", "pw"),
        (("203.0.113.10", 443), "tcp", False, "1700000000:alice", "pw"),
    ]


def test_enabled_and_disabled_swap_aiortc_s_gathering() -> None:
    """Turning the workaround off restores aiortc's own connection_kwargs, on restores ours."""
    try:
        compat.gather_from_every_ice_server(False)
        one = aiortc.rtcicetransport.connection_kwargs(
            [RTCIceServer(urls=["stun:203.0.113.10", "stun:203.0.113.11"])])
        assert one == {"stun_server": ("203.0.113.10", 3478)}  # aiortc drops the second
    finally:
        compat.gather_from_every_ice_server(True)
    assert aiortc.rtcicetransport.connection_kwargs is ice._every_server_kwargs


async def test_an_unreachable_server_does_not_hold_gathering_past_the_grace() -> None:
    """Once one relay is in, a server that never answers is given up after the grace
    (cancelled, not left running), instead of holding gathering for the full timeout."""
    async def answers() -> tuple[Candidate, None]:
        await asyncio.sleep(0.01)
        return relay(50000), None

    async def never() -> tuple[Candidate, None]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    silent = asyncio.create_task(never())
    started = time.monotonic()
    results = await ice._first_results([asyncio.create_task(answers()), silent],
                                          within=30.0, grace=0.05)
    assert [c.port for c, _ in results] == [50000]
    assert silent.cancelled()
    assert time.monotonic() - started < 10  # far below the 30 s bound, whatever the load


async def test_without_a_relay_every_answer_is_awaited() -> None:
    """With no relay yet, a slower server is still waited for (up to the bound) and failed
    servers are skipped."""
    async def slow() -> tuple[Candidate, None]:
        await asyncio.sleep(0.2)
        return relay(50001), None

    async def fails() -> tuple[Candidate, None]:
        raise OSError("unreachable")

    results = await ice._first_results([asyncio.create_task(fails()),
                                           asyncio.create_task(slow())], within=30.0, grace=0.0)
    assert [c.port for c, _ in results] == [50001]
