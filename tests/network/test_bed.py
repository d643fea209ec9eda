"""The test bed's own levers do what they say, measured on the line (STUN round trips from a
home's client to the server's coturn)."""

from __future__ import annotations

import pytest

from tests.network.bed import Bed

pytestmark = pytest.mark.network


def test_impairment_delays_and_drops_in_user_space(bed: Bed) -> None:
    """A 100 ms delay adds about 200 ms to a round trip (each way is forwarded once), total
    loss drops every probe, and removing the impairment gives the clean line back."""
    home = bed.home(1)
    clean = home.round_trips()
    assert all(rtt is not None and rtt < 0.1 for rtt in clean)
    bed.impair(1, delay_ms=100)
    delayed = home.round_trips()
    assert all(rtt is not None and 0.19 < rtt < 1.0 for rtt in delayed)
    bed.impair(1, loss=1.0)
    assert home.round_trips(3) == [None, None, None]
    bed.impair(1)
    assert all(rtt is not None and rtt < 0.1 for rtt in home.round_trips())


def test_cut_and_restore(bed: Bed) -> None:
    """A UDP-only cut and a full cut lose every probe until restored; the other home is not
    touched."""
    for udp_only in (True, False):
        bed.cut(1, udp_only=udp_only)
        assert bed.home(1).round_trips(2) == [None, None]
        assert None not in bed.home(2).round_trips(2)
        bed.restore(1)
        assert None not in bed.home(1).round_trips(2)


def test_udp_block_and_address_change(bed: Bed) -> None:
    """The UDP-blocking firewall loses every probe; after an address change the line works
    from the new public address."""
    bed.block_udp(1)
    assert bed.home(1).round_trips(2) == [None, None]
    bed.block_udp(1, False)
    old = bed.home(1).wan_address
    new = bed.change_address(1)
    assert new != old and f"inet {new}/24" in bed.home(1).ns("ip", "addr", "show", "wan0")
    assert None not in bed.home(1).round_trips(2)
