"""Mesh recovery across an outage: an attempt begun while the network was down never holds up
the one that can succeed once the signalling says the network is back (real aiortc, loopback
STUN server, in-memory relay)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from typing import cast

import pytest
from aioice import stun
from aiortc import RTCIceServer

from roomcall.sdk import PeerState
from roomcall.sdk.compat import stop_ice_abruptly
from roomcall.sdk.pair_state import RecoveryPolicy
from roomcall.sdk.pair_watch import BACK_SILENT_CHECKS, SILENT_CHECKS
from tests.media.test_mesh import (  # noqa: F401 (the fixture)
    Room,
    candidates_to,
    room,
    video_both_ways,
)
from tests.waiting import WAIT, scaled, until


class StunServer(asyncio.DatagramProtocol):
    """A STUN server on 127.0.0.1 that answers binding requests while :attr:`up`.

    A socket whose request came while it was down is never answered again, as if the outage had
    flushed that socket's NAT mapping: gathering on it waits out aioice's full timeout.
    """

    def __init__(self) -> None:
        self.up = True
        self.dead: set[tuple[str, int]] = set()
        self.dropped = asyncio.Event()
        """Set once a request went unanswered."""
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            request = stun.parse_message(data)
        except ValueError:
            return
        if not self.up or addr in self.dead:
            self.dead.add(addr)
            self.dropped.set()
            return
        response = stun.Message(message_method=stun.Method.BINDING,
                                message_class=stun.Class.RESPONSE,
                                transaction_id=request.transaction_id)
        response.attributes["XOR-MAPPED-ADDRESS"] = addr
        assert self.transport is not None
        self.transport.sendto(bytes(response), addr)

    @property
    def url(self) -> str:
        """The ``stun:`` URL of this server."""
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return f"stun:{host}:{port}"


@pytest.fixture
async def stun_server() -> AsyncIterator[StunServer]:
    """A STUN server on a free loopback port, closed after the test."""
    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(StunServer,
                                                            local_addr=("127.0.0.1", 0))
    try:
        yield server
    finally:
        transport.close()


async def test_a_member_back_abandons_an_attempt_gathering_through_the_outage(
        room: Room, stun_server: StunServer) -> None:  # noqa: F811 (the fixture)
    """When the signalling says a member is back while its pair's recovery attempt, begun
    during the outage, is still gathering from a STUN server the outage made unreachable, that
    attempt is given up at once instead of being waited out, and a fresh connection carries
    the video again."""
    servers = [RTCIceServer(urls=stun_server.url)]
    alice, bob = room.join("alice", ice_servers=servers), room.join("bob", ice_servers=servers)
    await alice.publish(audio=False)
    await room.connect(alice, bob)
    await room.wait_until(lambda: bob.frames_from("alice") >= 3)
    first = alice.mesh.connection("bob")
    assert first is not None

    # The outage: the STUN server and the signalling (relays) are gone; alice's connection
    # dies under her, and her recovery attempt starts gathering on a fresh connection.
    stun_server.up = False
    alice.cut.add("bob")
    bob.cut.add("alice")
    await stop_ice_abruptly(first)
    await asyncio.wait_for(stun_server.dropped.wait(), WAIT)
    attempt = alice.mesh.connection("bob")
    assert attempt is not None and attempt is not first
    assert attempt.iceGatheringState == "gathering"
    assert alice.mesh.peer_state("bob") is PeerState.RECOVERING

    # The network is back, and so is the signalling: presence says each is there again.
    stun_server.up = True
    alice.cut.clear()
    bob.cut.clear()
    frames = bob.frames_from("alice")
    await alice.mesh.add_peer("bob")
    assert attempt.iceGatheringState == "gathering"  # abandoned, not waited out (5 s)
    assert alice.mesh.connection("bob") not in (first, attempt)
    await bob.mesh.add_peer("alice")

    await room.wait_until(lambda: bob.frames_from("alice") >= frames + 5)
    await room.wait_until(lambda: alice.mesh.peer_state("bob") is PeerState.CONNECTED)
    assert alice.peer_states["bob"][-2:] == [PeerState.RECOVERING, PeerState.CONNECTED]


async def test_a_member_back_on_a_path_gone_silent_is_replaced_sooner(
        room: Room, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811 (the fixture)
    """When presence says a member is back from a signalling gap while the connected pair no
    longer hears it (its address changed), the pair is replaced after BACK_SILENT_CHECKS
    silent checks instead of SILENT_CHECKS, and video flows both ways again."""
    caplog.set_level(logging.INFO, logger="roomcall.sdk.mesh")
    alice, bob = await video_both_ways(room)
    pc = bob.mesh.connection("alice")
    assert pc is not None
    ice = pc.getTransceivers()[0].receiver.transport.transport
    hear = ice._recv

    async def deaf() -> bytes:
        while True:
            await hear()  # the datagram never reaches DTLS: alice's old address is gone

    ice._recv = deaf
    pair = bob.mesh._peers["alice"]
    await until(lambda: pair.silent_checks >= 1, within=WAIT, what="a silent check")
    await bob.mesh.add_peer("alice")  # presence: alice is back, from her new address
    counters = {m.user_id: m.frames_from(o.user_id) for m, o in ((alice, bob), (bob, alice))}
    await room.wait_until(lambda: all(
        m.frames_from(o.user_id) >= counters[m.user_id] + 5
        and m.mesh.connection(o.user_id) is not pc for m, o in ((alice, bob), (bob, alice))))
    assert f"failed (nothing received for {BACK_SILENT_CHECKS} checks)" in caplog.text
    assert f"nothing received for {SILENT_CHECKS} checks" not in caplog.text


POLICY = RecoveryPolicy(connect_timeout=7.0, offline_connect_timeout=1.0)
OFFLINE_WAIT = scaled(40.0)
"""Waits spanning two gatherings with a silent STUN server (aioice gives up after 5 s each:
the offer's, then the answer's) and a connection."""


async def test_an_attempt_gathered_with_no_server_answering_fails_sooner(
        room: Room, stun_server: StunServer,  # noqa: F811 (the fixture)
        caplog: pytest.LogCaptureFixture) -> None:
    """A connection whose candidates were gathered while its STUN server never answered (the
    network was down) and that cannot connect counts as failed after the offline timeout,
    not the full connect timeout."""
    caplog.set_level(logging.INFO, logger="roomcall.sdk.mesh")
    stun_server.up = False
    blackhole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blackhole.bind(("127.0.0.1", 0))  # receives and never answers
    try:
        servers = [RTCIceServer(urls=stun_server.url)]
        alice = room.join("alice", POLICY, servers)
        bob = room.join("bob", POLICY, servers)
        alice.rewrite = bob.rewrite = candidates_to(blackhole.getsockname()[1])
        await alice.publish(audio=False)
        await room.connect(alice, bob)
        await until(lambda: PeerState.RECOVERING in alice.peer_states["bob"],
                    within=OFFLINE_WAIT, what="the offline attempt to fail")
    finally:
        blackhole.close()
    assert "gathered with no ICE server answering" in caplog.text
    assert "not connected 1 s after negotiating (gathered with no ICE server answering)" \
        in caplog.text
    assert "not connected 7 s" not in caplog.text


async def test_on_one_network_an_attempt_gathered_offline_still_connects(
        room: Room, stun_server: StunServer) -> None:  # noqa: F811 (the fixture)
    """With the STUN server unreachable, two members on one network still connect on their
    host candidates within the offline timeout, and video flows."""
    stun_server.up = False
    servers = [RTCIceServer(urls=stun_server.url)]
    alice = room.join("alice", POLICY, servers)
    bob = room.join("bob", POLICY, servers)
    await alice.publish(audio=False)
    await room.connect(alice, bob)
    await until(lambda: bob.frames_from("alice") >= 3, within=OFFLINE_WAIT, what="video")
    assert alice.peer_states["bob"] == [PeerState.CONNECTING, PeerState.CONNECTED]
