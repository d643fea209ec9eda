"""The kick policy on its own (no Qt): who may kick, and the host's grace period."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import pytest

from roomcall.ui.kick import KICK_OUT, HostKicker, is_kick_request


@dataclass(frozen=True)
class Member:
    user_id: str
    permission: str = "user"


@dataclass(frozen=True)
class Msg:
    user_id: str
    content: str


@dataclass
class Room:
    """A small stand-in for the client's view of a room, recording what was sent."""

    members: dict[str, Member] = field(default_factory=dict)
    sent: list[tuple[str, list[str] | None]] = field(default_factory=list)
    kicked: list[str] = field(default_factory=list)
    kicked_event: asyncio.Event = field(default_factory=asyncio.Event)

    def get_remote_user(self, user_id: str) -> Member | None:
        return self.members.get(user_id)

    async def send_message(self, content: str, user_ids: list[str] | None = None,
                           message_id: str | None = None) -> None:
        self.sent.append((content, user_ids))

    async def kick_user(self, user_id: str) -> None:
        self.kicked.append(user_id)
        self.members.pop(user_id, None)
        self.kicked_event.set()


def test_kick_out_from_admin_is_honoured() -> None:
    """A kickOut whose sender the server lists as admin must be obeyed."""
    room = Room({"host": Member("host", "admin")})
    assert is_kick_request(room, Msg("host", KICK_OUT))


def test_kick_out_from_non_admin_is_ignored_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A kickOut from a plain member, or from someone not in the room, is ignored with a log."""
    room = Room({"eve": Member("eve", "user")})
    with caplog.at_level(logging.WARNING, logger="roomcall.ui.kick"):
        assert not is_kick_request(room, Msg("eve", KICK_OUT))
        assert not is_kick_request(room, Msg("ghost", KICK_OUT))
    assert sum("ignored kickOut" in r.message for r in caplog.records) == 2


def test_other_messages_are_not_kicks() -> None:
    """Any content other than exactly ``kickOut`` is not a kick, even from the host."""
    room = Room({"host": Member("host", "admin")})
    assert not is_kick_request(room, Msg("host", "kickout"))
    assert not is_kick_request(room, Msg("host", '{"chat": "kickOut"}'))


async def test_host_enforces_kick_after_grace_when_target_stays() -> None:
    """The host sends kickOut at once and uses kick_user once the grace period ran out."""
    room = Room({"bob": Member("bob")})
    kicker = HostKicker(room, grace_seconds=0.05)
    await kicker.kick("bob")
    assert room.sent == [(KICK_OUT, ["bob"])]
    assert kicker.pending == {"bob"}
    await asyncio.wait_for(room.kicked_event.wait(), 5)
    assert room.kicked == ["bob"] and not kicker.pending


async def test_no_server_kick_when_target_leaves_in_time() -> None:
    """user_left inside the grace period cancels the follow-up kick."""
    room = Room({"bob": Member("bob")})
    kicker = HostKicker(room, grace_seconds=0.05)
    await kicker.kick("bob")
    room.members.pop("bob")
    kicker.on_user_left("bob")
    assert not kicker.pending
    other = HostKicker(room, grace_seconds=0.1)  # a timer that outlasts the cancelled one
    room.members["zed"] = Member("zed")
    await other.kick("zed")
    await asyncio.wait_for(room.kicked_event.wait(), 5)
    assert room.kicked == ["zed"]


async def test_cancel_all_drops_pending_kicks() -> None:
    """When the host leaves, no follow-up kick fires."""
    room = Room({"bob": Member("bob")})
    kicker = HostKicker(room, grace_seconds=0.05)
    await kicker.kick("bob")
    await kicker.kick("bob")  # a second click does not send twice
    assert room.sent == [(KICK_OUT, ["bob"])]
    kicker.cancel_all()
    probe = HostKicker(room, grace_seconds=0.1)
    room.members["zed"] = Member("zed")
    await probe.kick("zed")
    await asyncio.wait_for(room.kicked_event.wait(), 5)
    assert room.kicked == ["zed"]
