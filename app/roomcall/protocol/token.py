"""RoomTokens: what a client presents to join a room (Qiniu's ``roomToken`` algorithm).

A token is ``AccessKey + ":" + sign + ":" + enc`` where ``enc`` is the URL-safe base64 (with
``=`` padding) of a JSON object ``{"appId", "roomName", "userId", "expireAt", "permission"}``
and ``sign`` is the URL-safe base64 of HMAC-SHA1 over the *encoded* text ``enc``, keyed with the
secret key. Qiniu's SDKs serialise the JSON differently (key order, spaces), so the verifier
checks the signature over ``enc`` exactly as received and only then decodes it; it never
re-serialises.

>>> access = RoomAccess("appid123", "room_001", "user_001", 1700000000, "admin")
>>> token = sign_room_token("DUMMY_AK", "DUMMY_SK", access)
>>> token.split(":")[1]
'WCdrzyvkfG5Ft16Piz5fKnzyosQ='
>>> verify_room_token(token, {"DUMMY_AK": "DUMMY_SK"}.get, now=1600000000) == access
True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from roomcall.protocol.errors import ErrorCode

ROOM_NAME_RE = re.compile(r"[a-zA-Z0-9_-]{3,64}")
"""What a room name may be (Qiniu: ``^[a-zA-Z0-9_-]{3,64}$``); use ``fullmatch``."""

USER_ID_RE = re.compile(r"[a-zA-Z0-9_-]{3,50}")
"""What a user id may be (Qiniu: ``^[a-zA-Z0-9_-]{3,50}$``); use ``fullmatch``."""

_USER_ID_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]+")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_MAX_EXPIRE_AT = 2**63 - 1  # Qiniu's Go SDK carries expireAt as int64
_MAX_TOKEN_CHARS = 8192  # a real token is ~250 characters; refuse to hash megabytes


def user_id_for(name: str) -> str:
    """A fresh user id (``USER_ID_RE``) that resembles a display ``name``: its ASCII letters
    and digits, then a random suffix (24 bits: callers that need uniqueness check for it).

    >>> user_id_for("Ann Lee")[:8]
    'ann-lee-'
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _USER_ID_UNSAFE.sub("-", ascii_name.lower()).strip("-")[:32] or "user"
    return f"{slug}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class RoomAccess:
    """The grant a RoomToken carries."""

    app_id: str
    room_name: str
    user_id: str
    expire_at: int
    """Absolute Unix time in seconds after which the token no longer admits a join."""
    permission: Literal["admin", "user"] = "user"
    """``"admin"`` may remove other members; ``"user"`` may not."""


class TokenError(Exception):
    """A token that does not admit its bearer.

    ``code`` is :attr:`ErrorCode.TOKEN_ERROR` (10001: malformed, unknown key, bad signature or
    field) or :attr:`ErrorCode.TOKEN_EXPIRED` (10002); ``message`` says what was wrong.
    """

    def __init__(self, message: str, code: int = ErrorCode.TOKEN_ERROR) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message


def sign_room_token(access_key: str, secret_key: str, access: RoomAccess) -> str:
    """The RoomToken granting ``access``, signed with ``secret_key``.

    The JSON is compact with keys in the order appId, roomName, userId, expireAt, permission,
    as in the reference's worked example. Raises :class:`ValueError` for a room name, user id
    or permission that no verifier would accept, so a bad token is never handed out.
    """
    if not access_key or not secret_key:
        raise ValueError("access key and secret key must not be empty")
    if ":" in access_key:
        raise ValueError("access key must not contain ':'")
    if not access.app_id:
        raise ValueError("app id must not be empty")
    if not ROOM_NAME_RE.fullmatch(access.room_name):
        raise ValueError(f"room name {access.room_name!r} must match {ROOM_NAME_RE.pattern}")
    if not USER_ID_RE.fullmatch(access.user_id):
        raise ValueError(f"user id {access.user_id!r} must match {USER_ID_RE.pattern}")
    if access.permission not in ("admin", "user"):
        raise ValueError(f"permission must be 'admin' or 'user', not {access.permission!r}")
    payload = {
        "appId": access.app_id,
        "roomName": access.room_name,
        "userId": access.user_id,
        "expireAt": int(access.expire_at),
        "permission": access.permission,
    }
    enc = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    enc_text = enc.decode("ascii")
    return f"{access_key}:{_sign(secret_key, enc_text)}:{enc_text}"


