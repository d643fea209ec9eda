"""The window's signal bars across the network test bed: a real window in one home, a member
in the other, a kernel bandwidth cap (tbf) on that member's line."""

from __future__ import annotations

import time

import pytest

from tests.network.bed import Bed

pytestmark = pytest.mark.network

START = 40.0
"""Seconds for the window's process to start (Python, Qt, aiortc), join, connect and get its
first grade (evaluated every 3 s)."""


async def test_signal_bars_fall_when_a_members_uplink_is_capped(bed: Bed, room: str) -> None:
    """Alice's window shows Bob's link as good on a clean line; once Bob's home uplink is
    capped below what he sends, the bars on his tile fall, and come back after the cap."""
    window = await bed.home(1).client(bed.token(room, "alice"), "Alice",
                                      module="tests.network.window_peer")
    await bed.home(2).client(bed.token(room, "bob"), "bob")
    await window.wait_event("video", lambda e: e["from"] == "bob", START)
    await window.wait_event("bars", lambda e: e["user"] == "bob" and e["bars"] >= 3, START)
    capped = time.time()
    bed.cap(2, 60)  # Bob sends 320x240 video and a tone: far more than 60 kbit/s
    fell = await window.wait_event(
        "bars", lambda e: e["user"] == "bob" and e["bars"] <= 2, 30, after=capped)
    assert fell["uplink"] in ("FAIR", "POOR")  # what reaches Alice from Bob suffers
    freed = time.time()
    bed.cap(2, None)
    await window.wait_event("bars", lambda e: e["user"] == "bob" and e["bars"] >= 3, 40,
                            after=freed)
