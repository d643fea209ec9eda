"""Invite links of open rooms: who may redeem them, as whom, and until when. No I/O, no clock.

A *room link* admits any number of people, each as a new user id made from the name they type;
a *personal* invite admits one named person, always as the same user id. Redeeming a link
gives the identity the server then mints a RoomToken for (Qiniu's token model is unchanged:
the link is only a way to obtain a token). Links live in memory with their room and end with
it, when revoked, when they expire, or when used up.

>>> book = Invites()
>>> link = book.create("app", "standup", name="", personal=False, ttl=60, max_uses=0, now=0.0)
>>> book.redeem(link.code, "Bob", None, now=1.0, taken=lambda user_id: False)[1][:4]
'bob-'
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import MAX_INVITE_TTL, InviteInfo
from roomcall.protocol.token import user_id_for
from roomcall.server.room import RoomError

CODE_BYTES = 18
"""Random bytes in a link code: 144 bits, 24 URL-safe characters."""
MAX_INVITES_PER_ROOM = 100
"""Live links one room may have at once (10053 beyond)."""
MAX_IDENTITIES_PER_INVITE = 10_000
"""Most distinct people one link admits (it counts as used up beyond)."""
MAX_USES = 10_000
"""Largest ``max_uses`` a host may set."""
MAX_NAME_CHARS = 128
"""Longest display name given to an invite or typed at redemption."""

RoomKey = tuple[str, str]


@dataclass
class Invite:
    """One live link."""

    code: str
    app_id: str
    room: str
    expires_at: float
    user_id: str = ""
    """A personal invite's user id; "" for a room link."""
    name: str = ""
    max_uses: int = 0
    uses: int = 0
    issued: set[str] = field(default_factory=set)
    """User ids this link has handed out (a redeemer proving it is one of them keeps its id)."""

    @property
    def personal(self) -> bool:
        """True for an invite of one named person."""
        return bool(self.user_id)

    def info(self) -> InviteInfo:
        """The link as its host sees it."""
        return InviteInfo(code=self.code, room=self.room, expires_at=int(self.expires_at * 1000),
                          user_id=self.user_id, name=self.name, max_uses=self.max_uses,
                          uses=self.uses)


