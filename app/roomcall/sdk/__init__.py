"""The roomcall client SDK: join a room on a roomcall server, follow its members, exchange
messages, publish and receive media. No Qt.

>>> from roomcall.sdk import RTCClient, ConnectionState, PeerState   # doctest: +SKIP
>>> server_url, token = await redeem_invite(link, "Bob")            # doctest: +SKIP

Events and their arguments are listed in :mod:`roomcall.sdk.events`; states and errors in
:mod:`roomcall.sdk.state`; reconnection behaviour in :mod:`roomcall.sdk.client`; network
quality grades in :mod:`roomcall.sdk.quality`, per-track figures in :mod:`roomcall.sdk.stats`.
"""

from roomcall.protocol.messages import TrackInfo
from roomcall.sdk.backoff import exponential_backoff
from roomcall.sdk.client import RTCClient
from roomcall.sdk.events import EventName, Message
from roomcall.sdk.invites import (
    InviteDetails,
    InviteLinkError,
    RoomInvite,
    peek_invite,
    redeem_invite,
    room_link,
)
from roomcall.sdk.quality import NetworkGrade, NetworkQuality
from roomcall.sdk.state import (
    ConnectionInfo,
    ConnectionState,
    DisconnectReason,
    JoinError,
    PeerState,
    RTCError,
)
from roomcall.sdk.stats import CallStats, TrackStats
from roomcall.sdk.topology import TrackProfile
from roomcall.sdk.tracks import LocalPublication, RemoteTrack
from roomcall.sdk.users import RemoteUser

__all__ = [
    "CallStats",
    "ConnectionInfo",
    "ConnectionState",
    "DisconnectReason",
    "EventName",
    "InviteDetails",
    "InviteLinkError",
    "JoinError",
    "LocalPublication",
    "Message",
    "NetworkGrade",
    "NetworkQuality",
    "PeerState",
    "RTCClient",
    "RTCError",
    "RemoteTrack",
    "RemoteUser",
    "RoomInvite",
    "TrackInfo",
    "TrackProfile",
    "TrackStats",
    "exponential_backoff",
    "peek_invite",
    "redeem_invite",
    "room_link",
]
