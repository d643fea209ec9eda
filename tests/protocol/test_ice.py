"""TURN REST API credentials and ICE server URLs, and the ``ice_servers`` of a join answer."""

from __future__ import annotations

import json

import pytest

from roomcall.protocol.ice import IceServer, check_ice_url, turn_credential
from roomcall.protocol.messages import Joined, parse, serialize


@pytest.mark.parametrize("secret, user, expires_at, password", [
    # Computed with: printf '%s' '1700000000:alice' | openssl dgst -sha1 -hmac s3cret
    #                -binary | base64
    ("s3cret", "alice", 1700000000, "TtElzSjT0GdnTQ9xdcRNxx96yQs="),
    ("north-wind:8", "bob_42", 1796160000, "36nW+6xvp5VeQKdIPqV8Ik8niaw="),
])
def test_turn_credential_matches_an_independent_hmac(secret: str, user: str, expires_at: int,
                                                      password: str) -> None:
    """The username is ``expiry:user`` and the password base64 HMAC-SHA1 of it, byte for byte
    what coturn's use-auth-secret recomputes (vectors from openssl, not from this code)."""
    assert turn_credential(secret, user, expires_at) == (f"{expires_at}:{user}", password)


@pytest.mark.parametrize("url", [
    "stun:turn.example.org", "stun:203.0.113.10:3478", "turn:turn.example.org:3478",
    "turn:turn.example.org:3478?transport=udp", "turn:turn.example.org:443?transport=tcp",
    "turns:turn.example.org:5349?transport=tcp", "turns:turn.example.org",
    "stun:[2001:db8::1]:3478",
])
def test_usable_urls_are_accepted(url: str) -> None:
    """STUN, TURN and TURN-over-TLS URLs in the forms aiortc takes pass unchanged."""
    assert check_ice_url(url) == url


@pytest.mark.parametrize("url, why", [
    ("http://turn.example.org", "not a stun:"),
    ("turn:", "not a stun:"),
    ("turn:turn.example.org:3478?transport=sctp", "not a stun:"),
    ("stun:turn.example.org:3478?transport=udp", "takes no transport"),
    ("turns:turn.example.org:5349?transport=udp", "TCP only"),
    ("turn:turn.example.org:70000", "1-65535"),
    ("turn:turn.example.org:0", "1-65535"),
])
def test_unusable_urls_are_refused(url: str, why: str) -> None:
    """Anything aiortc could not use is refused with the reason, not passed on to members."""
    with pytest.raises(ValueError, match=why):
        check_ice_url(url)


def test_joined_carries_ice_servers_through_the_wire() -> None:
    """A join answer's ICE servers survive serialize / parse; an older answer has none."""
    servers = (IceServer(urls=("stun:203.0.113.10:3478",)),
               IceServer(urls=("turn:203.0.113.10:3478?transport=udp",
                               "turn:203.0.113.10:3478?transport=tcp"),
                         username="1700000000:alice", credential="pw"))
    joined = Joined(req=1, session_id="s", room="r", user_id="alice", permission="user",
                    members=(), server_time=1, heartbeat_interval=5.0, reconnect_window=30.0,
                    ice_servers=servers)
    assert parse(serialize(joined)) == joined
    older = json.loads(serialize(joined))
    del older["ice_servers"]
    parsed = parse(json.dumps(older))
    assert isinstance(parsed, Joined) and parsed.ice_servers == ()
