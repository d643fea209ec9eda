"""The ICE servers the room server hands out reach the client's peer connections, unless the
application gives its own."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import AsyncIterator
from pathlib import Path

import aioice.stun
import pytest

from roomcall.media.synthetic import SyntheticVideoTrack
from roomcall.sdk import RTCClient
from roomcall.server import RoomServer
from roomcall.server.config import IceConfig
from tests.waiting import until

from .support import WAIT, Recorder, fast_config


class StunResponder(asyncio.DatagramProtocol):
    """A loopback STUN server answering binding requests; remembers who asked."""

    def __init__(self) -> None:
        self.askers: list[tuple[str, int]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = aioice.stun.parse_message(data)
        if request.message_method != aioice.stun.Method.BINDING:
            return
        self.askers.append(addr)
        response = aioice.stun.Message(message_method=aioice.stun.Method.BINDING,
                                       message_class=aioice.stun.Class.RESPONSE,
                                       transaction_id=request.transaction_id)
        response.attributes["XOR-MAPPED-ADDRESS"] = addr
        assert self.transport is not None
        self.transport.sendto(bytes(response), addr)


@pytest.fixture
async def stun() -> AsyncIterator[tuple[StunResponder, int]]:
    """A STUN responder on 127.0.0.1 and its port."""
    transport, responder = await asyncio.get_running_loop().create_datagram_endpoint(
        StunResponder, local_addr=("127.0.0.1", 0))
    yield responder, transport.get_extra_info("sockname")[1]
    transport.close()


def local_candidates(client: RTCClient, peer: str) -> list[aioice.Candidate]:
    """The local ICE candidates of ``client``'s connection to ``peer``."""
    pc = client.peer_connection(peer)
    assert pc is not None
    gatherers = {id(g): g for t in pc.getTransceivers() if t.receiver.transport is not None
                 and (g := t.receiver.transport.transport.iceGatherer).state == "completed"}
    return [c for g in gatherers.values() for c in g._connection.local_candidates]


async def test_server_ice_servers_are_used_unless_given(
        tmp_path: Path, stun: tuple[StunResponder, int]) -> None:
    """A client with no ``ice_servers`` gathers from the server's STUN server (it gets a
    server-reflexive candidate); one given ``ice_servers=[]`` never asks it."""
    responder, port = stun
    ice = IceConfig(stun_urls=(f"stun:127.0.0.1:{port}",))
    server = RoomServer(fast_config(tmp_path, ice=ice))
    await server.start()
    alice, bob = RTCClient(server.url), RTCClient(server.url, ice_servers=[])
    source = SyntheticVideoTrack("alice", width=160, height=120, fps=10)
    try:
        await alice.join(server.token("room_1", "alice"))
        await bob.join(server.token("room_1", "bob"))
        subscribed = Recorder(bob)
        await alice.publish([source])
        await subscribed.wait("track_subscribed", within=WAIT * 2)
        await until(lambda: alice.peer_connection("bob") is not None
                    and bob.peer_connection("alice") is not None
                    and bool(local_candidates(bob, "alice")))
        assert "srflx" in {c.type for c in local_candidates(alice, "bob")}
        assert {c.type for c in local_candidates(bob, "alice")} == {"host"}
        alice_ports = {c.port for c in local_candidates(alice, "bob") if c.type == "host"}
        assert responder.askers and {port for _, port in responder.askers} <= alice_ports
    finally:
        source.stop()
        await asyncio.gather(alice.leave(), bob.leave())
        await server.stop()

