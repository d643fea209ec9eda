"""One room's state: its members, their tracks, and when the room may close. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from roomcall.protocol.messages import MemberInfo, Permission, ServerMessage, TrackInfo


class RoomError(Exception):
    """A request the rooms core refuses; ``code`` is the Qiniu error code to answer with."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message


@dataclass(frozen=True)
class RoomSettings:
    """App settings a room takes when it is created (an app update applies to later rooms)."""

    max_users: int = 0
    """Most members at once; 0 means no limit."""
    no_auto_kick_user: bool = False
    """True: a second join with the same user id is refused (10022) instead of replacing."""
    sfu_threshold: int = 4
    """Members at which the room moves from the mesh to the SFU; 0 never."""


@dataclass
class Member:
    """A seat in a room, held by one session. The seat outlives a lost connection until the
    member resumes or falls silent for too long."""

    session_id: str
    user_id: str
    user_data: str
    permission: Permission
    last_seen: float
    connected: bool = True
    tracks: dict[str, TrackInfo] = field(default_factory=dict)
    publisher_id: str = ""
    """The seat's publisher id in the room's Janus VideoRoom (``docs/protocol.md``)."""
    room_token: str = ""
    """The seat's token in the VideoRoom's ``allowed`` list, while the room is on the SFU."""

    def info(self) -> MemberInfo:
        """The member as other members see it."""
        return MemberInfo(
            user_id=self.user_id,
            user_data=self.user_data,
            permission=self.permission,
            tracks=tuple(self.tracks.values()),
            reconnecting=not self.connected,
            publisher_id=self.publisher_id,
        )


@dataclass(frozen=True)
class Placement:
    """Where a room on the SFU lives: a VideoRoom on one Janus instance."""

    janus_url: str
    janus_room: str
    token_secret: str
    """The instance's ``token_auth_secret``: members' core tokens are signed with it."""


@dataclass
class Room:
    """A room and its members in join order (dicts keep insertion order)."""

    app_id: str
    name: str
    settings: RoomSettings
    close_at: float | None = None
    """When the room closes if nobody (re)joins: set while it is empty, else None."""
    members: dict[str, Member] = field(default_factory=dict)
    """Members by user id; one seat per user id."""
    removed: dict[str, None] = field(default_factory=dict)
    """User ids the host removed, in removal order: refused until readmitted or the room ends."""
    on_sfu: bool = False
    """The room's media go through the SFU (decided once; it stays there until it closes)."""
    placement: Placement | None = None
    """Its VideoRoom, once made (None while being made, or after its instance failed)."""
    renew_at: float | None = None
    """When its members' Janus core tokens are renewed next (half their lifetime)."""
    _track_serial: int = 0

    @property
    def key(self) -> tuple[str, str]:
        """The room's identity: (app id, room name)."""
        return (self.app_id, self.name)

    def new_track_id(self) -> str:
        """A track id never used before in this room."""
        self._track_serial += 1
        return f"t{self._track_serial}"

    def others(self, user_id: str) -> list[Member]:
        """Connected members other than ``user_id``: the ones a broadcast reaches."""
        return [m for m in self.members.values() if m.connected and m.user_id != user_id]

    def snapshot(self, user_id: str) -> tuple[MemberInfo, ...]:
        """Every member other than ``user_id``, in join order, for a ``joined`` answer."""
        return tuple(m.info() for m in self.members.values() if m.user_id != user_id)


MediaOpKind = Literal["place", "admit", "remove", "close"]


@dataclass(frozen=True)
class MediaOp:
    """Something the shell must do on the room's Janus VideoRoom (in order, per room)."""

    kind: MediaOpKind
    """``place``: make the room's VideoRoom (``reason`` says why); ``admit``: add
    ``room_token`` to its ``allowed`` list; ``remove``: take ``room_token`` out and kick the
    publishers of ``publisher_id`` (``reason``: why the seat ended, a ``user_left`` reason);
    ``close``: destroy it."""
    app_id: str
    room: str
    room_token: str = ""
    publisher_id: str = ""
    reason: str = ""
    publishers: int = 0
    """``place``: the most publishers the VideoRoom must take."""


@dataclass
class Effects:
    """What the shell must do after a core call: frames to send (in order), then sessions
    whose connection to end once their frames are written, then Janus work."""

    sends: list[tuple[str, ServerMessage]] = field(default_factory=list)
    """(session id, message) pairs, in sending order."""
    closes: list[str] = field(default_factory=list)
    """Session ids to disconnect after their pending frames; their seats are already gone."""
    media: list[MediaOp] = field(default_factory=list)
    """Janus VideoRoom work for the SFU shell, in order."""

    def send(self, session_id: str, msg: ServerMessage) -> None:
        self.sends.append((session_id, msg))

    def broadcast(self, members: list[Member], msg: ServerMessage) -> None:
        self.sends.extend((m.session_id, msg) for m in members)

    def extend(self, other: Effects) -> None:
        self.sends.extend(other.sends)
        self.closes.extend(other.closes)
        self.media.extend(other.media)
