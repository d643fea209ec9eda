"""Signalling messages: frozen dataclasses with ``parse()`` / ``serialize()``.

Every frame is one JSON object with a ``"type"`` field naming the message; the other fields are
the dataclass fields by name. ``docs/protocol.md`` describes the exchange. Any frame that is
not valid JSON, names an unknown type, or has a missing or ill-typed field raises
:class:`ProtocolError` with a Qiniu error code, never anything else.

>>> serialize(Kick(req=3, user_id="bob"))
'{"type":"kick","req":3,"user_id":"bob"}'
>>> parse('{"type":"kick","req":3,"user_id":"bob"}')
Kick(req=3, user_id='bob')
"""

from __future__ import annotations

import dataclasses
import json
import math
import operator
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Union

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.ice import IceServer

PROTOCOL_VERSION = 1
"""Sent in ``join``; the server refuses versions it does not speak with 10053."""

SIGNAL_PATH = "/v1/signal"
"""WebSocket path of the signalling endpoint, relative to the server's base URL."""

MAX_FRAME_BYTES = 64 * 1024
"""Largest frame the server reads; a larger one is refused and the connection closed."""

MAX_MESSAGE_CONTENT_BYTES = 15 * 1024
"""Largest custom message content (UTF-8 bytes), as LiveKit's data messages."""

MAX_RELAY_BYTES = 48 * 1024
"""Largest relayed negotiation payload (an SDP offer for a few tracks is about 4 KiB)."""

Permission = Literal["admin", "user"]
Kind = Literal["audio", "video"]
Topology = Literal["mesh", "sfu"]

# Why the server ended a session (``Closed.cause``): finer than Qiniu's reason and code, so an
# app can tell its user the truth. Plain text on the wire: clients treat an unknown cause as "".
CAUSE_REMOVED = "removed"
"""Removed by the host (or by the management API with ``ban``); may not rejoin the room."""
CAUSE_KICKED = "kicked"
"""Kicked through the management API without a ban; may join again."""
CAUSE_REPLACED = "replaced"
"""The same user id joined again elsewhere (another window or device)."""
CAUSE_ENDED = "ended"
"""The host ended the call for everyone."""
CAUSE_SHUTDOWN = "shutdown"
"""The room server is shutting down."""
CAUSE_CLOSED = "closed"
"""The room was closed through the management API, or its app deleted."""

DEFAULT_INVITE_TTL = 24 * 3600.0
"""Seconds an invite link works unless its host chooses otherwise (and while its room lives)."""
MAX_INVITE_TTL = 7 * 24 * 3600.0
"""Longest lifetime an invite link may be given."""


class ProtocolError(Exception):
    """A frame that cannot be understood. ``code`` is the Qiniu error code to answer with."""

    def __init__(self, message: str, code: int = ErrorCode.INVALID_PARAMETER) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message


# --- values carried inside messages -------------------------------------------------------


@dataclass(frozen=True)
class TrackInfo:
    """A published track as the room knows it."""

    track_id: str
    """Server-assigned id, unique in the room."""
    kind: Kind
    tag: str = ""
    """Free text set by the publisher, e.g. ``"camera"`` or ``"screen"``."""
    muted: bool = False
    media_id: str = ""
    """The track's id on the wire (SDP msid), so a receiver matches RTP tracks to publications."""


@dataclass(frozen=True)
class TrackSpec:
    """A track a client asks to publish; the server answers with :class:`TrackInfo`."""

    kind: Kind
    tag: str = ""
    muted: bool = False
    media_id: str = ""


@dataclass(frozen=True)
class MemberInfo:
    """A member of a room as other members see it."""

    user_id: str
    user_data: str = ""
    permission: Permission = "user"
    tracks: tuple[TrackInfo, ...] = ()
    reconnecting: bool = False
    """True while the member's connection is lost and the server keeps its seat."""
    publisher_id: str = ""
    """The member's publisher id in the room's Janus VideoRoom (its feeds are this id and
    ``<publisher_id>.<suffix>``), assigned by the server for the seat's life, whatever the
    topology; "" from a server without an SFU."""


