"""Remote users as a client knows them, and how a room snapshot is reconciled with them.

The client keeps one :class:`RemoteUser` per other member. Every change to that list goes
through a function here that returns the events it implies, so the list and the events
delivered never disagree, and a snapshot taken after a reconnection produces each missed
change exactly once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from roomcall.protocol.messages import (
    MemberInfo,
    Permission,
    PermissionChanged,
    ServerMessage,
    TrackInfo,
    TrackMuted,
    UserJoined,
    UserLeft,
    UserPublished,
    UserReconnected,
    UserReconnecting,
    UserUnpublished,
)
from roomcall.sdk.events import EventName

Change = tuple[EventName, tuple[Any, ...]]
"""An event to emit: its name and its arguments."""


@dataclass(frozen=True)
class RemoteUser(MemberInfo):
    """Another member of the room (``QNRemoteUser``): the server's :class:`MemberInfo`, with
    ``tracks`` in publish order, plus lookups."""

    @classmethod
    def from_member(cls, member: MemberInfo) -> RemoteUser:
        """The user as described by the server."""
        return cls(**{f.name: getattr(member, f.name) for f in dataclasses.fields(MemberInfo)})

    @property
    def is_admin(self) -> bool:
        """True if the user's token grants admin permission (it may kick others)."""
        return self.permission == "admin"

    def track(self, track_id: str) -> TrackInfo | None:
        """The published track ``track_id``, or None."""
        return next((t for t in self.tracks if t.track_id == track_id), None)


def joined(member: MemberInfo) -> tuple[RemoteUser, list[Change]]:
    """A member that arrived: ``user_joined``, then ``user_published`` for tracks it has, then
    ``user_reconnecting`` if it is currently cut off."""
    user = RemoteUser.from_member(member)
    changes: list[Change] = [("user_joined", (user.user_id, user.user_data))]
    if user.tracks:
        changes.append(("user_published", (user.user_id, list(user.tracks))))
    if user.reconnecting:
        changes.append(("user_reconnecting", (user.user_id,)))
    return user, changes


def published(user: RemoteUser, tracks: Iterable[TrackInfo]) -> tuple[RemoteUser, list[Change]]:
    """``user`` with ``tracks`` added (a track id already known is replaced, not repeated)."""
    new = list(tracks)
    ids = {t.track_id for t in new}
    kept = tuple(t for t in user.tracks if t.track_id not in ids)
    user = dataclasses.replace(user, tracks=kept + tuple(new))
    return user, [("user_published", (user.user_id, new))] if new else []


def unpublished(user: RemoteUser, track_ids: Iterable[str]) -> tuple[RemoteUser, list[Change]]:
    """``user`` without ``track_ids`` (unknown ids are ignored)."""
    ids = set(track_ids)
    gone = [t for t in user.tracks if t.track_id in ids]
    user = dataclasses.replace(user, tracks=tuple(t for t in user.tracks if t.track_id not in ids))
    return user, [("user_unpublished", (user.user_id, gone))] if gone else []


def muted(user: RemoteUser, track_id: str, value: bool) -> tuple[RemoteUser, list[Change]]:
    """``user`` with track ``track_id`` muted or not; no change if already so or unknown."""
    track = user.track(track_id)
    if track is None or track.muted == value:
        return user, []
    track = dataclasses.replace(track, muted=value)
    tracks = tuple(track if t.track_id == track_id else t for t in user.tracks)
    user = dataclasses.replace(user, tracks=tracks)
    return user, [("mute_state_changed", (user.user_id, track, value))]


def permission(user: RemoteUser, value: Permission) -> tuple[RemoteUser, list[Change]]:
    """``user`` with permission ``value``; ``permission_changed`` only on a real change."""
    if user.permission == value:
        return user, []
    user = dataclasses.replace(user, permission=value)
    return user, [("permission_changed", (user.user_id, value))]


def reconnecting(user: RemoteUser, value: bool) -> tuple[RemoteUser, list[Change]]:
    """``user`` cut off (True) or back (False); an event only on a real change."""
    if user.reconnecting == value:
        return user, []
    name: EventName = "user_reconnecting" if value else "user_reconnected"
    return dataclasses.replace(user, reconnecting=value), [(name, (user.user_id,))]


def apply_push(users: dict[str, RemoteUser], msg: ServerMessage) -> list[Change] | None:
    """Update ``users`` for a member event from the server; the events it implies, or None
    if ``msg`` is not about members. Events about unknown users change nothing."""
    if isinstance(msg, UserJoined):
        changes: list[Change] = []
        user_id = msg.member.user_id
        if users.pop(user_id, None) is not None:  # a newer session of the same user
            changes.append(("user_left", (user_id,)))
        users[user_id], more = joined(msg.member)
        return changes + more
    if isinstance(msg, UserLeft):
        return [("user_left", (msg.user_id,))] if users.pop(msg.user_id, None) else []
    if not isinstance(msg, UserPublished | UserUnpublished | TrackMuted | UserReconnecting
                      | UserReconnected | PermissionChanged):
        return None
    user = users.get(msg.user_id)
    if user is None:
        return []
    if isinstance(msg, PermissionChanged):
        user, changes = permission(user, msg.permission)
    elif isinstance(msg, UserPublished):
        user, changes = published(user, msg.tracks)
    elif isinstance(msg, UserUnpublished):
        user, changes = unpublished(user, msg.track_ids)
    elif isinstance(msg, TrackMuted):
        user, changes = muted(user, msg.track_id, msg.muted)
    else:
        user, changes = reconnecting(user, isinstance(msg, UserReconnecting))
    users[user.user_id] = user
    return changes


def reconcile(
    old: Mapping[str, RemoteUser], snapshot: Iterable[MemberInfo]
) -> tuple[dict[str, RemoteUser], list[Change]]:
    """The users of ``snapshot`` and the events that take a client from ``old`` to them.

    Users gone produce ``user_left``; users new produce what :func:`joined` does; users in
    both produce the differences in tracks, mute states and reconnecting state.
    """
    users: dict[str, RemoteUser] = {}
    changes: list[Change] = []
    members = {m.user_id: m for m in snapshot}
    for user_id in old:
        if user_id not in members:
            changes.append(("user_left", (user_id,)))
    for user_id, member in members.items():
        before = old.get(user_id)
        if before is None:
            users[user_id], more = joined(member)
            changes += more
            continue
        users[user_id], more = _update(before, RemoteUser.from_member(member))
        changes += more
    return users, changes


def _update(before: RemoteUser, after: RemoteUser) -> tuple[RemoteUser, list[Change]]:
    after_ids = {t.track_id for t in after.tracks}
    user = dataclasses.replace(before, user_data=after.user_data)
    user, changes = permission(user, after.permission)
    gone = [t.track_id for t in before.tracks if t.track_id not in after_ids]
    user, more = unpublished(user, gone)
    changes += more
    known = {t.track_id for t in user.tracks}
    user, more = published(user, [t for t in after.tracks if t.track_id not in known])
    changes += more
    for track in after.tracks:
        user, more = muted(user, track.track_id, track.muted)
        changes += more
    user, more = reconnecting(user, after.reconnecting)
    changes += more
    # Keep the server's order of tracks once every difference has been announced.
    return dataclasses.replace(user, tracks=after.tracks), changes
