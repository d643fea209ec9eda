"""Holding a pair's next exchange while the transport of the last one is still being set up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiortc import RTCPeerConnection

logger = logging.getLogger(__name__)

SETUP_TIMEOUT = 8.0
"""Seconds a held exchange waits for the transport to connect before going ahead anyway.

Below the offerer's answer timeout, so an answerer holding an offer still answers it in time.
"""


def setting_up(pc: RTCPeerConnection) -> bool:
    """Whether the transport of an exchange already made on ``pc`` is still being set up.

    aiortc 1.16 starts a transceiver's RTP sender and receiver only in
    ``RTCPeerConnection.__connect``, a task that ``setLocalDescription`` and
    ``setRemoteDescription`` each launch. While the (bundled) DTLS transport is "connecting" a
    new ``__connect`` starts nothing, and the one that is running the handshake walks the
    transceiver list once the handshake is done, so an m-line added by an exchange made
    meanwhile never starts (its track never flows), or that walk reaches it while
    ``setRemoteDescription`` is part way through and fails with ``IndexError`` reading the old
    remote description. Exchanges are therefore held while this is true.
    """
    if pc.connectionState in ("failed", "closed"):
        return False
    if pc.localDescription is None or pc.remoteDescription is None:
        return False  # no exchange made yet: nothing is being set up
    return any(
        t.currentDirection is not None and t.receiver.transport.state in ("new", "connecting")
        for t in pc.getTransceivers()
    )


class SetupHold:
    """The hold of one connection: at most one waiter, which runs ``resume()`` once the
    transport is set up (or after SETUP_TIMEOUT, after which nothing more is held)."""

    def __init__(self, user_id: str, pc: RTCPeerConnection) -> None:
        self._user_id = user_id
        self._pc = pc
        self._changed = asyncio.Event()
        self._expired = False
        self._waiter: asyncio.Task[None] | None = None

    def active(self) -> bool:
        """Whether exchanges must wait now."""
        return not self._expired and setting_up(self._pc)

    def changed(self) -> None:
        """The connection's state changed: a waiter re-checks."""
        self._changed.set()

    def hold(self, resume: Callable[[], Awaitable[None]]) -> bool:
        """True if the next exchange must wait; ``resume()`` then runs once it may go ahead."""
        if not self.active():
            return False
        if self._waiter is None or self._waiter.done():
            self._waiter = asyncio.ensure_future(self._resume_when_set_up(resume))
        return True

    def cancel(self) -> None:
        """Drop a pending resume (the pair is closing or starting over)."""
        if self._waiter is not None:
            self._waiter.cancel()
            self._waiter = None

    async def _resume_when_set_up(self, resume: Callable[[], Awaitable[None]]) -> None:
        deadline = asyncio.get_running_loop().time() + SETUP_TIMEOUT
        while self.active():
            self._changed.clear()
            try:
                async with asyncio.timeout_at(deadline):
                    await self._changed.wait()
            except TimeoutError:
                logger.warning("connection to %s not set up after %.0f s, negotiating anyway",
                               self._user_id, SETUP_TIMEOUT)
                self._expired = True
        # A new waiter may be needed by what resume() does, so this one counts as done.
        self._waiter = None
        await resume()
