"""ICE servers as the room server hands them out, and the TURN REST API credentials in them.

A member learns its STUN and TURN servers from the ``joined`` answer. TURN servers carry
short-lived credentials in the scheme coturn checks with ``use-auth-secret`` and
``static-auth-secret`` (the "TURN REST API" of draft-uberti-behave-turn-rest-00): the username
is ``<expiry unix time>:<user id>``, the password ``base64(HMAC-SHA1(secret, username))``. The
TURN server needs only the shared secret, never a list of users, and a credential stops working
at its expiry.

>>> turn_credential("s3cret", "alice", expires_at=1700000000)
('1700000000:alice', 'TtElzSjT0GdnTQ9xdcRNxx96yQs=')
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

ICE_URL_RE = re.compile(
    r"(?P<scheme>stun|turns?):(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>\d{1,5}))?"
    r"(?:\?transport=(?P<transport>udp|tcp))?")
"""A STUN or TURN URL as RFC 7064 / RFC 7065 write them (what aiortc accepts)."""


@dataclass(frozen=True)
class IceServer:
    """One entry of a member's ICE configuration (the WebRTC ``RTCIceServer`` shape)."""

    urls: tuple[str, ...]
    """``stun:``, ``turn:`` or ``turns:`` URLs sharing the credential below."""
    username: str = ""
    """TURN username (``<expiry>:<user id>``); empty for STUN."""
    credential: str = ""
    """TURN password for ``username``; empty for STUN."""


def check_ice_url(url: str) -> str:
    """``url`` unchanged if it is a usable ``stun:`` / ``turn:`` / ``turns:`` URL, else
    ValueError saying why. A ``stun:`` URL takes no transport; ``turns:`` needs TCP."""
    match = ICE_URL_RE.fullmatch(url)
    if match is None:
        raise ValueError(f"{url!r} is not a stun:, turn: or turns: URL "
                         "(e.g. turn:turn.example.org:3478?transport=udp)")
    port = match["port"]
    if port is not None and not 0 < int(port) < 65536:
        raise ValueError(f"{url!r}: port {port} is not 1-65535")
    if match["scheme"] == "stun" and match["transport"]:
        raise ValueError(f"{url!r}: a stun: URL takes no transport")
    if match["scheme"] == "turns" and match["transport"] == "udp":
        raise ValueError(f"{url!r}: turns: runs over TCP only")
    return url


def turn_credential(secret: str, user_id: str, expires_at: int) -> tuple[str, str]:
    """The TURN REST API ``(username, password)`` for ``user_id``, valid until ``expires_at``
    (Unix time, seconds), as coturn's ``use-auth-secret`` with ``static-auth-secret=secret``
    verifies it."""
    username = f"{int(expires_at)}:{user_id}"
    digest = hmac.new(secret.encode("utf-8"), username.encode("utf-8"), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")
