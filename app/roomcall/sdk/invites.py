"""Invite links: ``roomcall://host:port/r/<code>``, made by a room's host and redeemed over
HTTP for a personal RoomToken (``docs/protocol.md``, "Invites").

>>> link = room_link("ws://192.168.1.5:7880", "Ab3dEf")
>>> link
'roomcall://192.168.1.5:7880/r/Ab3dEf'
>>> parse_room_link(link)
('ws://192.168.1.5:7880', 'Ab3dEf')
>>> server_url, token = await redeem_invite(link, "Bob")     # doctest: +SKIP
>>> await RTCClient(server_url).join(token, user_data="Bob")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit

import aiohttp

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import InviteInfo
from roomcall.sdk.state import JoinError

SCHEME = "roomcall"
LINK_PATH = "/r/"
"""The path of a room link before its code."""
REDEEM_TIMEOUT = 10.0
"""Seconds a redemption may take before it fails with 21001."""

_CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")


class InviteLinkError(ValueError):
    """Text that is not a ``roomcall://host:port/r/<code>`` link."""


@dataclass(frozen=True)
class RoomInvite(InviteInfo):
    """An invite link of the room, as :meth:`RTCClient.create_invite` returns it."""

    server_url: str = ""
    """The server the link was made on (its base URL, as the host's client reached it)."""

    def link(self, host: str | None = None) -> str:
        """The link to hand out. ``host`` replaces the server's address as the host reached
        it (e.g. this computer's LAN address instead of 127.0.0.1); the port stays."""
        return room_link(self.server_url, self.code, host=host)

    @classmethod
    def from_info(cls, info: InviteInfo, server_url: str) -> RoomInvite:
        """``info`` of a link made on ``server_url``."""
        values = {f.name: getattr(info, f.name) for f in dataclasses.fields(InviteInfo)}
        return cls(**values, server_url=server_url)


@dataclass(frozen=True)
class InviteDetails:
    """What a link is for, before it is redeemed (:func:`peek_invite`)."""

    room: str
    personal: bool
    """True for an invite of one named person."""
    name: str
    """A personal invite's name: pre-fill the name field with it."""
    expires_at: int
    """Unix seconds."""


def room_link(server_url: str, code: str, *, host: str | None = None) -> str:
    """The link for ``code`` on the server at ``server_url`` (``ws://`` or ``wss://``)."""
    parts = urlsplit(server_url)
    secure = parts.scheme.lower() in ("wss", "https")
    name = host or parts.hostname or "127.0.0.1"
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 literal needs brackets in a URL
    port = parts.port or (443 if secure else 80)
    return (f"{SCHEME}://{name}:{port}{LINK_PATH}{quote(code, safe='')}"
            + ("?tls=1" if secure else ""))


def link_server(text: str) -> tuple[SplitResult, str]:
    """The parts of a ``roomcall://`` link and the server base URL it names (``wss`` when the
    query says ``tls=1``); surrounding spaces and quotes are forgiven.

    Raises :class:`InviteLinkError` without the scheme, a host or a port.
    """
    parts = urlsplit(text.strip().strip("\"'<>"))
    if parts.scheme.lower() != SCHEME:
        raise InviteLinkError("not a roomcall:// invite link")
    try:
        port = parts.port
    except ValueError as exc:
        raise InviteLinkError("the invite link has a bad port") from exc
    if not parts.hostname or port is None:
        raise InviteLinkError("the invite link has no server address and port")
    secure = "tls=1" in parts.query.split("&")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return parts, f"{'wss' if secure else 'ws'}://{host}:{port}"


def parse_room_link(text: str) -> tuple[str, str]:
    """``(server_url, code)`` of a room link (surrounding spaces and quotes are forgiven).

    Raises :class:`InviteLinkError`.
    """
    parts, server_url = link_server(text)
    if not parts.path.startswith(LINK_PATH):
        raise InviteLinkError("the invite link has no /r/<code> part")
    code = parts.path[len(LINK_PATH):].strip("/")
    if not _CODE_RE.fullmatch(code):
        raise InviteLinkError("the invite link's code is damaged")
    return server_url, code


async def redeem_invite(link: str, name: str, *, previous_token: str = "",
                        timeout: float = REDEEM_TIMEOUT) -> tuple[str, str]:  # noqa: ASYNC109
    """Redeem a room link as ``name``: ``(server_url, token)`` to ``join`` with.

    ``previous_token``, a token this app got from the same link before (expired or not),
    brings its holder back as the same user instead of a new one.

    Raises :class:`JoinError`: 30001 unknown or revoked link (or its room ended), 30002
    expired, 30003 used up, 10006 the host removed this person, 30010 too many attempts from
    this address, 10053 bad name, 21001 the server cannot be reached; and
    :class:`InviteLinkError` for text that is not a link.
    """
    server_url, code = parse_room_link(link)
    answer = await _call("POST", server_url, f"/v1/invites/{code}/redeem",
                         {"name": name, "token": previous_token}, timeout)
    token = answer.get("token")
    if not isinstance(token, str):
        raise JoinError(ErrorCode.FATAL, "the server's answer has no token")
    return server_url, token


async def peek_invite(link: str, *, timeout: float = REDEEM_TIMEOUT  # noqa: ASYNC109
                      ) -> InviteDetails:
    """What ``link`` is for (room, and a personal invite's name), without redeeming it.

    Raises :class:`JoinError` (30001, 30010, 21001) or :class:`InviteLinkError`.
    """
    server_url, code = parse_room_link(link)
    answer = await _call("GET", server_url, f"/v1/invites/{code}", None, timeout)
    try:
        return InviteDetails(room=str(answer["room"]), personal=bool(answer["personal"]),
                             name=str(answer["name"]), expires_at=int(answer["expiresAt"]))
    except (KeyError, TypeError, ValueError):
        raise JoinError(ErrorCode.FATAL, "the server's answer is incomplete") from None


async def _call(method: str, server_url: str, path: str, body: dict[str, str] | None,
                timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
    base = "http" + server_url[len("ws"):] if server_url.startswith("ws") else server_url
    try:
        async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=timeout)) as session, session.request(
                method, base + path, json=body) as response:
            text = await response.text()
            status = response.status
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise JoinError(ErrorCode.AUTH_FAILED, f"cannot reach {server_url}: {exc}") from None
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise JoinError(ErrorCode.FATAL, f"unexpected answer from {server_url} ({status})")
    if status != 200:
        code = answer.get("code")
        raise JoinError(code if isinstance(code, int) else ErrorCode.FATAL,
                        str(answer.get("error", f"status {status}")))
    return answer
