"""The embedded server hands its guests the ICE servers the host's Settings allow, as
``roomcall serve`` hands out its ``[ice]``: read from a guest's real join answer."""

from __future__ import annotations

import time
from pathlib import Path

from roomcall.protocol.ice import IceServer as HandedOut
from roomcall.protocol.ice import turn_credential
from roomcall.protocol.messages import Joined
from roomcall.ui.host import EmbeddedHost
from roomcall.ui.ice_servers import CREDENTIAL_TTL, IceServer
from tests.server.signal_client import joined_client

from .conftest import FAST_SERVER

STUN = IceServer("stun:203.0.113.5:3478")
SECRET = "the static-auth-secret of the host's coturn"
UDP = IceServer("turn:203.0.113.5:3478?transport=udp", "", SECRET)
TCP = IceServer("turn:203.0.113.5:3478?transport=tcp", "", SECRET)
OWN = IceServer("turn:198.51.100.7:3478", "ann", "ann's own password")
"""Values only: no test here gathers candidates through them."""


async def guest_answer(host: EmbeddedHost, guest: str = "bob") -> Joined:
    """The join answer a guest of the host's running server gets."""
    server = host.server
    assert server is not None
    client = await joined_client(server.url, server.token("standup", guest, ttl=600))
    try:
        assert client.joined is not None
        return client.joined
    finally:
        await client.close()


async def test_guests_get_the_stun_and_secret_turn_servers_of_the_settings(
        tmp_path: Path) -> None:
    """A guest's join answer lists the host's STUN server and its coturn's TURN URLs with a
    short-lived credential minted for that guest from the secret; the host's own TURN
    password is never handed out."""
    host = EmbeddedHost(tmp_path / "data", 0, **FAST_SERVER)
    await host.ensure(False, [STUN, OWN, UDP, TCP])
    try:
        before = int(time.time())
        joined = await guest_answer(host)
        after = int(time.time())
        stun, turn = joined.ice_servers
        assert stun == HandedOut(urls=(STUN.url,))
        assert turn.urls == (UDP.url, TCP.url)
        expiry, user = turn.username.split(":")
        assert user == "bob"
        assert before + CREDENTIAL_TTL <= int(expiry) <= after + CREDENTIAL_TTL
        assert (turn.username, turn.credential) == turn_credential(SECRET, "bob", int(expiry))
        assert OWN.credential not in repr(joined) and "198.51.100.7" not in repr(joined)
    finally:
        await host.stop()


async def test_changed_settings_reach_the_guests_of_the_next_hosted_call(
        tmp_path: Path) -> None:
    """The same servers keep the running server (and its rooms); changed ones start it
    afresh, handing out what the Settings say now; with none, guests get none."""
    host = EmbeddedHost(tmp_path / "data", 0, **FAST_SERVER)
    try:
        first = await host.ensure(False, [STUN])
        assert await host.ensure(False, [STUN]) is first
        assert (await guest_answer(host)).ice_servers == (HandedOut(urls=(STUN.url,)),)
        assert await host.ensure(False, [STUN, UDP]) is not first
        assert [s.urls for s in (await guest_answer(host)).ice_servers] == [(STUN.url,),
                                                                            (UDP.url,)]
        await host.ensure(False, [])
        assert (await guest_answer(host)).ice_servers == ()
    finally:
        await host.stop()
