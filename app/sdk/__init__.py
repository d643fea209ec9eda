"""The roomcall client SDK: join a room on a roomcall server, follow its members, exchange
messages, publish and receive media. No Qt.

>>> from app.sdk import RTCClient, ConnectionState, DisconnectReason   # doctest: +SKIP

Events and their arguments are listed in :mod:`app.sdk.events`; states and errors in
:mod:`app.sdk.state`; reconnection behaviour in :mod:`app.sdk.client`.
"""

from app.protocol.messages import TrackInfo
from app.sdk.backoff import exponential_backoff
from app.sdk.client import RTCClient
from app.sdk.events import EventName, Message
from app.sdk.state import ConnectionInfo, ConnectionState, DisconnectReason, JoinError, RTCError
from app.sdk.tracks import LocalPublication, RemoteTrack
from app.sdk.users import RemoteUser

__all__ = [
    "ConnectionInfo",
    "ConnectionState",
    "DisconnectReason",
    "EventName",
    "JoinError",
    "LocalPublication",
    "Message",
    "RTCClient",
    "RTCError",
    "RemoteTrack",
    "RemoteUser",
    "TrackInfo",
    "exponential_backoff",
]
