"""What the UI uses of an ``RTCClient``: the room as the SDK knows it, and the calls it makes.

The UI keeps no room state of its own; widgets read these properties whenever a bridge
signal says something changed. ``roomcall.sdk.RTCClient`` satisfies :class:`CallClient` as it
is (mypy checks it where the window creates one); widget tests pass small fakes of the
narrower protocols.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

# The tag of a published screen share, as Qiniu's SDK tags them (one definition, in media:
# the SDK encodes by it); imported here for the views.
from roomcall.media.profile import SCREEN_TAG as SCREEN_TAG

if TYPE_CHECKING:
    from aiortc.mediastreams import MediaStreamTrack

    from roomcall.sdk import CallStats, ConnectionState, LocalPublication, NetworkQuality
    from roomcall.sdk.events import EventName, Handler
    from roomcall.sdk.volume import Playout


class TrackView(Protocol):
    """A published track as the room describes it."""

    @property
    def track_id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def tag(self) -> str: ...

    @property
    def muted(self) -> bool: ...


class RemoteUserView(Protocol):
    """A remote member as the SDK lists it."""

    @property
    def user_id(self) -> str: ...

    @property
    def user_data(self) -> str: ...

    @property
    def permission(self) -> str: ...

    @property
    def tracks(self) -> Sequence[TrackView]: ...


class RoomView(Protocol):
    """The local session and its room."""

    @property
    def user_id(self) -> str | None: ...

    @property
    def permission(self) -> str | None: ...

    @property
    def remote_users(self) -> Sequence[RemoteUserView]: ...

    def get_remote_user(self, user_id: str) -> RemoteUserView | None: ...


class Publisher(Protocol):
    """The part of ``RTCClient`` that sends local media."""

    async def publish(self, tracks: Iterable[MediaStreamTrack], *, tag: str = ""
                      ) -> list[LocalPublication]: ...

    async def unpublish(self, tracks: Iterable[MediaStreamTrack | LocalPublication]
                        ) -> None: ...

    async def set_muted(self, track: MediaStreamTrack | LocalPublication,
                        muted: bool) -> None: ...


class StatsSource(Protocol):
    """The part of ``RTCClient`` that measures the call (levels, grades, per-track stats)."""

    def enable_volume_indication(self, interval_ms: int) -> None: ...

    def attach_playout(self, playout: Playout | None) -> None: ...

    def network_quality(self, user_id: str) -> NetworkQuality: ...

    async def get_stats(self) -> CallStats: ...


class CallClient(RoomView, Publisher, StatsSource, Protocol):
    """Everything a call in the window uses of its ``RTCClient``."""

    @property
    def server_url(self) -> str: ...

    @property
    def room(self) -> str | None: ...

    @property
    def connection_state(self) -> ConnectionState: ...

    def on(self, name: EventName, handler: Handler) -> Handler: ...

    async def join(self, token: str, user_data: str = "") -> None: ...

    async def leave(self) -> None: ...

    async def send_message(self, content: str, user_ids: list[str] | None = None,
                           message_id: str | None = None) -> str: ...

    async def kick_user(self, user_id: str) -> None: ...

    async def end_room(self) -> None: ...

    async def transfer_host(self, user_id: str) -> None: ...

    async def create_invite(self, *, name: str = "", personal: bool = False) -> Any: ...

    async def list_invites(self) -> list[Any]: ...

    async def revoke_invites(self, codes: Iterable[str] | None = None) -> None: ...


def display_name(user: RemoteUserView | None, user_id: str) -> str:
    """What to call a member: its user_data if it has one, else its user id."""
    if user is not None and user.user_data.strip():
        return user.user_data.strip()
    return user_id


def is_admin(user: RemoteUserView | None) -> bool:
    """True if the server lists ``user`` as an admin (the host)."""
    return user is not None and user.permission == "admin"


def state_name(state: object) -> str:
    """``ConnectionState.CONNECTED`` -> ``"CONNECTED"`` (any enum or string)."""
    return state.name if isinstance(state, enum.Enum) else str(state)


def track_muted(user: RemoteUserView | None, kind: str) -> bool:
    """True if ``user`` has no unmuted published track of ``kind`` (screen shares aside: a
    shared screen is not a camera)."""
    if user is None:
        return True
    tracks = [t for t in user.tracks if t.kind == kind and t.tag != SCREEN_TAG]
    return not tracks or all(t.muted for t in tracks)


def screen_shares(user: RemoteUserView | None) -> list[str]:
    """The track ids of ``user``'s published screen shares, in publish order."""
    if user is None:
        return []
    return [t.track_id for t in user.tracks if t.kind == "video" and t.tag == SCREEN_TAG]
