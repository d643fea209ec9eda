"""Tracks as the SDK hands them out: local publications and subscribed remote tracks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from roomcall.protocol.messages import Kind, TrackInfo
from roomcall.sdk.topology import TrackProfile

if TYPE_CHECKING:
    from aiortc.mediastreams import MediaStreamTrack

    from roomcall.media.drain import Frame, TrackDrain


@dataclass
class LocalPublication:
    """A local track the room knows about (``QNLocalTrack`` after publish)."""

    track_id: str
    """Server-assigned id, unique in the room."""
    kind: Kind
    tag: str
    muted: bool
    media_id: str
    """The track's id on the wire; receivers match their RTP track to it."""
    track: MediaStreamTrack
    """The aiortc source track that was published."""

    @property
    def info(self) -> TrackInfo:
        """The publication as other members see it."""
        return TrackInfo(
            track_id=self.track_id, kind=self.kind, tag=self.tag, muted=self.muted,
            media_id=self.media_id,
        )


class RemoteTrack:
    """A remote member's published track whose media reaches this client.

    Media is drained continuously from the moment it arrives, so a slow consumer never makes
    frames pile up: :meth:`recv` gives the newest video frame (older ones are dropped) and
    audio frames in order from a short buffer.

    :meth:`set_profile` says what the application shows of a video track (the large tile, a
    small one, or nothing): through an SFU it picks the layer received.
    """

    def __init__(self, user_id: str, info: TrackInfo, source: MediaStreamTrack,
                 drain: TrackDrain, *, profile: TrackProfile = TrackProfile.HIGH,
                 on_profile: Callable[[RemoteTrack, TrackProfile], None] | None = None) -> None:
        self.user_id = user_id
        """The publisher."""
        self._info = info
        self._source = source
        self._drain = drain
        self._profile = profile
        self._on_profile = on_profile

    @property
    def info(self) -> TrackInfo:
        """The publication as the room describes it (mute state kept current)."""
        return self._info

    @property
    def track_id(self) -> str:
        """Server-assigned id of the publication."""
        return self._info.track_id

    @property
    def kind(self) -> Kind:
        """``"audio"`` or ``"video"``."""
        return self._info.kind

    @property
    def tag(self) -> str:
        """The publisher's free text tag, e.g. ``"camera"``."""
        return self._info.tag

    @property
    def muted(self) -> bool:
        """True while the publisher has the track muted (no media flows then)."""
        return self._info.muted

    @property
    def source(self) -> MediaStreamTrack:
        """The underlying aiortc receiver track (already drained: do not ``recv()`` it)."""
        return self._source

    @property
    def profile(self) -> TrackProfile:
        """What this client last asked to receive of the track (HIGH at first)."""
        return self._profile

    def set_profile(self, profile: TrackProfile) -> None:
        """Receive the full picture (HIGH: the large or active speaker tile), the low layer
        (LOW: a small tile) or nothing for now (NONE: the tile is not visible; the track stays
        subscribed). Takes effect within a moment; audio tracks ignore it."""
        if not isinstance(profile, TrackProfile):
            raise TypeError(f"profile must be a TrackProfile, not {profile!r}")
        if profile is self._profile or self.kind != "video":
            return
        self._profile = profile
        if self._on_profile is not None:
            self._on_profile(self, profile)

    async def recv(self) -> Frame:
        """The next decoded frame (``av.VideoFrame`` / ``av.AudioFrame``); raises aiortc's
        ``MediaStreamError`` once the track has ended."""
        return await self._drain.recv()

    def latest(self) -> Frame | None:
        """The newest frame received so far without waiting, or None."""
        return self._drain.latest()

    async def stop(self) -> None:
        """Stop draining; :meth:`recv` ends."""
        await self._drain.stop()

    def _set_muted(self, muted: bool) -> None:
        self._info = dataclasses.replace(self._info, muted=muted)

    def __repr__(self) -> str:
        return (f"RemoteTrack(user_id={self.user_id!r}, track_id={self.track_id!r}, "
                f"kind={self.kind!r}, tag={self.tag!r}, muted={self.muted})")
