"""Invite links and the host's requests in the rooms core, and the redemption endpoint's
answers to bad input; new request payloads are fuzzed (a clear error code, never a crash)."""

from __future__ import annotations

import json
import math
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    CLIENT_MESSAGES,
    CreateInvite,
    Error,
    InviteCreated,
    Message,
    ProtocolError,
    RemovedList,
    parse,
)
from roomcall.protocol.token import USER_ID_RE
from roomcall.server.config import ServerConfig
from roomcall.server.invites import CODE_BYTES, MAX_INVITES_PER_ROOM, Invites
from roomcall.server.room import RoomError, RoomSettings
from roomcall.server.rooms import Rooms
from roomcall.server.signalling import host_request

from .conftest import MakeServer
from .signal_client import SignalClient, joined_client

APP, ROOM = "app1", "room1"


def seated(*users: str) -> tuple[Rooms, dict[str, str]]:
    """A rooms core with ``users`` in one room (the first is the host): (core, session ids)."""
    rooms = Rooms(ServerConfig())
    sids = {}
    for i, user in enumerate(users):
        joined, _ = rooms.join(app_id=APP, room=ROOM, user_id=user, user_data="",
                               permission="admin" if i == 0 else "user",
                               settings=RoomSettings(), now=0.0, req=1)
        sids[user] = joined.session_id
    return rooms, sids


def test_codes_are_unguessable_and_distinct() -> None:
    """Link codes carry 144 random bits (24 URL-safe characters) and never repeat."""
    book = Invites()
    codes = {book.create(APP, f"room{i}", name="", personal=False, ttl=60, max_uses=0,
                         now=0.0).code for i in range(200)}
    assert len(codes) == 200
    assert CODE_BYTES * 8 >= 128 and all(len(c) == 24 for c in codes)


@pytest.mark.parametrize(("fields", "why"), [
    ({"ttl": 0}, "ttl"), ({"ttl": -5}, "ttl"), ({"ttl": math.inf}, "ttl"),
    ({"ttl": math.nan}, "ttl"), ({"ttl": 8 * 86400}, "ttl"), ({"max_uses": -1}, "max_uses"),
    ({"max_uses": 10**6}, "max_uses"), ({"name": "x" * 129}, "name"),
    ({"personal": True}, "name"),
])
def test_bad_invite_fields_are_refused(fields: dict[str, Any], why: str) -> None:
    """Out-of-range ttl or max_uses, an over-long name, or a nameless personal invite: 10053."""
    values: dict[str, Any] = {"name": "", "personal": False, "ttl": 60.0, "max_uses": 0}
    values.update(fields)
    with pytest.raises(RoomError) as caught:
        Invites().create(APP, ROOM, now=0.0, **values)
    assert caught.value.code == ErrorCode.INVALID_PARAMETER and why in caught.value.message


def test_a_room_holds_a_bounded_number_of_links() -> None:
    """Past 100 live links a room's host must revoke some; expired ones do not count."""
    book = Invites()
    for _ in range(MAX_INVITES_PER_ROOM - 1):
        book.create(APP, ROOM, name="", personal=False, ttl=60, max_uses=0, now=0.0)
    book.create(APP, ROOM, name="", personal=False, ttl=1, max_uses=0, now=0.0)
    with pytest.raises(RoomError):
        book.create(APP, ROOM, name="", personal=False, ttl=60, max_uses=0, now=0.5)
    book.create(APP, ROOM, name="", personal=False, ttl=60, max_uses=0, now=1.0)
    assert len(book.of_room(APP, ROOM, 1.0)) == MAX_INVITES_PER_ROOM


def removed(rooms: Rooms, sid: str) -> tuple[str, ...]:
    """The removed user ids the host with session ``sid`` sees."""
    answer = rooms.host.list_removed(sid, 9).sends[0][1]
    assert isinstance(answer, RemovedList)
    return answer.user_ids


def test_host_kick_out_removes_and_revokes_in_the_core() -> None:
    """An admin's ``kickOut`` to a member records the removal and revokes that member's
    personal invite before the message is delivered; a user's ``kickOut`` records nothing."""
    rooms, sids = seated("host", "carol")
    created = [rooms.host.create_invite(sids["host"], name=name, personal=True, ttl=60,
                                   max_uses=0, now=0.0, req=2).sends[0][1]
               for name in ("Dan", "Eve")]
    dan, eve = (c.invite for c in created if isinstance(c, InviteCreated))
    dan_seat, _ = rooms.join(app_id=APP, room=ROOM, user_id=dan.user_id, user_data="",
                             permission="user", settings=RoomSettings(), now=0.0, req=1)
    rooms.send_message(sids["carol"], "kickOut", [dan.user_id], "", 0.0, 3)
    assert removed(rooms, sids["host"]) == ()
    effects = rooms.send_message(sids["host"], "kickOut", [dan.user_id, "ghost", "host"], "",
                                 0.0, 5)
    assert any(isinstance(m, Message) for _, m in effects.sends)  # still delivered
    assert removed(rooms, sids["host"]) == (dan.user_id,)
    assert rooms.invites.get(dan.code) is None and rooms.invites.get(eve.code) is not None
    rooms.leave(dan_seat.session_id, 1.0)  # it honoured the message
    with pytest.raises(RoomError) as caught:
        rooms.join(app_id=APP, room=ROOM, user_id=dan.user_id, user_data="",
                   permission="user", settings=RoomSettings(), now=1.0, req=1)
    assert caught.value.code == ErrorCode.KICKED_OUT


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=10)
_HOST_TYPES = ["create_invite", "revoke_invites", "list_invites", "readmit", "list_removed",
               "end_room", "transfer_host"]
