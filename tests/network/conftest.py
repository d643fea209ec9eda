"""Fixtures of the network tests: one test bed (namespaces, coturn, `roomcall serve`) for the
whole session, reset to two cone NATs with clean lines before every test."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.network.bed import Bed, unavailable

_rooms = itertools.count(1)


@pytest.fixture(scope="session")
def network_bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    """The session's bed, started on first use; skips the test with the reason when this
    machine cannot run one (not root, `ip netns add` refused, coturn missing)."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    bed = Bed(Path(tmp_path_factory.mktemp("netbed")))
    bed.start()
    try:
        yield bed
    finally:
        bed.stop()


@pytest.fixture
async def bed(network_bed: Bed) -> AsyncIterator[Bed]:
    """The bed with both homes cone NATs, no firewall, cap, impairment or outage; every peer
    a test started is stopped after it."""
    network_bed.reset()
    try:
        yield network_bed
    finally:
        for peer in network_bed.peers:
            await peer.stop()
        network_bed.peers.clear()


@pytest.fixture
def room() -> str:
    """A room name no other test of the session uses."""
    return f"net-{next(_rooms)}"