@dataclass(frozen=True)
class MediaRoute:
    """How one member's media travel: peer to peer (``mesh``), or through a Janus VideoRoom
    (``sfu``) with this member's credentials. ``docs/protocol.md`` (Media route) says how a
    client uses each field."""

    topology: Topology = "mesh"
    janus_url: str = ""
    """The Janus WebSocket API URL (subprotocol ``janus-protocol``); "" in a mesh."""
    janus_room: str = ""
    """The VideoRoom's room id (Janus runs with ``string_ids``)."""
    janus_token: str = ""
    """This member's signed core token (``token`` on every Janus request), expiring."""
    room_token: str = ""
    """This member's token in the VideoRoom's ``allowed`` list (``token`` on every ``join``)."""
    publisher_id: str = ""
    """The publisher id this member must use in the VideoRoom (``id`` of its publisher
    ``join``; further feeds ``<publisher_id>.<suffix>``), assigned by the server."""


MESH = MediaRoute()
"""The route of every room below the SFU threshold."""


@dataclass(frozen=True)
class InviteInfo:
    """An invite link of a room, as its host sees it."""

    code: str
    """The secret part of the link (at least 128 random bits)."""
    room: str
    expires_at: int
    """Milliseconds since the Unix epoch; the link also ends with its room."""
    user_id: str = ""
    """A personal invite's user id; empty for a room link (each redeemer gets a fresh id)."""
    name: str = ""
    """A personal invite's display name (what the guest's name field is pre-filled with)."""
    max_uses: int = 0
    """Redemptions allowed (0: any number)."""
    uses: int = 0
    """Redemptions so far (a redeemer coming back as the same person is not counted again)."""


# --- client -> server --------------------------------------------------------------------


@dataclass(frozen=True)
class Join:
    """Join (and create, if needed) the room named in the token."""

    type: ClassVar[str] = "join"
    req: int
    token: str
    user_data: str = ""
    version: int = PROTOCOL_VERSION


@dataclass(frozen=True)
class Resume:
    """Take a lost session back within the reconnect window (else 21003)."""

    type: ClassVar[str] = "resume"
    req: int
    token: str
    session_id: str


@dataclass(frozen=True)
class Leave:
    type: ClassVar[str] = "leave"
    req: int = 0


@dataclass(frozen=True)
class Heartbeat:
    """Keeps the session alive; answered with an :class:`Ack` carrying server time."""

    type: ClassVar[str] = "heartbeat"
    req: int = 0


@dataclass(frozen=True)
class SendMessage:
    """A custom message; empty ``user_ids`` means every other member."""

    type: ClassVar[str] = "send_message"
    req: int
    content: str
    user_ids: tuple[str, ...] = ()
    message_id: str = ""


@dataclass(frozen=True)
class Kick:
    """Remove a member (admin tokens only; 10051 otherwise)."""

    type: ClassVar[str] = "kick"
    req: int
    user_id: str


@dataclass(frozen=True)
class CreateInvite:
    """Host only: a new invite link for the room; answered with :class:`InviteCreated`.

    ``personal`` makes a link for one named person (``name`` required, one user id for every
    redemption); otherwise a room link any number of people can use, each as a new user.
    """

    type: ClassVar[str] = "create_invite"
    req: int
    name: str = ""
    personal: bool = False
    ttl: float = DEFAULT_INVITE_TTL
    """Seconds the link works (at most ``MAX_INVITE_TTL``)."""
    max_uses: int = 0
    """Redemptions allowed; 0 means any number."""


@dataclass(frozen=True)
class RevokeInvites:
    """Host only: revoke the listed invite codes of the room, or all of them if none listed."""

    type: ClassVar[str] = "revoke_invites"
    req: int
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListInvites:
    """Host only: the room's live invite links; answered with :class:`InviteList`."""

    type: ClassVar[str] = "list_invites"
    req: int