class Invites:
    """Every live invite link, by code, with each room's codes in creation order."""

    def __init__(self) -> None:
        self._by_code: dict[str, Invite] = {}
        self._by_room: dict[RoomKey, dict[str, Invite]] = {}

    def create(self, app_id: str, room: str, *, name: str, personal: bool, ttl: float,
               max_uses: int, now: float,
               taken: Callable[[str], bool] = lambda user_id: False) -> Invite:
        """A new link for the room (10053 for a bad field or too many links).

        ``taken`` says whether a user id is in use in the room (a personal invite's new id
        must not be).
        """
        name = name.strip()
        if not (isinstance(ttl, float | int) and math.isfinite(ttl)
                and 0 < ttl <= MAX_INVITE_TTL):
            raise _bad(f"ttl must be more than 0 and at most {MAX_INVITE_TTL:g} seconds")
        if not 0 <= max_uses <= MAX_USES:
            raise _bad(f"max_uses must be from 0 to {MAX_USES}")
        if len(name) > MAX_NAME_CHARS:
            raise _bad(f"name longer than {MAX_NAME_CHARS} characters")
        if personal and not name:
            raise _bad("a personal invite needs the invited person's name")
        links = self._live(app_id, room, now)
        if len(links) >= MAX_INVITES_PER_ROOM:
            raise _bad(f"the room has {MAX_INVITES_PER_ROOM} invite links; revoke some first")
        user_id = self._fresh_id(name, app_id, room, taken) if personal else ""
        code = secrets.token_urlsafe(CODE_BYTES)
        invite = Invite(code=code, app_id=app_id, room=room, expires_at=now + ttl,
                        user_id=user_id, name=name if personal else "", max_uses=max_uses)
        self._by_code[code] = invite
        self._by_room.setdefault((app_id, room), {})[code] = invite
        return invite

    def redeem(self, code: str, name: str, previous: str | None, now: float,
               taken: Callable[[str], bool]) -> tuple[Invite, str, str]:
        """``(invite, user_id, name)`` for whoever redeems ``code`` under ``name``.

        ``previous`` is a user id the redeemer proved it holds (with a genuine token): if this
        link issued it, the redeemer comes back as the same person, without using the link up.
        ``taken`` says whether a user id is in use in the room (a new id must not be).
        Raises 30001 (unknown or revoked), 30002 (expired), 30003 (used up), 10053 (bad name).
        """
        invite = self._by_code.get(code)
        if invite is None:
            raise RoomError(ErrorCode.INVITE_NOT_FOUND,
                            "this invite link is not valid (revoked, or its room has ended)")
        if now >= invite.expires_at:
            self._drop(invite)
            raise RoomError(ErrorCode.INVITE_EXPIRED, "this invite link has expired")
        name = name.strip()
        if len(name) > MAX_NAME_CHARS:
            raise _bad(f"name longer than {MAX_NAME_CHARS} characters")
        if invite.personal:
            return invite, invite.user_id, name or invite.name
        if previous is not None and previous in invite.issued:
            return invite, previous, name
        if (invite.max_uses and invite.uses >= invite.max_uses) or (
                len(invite.issued) >= MAX_IDENTITIES_PER_INVITE):
            raise RoomError(ErrorCode.INVITE_USED_UP, "this invite link has been used up")
        user_id = self._fresh_id(name, invite.app_id, invite.room, taken)
        invite.uses += 1
        invite.issued.add(user_id)
        return invite, user_id, name

    def get(self, code: str) -> Invite | None:
        """The live link ``code`` (possibly expired: :meth:`redeem` checks), or None."""
        return self._by_code.get(code)

    def of_room(self, app_id: str, room: str, now: float) -> list[Invite]:
        """The room's live links, oldest first (expired ones are forgotten here)."""
        return list(self._live(app_id, room, now).values())

    def revoke(self, app_id: str, room: str, codes: Iterable[str] = ()) -> int:
        """Revoke the room's links named in ``codes`` (all of them if none); how many went.
        Codes of other rooms are left alone."""
        links = self._by_room.get((app_id, room), {})
        wanted = set(codes) or set(links)
        gone = [links[c] for c in wanted if c in links]
        for invite in gone:
            self._drop(invite)
        return len(gone)

    def revoke_user(self, app_id: str, room: str, user_id: str) -> int:
        """Revoke the room's personal invites of ``user_id`` (removed by the host)."""
        links = self._by_room.get((app_id, room), {})
        codes = [code for code, invite in links.items() if invite.user_id == user_id]
        return self.revoke(app_id, room, codes) if codes else 0

    def drop_room(self, app_id: str, room: str) -> None:
        """The room closed: its links end with it."""
        for invite in self._by_room.pop((app_id, room), {}).values():
            self._by_code.pop(invite.code, None)

    def issued_in(self, app_id: str, room: str, user_id: str) -> bool:
        """Whether a link of the room stands for ``user_id`` (so a new id must differ)."""
        return any(user_id == i.user_id or user_id in i.issued
                   for i in self._by_room.get((app_id, room), {}).values())

    def __len__(self) -> int:
        return len(self._by_code)

    # --- internals ------------------------------------------------------------------------

    def _live(self, app_id: str, room: str, now: float) -> dict[str, Invite]:
        links = self._by_room.get((app_id, room), {})
        for invite in [i for i in links.values() if now >= i.expires_at]:
            self._drop(invite)
        return self._by_room.get((app_id, room), {})

    def _drop(self, invite: Invite) -> None:
        self._by_code.pop(invite.code, None)
        links = self._by_room.get((invite.app_id, invite.room))
        if links is not None:
            links.pop(invite.code, None)
            if not links:
                del self._by_room[(invite.app_id, invite.room)]

    def _fresh_id(self, name: str, app_id: str, room: str, taken: Callable[[str], bool]) -> str:
        for _ in range(16):
            user_id = user_id_for(name)
            if not taken(user_id) and not self.issued_in(app_id, room, user_id):
                return user_id
        # 16 collisions of a 24-bit suffix: the name's slug is crowded; use a longer suffix.
        return f"user-{secrets.token_hex(12)}"


def invite_key(invite: Invite) -> RoomKey:
    """The (app id, room name) of the room ``invite`` admits to."""
    return (invite.app_id, invite.room)


def _bad(message: str) -> RoomError:
    return RoomError(ErrorCode.INVALID_PARAMETER, message)
