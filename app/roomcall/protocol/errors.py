"""Qiniu RTC error codes and disconnect reasons (reference: Qiniu's room error code tables)."""

from __future__ import annotations

import enum


class ErrorCode(enum.IntEnum):
    """Room-related error codes, numbered as Qiniu's SDKs number them."""

    TOKEN_ERROR = 10001
    """The token is malformed, its signature is wrong, or it does not match the request."""
    TOKEN_EXPIRED = 10002
    ROOM_CLOSED = 10005
    """The room was closed by an administrator."""
    KICKED_OUT = 10006
    ROOM_FULL = 10011
    ROOM_NOT_EXIST = 10012
    USER_NOT_EXIST = 10021
    USER_ALREADY_EXIST = 10022
    """The same user is already in the room and the app sets ``noAutoKickUser``."""
    NO_PERMISSION = 10051
    INVALID_PARAMETER = 10053
    MEDIA_NEGOTIATION_FAILED = 10054
    SIGNALLING_TIMEOUT = 11013
    AUTH_FAILED = 21001
    INVALID_STATE = 21002
    RECONNECT_FAILED = 21003
    FATAL = 21005
    CAMERA_OPEN_FAILED = 23001
    CAMERA_ERROR = 23002
    SCREEN_CAPTURE_FAILED = 23003
    MICROPHONE_OPEN_FAILED = 23006
    MICROPHONE_ERROR = 23007
    SPEAKER_ERROR = 23008
    # roomcall's own codes (30000-30999): features Qiniu has no code for. Qiniu uses none here.
    INVITE_NOT_FOUND = 30001
    """The invite link is unknown, was revoked, or its room has closed."""
    INVITE_EXPIRED = 30002
    INVITE_USED_UP = 30003
    """The invite link has been redeemed as often as its host allowed."""
    RATE_LIMITED = 30010
    """Too many invite redemptions from one address; try again later."""


class DisconnectReason(enum.Enum):
    """Why a connection ended in DISCONNECTED (``QNConnectionDisconnectedInfo.reason``)."""

    LEAVE = "LEAVE"
    """The local user called ``leave()``."""
    KICKED_OUT = "KICKED_OUT"
    """Removed by the server, by an admin member, or replaced by a newer join of the same user."""
    ROOM_CLOSED = "ROOM_CLOSED"
    ROOM_FULL = "ROOM_FULL"
    ERROR = "ERROR"
    """Anything else; the error code says what."""


ERROR_MESSAGES: dict[int, str] = {
    ErrorCode.TOKEN_ERROR: "invalid room token",
    ErrorCode.TOKEN_EXPIRED: "room token expired",
    ErrorCode.ROOM_CLOSED: "room closed by admin",
    ErrorCode.KICKED_OUT: "kicked out",
    ErrorCode.ROOM_FULL: "room is full",
    ErrorCode.ROOM_NOT_EXIST: "room does not exist",
    ErrorCode.USER_NOT_EXIST: "user does not exist",
    ErrorCode.USER_ALREADY_EXIST: "user already in room",
    ErrorCode.NO_PERMISSION: "no permission",
    ErrorCode.INVALID_PARAMETER: "invalid parameter",
    ErrorCode.MEDIA_NEGOTIATION_FAILED: "media negotiation failed",
    ErrorCode.SIGNALLING_TIMEOUT: "signalling timeout",
    ErrorCode.AUTH_FAILED: "authentication failed",
    ErrorCode.INVALID_STATE: "invalid state for this call",
    ErrorCode.RECONNECT_FAILED: "reconnect failed",
    ErrorCode.FATAL: "fatal error",
    ErrorCode.INVITE_NOT_FOUND: "invite link not valid",
    ErrorCode.INVITE_EXPIRED: "invite link expired",
    ErrorCode.INVITE_USED_UP: "invite link used up",
    ErrorCode.RATE_LIMITED: "too many attempts",
}


def error_message(code: int) -> str:
    """A short English description of ``code`` (``"error <code>"`` for unknown codes)."""
    return ERROR_MESSAGES.get(code, f"error {code}")
