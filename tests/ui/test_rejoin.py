"""The rejoin policy: only a session that expired (21003) is rejoined, and only with a
token that is still valid; KICKED_OUT and ROOM_CLOSED never are."""

from __future__ import annotations

import time

from roomcall.protocol.errors import DisconnectReason, ErrorCode
from roomcall.protocol.token import RoomAccess, sign_room_token
from roomcall.sdk import ConnectionInfo
from roomcall.ui import rejoin

NOW = 1_800_000_000.0


def _token(expire_at: float) -> str:
    return sign_room_token("AK", "SK", RoomAccess("app1", "room_1", "bob", int(expire_at),
                                                  "user"))


def test_an_expired_session_is_rejoined_while_the_token_is_valid() -> None:
    """DISCONNECTED / ERROR / 21003 with a token valid for another hour: rejoin."""
    info = ConnectionInfo(DisconnectReason.ERROR, ErrorCode.RECONNECT_FAILED)
    assert rejoin.should_rejoin(info, _token(NOW + 3600), NOW)
    assert not rejoin.should_rejoin(info, _token(NOW - 1), NOW)
    assert not rejoin.should_rejoin(info, _token(NOW + 2), NOW)  # within the clock margin
    assert not rejoin.should_rejoin(info, "not a token", NOW)


def test_removed_closed_or_left_is_never_rejoined() -> None:
    """The host's kick, a closed room, a leave and other errors end the call for good."""
    token = _token(NOW + 3600)
    for info in (ConnectionInfo(DisconnectReason.KICKED_OUT, ErrorCode.KICKED_OUT),
                 ConnectionInfo(DisconnectReason.ROOM_CLOSED, ErrorCode.ROOM_CLOSED),
                 ConnectionInfo(DisconnectReason.LEAVE, 0),
                 ConnectionInfo(DisconnectReason.ERROR, ErrorCode.TOKEN_EXPIRED),
                 None):
        assert not rejoin.should_rejoin(info, token, NOW), info


def test_only_unreachable_servers_are_retried() -> None:
    """A rejoin that could not reach the server is tried again; a refusal is final."""
    token = _token(NOW + 3600)
    assert rejoin.retry_join(ErrorCode.AUTH_FAILED, token, NOW)
    assert rejoin.retry_join(ErrorCode.SIGNALLING_TIMEOUT, token, NOW)
    assert not rejoin.retry_join(ErrorCode.TOKEN_EXPIRED, token, NOW)
    assert not rejoin.retry_join(ErrorCode.ROOM_FULL, token, NOW)
    assert not rejoin.retry_join(ErrorCode.AUTH_FAILED, _token(time.time() - 60), time.time())
