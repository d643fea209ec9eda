"""ICE: which host addresses are gathered, and every STUN and TURN URL used rather than
the first of each (aioice 0.13.0, aiortc 1.16.0)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aioice
import aioice.candidate
import aioice.ice
import aiortc.clock
import aiortc.jitterbuffer
import aiortc.rtcicetransport
import aiortc.rtcrtpreceiver

if TYPE_CHECKING:
    from aiortc import RTCIceServer


if TYPE_CHECKING:  # aiortc loads only for clients that use media
    pass

log = logging.getLogger(__name__)


_gather_every_interface = aioice.ice.get_host_addresses


def restrict_host_addresses(addresses: Sequence[str] | None) -> None:
    """Gather ICE host candidates on ``addresses`` only, for every peer connection of this
    process; ``None`` restores aioice's default (every interface but loopback).

    aioice 0.13 offers no per-connection choice of interfaces (aiortc/aioice#2, open; the
    filter of aiortc/aioice#57 was not merged): ``Connection.gather_candidates`` calls the
    module-level ``get_host_addresses``, which lists every adapter and always skips 127.0.0.1.
    Calls that must stay on this machine (the self-test, the test suite) pass ``["127.0.0.1"]``.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _gather_every_interface
        return
    chosen = list(addresses)

    def only_chosen(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = only_chosen


# --- every STUN and TURN URL, not just the first of each ------------------------------------

RELAY_GRACE = 0.5
"""Seconds gathering waits for the other servers once one relayed candidate is in."""
GATHER_TIMEOUT = 5.0
"""aioice's own bound on gathering from servers (``get_component_candidates``)."""


@dataclass(frozen=True)
class _Turn:
    address: tuple[str, int]
    username: str | None
    password: str | None
    ssl: bool
    transport: str


def _every_server_kwargs(servers: list[RTCIceServer]) -> dict[str, Any]:
    """aiortc's ``connection_kwargs`` keeping every usable URL (it keeps the first STUN and
    the first TURN URL only), in list order, for :class:`_EveryServerConnection`."""
    stun: list[tuple[str, int]] = []
    turn: list[_Turn] = []
    for server in servers:
        for uri in server.urls if isinstance(server.urls, list) else [server.urls]:
            parsed = aiortc.rtcicetransport.parse_stun_turn_uri(uri)
            address = (parsed["host"], parsed["port"])
            if parsed["scheme"] == "stun":
                stun.append(address)
            elif (parsed["scheme"] in ("turn", "turns") and server.credentialType == "password"
                  and parsed["transport"] in (("tcp",) if parsed["scheme"] == "turns"
                                              else ("udp", "tcp"))):
                # The same filters as aiortc: turns only over TCP, password credentials only.
                turn.append(_Turn(address, server.username, server.credential,
                                  parsed["scheme"] == "turns", parsed["transport"]))
    return {"stun_servers": tuple(dict.fromkeys(stun)), "turn_servers": tuple(turn)}


class _EveryServerConnection(aioice.ice.Connection):
    """An aioice connection that gathers from several STUN and TURN servers at once and
    stops waiting for the unreachable ones soon after the first relayed candidate."""

    def __init__(self, *, stun_servers: tuple[tuple[str, int], ...] = (),
                 turn_servers: tuple[_Turn, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)  # no stun_server / turn_server: we gather from those
        self._stun_servers = stun_servers
        self._turn_servers = turn_servers

    async def get_component_candidates(self, component: int, addresses: list[str],
                                       timeout: int = 5  # noqa: ASYNC109 (aioice's signature)
                                       ) -> list[aioice.Candidate]:
        candidates: list[aioice.Candidate] = await super().get_component_candidates(
            component, addresses, timeout)  # host candidates only (no servers set above)
        hosts = [p for p in self._protocols
                 if p.local_candidate.component == component
                 and p.local_candidate.type == "host"
                 and ipaddress.ip_address(p.local_candidate.host).version == 4]
        tasks: list[asyncio.Task[tuple[aioice.Candidate, Any]]] = [
            asyncio.create_task(aioice.ice.server_reflexive_candidate(p, server))
            for server in self._stun_servers for p in hosts]
        for rank, turn in enumerate(self._turn_servers):
            tasks.append(asyncio.create_task(self._relayed(component, rank, turn)))
        for candidate, protocol in await _first_results(tasks, float(timeout), RELAY_GRACE):
            if any(candidate.host == c.host and candidate.port == c.port
                   and candidate.type == c.type for c in candidates):
                continue  # two STUN servers seeing the same mapping
            candidates.append(candidate)
            if protocol is not None:
                self._protocols.append(protocol)
        return candidates

    async def _relayed(self, component: int, rank: int, turn: _Turn
                       ) -> tuple[aioice.Candidate, Any]:
        candidate, protocol = await aioice.ice.relayed_candidate(
            component=component,
            hide_related_address=self._transport_policy == aioice.TransportPolicy.RELAY,
            protocol_factory=lambda: aioice.ice.StunProtocol(self),
            turn_server=turn.address, turn_username=turn.username,
            turn_password=turn.password, turn_ssl=turn.ssl, turn_transport=turn.transport)
        # One foundation per server and transport (aioice derives it from the relayed address
        # alone, which a UDP and a TCP allocation on one coturn share), and the listed order
        # as local preference: the first URL's relay is tried first.
        candidate.foundation = aioice.candidate.candidate_foundation(
            "relay", f"{turn.transport}-{rank}", candidate.host)
        candidate.priority = aioice.candidate.candidate_priority(
            component, "relay", local_pref=65535 - rank)
        return candidate, protocol


async def _first_results(tasks: list[asyncio.Task[tuple[aioice.Candidate, Any]]],
                         within: float, grace: float) -> list[tuple[aioice.Candidate, Any]]:
    """The results of ``tasks`` that succeed within ``within`` s, or within ``grace`` of the
    first relayed candidate, whichever comes first; the rest are cancelled and awaited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    pending: set[asyncio.Task[tuple[aioice.Candidate, Any]]] = set(tasks)
    results: list[tuple[aioice.Candidate, Any]] = []
    try:
        while pending and (left := deadline - loop.time()) > 0:
            done, pending = await asyncio.wait(pending, timeout=left,
                                               return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is None:
                    results.append(task.result())
                    if task.result()[0].type == "relay":
                        deadline = min(deadline, loop.time() + grace)
    finally:
        for task in pending:
            task.cancel()
        # aioice closes a cancelled allocation's socket itself (create_turn_endpoint)
        await asyncio.gather(*pending, return_exceptions=True)
    return results


_ice_transport: Any = aiortc.rtcicetransport  # its globals are replaced below
_plain_kwargs = _ice_transport.connection_kwargs
_plain_connection = _ice_transport.Connection


def gather_from_every_ice_server(enabled: bool = True) -> None:
    """Gather ICE candidates from every listed STUN and TURN URL, for every peer connection
    of this process; ``False`` restores aiortc's own gathering.

    aiortc 1.16 (``rtcicetransport.connection_kwargs``: "only a single STUN server is
    supported", "only a single TURN server is supported", since aiortc PR #23) uses the first
    STUN and the first TURN URL and silently drops the rest, because aioice 0.13's
    ``Connection`` takes one of each (aioice issue #3, "support multiple stun and turn
    servers", open since 2018; PR #113 would add ``stun_servers`` / ``turn_servers``). So a
    ``turn:...?transport=udp`` listed before a ``turn:...?transport=tcp`` fallback leaves a
    client behind a UDP-blocking firewall waiting 5 s (aioice's gathering timeout) for the
    UDP allocation, and then with host candidates only: no call.

    The workaround, in two module globals of ``aiortc.rtcicetransport`` (the only seam, as
    ``RTCIceGatherer`` builds its aioice ``Connection`` itself): keep every URL, and gather
    from all of them in parallel (one aioice allocation per TURN URL, one binding per STUN
    URL and host address). Gathering ends when every server answered, 5 s at most as before,
    or ``RELAY_GRACE`` after the first relayed candidate: one relay is enough to connect,
    reachable servers answer within a round trip, and an unreachable one would only stall
    the call. Ordering or probing URLs instead would still wait on the unreachable one and
    keep one relay per call; this way a UDP-blocked client has its TCP relay in well under a
    second and a healthy one both relays, the first listed preferred.
    """
    if enabled:
        _ice_transport.connection_kwargs = _every_server_kwargs
        _ice_transport.Connection = _EveryServerConnection
    else:
        _ice_transport.connection_kwargs = _plain_kwargs
        _ice_transport.Connection = _plain_connection
