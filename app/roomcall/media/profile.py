"""Encoding profiles: how a kind of content is encoded once for every peer.

A camera and a shared screen go through the same encode-once path
(:class:`~roomcall.media.encoder.TrackEncoder`: a ladder of rungs, per-peer bandwidth
estimates, keyframes on request); a profile only sets what differs between them:

- the libvpx settings (:data:`~roomcall.media.codecs.SCREEN_VP8`: screen-content mode, the
  fastest realtime speed, no denoising);
- the ladder: a camera steps down in size early (a smaller moving picture looks better than
  a blocky one), a screen keeps its full size, so text stays readable, over a wide range of
  bit rates, and steps down only on links too slow for that;
- the per-stream ceiling by number of peers.

The SDK picks the profile by the publication's tag (:func:`profile_for_tag`), as Qiniu's model
tells camera from screen by tag. While a member shares a screen its cameras yield the uplink
to it (:func:`give_screen_priority`): each track to a peer has its own estimate, so without
this a camera and a screen would both claim the whole link and cut each other back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from roomcall.media.codecs import CAMERA_VP8, SCREEN_VP8, VideoSettings
from roomcall.media.ladder import LADDER, Rung

if TYPE_CHECKING:
    from roomcall.media.encoder import TrackEncoder

SCREEN_TAG: Final = "screen"
"""The tag a shared screen is published with."""


@dataclass(frozen=True)
class EncodingProfile:
    """How one kind of video is encoded."""

    name: str
    video: VideoSettings
    ladder: tuple[Rung, ...]
    """Best rung first (see :mod:`roomcall.media.ladder`)."""
    ceilings: tuple[int, int, int]
    """Bit/s of one stream when it goes to 1 peer, to 2-3 peers, to more (one uplink
    carries every copy in a mesh); the peers' estimates may lower it further."""

    def ceiling(self, peers: int) -> int:
        """The ceiling of one stream sent to ``peers`` peers."""
        one, few, many = self.ceilings
        return one if peers <= 1 else few if peers <= 3 else many


CAMERA: Final = EncodingProfile("camera", CAMERA_VP8, LADDER,
                                (1_000_000, 800_000, 600_000))
"""Cameras (and anything not tagged as a screen): 1 Mbit/s to one peer, 4.2 Mbit/s for 7."""

SCREEN_LADDER: Final = (
    Rung("full", None, None, 250_000, 1_500_000),
    Rung("reduced", 1280, 720, 120_000, 400_000),
    Rung("low", 640, 360, 60_000, 150_000),
)
"""The shared picture keeps its size (at most 1920x1080, set at capture) down to 250 kbit/s,
where still text is sharp after a second or two; below that 1280x720, then 640x360."""

SCREEN: Final = EncodingProfile("screen", SCREEN_VP8, SCREEN_LADDER,
                                (1_500_000, 1_200_000, 1_000_000))
"""Shared screens and windows: a higher ceiling than a camera, since text needs it and a
screen is mostly still (unchanged frames are not even sent, see roomcall.media.screen)."""


def profile_for_tag(tag: str) -> EncodingProfile:
    """The profile of a publication tagged ``tag``: :data:`SCREEN` for ``"screen"``."""
    return SCREEN if tag == SCREEN_TAG else CAMERA


CAMERA_CEILING_WHILE_SHARING: Final = LADDER[0].min_bitrate
"""bit/s a camera stream may take while its member shares a screen: the top rung's floor,
enough for the small camera tiles of a presenter layout."""


def give_screen_priority(encoders: Iterable[TrackEncoder]) -> None:
    """Cap the cameras among one member's ``encoders`` while one of them sends a screen (and
    lift the cap once none does); call it whenever a track is added or removed."""
    video = [e for e in encoders if e.kind == "video"]
    sharing = any(e.profile is SCREEN for e in video)
    for encoder in video:
        if encoder.profile is not SCREEN:
            encoder.ceiling_limit = CAMERA_CEILING_WHILE_SHARING if sharing else None