_FIELDS = ["req", "name", "personal", "ttl", "max_uses", "codes", "user_id"]


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(_HOST_TYPES), sender=st.sampled_from(["host", "bob"]),
       fields=st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=5))
def test_host_requests_never_crash(kind: str, sender: str, fields: dict[str, Any]) -> None:
    """Any payload of a host request is either read and applied, or refused with a Qiniu
    code (10053 unreadable or bad value, 10051 not the host, 10021 no such member)."""
    rooms, sids = seated("host", "bob")
    text = json.dumps({"type": kind, **fields})
    try:
        msg = parse(text)
    except ProtocolError as exc:
        assert exc.code == ErrorCode.INVALID_PARAMETER
        return
    assert isinstance(msg, CLIENT_MESSAGES)
    try:
        effects = host_request(rooms, sids[sender], msg, 0.0)
    except RoomError as exc:
        assert exc.code in (ErrorCode.INVALID_PARAMETER, ErrorCode.NO_PERMISSION,
                            ErrorCode.USER_NOT_EXIST)
        assert sender == "host" or exc.code == ErrorCode.NO_PERMISSION
        return
    assert sender == "host" and effects.sends[0][0] == sids["host"]


async def test_bad_redemptions_get_clear_answers(make_server: MakeServer,
                                                 clients: list[SignalClient]) -> None:
    """Bad bodies get 400 / 10053, unknown codes 404 / 30001, and the server keeps serving."""
    room_server = await make_server(redeem_burst=100)
    host = await joined_client(room_server.url, room_server.token(ROOM, "host", admin=True))
    clients.append(host)
    await host.send(CreateInvite(req=2))
    created = await host.expect(InviteCreated, req=2)
    url = f"{room_server.http_url}/v1/invites/{created.invite.code}/redeem"
    bodies: list[tuple[bytes, int, int]] = [
        (b"[1, 2]", 400, ErrorCode.INVALID_PARAMETER),
        (b"{not json", 400, ErrorCode.INVALID_PARAMETER),
        (b'{"name": 5}', 400, ErrorCode.INVALID_PARAMETER),
        (b'{"name": "a", "token": []}', 400, ErrorCode.INVALID_PARAMETER),
        (b'{"name": "\\ud800"}', 400, ErrorCode.INVALID_PARAMETER),
        (json.dumps({"name": "x" * 200}).encode(), 400, ErrorCode.INVALID_PARAMETER),
        (b"x" * 5000, 400, ErrorCode.INVALID_PARAMETER),
        (b"\xff\xfe", 400, ErrorCode.INVALID_PARAMETER),
        (b'{"name": "Bob", "token": "garbage"}', 200, 0),
    ]
    async with aiohttp.ClientSession() as session:
        for body, status, code in bodies:
            async with session.post(url, data=body) as answer:
                assert answer.status == status, body
                payload = await answer.json()
                assert payload.get("code", 0) == code, body
        for path in ("/v1/invites/nope/redeem", "/v1/invites/nope"):
            async with session.request("POST" if path.endswith("redeem") else "GET",
                                       room_server.http_url + path) as answer:
                assert answer.status == 404
                assert (await answer.json())["code"] == ErrorCode.INVITE_NOT_FOUND
    await host.send(CreateInvite(req=3, ttl=-1))
    assert (await host.expect(Error, req=3)).code == ErrorCode.INVALID_PARAMETER


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=128))
def test_any_typed_name_gives_a_valid_fresh_user_id(name: str) -> None:
    """Whatever a redeemer types (any script, emoji, spaces), the room link gives a user id
    Qiniu's rule accepts, distinct from the ids already in the room."""
    rooms, _ = seated("host", "bob")
    invite = rooms.invites.create(APP, ROOM, name="", personal=False, ttl=60, max_uses=0,
                                  now=0.0)
    _, first, typed = rooms.host.redeem_invite(invite.code, name, None, 1.0)
    _, second, _ = rooms.host.redeem_invite(invite.code, name, None, 1.0)
    assert USER_ID_RE.fullmatch(first) and USER_ID_RE.fullmatch(second)
    assert len({first, second, "host", "bob"}) == 4
    assert typed == name.strip()
