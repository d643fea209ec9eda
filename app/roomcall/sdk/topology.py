"""The seam between the media session and the way media travels: the mesh or an SFU.

A :class:`Topology` carries the local tracks' packets to the other members and their tracks
back. The media session (:mod:`roomcall.sdk.media_session`) drives it with what the signalling
says (members present, local encoders, the receiving profile of each remote track) and hears
back through :class:`TopologyEvents`. Two implementations: :class:`~roomcall.sdk.mesh.Mesh`
(one RTCPeerConnection per member, negotiated over the room server's relay) and
:class:`~roomcall.sdk.sfu.Sfu` (one publisher and one subscriber connection to a Janus
VideoRoom). The roomcall signalling stays the source of truth for members, tags and mute
state either way; the UI and the SDK's public events do not depend on which one carries a
member's media.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from aiortc import RTCPeerConnection
    from aiortc.mediastreams import MediaStreamTrack

    from roomcall.media.encoder import TrackEncoder
    from roomcall.sdk.state import PeerState


class TrackProfile(enum.Enum):
    """What a subscriber wants of a remote video track (Qiniu's ``QNTrackProfile``).

    HIGH: the full picture (the large or active speaker tile); LOW: the low layer, 320x240
    at a low bitrate (a small tile); NONE: nothing for now (the tile is not visible), the
    track stays subscribed and frames resume when the profile is raised again. Through an SFU
    each is a different stream from the publisher (aiortc cannot send simulcast, so every
    camera is published twice); in the mesh the sender's bandwidth estimate picks the rung,
    and the profile changes nothing.
    """

    HIGH = "high"
    LOW = "low"
    NONE = "none"


@dataclass(frozen=True)
class TopologyEvents:
    """Where a topology reports to (the media session).

    Attributes:
        track: ``track(user_id, media_id, track)``: media of ``user_id``'s publication
            ``media_id`` arrives on ``track``; drain it continuously.
        track_ended: ``track_ended(user_id, media_id)``: that track stopped for good.
        peer_state: ``peer_state(user_id, state)``: the media path to ``user_id`` changed.
    """

    track: Callable[[str, str, MediaStreamTrack], None]
    track_ended: Callable[[str, str], None]
    peer_state: Callable[[str, PeerState], None]


class Topology(Protocol):
    """What the media session needs of a way to carry media."""

    async def add_peer(self, user_id: str) -> None:
        """``user_id`` is in the room (or back after a signalling gap): exchange media."""

    async def remove_peer(self, user_id: str) -> None:
        """Stop exchanging media with ``user_id``; its tracks end."""

    async def add_encoder(self, encoder: TrackEncoder, tag: str = "") -> None:
        """Send ``encoder``'s packets (its owner starts and stops it); ``tag`` is the
        publication's (an SFU publishes a camera in two layers, a screen in one)."""

    async def drop_encoder(self, media_id: str) -> None:
        """Stop sending ``media_id``."""

    async def set_profile(self, user_id: str, media_id: str, profile: TrackProfile) -> None:
        """Receive ``user_id``'s track ``media_id`` at ``profile``."""

    def connection(self, user_id: str) -> RTCPeerConnection | None:
        """The RTCPeerConnection carrying ``user_id``'s media, if any (for stats)."""

    def peer_state(self, user_id: str) -> PeerState | None:
        """The media path to ``user_id``, None if this topology has none."""

    async def close(self) -> None:
        """Close every connection (the encoders are left to their owner)."""
