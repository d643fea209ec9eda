"""Invite links and what the join form's fields mean (no Qt)."""

from __future__ import annotations

import pytest

from roomcall.protocol.token import RoomAccess, sign_room_token
from roomcall.ui.invite import (
    InviteError,
    format_invite,
    parse_invite,
    read_claims,
    resolve_join,
    room_name_for,
    user_id_for,
)
from roomcall.ui.main import run_app  # noqa: F401  (the entry point imports without Qt)

TOKEN = sign_room_token("AK", "SK", RoomAccess("app1", "standup", "bob-1", 2_000_000_000))


def test_link_round_trip() -> None:
    """A formatted link parses back to the server URL, the token's room and the token."""
    link = format_invite("192.168.1.5", 7880, "standup", TOKEN)
    assert link.startswith("roomcall://192.168.1.5:7880/standup?token=")
    invite = parse_invite(f"  '{link}' ")
    assert (invite.server_url, invite.room, invite.token) == (
        "ws://192.168.1.5:7880", "standup", TOKEN)
    assert parse_invite(format_invite("::1", 9, "r", TOKEN, secure=True)).server_url == \
        "wss://[::1]:9"


@pytest.mark.parametrize("text", [
    "http://host:1/room?token=x",
    "roomcall://host/room?token=x",
    "roomcall://host:1/room",
    "roomcall://host:99999/room?token=x",
    "roomcall://:1/room?token=x",
])
def test_bad_links_are_refused(text: str) -> None:
    """Links without the scheme, a port, a host or a token raise InviteError."""
    with pytest.raises(InviteError):
        parse_invite(text)


def test_join_fields() -> None:
    """A link in the address field wins; a URL needs a token; http becomes ws."""
    assert resolve_join(format_invite("h", 1, "standup", TOKEN)).token == TOKEN
    assert resolve_join("http://h:7880/", TOKEN).server_url == "ws://h:7880"
    assert resolve_join("h:7880", TOKEN).room == "standup"
    assert resolve_join("wss://h", TOKEN).server_url == "wss://h"
    for address, token in [("", TOKEN), ("ws://h:1", ""), ("ftp://h:1", TOKEN)]:
        with pytest.raises(InviteError):
            resolve_join(address, token)


def test_claims_and_names() -> None:
    """Token claims are readable for display; ids and room names are made valid."""
    claims = read_claims(TOKEN)
    assert claims is not None and (claims.room_name, claims.user_id) == ("standup", "bob-1")
    assert read_claims("garbage") is None and read_claims("a:b:!!!") is None
    assert user_id_for("王小明").startswith("user-")
    assert user_id_for("Ann Lee").startswith("ann-lee-")
    assert room_name_for("Team sync!") == "team-sync"
    assert room_name_for("会议").startswith("room-")


def test_room_links_are_read_for_redemption() -> None:
    """A ``roomcall://host:port/r/<code>`` room link gives the server and a code to redeem,
    no token; the older token links keep working beside it."""
    invite = parse_invite(" roomcall://192.168.1.5:7880/r/Ab3d-Ef_9 ")
    assert (invite.server_url, invite.code, invite.token, invite.room) == (
        "ws://192.168.1.5:7880", "Ab3d-Ef_9", "", "")
    assert invite.needs_redemption
    assert parse_invite("roomcall://[::1]:9/r/abc?tls=1").server_url == "wss://[::1]:9"
    assert resolve_join("roomcall://h:1/r/abc").code == "abc"
    assert not parse_invite(format_invite("h", 1, "standup", TOKEN)).needs_redemption
    for text in ("roomcall://h/r/abc", "roomcall://h:1/r/", "roomcall://h:1/r/a%2Fb"):
        with pytest.raises(InviteError):
            parse_invite(text)
