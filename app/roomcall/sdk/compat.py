"""Workarounds for aiortc and aioice behaviour, in one place so that an upgrade of either is one
file to re-check. Each names what it works around upstream.
"""

from __future__ import annotations

from collections.abc import Sequence

import aioice.ice

_gather_every_interface = aioice.ice.get_host_addresses


def restrict_host_addresses(addresses: Sequence[str] | None) -> None:
    """Gather ICE host candidates on ``addresses`` only, for every peer connection of this
    process; ``None`` restores aioice's default (every interface but loopback).

    aioice 0.13 offers no per-connection choice of interfaces: ``Connection.gather_candidates``
    calls the module-level ``get_host_addresses``, which lists every adapter and always skips
    127.0.0.1. Calls that must stay on this machine (the self-test, the test suite) pass
    ``["127.0.0.1"]``.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _gather_every_interface
        return
    chosen = list(addresses)

    def only_chosen(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = only_chosen
