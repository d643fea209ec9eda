"""The local person's shared screen in one call: listed, captured, published, stopped.

The capture source is :func:`roomcall.media.screen.open_screen`; the track is published with
``tag="screen"`` beside the camera, so the SDK encodes it with the screen profile and other
members see the tag (their stage layout shows it large). Listing and opening talk to the
display server and run on an executor thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from roomcall.media.devices import DeviceError
from roomcall.media.profile import SCREEN_TAG
from roomcall.media.screen import ScreenTrack, ShareSettings, grab_thumbnail, open_screen
from roomcall.media.screen_targets import ShareTarget, list_share_targets
from roomcall.ui.room_view import Publisher

if TYPE_CHECKING:
    from roomcall.sdk import LocalPublication

log = logging.getLogger(__name__)

Opener = Callable[[ShareTarget, ShareSettings], ScreenTrack]
Lister = Callable[[], list[ShareTarget]]
MAX_THUMBNAILS = 24
"""Targets given a thumbnail (one grab each, a few ms): more windows are listed by name."""


class ScreenShare:
    """What this person shares, if anything. ``on_ended(error)`` is called when the capture
    stops by itself (the window closed, the display went away), with why; the owner then
    calls :meth:`stop`."""

    def __init__(self, *, lister: Lister = list_share_targets,
                 opener: Opener = open_screen) -> None:
        self._lister = lister
        self._opener = opener
        self.track: ScreenTrack | None = None
        self.publication: LocalPublication | None = None
        self.on_ended: Callable[[DeviceError], None] | None = None
        self._client: Publisher | None = None

    @property
    def sharing(self) -> bool:
        """True while a screen or window is being captured and published."""
        return self.track is not None

    @property
    def target(self) -> ShareTarget | None:
        """What is shared, while sharing."""
        return self.track.target if self.track is not None else None

    async def list_targets(self) -> list[ShareTarget]:
        """The screens and windows that can be shared.

        Raises:
            ShareUnavailable: this desktop cannot be shared (why is in ``reason``).
            DeviceError: 23003 when the display cannot be asked.
        """
        return await asyncio.get_running_loop().run_in_executor(None, self._lister)

    async def thumbnails(self, targets: list[ShareTarget],
                         show: Callable[[str, npt.NDArray[np.uint8]], bool]) -> None:
        """Grab a thumbnail of each target (the first MAX_THUMBNAILS) and ``show(id,
        picture)`` it; stops early once ``show`` returns False (the picker closed)."""
        loop = asyncio.get_running_loop()
        for target in targets[:MAX_THUMBNAILS]:
            picture = await loop.run_in_executor(None, grab_thumbnail, target)
            if picture is not None and not show(target.id, picture):
                return

    async def start(self, client: Publisher, target: ShareTarget,
                    settings: ShareSettings) -> None:
        """Capture ``target`` and publish it (a share already running is stopped first).

        Raises:
            DeviceError: 23003 when it cannot be captured; the SDK's ``RTCError`` when it
                cannot be published (nothing stays open then).
        """
        await self.stop()
        loop = asyncio.get_running_loop()
        track = await loop.run_in_executor(None, self._opener, target, settings)
        try:
            (publication,) = await client.publish([track], tag=SCREEN_TAG)
        except BaseException:
            track.stop()
            raise
        self.track, self.publication, self._client = track, publication, client
        track.on("ended", lambda: self._ended(track))

    async def republish(self, client: Publisher) -> None:
        """Publish the running share again on ``client`` (after a rejoin)."""
        if self.track is not None:
            (self.publication,) = await client.publish([self.track], tag=SCREEN_TAG)
            self._client = client

    async def stop(self) -> None:
        """Unpublish and release the capture (nothing happens when not sharing)."""
        track, publication, client = self.track, self.publication, self._client
        self.track = self.publication = self._client = None
        if track is None:
            return
        if client is not None and publication is not None:
            try:
                await client.unpublish([publication])
            except Exception as exc:  # gone with the session: leaving unpublishes anyway
                log.info("unpublishing the shared screen failed: %r", exc)
        track.stop()
        if not await track.wait_released():
            log.warning("screen grabber of %s did not close in time", track.target.id)

    def _ended(self, track: ScreenTrack) -> None:
        if track is not self.track or track.error is None:
            return  # stopped on purpose (stop() cleared it first)
        log.info("screen sharing ended by itself: %s", track.error)
        if self.on_ended is not None:
            self.on_ended(track.error)  # the owner calls stop(), which unpublishes
