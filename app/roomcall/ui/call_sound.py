"""The sound of one call: remote members' audio through the optional ``AudioPlayout``.

No sound must never cost the person the call: every failure of the playout is logged here
and goes no further.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from roomcall.media.devices import DeviceInfo
    from roomcall.media.playout import AudioPlayout
    from roomcall.sdk import RemoteTrack

log = logging.getLogger(__name__)


class CallSound:
    """Wraps the call's playout (None: a call without sound, as in some tests)."""

    def __init__(self, playout: AudioPlayout | None) -> None:
        self.playout = playout

    async def start(self) -> None:
        """Start playing; without an output device the tracks are still drained."""
        if self.playout is None:
            return
        try:
            await self.playout.start()
        except Exception:
            log.exception("audio playout failed to start")
            return
        if self.playout.error is not None:
            log.info("no audio output: %s", self.playout.error)

    async def stop(self) -> None:
        """Stop playing."""
        if self.playout is None:
            return
        try:
            await self.playout.stop()
        except Exception:
            log.exception("stopping audio playout failed")

    def add_track(self, user_id: str, track: RemoteTrack) -> None:
        """Mix ``user_id``'s audio track in."""
        playout = self.playout
        if playout is not None:
            self._call(lambda: playout.add_track(user_id, track), "add_track")

    def remove_track(self, user_id: str) -> None:
        """Stop mixing ``user_id``'s audio."""
        playout = self.playout
        if playout is not None:
            self._call(lambda: playout.remove_track(user_id), "remove_track")

    def set_output_device(self, device: DeviceInfo | None) -> None:
        """Play on ``device`` (None: the system's default)."""
        playout = self.playout
        if playout is not None:
            self._call(lambda: playout.set_output_device(device), "set_output_device")

    @staticmethod
    def _call(call: Callable[[], object], what: str) -> None:
        try:
            call()
        except Exception:
            log.exception("audio playout: %s failed", what)
