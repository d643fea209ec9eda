"""The connection state table and the reconnection delays."""

from __future__ import annotations

import itertools

import pytest

from roomcall.sdk import ConnectionState, RTCClient, exponential_backoff
from roomcall.sdk.state import TRANSITIONS


def test_transition_table_covers_every_state() -> None:
    """Every state has an entry; DISCONNECTED is reachable from each state but itself."""
    assert set(TRANSITIONS) == set(ConnectionState)
    for state, targets in TRANSITIONS.items():
        assert state not in targets
        if state is not ConnectionState.DISCONNECTED:
            assert ConnectionState.DISCONNECTED in targets


async def test_invalid_transition_raises() -> None:
    """_set_state refuses a move the table does not allow."""
    client = RTCClient("ws://127.0.0.1:1", media=False)
    with pytest.raises(RuntimeError, match="DISCONNECTED -> CONNECTED"):
        client._set_state(ConnectionState.CONNECTED)


def test_backoff_grows_and_caps() -> None:
    """Default delays start at once, then double up to a cap with jitter within bounds."""
    delays = list(itertools.islice(exponential_backoff(initial=0.1, maximum=1.0), 10))
    assert delays[0] == 0
    assert 0.08 <= delays[1] <= 0.12
    assert all(d <= 1.2 for d in delays)
    assert delays[-1] >= 0.8
