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


ClientMessage = (Join | Resume | Leave | Heartbeat | SendMessage | Kick | Publish | Unpublish
                 | Mute | Relay)
ServerMessage = (Joined | UserJoined | UserLeft | UserReconnecting | UserReconnected
                 | UserPublished | UserUnpublished | TrackMuted | Message | Published | Ack
                 | Error | Closed | Relay)
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


def parse(text: str | bytes) -> AnyMessage:
    """The message in ``text``, or :class:`ProtocolError`."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("frame is not UTF-8") from None
    if len(text) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame larger than {MAX_FRAME_BYTES} bytes")
    try:
        raw = json.loads(text)
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
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_fields).encode


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

