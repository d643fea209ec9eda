"""When the desktop app rejoins a room by itself. Qt-free.

The SDK resumes a session for the server's reconnect window (30 s by default); past it the
session is gone (DISCONNECTED / ERROR / 21003) and only a new ``join()`` gets the person back.
The app does that for them while the token that admitted them is still valid, never after
the host removed them (KICKED_OUT) or the room was closed (ROOM_CLOSED).
"""

from __future__ import annotations

from collections.abc import Iterator

from roomcall.protocol.errors import DisconnectReason, ErrorCode
from roomcall.sdk import ConnectionInfo, exponential_backoff
from roomcall.ui.invite import read_claims

EXPIRY_MARGIN_SECONDS = 5.0
"""A token this close to its expiry is treated as expired (clocks differ a little)."""

RETRY_CODES = frozenset({ErrorCode.AUTH_FAILED, ErrorCode.SIGNALLING_TIMEOUT,
                         ErrorCode.RECONNECT_FAILED})
"""Join failures worth another attempt: the server could not be reached or did not answer.
Anything else (expired or refused token, full room, ...) is final."""


def token_valid(token: str, now: float) -> bool:
    """True while ``token`` states an expiry more than a few seconds after ``now``."""
    claims = read_claims(token)
    return claims is not None and claims.expire_at > now + EXPIRY_MARGIN_SECONDS


def should_rejoin(info: ConnectionInfo | None, token: str, now: float) -> bool:
    """True when a session that ended with ``info`` is to be rejoined with ``token``."""
    return (info is not None and info.reason is DisconnectReason.ERROR
            and info.error_code == ErrorCode.RECONNECT_FAILED and token_valid(token, now))


def retry_join(code: int, token: str, now: float) -> bool:
    """True when a rejoin attempt that failed with ``code`` is worth another one."""
    return code in RETRY_CODES and token_valid(token, now)


def delays() -> Iterator[float]:
    """Seconds between rejoin attempts: soon at first, then every few seconds."""
    return exponential_backoff(initial=0.5, factor=2.0, maximum=5.0)
