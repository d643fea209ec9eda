"""Connection states of a client, the transitions allowed between them, and the errors the
SDK raises.

::

    DISCONNECTED --join--> CONNECTING --joined--> CONNECTED
         ^                     |                     |  (socket lost / heartbeats unanswered)
         |<----- failure ------'                     v
         |<------------------------------------ RECONNECTING <---.
         |  (leave, kicked, room closed,             |           |
         |   window passed: 21003)                   v           |
         '-------------------------------------- RECONNECTED ----'

RECONNECTED is a steady connected state like CONNECTED: the client stays in it until the next
loss or the end of the session.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from roomcall.protocol.errors import DisconnectReason, error_message
from roomcall.protocol.messages import CAUSE_ENDED, CAUSE_REMOVED, CAUSE_REPLACED, CAUSE_SHUTDOWN

__all__ = [
    "TRANSITIONS",
    "ConnectionInfo",
    "ConnectionState",
    "DisconnectReason",
    "JoinError",
    "PeerState",
    "RTCError",
]


class ConnectionState(enum.Enum):
    """Where a client's session stands (``QNConnectionState``)."""

    DISCONNECTED = "DISCONNECTED"
    CONNECTING = "CONNECTING"
    CONNECTED = "CONNECTED"
    RECONNECTING = "RECONNECTING"
    RECONNECTED = "RECONNECTED"

    @property
    def is_connected(self) -> bool:
        """True in CONNECTED and RECONNECTED: requests can be sent."""
        return self in (ConnectionState.CONNECTED, ConnectionState.RECONNECTED)


class PeerState(enum.Enum):
    """Where the media path to one remote member stands (event ``peer_state_changed``)."""

    CONNECTING = "CONNECTING"
    """Negotiating or checking connectivity; no media yet."""
    CONNECTED = "CONNECTED"
    """Media can flow both ways."""
    RECOVERING = "RECOVERING"
    """The path failed or was lost while both are in the room; it is being restarted."""
    FAILED = "FAILED"
    """No path could be found (e.g. both members behind NATs and no TURN relay)."""


_S = ConnectionState

TRANSITIONS: dict[ConnectionState, frozenset[ConnectionState]] = {
    _S.DISCONNECTED: frozenset({_S.CONNECTING}),
    _S.CONNECTING: frozenset({_S.CONNECTED, _S.DISCONNECTED}),
    _S.CONNECTED: frozenset({_S.RECONNECTING, _S.DISCONNECTED}),
    _S.RECONNECTING: frozenset({_S.RECONNECTED, _S.DISCONNECTED}),
    _S.RECONNECTED: frozenset({_S.RECONNECTING, _S.DISCONNECTED}),
}
"""The states each state may move to; anything else is a bug and raises."""


@dataclass(frozen=True)
class ConnectionInfo:
    """Why the client ended in DISCONNECTED (``QNConnectionDisconnectedInfo``)."""

    reason: DisconnectReason
    error_code: int = 0
    """A Qiniu error code (``roomcall.protocol.errors.ErrorCode``); 0 for a local ``leave()``."""
    error_message: str = ""
    cause: str = ""
    """Why the server ended the session, finer than ``reason`` (``Closed.cause``, one of the
    ``roomcall.protocol.messages.CAUSE_*`` values): ``"removed"`` by the host, ``"kicked"``
    by the server, ``"replaced"`` by a join elsewhere, ``"ended"`` by the host, ``"shutdown"``
    of the server, ``"closed"`` by the management API; "" otherwise."""

    @property
    def replaced(self) -> bool:
        """True when the same user joined the room again from another window or device: the
        reason is KICKED_OUT (10006, as Qiniu), but nobody removed this user."""
        return self.cause == CAUSE_REPLACED

    @property
    def removed_by_host(self) -> bool:
        """True when the host removed this user (it may not rejoin until readmitted)."""
        return self.cause == CAUSE_REMOVED

    @property
    def ended_by_host(self) -> bool:
        """True when the host ended the call for everyone."""
        return self.cause == CAUSE_ENDED

    @property
    def server_stopped(self) -> bool:
        """True when the room server shut down."""
        return self.cause == CAUSE_SHUTDOWN


class RTCError(Exception):
    """A request the server (or the client, before sending) refused, with its Qiniu code."""

    def __init__(self, code: int, message: str = "") -> None:
        self.code = int(code)
        self.message = message or error_message(code)
        super().__init__(f"{self.code}: {self.message}")


class JoinError(RTCError):
    """``join()`` failed; the client is back in DISCONNECTED (unless the call itself was
    invalid, 21002, which leaves the current session untouched)."""
