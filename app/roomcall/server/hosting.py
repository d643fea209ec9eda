"""The requests only a room's host (an admin member) may make: invite links, the removed
list, ending the call and handing the host role over; and redeeming a link. No I/O.

Part of the rooms core (:class:`~roomcall.server.rooms.Rooms` holds one as ``rooms.host``):
every call takes ``now`` and returns :class:`~roomcall.server.room.Effects`, refusals raise
:class:`~roomcall.server.room.RoomError` and change nothing. Permission is checked against
the member's live permission (a hand-off changes it), not only its token's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    CAUSE_ENDED,
    Ack,
    Closed,
    InviteCreated,
    InviteList,
    PermissionChanged,
    RemovedList,
)
from roomcall.server.invites import Invite, invite_key
from roomcall.server.room import Effects, Room, RoomError

if TYPE_CHECKING:
    from roomcall.server.rooms import Rooms

ENDED_MESSAGE = "the host ended the call"
REMOVED_MESSAGE = "removed from this room by the host"
"""Why a removed user id is refused (10006)."""


def _ms(now: float) -> int:
    return int(now * 1000)


def _taken(target: Room, user_id: str) -> bool:
    """Whether a new user id would clash in ``target`` (a member's or a removed one)."""
    return user_id in target.members or user_id in target.removed


class Hosting:
    """The host's requests on one rooms core."""

    def __init__(self, rooms: Rooms) -> None:
        self._rooms = rooms

    def create_invite(self, session_id: str, *, name: str, personal: bool, ttl: float,
                      max_uses: int, now: float, req: int) -> Effects:
        """A new invite link of the host's room (see :class:`~roomcall.server.invites.Invites`)."""
        target, _ = self._rooms.host_seat(session_id, "create invites")
        invite = self._rooms.invites.create(
            target.app_id, target.name, name=name, personal=personal, ttl=ttl,
            max_uses=max_uses, now=now, taken=lambda user_id: _taken(target, user_id))
        effects = Effects()
        effects.send(session_id, InviteCreated(req, invite.info()))
        return effects

    def list_invites(self, session_id: str, now: float, req: int) -> Effects:
        """The live invite links of the host's room, oldest first."""
        target, _ = self._rooms.host_seat(session_id, "list invites")
        effects = Effects()
        links = self._rooms.invites.of_room(target.app_id, target.name, now)
        effects.send(session_id, InviteList(req, tuple(i.info() for i in links)))
        return effects

    def revoke_invites(self, session_id: str, codes: Sequence[str], now: float,
                       req: int) -> Effects:
        """Revoke the listed links of the host's room, or all of them if none are listed
        (codes that name no live link of this room are ignored)."""
        target, _ = self._rooms.host_seat(session_id, "revoke invites")
        self._rooms.invites.revoke(target.app_id, target.name, codes)
        effects = Effects()
        effects.send(session_id, Ack(req, _ms(now)))
        return effects

    def list_removed(self, session_id: str, req: int) -> Effects:
        """The user ids removed from the host's room, in removal order."""
        target, _ = self._rooms.host_seat(session_id, "list removed users")
        effects = Effects()
        effects.send(session_id, RemovedList(req, tuple(target.removed)))
        return effects

    def readmit(self, session_id: str, user_id: str, now: float, req: int) -> Effects:
        """Let a removed user id in again (10021 if it is not removed)."""
        target, _ = self._rooms.host_seat(session_id, "readmit users")
        if user_id not in target.removed:
            raise RoomError(ErrorCode.USER_NOT_EXIST, f"{user_id!r} was not removed")
        del target.removed[user_id]
        effects = Effects()
        effects.send(session_id, Ack(req, _ms(now)))
        return effects

    def end_room(self, session_id: str, now: float, req: int) -> Effects:
        """Close the host's room for everyone: ``ack`` to the host, then ``closed``
        ROOM_CLOSED (cause ``ended``) to every member, the host included."""
        target, _ = self._rooms.host_seat(session_id, "end the call")
        effects = Effects()
        effects.send(session_id, Ack(req, _ms(now)))
        closed = Closed("ROOM_CLOSED", ErrorCode.ROOM_CLOSED, ENDED_MESSAGE, CAUSE_ENDED)
        self._rooms.end(target, closed, effects, now)
        return effects

    def transfer_host(self, session_id: str, user_id: str, now: float, req: int) -> Effects:
        """Make member ``user_id`` an admin and the sender a user; every member hears
        ``permission_changed`` for each real change (10021 no such member, 10053 self)."""
        target, member = self._rooms.host_seat(session_id, "hand the host role over")
        heir = target.members.get(user_id)
        if heir is None:
            raise RoomError(ErrorCode.USER_NOT_EXIST, f"no member {user_id!r}")
        if heir is member:
            raise RoomError(ErrorCode.INVALID_PARAMETER, "you are the host already")
        effects = Effects()
        effects.send(session_id, Ack(req, _ms(now)))
        everyone = [m for m in target.members.values() if m.connected]
        if heir.permission != "admin":
            heir.permission = "admin"
            effects.broadcast(everyone, PermissionChanged(heir.user_id, "admin"))
        member.permission = "user"
        effects.broadcast(everyone, PermissionChanged(member.user_id, "user"))
        return effects

    def redeem_invite(self, code: str, name: str, previous: tuple[str, str, str] | None,
                      now: float) -> tuple[Invite, str, str]:
        """``(invite, user_id, name)`` for a redemption of ``code`` (:meth:`Invites.redeem`);
        ``previous`` is the (app id, room, user id) of a genuine token the redeemer holds.
        A removed user id is refused with 10006."""
        invite = self._rooms.invites.get(code)
        target = None if invite is None else self._rooms.open_room(invite.app_id, invite.room)
        holder = None
        if invite is not None and previous is not None and previous[:2] == invite_key(invite):
            holder = previous[2]
        found = self._rooms.invites.redeem(code, name, holder, now, lambda user_id: (
            target is not None and _taken(target, user_id)))
        if target is not None and found[1] in target.removed:
            raise RoomError(ErrorCode.KICKED_OUT, REMOVED_MESSAGE)
        return found
