"""Volume indication, network quality and call stats, as :class:`RTCClient` methods.

What they report is measured by the media session's
:class:`~roomcall.sdk.volume.VolumeIndicator` and :class:`~roomcall.sdk.media_monitor.MediaMonitor`;
the settings made here (the indication's interval, an attached playout) outlast a session and
apply to the next one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roomcall.sdk.quality import NetworkQuality
from roomcall.sdk.stats import CallStats

if TYPE_CHECKING:
    from roomcall.sdk.media_session import MediaSession
    from roomcall.sdk.volume import Playout


class ReportCalls:
    """Levels, grades and stats; mixed into :class:`~roomcall.sdk.client.RTCClient`."""

    _volume_interval_ms: int = 0
    _playout: Playout | None = None

    @property
    def _media(self) -> MediaSession | None:
        """The current session's media (RTCClient's)."""
        raise NotImplementedError

    def enable_volume_indication(self, interval_ms: int) -> None:
        """Emit ``volume_indication(levels)`` every ``interval_ms`` ms (Qiniu's
        ``enableAudioVolumeIndication``); 0 or negative turns it off. Applies to this session
        and the ones after it; ``levels`` maps each member with audio (the local user
        included) to its level, 0.0-1.0 (:mod:`roomcall.sdk.volume`)."""
        self._volume_interval_ms = max(0, int(interval_ms))
        if self._media is not None:
            self._media.volume.set_interval(self._volume_interval_ms)

    def attach_playout(self, playout: Playout | None) -> None:
        """Read remote members' levels and jitter buffer concealment from ``playout`` (the
        application's ``roomcall.media.playout.AudioPlayout``), i.e. from what is played
        rather than what arrives; None detaches it."""
        self._playout = playout
        if self._media is not None:
            self._media.volume.attach_playout(playout)

    def network_quality(self, user_id: str) -> NetworkQuality:
        """``user_id``'s (or the local user's) uplink and downlink grades as last evaluated;
        UNKNOWN before the first evaluation, or when not in a room
        (:mod:`roomcall.sdk.quality`)."""
        if self._media is None:
            return NetworkQuality()
        return self._media.monitor.quality(user_id)

    async def get_stats(self) -> CallStats:
        """Per-track figures of every local and subscribed remote track: bitrate and frame
        rate over the last second or more, resolution, packets lost, RTT, jitter, and for
        audio level and concealment (:mod:`roomcall.sdk.stats`). The first call of a session
        takes a second to measure the rates. Empty when not in a room."""
        if self._media is None:
            return CallStats()
        return await self._media.monitor.stats()

    def _follow_reports(self, media: MediaSession) -> None:
        media.volume.set_interval(self._volume_interval_ms)
        media.volume.attach_playout(self._playout)
