"""The calls only a room's host (an admin member) may make, as :class:`RTCClient` methods.

Each raises RTCError 10051 for a member that is not the host now (the server checks the live
permission: after ``transfer_host`` the new host's calls work and the old host's do not), and
21002 while not connected. ``docs/protocol.md`` ("Requests of the host", "Removal",
"Invites") describes what the server does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from roomcall.protocol.messages import (
    DEFAULT_INVITE_TTL,
    CreateInvite,
    EndRoom,
    InviteCreated,
    InviteList,
    ListInvites,
    ListRemoved,
    Readmit,
    RemovedList,
    RevokeInvites,
    TransferHost,
)
from roomcall.sdk.invites import RoomInvite


class HostCalls:
    """The host's calls; mixed into :class:`~roomcall.sdk.client.RTCClient`."""

    server_url: str

    async def _request(self, msg: Any) -> Any:
        """Send one request and return its answer (RTCClient's)."""
        raise NotImplementedError

    async def create_invite(self, *, name: str = "", personal: bool = False,
                            ttl: float = DEFAULT_INVITE_TTL, max_uses: int = 0) -> RoomInvite:
        """A new invite link to this room; ``invite.link()`` is the text to hand out.

        A room link (default) admits any number of people, each as a new user named as they
        type; ``personal=True`` makes a link for one person called ``name`` (always the same
        user id, which :meth:`kick_user` or a ``kickOut`` then removes). The link works for
        ``ttl`` seconds (at most 7 days) and while the room is open; ``max_uses`` caps
        redemptions (0: any number). RTCError 10053 for a bad value or over 100 live links.
        """
        answer = await self._request(CreateInvite(req=0, name=name, personal=personal,
                                                  ttl=float(ttl), max_uses=max_uses))
        assert isinstance(answer, InviteCreated)
        return RoomInvite.from_info(answer.invite, self.server_url)

    async def list_invites(self) -> list[RoomInvite]:
        """The room's live invite links, oldest first."""
        answer = await self._request(ListInvites(req=0))
        assert isinstance(answer, InviteList)
        return [RoomInvite.from_info(info, self.server_url) for info in answer.invites]

    async def revoke_invites(self, codes: Iterable[str] | None = None) -> None:
        """Revoke the invite links with these codes (``invite.code``), or all of the room's
        links when ``codes`` is None. Who already joined through them stays."""
        if isinstance(codes, str):
            raise TypeError("codes must be a list of invite codes, not a single string")
        await self._request(RevokeInvites(req=0, codes=tuple(codes or ())))

    async def removed_users(self) -> list[str]:
        """User ids the host removed from the room (refused until readmitted), oldest first."""
        answer = await self._request(ListRemoved(req=0))
        assert isinstance(answer, RemovedList)
        return list(answer.user_ids)

    async def readmit(self, user_id: str) -> None:
        """Let a removed user id into the room again (RTCError 10021 if it was not removed)."""
        await self._request(Readmit(req=0, user_id=user_id))

    async def end_room(self) -> None:
        """End the call for everyone: every member, this client included, ends DISCONNECTED
        with ROOM_CLOSED (10005), ``info.ended_by_host`` true."""
        await self._request(EndRoom(req=0))

    async def transfer_host(self, user_id: str) -> None:
        """Hand the host role to member ``user_id``: it becomes admin (it may kick, invite,
        end the call), this client a user; everyone gets ``permission_changed`` for both.
        RTCError 10021 if ``user_id`` is not in the room."""
        await self._request(TransferHost(req=0, user_id=user_id))