@dataclass(frozen=True)
class Readmit:
    """Host only: let a removed user id into the room again."""

    type: ClassVar[str] = "readmit"
    req: int
    user_id: str


@dataclass(frozen=True)
class ListRemoved:
    """Host only: the user ids removed from the room; answered with :class:`RemovedList`."""

    type: ClassVar[str] = "list_removed"
    req: int


@dataclass(frozen=True)
class EndRoom:
    """Host only: close the room for everyone (``closed`` ROOM_CLOSED, cause ``ended``)."""

    type: ClassVar[str] = "end_room"
    req: int


@dataclass(frozen=True)
class TransferHost:
    """Host only: make ``user_id`` the host (admin); the sender becomes a user."""

    type: ClassVar[str] = "transfer_host"
    req: int
    user_id: str


@dataclass(frozen=True)
class Publish:
    type: ClassVar[str] = "publish"
    req: int
    tracks: tuple[TrackSpec, ...]


@dataclass(frozen=True)
class Unpublish:
    type: ClassVar[str] = "unpublish"
    req: int
    track_ids: tuple[str, ...]


@dataclass(frozen=True)
class Mute:
    type: ClassVar[str] = "mute"
    req: int
    track_id: str
    muted: bool


# --- both directions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Relay:
    """Media negotiation (SDP offer / answer, ICE) between two members of one room.

    From a client, ``peer`` is the recipient; the server delivers it with ``peer`` set to the
    sender. The server does not look inside ``data``.
    """

    type: ClassVar[str] = "relay"
    peer: str
    data: dict[str, Any]


# --- server -> client --------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    """Answer to :class:`Join` or :class:`Resume`: the session and a snapshot of the room."""

    type: ClassVar[str] = "joined"
    req: int
    session_id: str
    room: str
    user_id: str
    permission: Permission
    members: tuple[MemberInfo, ...]
    """Every other member, in join order."""
    server_time: int
    """Milliseconds since the Unix epoch."""
    heartbeat_interval: float
    """Seconds between heartbeats the server expects."""
    reconnect_window: float
    """Seconds a lost session stays resumable."""
    resumed: bool = False
    tracks: tuple[TrackInfo, ...] = ()
    """The joining session's own published tracks (kept across a resume)."""
    ice_servers: tuple[IceServer, ...] = ()
    """STUN / TURN servers for this member's peer connections, TURN with credentials minted
    for this answer (a resume brings fresh ones); empty: host candidates only."""
    media: MediaRoute = MESH
    """How this member's media travel now (a resume brings fresh tokens); later changes
    come as :class:`MediaRouteChanged`."""


@dataclass(frozen=True)
class UserJoined:
    type: ClassVar[str] = "user_joined"
    member: MemberInfo


@dataclass(frozen=True)
class UserLeft:
    type: ClassVar[str] = "user_left"
    user_id: str
    reason: Literal["leave", "timeout", "kicked", "replaced", "closed"] = "leave"


@dataclass(frozen=True)
class UserReconnecting:
    type: ClassVar[str] = "user_reconnecting"
    user_id: str


@dataclass(frozen=True)
class UserReconnected:
    type: ClassVar[str] = "user_reconnected"
    user_id: str


@dataclass(frozen=True)
class UserPublished:
    type: ClassVar[str] = "user_published"
    user_id: str
    tracks: tuple[TrackInfo, ...]


@dataclass(frozen=True)
class UserUnpublished:
    type: ClassVar[str] = "user_unpublished"
    user_id: str
    track_ids: tuple[str, ...]


@dataclass(frozen=True)
class TrackMuted:
    type: ClassVar[str] = "track_muted"
    user_id: str
    track_id: str
    muted: bool


@dataclass(frozen=True)
class Message:
    """A custom message as delivered: the server stamps sender and time."""

    type: ClassVar[str] = "message"
    message_id: str
    user_id: str
    """The sender."""
    content: str
    timestamp: int
    """Server time in milliseconds since the Unix epoch."""


@dataclass(frozen=True)
class Published:
    """Answer to :class:`Publish`: the tracks with server-assigned ids, in request order."""

    type: ClassVar[str] = "published"
    req: int
    tracks: tuple[TrackInfo, ...]


