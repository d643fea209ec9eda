"""Invite links through the SDK against a real server: a room link many people use, each as
themselves; personal invites; revoking, expiry, use limits and rate limiting."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.token import read_room_token
from roomcall.sdk import ConnectionState, JoinError, RTCError
from roomcall.sdk.invites import peek_invite, redeem_invite
from roomcall.server import RoomServer

from .support import ClientFactory, JoinedClient, Recorder, client_view, fast_config

Join = Callable[..., Awaitable[JoinedClient]]


async def test_room_link_gives_two_people_two_identities(
        server: RoomServer, joined: Join, make_client: ClientFactory) -> None:
    """Two people redeeming one room link get distinct user ids and both stay in the room."""
    host, rec_h = await joined("host", admin=True)
    invite = await host.create_invite()
    link = invite.link()
    assert link == f"roomcall://127.0.0.1:{server.port}/r/{invite.code}"
    guests = []
    for name in ("Bob", "Bob"):  # the same display name twice is still two people
        server_url, token = await redeem_invite(link, name)
        assert server_url == server.url
        guest = make_client(server_url)
        guests.append((guest, Recorder(guest)))
        await guest.join(token, user_data=name)
    bob1, bob2 = (g.user_id for g, _ in guests)
    assert bob1 != bob2 and bob1 is not None and bob2 is not None
    assert bob1.startswith("bob-") and bob2.startswith("bob-")
    await rec_h.wait("user_joined", lambda u, d: u == bob2)
    await guests[0][1].wait("user_joined", lambda u, d: u == bob2)
    assert client_view(host) == {"host", bob1, bob2}
    for guest, rec in guests:
        assert guest.connection_state is ConnectionState.CONNECTED
        assert "DISCONNECTED" not in rec.states()[1:]
    (live,) = await host.list_invites()
    assert (live.code, live.uses, live.user_id) == (invite.code, 2, "")


async def test_personal_invite_is_one_named_person(server: RoomServer, joined: Join) -> None:
    """A personal invite shows its name before redeeming and always gives the same user id."""
    host, _ = await joined("host", admin=True)
    invite = await host.create_invite(name="Ann Lee", personal=True)
    assert invite.user_id.startswith("ann-lee-") and invite.name == "Ann Lee"
    details = await peek_invite(invite.link())
    assert (details.room, details.personal, details.name) == ("room_1", True, "Ann Lee")
    ids = {read_room_token((await redeem_invite(invite.link(), n))[1]).user_id
           for n in ("Ann", "")}
    assert ids == {invite.user_id}
    with pytest.raises(RTCError) as caught:
        await host.create_invite(personal=True)
    assert caught.value.code == ErrorCode.INVALID_PARAMETER


async def test_returning_redeemer_keeps_its_identity(server: RoomServer, joined: Join) -> None:
    """A redeemer showing the token it got from the link before comes back as the same user,
    without using the link up; a token from elsewhere gets a fresh id."""
    host, _ = await joined("host", admin=True)
    invite = await host.create_invite(max_uses=1)
    _, first = await redeem_invite(invite.link(), "Bob")
    _, again = await redeem_invite(invite.link(), "Bob", previous_token=first)
    assert read_room_token(again).user_id == read_room_token(first).user_id
    with pytest.raises(JoinError) as caught:  # a stranger's token proves nothing
        await redeem_invite(invite.link(), "Eve",
                            previous_token=server.token("room_1", "evil-1"))
    assert caught.value.code == ErrorCode.INVITE_USED_UP


async def test_revoked_links_are_refused(server: RoomServer, joined: Join) -> None:
    """Revoking one link refuses it (30001) and leaves the others; revoking all refuses all."""
    host, _ = await joined("host", admin=True)
    first, second, third = [await host.create_invite() for _ in range(3)]
    await host.revoke_invites([first.code])
    with pytest.raises(JoinError) as caught:
        await redeem_invite(first.link(), "Bob")
    assert caught.value.code == ErrorCode.INVITE_NOT_FOUND
    await redeem_invite(second.link(), "Bob")
    assert {i.code for i in await host.list_invites()} == {second.code, third.code}
    await host.revoke_invites()
    for invite in (second, third):
        with pytest.raises(JoinError) as caught:
            await redeem_invite(invite.link(), "Bob")
        assert caught.value.code == ErrorCode.INVITE_NOT_FOUND
    assert await host.list_invites() == []


async def test_only_the_host_makes_links(server: RoomServer, joined: Join) -> None:
    """A member without admin permission cannot create, list or revoke links (10051)."""
    await joined("host", admin=True)
    guest, _ = await joined("guest")
    for call in (guest.create_invite(), guest.list_invites(), guest.revoke_invites()):
        with pytest.raises(RTCError) as caught:
            await call
        assert caught.value.code == ErrorCode.NO_PERMISSION


async def test_link_expires_and_ends_with_its_room(tmp_path: Path,
                                                   make_client: ClientFactory) -> None:
    """A link stops working at its expiry (30002), and with its room (30001)."""
    offset = [0.0]
    # A silence timeout beyond the clock's jump: only the link may expire, not the members.
    server = RoomServer(fast_config(tmp_path / "own", silent_user_timeout=120.0),
                        clock=lambda: time.time() + offset[0])
    await server.start()
    try:
        host = make_client(server.url)
        await host.join(server.token("room_1", "host", admin=True))
        short = await host.create_invite(ttl=60)
        lasting = await host.create_invite()
        _, token = await redeem_invite(short.link(), "Bob")
        assert read_room_token(token).expire_at <= time.time() + 61  # no longer than its link
        offset[0] = 61.0
        with pytest.raises(JoinError) as caught:
            await redeem_invite(short.link(), "Bob")
        assert caught.value.code == ErrorCode.INVITE_EXPIRED
        await host.end_room()
        with pytest.raises(JoinError) as caught:
            await redeem_invite(lasting.link(), "Bob")
        assert caught.value.code == ErrorCode.INVITE_NOT_FOUND
    finally:
        await server.stop()


@pytest.fixture
async def strict_server(tmp_path: Path) -> AsyncIterator[RoomServer]:
    """A server allowing 3 redemptions at once per address, then one a minute."""
    srv = RoomServer(fast_config(tmp_path / "strict", redeem_burst=3, redeem_rate=1 / 60))
    await srv.start()
    yield srv
    await srv.stop()


async def test_redemptions_are_rate_limited_per_address(
        strict_server: RoomServer, make_client: ClientFactory) -> None:
    """A fourth attempt at once from one address gets 30010 with Retry-After; another address
    is not held up by it."""
    host = make_client(strict_server.url)
    await host.join(strict_server.token("room_1", "host", admin=True))
    invite = await host.create_invite()
    for _ in range(3):
        await redeem_invite(invite.link(), "Bob")
    with pytest.raises(JoinError) as caught:
        await redeem_invite(invite.link(), "Bob")
    assert caught.value.code == ErrorCode.RATE_LIMITED
    url = f"{strict_server.http_url}/v1/invites/{invite.code}/redeem"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"name": "x"}) as answer:
            assert answer.status == 429 and int(answer.headers["Retry-After"]) >= 1
        other = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(connector=other) as elsewhere, \
                elsewhere.post(url, json={"name": "Ann"}) as answer:
            assert answer.status == 200
            assert (await answer.json())["userId"].startswith("ann-")


async def test_unreachable_server_and_bad_links(server: RoomServer) -> None:
    """Redeeming against a closed port gives 21001; a damaged link raises InviteLinkError."""
    from roomcall.sdk.invites import InviteLinkError

    with pytest.raises(JoinError) as caught:
        await redeem_invite("roomcall://127.0.0.1:9/r/abcdef", "Bob", timeout=2.0)
    assert caught.value.code == ErrorCode.AUTH_FAILED
    for text in ("roomcall://127.0.0.1/r/abc", "roomcall://h:1/room?token=x",
                 "roomcall://h:1/r/a%2Fb", "https://h:1/r/abc"):
        with pytest.raises(InviteLinkError):
            await redeem_invite(text, "Bob")
