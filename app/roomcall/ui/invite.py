"""Invite links, and what a join form was given. Qt-free.

Two forms are read:

- a *room link* ``roomcall://host:port/r/<code>`` (``?tls=1`` for ``wss``), made by the host
  with ``RTCClient.create_invite``: it holds no token; the guest redeems it with
  ``roomcall.sdk.invites.redeem_invite(link, name)`` for a personal RoomToken
  (:attr:`Invite.code` is set and :attr:`Invite.token` empty);
- the older token link ``roomcall://host:port/room?token=...``, which carries the server's
  address and a RoomToken (the room name in the path is for people to read; the token names
  the room the server admits to).

>>> link = format_invite("192.168.1.5", 7880, "standup", "AK:sig:eyJ9")
>>> link
'roomcall://192.168.1.5:7880/standup?token=AK%3Asig%3AeyJ9'
>>> parse_invite(link)
Invite(server_url='ws://192.168.1.5:7880', room='standup', token='AK:sig:eyJ9', code='')
>>> parse_invite("roomcall://192.168.1.5:7880/r/Ab3dEf").code
'Ab3dEf'
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from roomcall.protocol.token import RoomAccess, TokenError, read_room_token, user_id_for
from roomcall.sdk.invites import LINK_PATH, InviteLinkError, link_server, parse_room_link

__all__ = ["SCHEME", "Invite", "InviteError", "format_invite", "parse_invite", "read_claims",
           "resolve_join", "room_name_for", "user_id_for"]

SCHEME = "roomcall"
_USER_ID_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]+")


NOT_A_LINK = "not-a-link"
NO_PORT = "no-port"
DAMAGED = "damaged"
NO_ADDRESS = "no-address"
NO_TOKEN = "no-token"
BAD_ADDRESS = "bad-address"


class InviteError(ValueError):
    """Text that is neither an invite link nor a usable server URL and token; ``reason`` says
    what is wrong (:data:`NO_PORT`, :data:`NO_TOKEN`, ...) for the message a person reads."""

    def __init__(self, message: str, reason: str = NOT_A_LINK) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Invite:
    """Where to join and with which token."""

    server_url: str
    """The room server's base URL for the SDK (``ws://host:port`` or ``wss://...``)."""
    room: str
    """The room name as the token states it (or as the link states it, if unreadable); ""
    for a room link (the redeemed token names it)."""
    token: str
    """The RoomToken to join with; "" for a room link until it is redeemed."""
    code: str = ""
    """A room link's code (redeem it with ``roomcall.sdk.invites.redeem_invite``); "" for a
    token link."""

    @property
    def needs_redemption(self) -> bool:
        """True for a room link: redeem it for a token before joining."""
        return bool(self.code) and not self.token


def format_invite(host: str, port: int, room: str, token: str, *, secure: bool = False) -> str:
    """The invite link for ``token`` on the server at ``host:port``."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal needs brackets in a URL
    query = f"token={quote(token, safe='')}"
    if secure:
        query += "&tls=1"
    return f"{SCHEME}://{host}:{port}/{quote(room, safe='')}?{query}"


def parse_invite(text: str) -> Invite:
    """Read an invite link (surrounding spaces and quotes are forgiven).

    Raises :class:`InviteError` when the text is not a complete ``roomcall://`` link.
    """
    try:
        parts, server_url = link_server(text)
        if parts.path.startswith(LINK_PATH):
            room_server, code = parse_room_link(text)
            return Invite(room_server, "", "", code)
    except InviteLinkError as exc:
        raise InviteError(str(exc), _link_problem(text)) from None
    tokens = parse_qs(parts.query).get("token")
    if not tokens or not tokens[0]:
        raise InviteError("the invite link has no token", DAMAGED)
    token = tokens[0]
    claims = read_claims(token)
    room = claims.room_name if claims else parts.path.strip("/")
    return Invite(server_url, room, token)


def resolve_join(address: str, token: str = "") -> Invite:
    """What a join form's two fields mean: an invite link, or a server URL plus a token.

    ``http(s)://`` server URLs are accepted too (the management base URL people copy) and
    turned into the signalling ``ws(s)://`` URL. Raises :class:`InviteError`.
    """
    address = address.strip()
    if address.lower().startswith(f"{SCHEME}://"):
        invite = parse_invite(address)
        return Invite(invite.server_url, invite.room, token.strip() or invite.token, invite.code)
    if not address:
        raise InviteError("no invite link or server address given", NO_ADDRESS)
    if not token.strip():
        raise InviteError("no token given", NO_TOKEN)
    if "://" not in address:
        address = f"ws://{address}"
    parts = urlsplit(address)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise InviteError("the server address must look like ws://host:port", BAD_ADDRESS)
    claims = read_claims(token.strip())
    return Invite(f"{scheme}://{parts.netloc}", claims.room_name if claims else "", token.strip())


def _link_problem(text: str) -> str:
    parts = urlsplit(text.strip().strip("\"'<>"))
    if parts.scheme.lower() != SCHEME:
        return NOT_A_LINK
    try:
        port = parts.port
    except ValueError:
        return DAMAGED
    return NO_PORT if parts.hostname and port is None else DAMAGED


def read_claims(token: str) -> RoomAccess | None:
    """The grant a RoomToken states, or None if it cannot be read.

    Only for display and for choosing a local user id: the server verifies the token.
    """
    try:
        return read_room_token(token)
    except TokenError:
        return None


def room_name_for(text: str) -> str:
    """A valid room id (``[a-zA-Z0-9_-]{3,64}``) made from the room name a person typed.

    ASCII names become their slug; a name in another script keeps what ASCII it has plus a
    hash of the whole name, so the same name always gives the same room (the name itself is
    what the window shows). Only an empty name gives a new random room.

    >>> room_name_for("Team sync!")
    'team-sync'
    >>> room_name_for("周会") == room_name_for("周会") != room_name_for("周报")
    True
    """
    text = text.strip()
    if not text:
        return f"room-{secrets.token_hex(3)}"
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _USER_ID_UNSAFE.sub("-", ascii_text.lower()).strip("-")[:48]
    if ascii_text == text and len(slug) >= 3:
        return slug
    digest = hashlib.sha256(unicodedata.normalize("NFC", text).encode()).hexdigest()[:8]
    return f"{slug or 'room'}-{digest}"