@dataclass(frozen=True)
class InviteCreated:
    """Answer to :class:`CreateInvite`."""

    type: ClassVar[str] = "invite_created"
    req: int
    invite: InviteInfo


@dataclass(frozen=True)
class InviteList:
    """Answer to :class:`ListInvites`: live links, oldest first."""

    type: ClassVar[str] = "invite_list"
    req: int
    invites: tuple[InviteInfo, ...]


@dataclass(frozen=True)
class RemovedList:
    """Answer to :class:`ListRemoved`: removed user ids, in the order they were removed."""

    type: ClassVar[str] = "removed_list"
    req: int
    user_ids: tuple[str, ...]


@dataclass(frozen=True)
class PermissionChanged:
    """A member's permission changed (host hand-off); sent to every member, itself included."""

    type: ClassVar[str] = "permission_changed"
    user_id: str
    permission: Permission


@dataclass(frozen=True)
class MediaRouteChanged:
    """The room's media route changed (mesh to SFU past the threshold, or a new Janus
    instance after a failure): sent to every member with its own route. Members stay
    members (no ``user_left``); each moves its media to the new route."""

    type: ClassVar[str] = "media_route"
    media: MediaRoute
    reason: str = ""
    """``"threshold"`` (the room grew past the app's SFU threshold), ``"always"`` (the
    server puts every room on the SFU), ``"failover"`` (the room's Janus instance failed:
    a new VideoRoom on another), ``"renewed"`` (same room, fresh tokens); clients treat
    unknown values as ""."""


@dataclass(frozen=True)
class Ack:
    """Success answer to a request with no other result."""

    type: ClassVar[str] = "ack"
    req: int
    server_time: int = 0


@dataclass(frozen=True)
class Error:
    """A request failed, or (``req`` 0) a frame could not be handled."""

    type: ClassVar[str] = "error"
    req: int
    code: int
    message: str


@dataclass(frozen=True)
class Closed:
    """The server ends the session; the socket closes right after. Never resumable."""

    type: ClassVar[str] = "closed"
    reason: Literal["KICKED_OUT", "ROOM_CLOSED", "ROOM_FULL", "ERROR"]
    code: int
    message: str
    cause: str = ""
    """Why, finer than ``reason``: one of the ``CAUSE_*`` values, or "" (unknown: treat so)."""


ClientMessage = (Join | Resume | Leave | Heartbeat | SendMessage | Kick | Publish | Unpublish
                 | Mute | Relay | CreateInvite | RevokeInvites | ListInvites | Readmit
                 | ListRemoved | EndRoom | TransferHost)
ServerMessage = (Joined | UserJoined | UserLeft | UserReconnecting | UserReconnected
                 | UserPublished | UserUnpublished | TrackMuted | Message | Published | Ack
                 | Error | Closed | Relay | InviteCreated | InviteList | RemovedList
                 | PermissionChanged | MediaRouteChanged)
AnyMessage = ClientMessage | ServerMessage

CLIENT_MESSAGES: tuple[type, ...] = typing.get_args(ClientMessage)
SERVER_MESSAGES: tuple[type, ...] = typing.get_args(ServerMessage)
MESSAGE_TYPES: dict[str, type] = {
    cls.type: cls for cls in (*CLIENT_MESSAGES, *SERVER_MESSAGES)  # type: ignore[attr-defined]
}


# --- parse / serialize -------------------------------------------------------------------


def serialize(msg: AnyMessage) -> str:
    """Compact JSON text of ``msg`` with its ``type`` first."""
    body: dict[str, Any] = {"type": msg.type}
    body.update(_fields(msg))
    return _ENCODE(body)


