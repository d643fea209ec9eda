"""The kick policy, as DESIGN.md states it. Qt-free.

The host's Kick sends the agreed custom message ``kickOut`` to the target. A receiving app
honours it only when the server lists the sender as an admin; anyone else's ``kickOut`` is
logged and ignored. Because a modified client may ignore the message, the host's app follows
up with the server-enforced ``kick_user`` if the target is still in the room after a grace
period; the follow-up is cancelled the moment the target's ``user_left`` arrives.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from roomcall.aio import TaskSet
from roomcall.ui.room_view import RemoteUserView, is_admin

log = logging.getLogger(__name__)

KICK_OUT = "kickOut"
"""The custom message content that asks a member to leave (Qiniu's documented convention)."""

DEFAULT_GRACE_SECONDS = 3.0
"""How long the host waits for the target to leave by itself before ``kick_user``."""


class _Message(Protocol):
    @property
    def user_id(self) -> str: ...

    @property
    def content(self) -> str: ...


class KickClient(Protocol):
    """The part of ``RTCClient`` the kick policy uses."""

    def get_remote_user(self, user_id: str) -> RemoteUserView | None: ...

    async def send_message(
        self, content: str, user_ids: list[str] | None = None, message_id: str | None = None
    ) -> str: ...

    async def kick_user(self, user_id: str) -> None: ...


def is_kick_request(client: KickClient, message: _Message) -> bool:
    """True when ``message`` is a ``kickOut`` this app must obey.

    Only a sender the server lists as admin counts; a ``kickOut`` from anyone else is
    logged (so a host can see who tried) and ignored.
    """
    if message.content != KICK_OUT:
        return False
    sender = client.get_remote_user(message.user_id)
    if is_admin(sender):
        log.info("kickOut from admin %s: leaving the room", message.user_id)
        return True
    log.warning("ignored kickOut from %s: the sender is not an admin", message.user_id)
    return False


class HostKicker:
    """The host's side of a kick: the message first, the server-enforced kick after a grace.

    ``on_user_left`` must be called for every ``user_left`` event (it cancels the follow-up),
    and ``cancel_all`` when the host leaves the room.
    """

    def __init__(self, client: KickClient, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> None:
        self._client = client
        self._grace = grace_seconds
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._enforcing = TaskSet(log, "server kick")

    @property
    def pending(self) -> frozenset[str]:
        """User ids whose grace period is running."""
        return frozenset(self._pending)

    async def kick(self, user_id: str) -> None:
        """Ask ``user_id`` to leave, then enforce it after the grace period if needed."""
        if user_id in self._pending:
            return
        loop = asyncio.get_running_loop()
        self._pending[user_id] = loop.call_later(self._grace, self._enforce, user_id)
        try:
            await self._client.send_message(KICK_OUT, [user_id])
        except Exception:
            # The message is a courtesy; the server-enforced kick below still follows.
            log.exception("sending kickOut to %s failed", user_id)

    def on_user_left(self, user_id: str) -> None:
        """The member left: no follow-up kick is needed."""
        handle = self._pending.pop(user_id, None)
        if handle is not None:
            handle.cancel()
            log.info("%s left after kickOut; no server kick needed", user_id)

    def cancel_all(self) -> None:
        """Drop every follow-up (the host left the room)."""
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        self._enforcing.cancel()

    def _enforce(self, user_id: str) -> None:
        self._pending.pop(user_id, None)
        if self._client.get_remote_user(user_id) is None:
            return
        log.warning("%s ignored kickOut for %.1f s: kicking through the server",
                    user_id, self._grace)
        self._enforcing.spawn(self._kick_user(user_id))

    async def _kick_user(self, user_id: str) -> None:
        try:
            await self._client.kick_user(user_id)
        except Exception:
            log.exception("server kick of %s failed", user_id)
