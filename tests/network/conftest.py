"""Fixtures of the network tests: one test bed (namespaces, coturn, `roomcall serve`) for the
whole session, reset to two cone NATs with clean lines before every test; Janus instances
in namespaces of their own, per test."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.network.bed import Bed, unavailable
from tests.network.janus import JanusBed, janus_unavailable

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


@pytest.fixture
async def janus(tmp_path: Path) -> AsyncIterator[JanusBed]:
    """A bed of Janus instances with one already running (start more with
    ``await janus.start_instance()``); every instance and namespace is gone after the test,
    and a failed test shows each instance's log. Skips when Janus cannot run here."""
    reason = janus_unavailable()
    if reason is not None:
        pytest.skip(reason)
    bed = JanusBed(tmp_path)
    try:
        await bed.start_instance()
        yield bed
    finally:
        await bed.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Iterator[None]:
    """A failed test using ``janus`` gets the end of each instance's log in its report."""
    report = yield
    bed = getattr(item, "funcargs", {}).get("janus")
    if isinstance(bed, JanusBed) and report.failed:
        for instance in bed.instances:
            report.sections.append((f"{instance.name} log", instance.log_tail()))
    return report