def parse(text: str | bytes, *, limit: int = MAX_FRAME_BYTES) -> AnyMessage:
    """The message in ``text``, or :class:`ProtocolError`.

    ``limit``: the largest frame accepted, in characters. The default is what the server reads
    from clients; clients reading the server pass their own, larger bound (a ``joined``
    snapshot of a big room exceeds ``MAX_FRAME_BYTES``).
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("frame is not UTF-8") from None
    if len(text) > limit:
        raise ProtocolError(f"frame larger than {limit} bytes")
    try:
        raw = _DECODE(text)
    except (ValueError, RecursionError):
        raise ProtocolError("frame is not JSON") from None
    if not isinstance(raw, dict):
        raise ProtocolError("frame is not a JSON object")
    kind = raw.get("type")
    cls = MESSAGE_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ProtocolError(f"unknown message type {kind!r}")
    fields = {k: v for k, v in raw.items() if k != "type"}
    return typing.cast(AnyMessage, _from_json(cls, fields, str(kind)))


_GETTERS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _fields(value: Any) -> dict[str, Any]:
    """A dataclass's fields by name, in order; nested dataclasses are left to the encoder,
    which comes back here for them (tuples it writes as lists itself)."""
    cls = type(value)
    getter = _GETTERS.get(cls)
    if getter is None:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"Object of type {cls.__name__} is not JSON serializable")
        names = tuple(f.name for f in dataclasses.fields(cls))
        getter = _GETTERS[cls] = (names, _getter(names))
    names, get = getter
    return dict(zip(names, get(value), strict=True))


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function of an object giving the values of its attributes ``names``, as a tuple."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    if not names:
        return lambda _: ()
    one = operator.attrgetter(names[0])
    return lambda value: (one(value),)


# What ``json.dumps(body, separators=(",", ":"), ensure_ascii=False)`` does, without building
# a new encoder for every frame (the server serialises one per frame it sends).
# allow_nan=False: NaN and Infinity are not JSON (RFC 8259) and other parsers refuse them; a
# value that cannot be sent raises ValueError here rather than reach a peer.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                           default=_fields).encode


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as inf
        raise ValueError(f"number {text} is out of range")
    return value


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Python's json reads NaN, Infinity and numbers beyond a double's range, none of which JSON
# has: refuse them, so that no frame relayed to others can carry one.
_DECODE = json.JSONDecoder(parse_float=_finite, parse_constant=_not_json).decode


_SPECS: dict[type, tuple[tuple[str, Any, bool], ...]] = {}


def _specs(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """``(name, type hint, required)`` of each field of ``cls``, in order."""
    specs = _SPECS.get(cls)
    if specs is None:
        hints = typing.get_type_hints(cls)
        specs = _SPECS[cls] = tuple(
            (f.name, hints[f.name],
             f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(cls))
    return specs


def _from_json(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, Mapping):
        raise ProtocolError(f"{where}: expected an object")
    kwargs: dict[str, Any] = {}
    for name, hint, required in _specs(cls):
        if name not in raw:
            if required:
                raise ProtocolError(f"{where}: missing field {name!r}")
            continue
        kwargs[name] = _convert(hint, raw[name], f"{where}.{name}")
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str) -> Any:
    # The plain types first: most fields are, and they need no typing introspection.
    if hint is str:
        if isinstance(value, str):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool) and -(2**53) <= value <= 2**53:
            return value
    elif hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is Any:
        return value
    else:
        return _convert_generic(hint, value, where)
    raise ProtocolError(f"{where}: expected {_describe(hint)}")


def _convert_generic(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        if isinstance(value, str) and value in typing.get_args(hint):
            return value
    elif origin is tuple:
        if isinstance(value, list):
            (item,) = typing.get_args(hint)[:1]
            return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    elif origin is dict:
        if isinstance(value, dict):
            return value
    elif origin in (Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _convert(option, value, where)
            except ProtocolError:
                continue
    elif dataclasses.is_dataclass(hint):
        return _from_json(typing.cast(type, hint), value, where)
    raise ProtocolError(f"{where}: expected {_describe(hint)}")


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return " or ".join(repr(a) for a in typing.get_args(hint))
    if origin is tuple:
        return "a list"
    if origin is dict:
        return "an object"
    return getattr(hint, "__name__", str(hint))