def verify_room_token(
    token: str,
    secret_for: Callable[[str], str | None],
    *,
    now: float,
    leeway: float = 0,
) -> RoomAccess:
    """The grant in ``token`` if it is authentic and unexpired at ``now`` (Unix seconds).

    ``secret_for`` maps an access key to its secret key, or None for an unknown key.
    ``leeway`` seconds of clock difference are forgiven on the expiry. Whether the app id
    exists is the caller's business. Raises :class:`TokenError` (and nothing else, whatever
    the string): 10002 when expired, 10001 for everything else.
    """
    if not isinstance(token, str):
        raise TokenError("token must be a string")
    token = token.strip()
    if not token:
        raise TokenError("token is empty")
    if len(token) > _MAX_TOKEN_CHARS:
        raise TokenError(f"token is longer than {_MAX_TOKEN_CHARS} characters")
    parts = token.split(":")
    if len(parts) != 3:
        raise TokenError("token must have the form AccessKey:sign:data")
    access_key, sign, enc = parts
    if not access_key:
        raise TokenError("token has no access key")
    secret = secret_for(access_key)
    if secret is None:
        raise TokenError("token signed with an unknown access key")
    if not _B64URL_RE.fullmatch(sign) or not _B64URL_RE.fullmatch(enc):
        raise TokenError("token is not URL-safe base64")
    if not _signed_by(secret, enc, sign):
        raise TokenError("token signature does not match")
    access = _parse_access(_decode_json(enc))
    if access.expire_at + leeway < now:
        raise TokenError(f"token expired at {access.expire_at}", ErrorCode.TOKEN_EXPIRED)
    return access


def read_room_token(token: str) -> RoomAccess:
    """The grant ``token`` states, read WITHOUT checking its signature or expiry: for a client
    that only shows what it was invited to. Raises :class:`TokenError` when unreadable."""
    parts = token.strip().split(":")
    if len(parts) != 3 or len(token) > _MAX_TOKEN_CHARS:
        raise TokenError("token must have the form AccessKey:sign:data")
    if not _B64URL_RE.fullmatch(parts[2]):
        raise TokenError("token is not URL-safe base64")
    return _parse_access(_decode_json(parts[2]))


def _signed_by(secret: str, enc: str, sign: str) -> bool:
    """Whether ``sign`` is the signature of ``enc``. The signer signed the padded text, but
    '=' is easily lost in links and query strings, so padding is optional on both parts."""
    # compare_digest: the time taken reveals nothing about how much of the signature matched
    if hmac.compare_digest(_sign(secret, enc).rstrip("="), sign.rstrip("=")):
        return True
    padded = enc.rstrip("=") + "=" * (-len(enc.rstrip("=")) % 4)
    return padded != enc and hmac.compare_digest(_sign(secret, padded).rstrip("="),
                                                 sign.rstrip("="))


def _sign(secret_key: str, enc: str) -> str:
    digest = hmac.new(secret_key.encode("utf-8"), enc.encode("ascii"), hashlib.sha1).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def _decode_json(enc: str) -> dict[str, Any]:
    bare = enc.rstrip("=")
    if len(bare) % 4 == 1:
        raise TokenError("token data is not valid base64")
    try:
        raw = base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        # ValueError covers JSONDecodeError, UnicodeDecodeError and oversized integers
        raise TokenError("token data is not base64-encoded JSON") from None
    if not isinstance(value, dict):
        raise TokenError("token data is not a JSON object")
    return value


def _parse_access(raw: dict[str, Any]) -> RoomAccess:
    app_id = raw.get("appId")
    if not isinstance(app_id, str) or not app_id:
        raise TokenError("token appId must be a non-empty string")
    room_name = raw.get("roomName")
    if not isinstance(room_name, str) or not ROOM_NAME_RE.fullmatch(room_name):
        raise TokenError(f"token roomName must match {ROOM_NAME_RE.pattern}")
    user_id = raw.get("userId")
    if not isinstance(user_id, str) or not USER_ID_RE.fullmatch(user_id):
        raise TokenError(f"token userId must match {USER_ID_RE.pattern}")
    expire_at = raw.get("expireAt")
    if (not isinstance(expire_at, int) or isinstance(expire_at, bool)
            or not 0 <= expire_at <= _MAX_EXPIRE_AT):
        raise TokenError("token expireAt must be a Unix time in whole seconds")
    permission: Literal["admin", "user"]
    match raw.get("permission"):
        # Go structs serialise an unset permission as "" (no omitempty): that means "user" too
        case None | "" | "user":
            permission = "user"
        case "admin":
            permission = "admin"
        case _:
            raise TokenError("token permission must be 'admin' or 'user'")
    return RoomAccess(app_id, room_name, user_id, expire_at, permission)
