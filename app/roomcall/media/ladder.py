"""The ladder of video rungs a local track is encoded at, and the choice of rung per peer.

aiortc cannot send simulcast and VP8 temporal layers through FFmpeg gave no droppable frames,
so a shared encoder adapts by encoding separate sizes: each rung is one VP8 encode, made only
while at least one peer takes it, whatever the number of peers on it. Each peer's
:class:`RungSelector` picks the best rung its bandwidth estimate allows: down at once when the
estimate falls below the rung's floor, up only once it has stayed clearly above the next rung's
floor for a while, so a noisy estimate does not flap between sizes (each switch costs a
keyframe). The sans-I/O parts here take the time as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import av

from roomcall.media.codecs import CAMERA_VP8, VideoCodec, VideoSettings

MIN_KEYFRAME_INTERVAL: Final = 0.5
"""Seconds between keyframes forced by PLI / FIR on one rung, so lossy peers cannot ask for one
per frame: a 320x240 keyframe is ~15 KB, half a second of a 250 kbit/s link."""
UP_MARGIN: Final = 1.3
"""A peer moves up a rung once its estimate is this many times the rung's floor..."""
UP_HOLD: Final = 3.0
"""...for this many seconds."""
RETARGET_STEP: Final = 0.05
"""A rung's encoder follows its peers' estimate when it moved by at least this share (libvpx
takes the new target from the next frame on)."""
RETARGET_INTERVAL: Final = 1.0
"""Seconds between two upward retargets of a rung (a drop is applied at once)."""
REOPENING_RETARGET_STEP: Final = 0.2
REOPENING_RETARGET_INTERVAL: Final = 3.0
"""The same, where the encoder runs through PyAV (libvpx not reachable directly): there a new
target re-opens the encoder, which costs a keyframe, so it follows only larger moves."""
HEADROOM: Final = 0.85
"""A rung's encoder targets this share of its peers' estimate (the uplink ceiling is not
cut): libvpx overshoots its target by up to 15 % (``overshoot-pct``) and RTP/SRTP/UDP/IP headers
add about 4 %."""


@dataclass(frozen=True)
class Rung:
    """One size of the ladder: frames fit within ``width`` x ``height`` (never upscaled)."""

    name: str
    width: int | None
    """None: the source's own size."""
    height: int | None
    min_bitrate: int
    max_bitrate: int

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """The even size a ``width`` x ``height`` source is scaled to on this rung."""
        if self.width is None or self.height is None:
            return width, height
        scale = min(1.0, self.width / width, self.height / height)
        return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


LADDER: Final = (
    Rung("high", None, None, 450_000, 1_500_000),
    Rung("medium", 320, 240, 150_000, 500_000),
    Rung("low", 160, 120, 60_000, 200_000),
)
"""Best first. The top rung's floor keeps a 640x480 keyframe (~40 KB) under 0.7 s of the
link; below it 320x240 at 30 frames/s looks better than a stalling 640x480. The ranges overlap
so a peer's estimate, which the receiver derives from what it gets (REMB is at most 1.5x the
incoming rate), can reach the next rung's floor."""


def best_rung(estimate: int, ladder: tuple[Rung, ...] = LADDER) -> int:
    """Index of the best rung whose floor ``estimate`` reaches (the last one if none)."""
    for index, rung in enumerate(ladder):
        if estimate >= rung.min_bitrate:
            return index
    return len(ladder) - 1


class RungSelector:
    """One peer's rung, with hysteresis; index 0 is the best rung."""

    def __init__(self, ladder: tuple[Rung, ...] = LADDER, rung: int = 0) -> None:
        self.ladder = ladder
        self.rung = rung
        self._up_since: float | None = None

    def update(self, estimate: int, now: float) -> int:
        """The rung for this peer after its estimate is ``estimate`` at ``now``."""
        best = best_rung(estimate, self.ladder)
        if best > self.rung:
            self.rung = best
            self._up_since = None
        elif best < self.rung and estimate >= self.ladder[self.rung - 1].min_bitrate * UP_MARGIN:
            if self._up_since is None:
                self._up_since = now
            elif now - self._up_since >= UP_HOLD:
                self.rung -= 1
                self._up_since = None
        else:
            self._up_since = None
        return self.rung


class RungEncoder:
    """The one VP8 encode of a rung: its size, bitrate and keyframe requests."""

    def __init__(self, rung: Rung, settings: VideoSettings = CAMERA_VP8) -> None:
        self.rung = rung
        self.settings = settings
        self.codec: VideoCodec | None = None
        self.frames_encoded = 0
        """Encoder invocations on this rung."""
        self.keyframes = 0
        self.last_keyframe = float("-inf")
        self.size: tuple[int, int] | None = None
        """(width, height) of the last frame encoded on this rung (None before the first)."""
        self._keyframe_wanted = False
        self._keyframe_urgent = False
        self._retargeted = float("-inf")

    @property
    def active(self) -> bool:
        """Whether the rung has an encoder (some peer takes it)."""
        return self.codec is not None

    @property
    def bitrate(self) -> int | None:
        """The encoder's current target in bit/s, None while inactive."""
        return self.codec.bitrate if self.codec is not None else None

    def activate(self, bitrate: int) -> None:
        """Start encoding (a fresh encoder begins with a keyframe)."""
        if self.codec is None:
            self.codec = VideoCodec(self.settings)
            self.codec.bitrate = self._clamp(bitrate)

    def deactivate(self) -> None:
        """No peer takes the rung any more: drop its encoder."""
        self.codec = None
        self._keyframe_wanted = self._keyframe_urgent = False

    def retarget(self, bitrate: int, now: float) -> None:
        """Follow the estimate of the rung's peers, within the rung's range (see RETARGET_*)."""
        if self.codec is None:
            return
        target, current = self._clamp(bitrate), self.codec.bitrate
        step, interval = ((RETARGET_STEP, RETARGET_INTERVAL) if self.codec.in_place_retarget
                          else (REOPENING_RETARGET_STEP, REOPENING_RETARGET_INTERVAL))
        if abs(target - current) < step * current:
            return
        if target > current and now - self._retargeted < interval:
            return
        self.codec.bitrate = target
        self._retargeted = now

    def want_keyframe(self, *, urgent: bool) -> None:
        """Make a coming frame a keyframe (after MIN_KEYFRAME_INTERVAL unless ``urgent``)."""
        self._keyframe_wanted = True
        self._keyframe_urgent = self._keyframe_urgent or urgent

    def take_keyframe(self, now: float) -> bool:
        """Whether the frame encoded at ``now`` must be a keyframe."""
        if not self._keyframe_wanted:
            return False
        if not self._keyframe_urgent and now - self.last_keyframe < MIN_KEYFRAME_INTERVAL:
            return False  # kept pending until the interval has passed
        self._keyframe_wanted = self._keyframe_urgent = False
        return True

    def encode(self, frame: av.VideoFrame, keyframe: bool) -> list[av.Packet[Any]]:
        """Scale ``frame`` to the rung's size and encode it (runs in an executor thread)."""
        codec = self.codec
        if codec is None:
            return []
        width, height = self.rung.size_for(frame.width, frame.height)
        if (width, height) != (frame.width, frame.height):
            scaled = frame.reformat(width=width, height=height, format="yuv420p")
            scaled.pts, scaled.time_base = frame.pts, frame.time_base
            frame = scaled
        self.frames_encoded += 1
        self.size = (width, height)
        return codec.encode(frame, keyframe)

    def _clamp(self, bitrate: int) -> int:
        return min(self.rung.max_bitrate, max(self.rung.min_bitrate, bitrate))
