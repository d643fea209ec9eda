"""What the UI reads from an ``RTCClient``: the room as the SDK knows it.

The UI keeps no room state of its own; widgets read these properties whenever a bridge
signal says something changed. ``roomcall.sdk.RTCClient`` satisfies this protocol as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class RemoteUserView(Protocol):
    """A remote member as the SDK lists it."""

    @property
    def user_id(self) -> str: ...

    @property
    def user_data(self) -> str: ...

    @property
    def permission(self) -> str: ...

    @property
    def tracks(self) -> Sequence[Any]: ...


class RoomView(Protocol):
    """The local session and its room."""

    @property
    def user_id(self) -> str | None: ...

    @property
    def permission(self) -> str | None: ...

    @property
    def connection_state(self) -> Any: ...

    @property
    def remote_users(self) -> Sequence[RemoteUserView]: ...

    def get_remote_user(self, user_id: str) -> RemoteUserView | None: ...


def display_name(user: RemoteUserView | None, user_id: str) -> str:
    """What to call a member: its user_data if it has one, else its user id."""
    if user is not None and user.user_data.strip():
        return user.user_data.strip()
    return user_id


def is_admin(user: RemoteUserView | None) -> bool:
    """True if the server lists ``user`` as an admin (the host)."""
    return user is not None and user.permission == "admin"


def state_name(state: Any) -> str:
    """``ConnectionState.CONNECTED`` -> ``"CONNECTED"`` (any enum or string)."""
    return str(getattr(state, "name", state))


def track_muted(user: RemoteUserView | None, kind: str) -> bool:
    """True if ``user`` has no unmuted published track of ``kind``."""
    if user is None:
        return True
    tracks = [t for t in user.tracks if getattr(t, "kind", None) == kind]
    return not tracks or all(getattr(t, "muted", False) for t in tracks)
