"""The encode-once ladder: one encode per active rung, peers placed by their own estimate."""

from __future__ import annotations

import asyncio
import fractions
from collections.abc import AsyncIterator

import av
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from roomcall.media.bandwidth import BandwidthEstimator
from roomcall.media.encoder import TrackEncoder, bitrate_for_peers
from roomcall.media.ladder import HEADROOM, LADDER
from roomcall.media.packet_track import PacketTrack
from roomcall.media.profile import CAMERA_CEILING_WHILE_SHARING, SCREEN, give_screen_priority
from roomcall.media.synthetic import (
    CameraLikeVideoTrack,
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    decode_pattern,
    identity_code,
)

TIMEOUT = 15.0


class QuickCamera(MediaStreamTrack):
    """The camera-like source at 640x480, ~100 frames/s (no real-time pacing)."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._camera = CameraLikeVideoTrack("alice")
        self.produced = 0

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await asyncio.sleep(0.01)
        frame = self._camera.render(self.produced, 1000 + self.produced)
        frame.pts = self.produced * 3000
        frame.time_base = fractions.Fraction(1, 90_000)
        self.produced += 1
        return frame


@pytest.fixture
async def encoder() -> AsyncIterator[TrackEncoder]:
    """A started encoder on the quick camera, stopped after the test."""
    encoder = TrackEncoder(QuickCamera(), "cam")
    encoder.start()
    yield encoder
    await encoder.stop()


def _peer(encoder: TrackEncoder, remb: int) -> PacketTrack:
    """A peer track whose estimate is ``remb`` (its REMB, no loss so far)."""
    track = encoder.subscribe()
    track.estimator = BandwidthEstimator(start=1_500_000)
    track.on_remb(remb)
    return track


class Receiver:
    """Reads one peer track and decodes it as that peer's decoder would."""

    def __init__(self, track: PacketTrack) -> None:
        self.track = track
        self.decoder = av.CodecContext.create("libvpx", "r")
        self.sizes: list[tuple[int, int]] = []
        self.counters: list[int] = []
        self.keyframe_at_switch: list[bool] = []

    async def read(self, count: int) -> None:
        """Read and decode ``count`` packets, noting the code each decoded frame carries."""
        for _ in range(count):
            packet = await asyncio.wait_for(self.track.recv(), TIMEOUT)
            for frame in self.decoder.decode(packet):
                size = (frame.width, frame.height)
                if self.sizes and size != self.sizes[-1]:
                    self.keyframe_at_switch.append(bool(packet.is_keyframe))
                self.sizes.append(size)
                info = decode_pattern(frame)
                if info is not None and info.identity == identity_code("alice"):
                    self.counters.append(info.counter)

    @property
    def good_share(self) -> float:
        """Share of decoded frames whose code reads back as the sender's."""
        return len(self.counters) / max(1, len(self.sizes))


async def test_peers_on_different_rungs_cost_one_encode_per_rung(encoder: TrackEncoder) -> None:
    """Four peers on three rungs: each rung is encoded once per frame, each peer decodes the
    sender's code at its rung's size."""
    peers = [_peer(encoder, 1_200_000), _peer(encoder, 1_200_000), _peer(encoder, 200_000),
             _peer(encoder, 80_000)]
    receivers = [Receiver(p) for p in peers]
    await asyncio.gather(*(r.read(40) for r in receivers))
    assert [p.rung for p in peers] == [0, 0, 1, 2]
    assert receivers[0].sizes[-1] == (640, 480) and receivers[1].sizes[-1] == (640, 480)
    assert receivers[2].sizes[-1] == (320, 240)
    assert receivers[3].sizes[-1] == (160, 120)
    # A busy delta frame at a low rate may blur a cell of the code; nearly all must read.
    assert all(r.good_share >= 0.9 for r in receivers), [r.good_share for r in receivers]
    encoded = [rung.frames_encoded for rung in encoder.rungs]
    # No rung is encoded more often than there are frames, whatever the number of its peers.
    assert all(0 < n <= encoder.frames_encoded for n in encoded)
    assert sum(encoded) <= 3 * encoder.frames_encoded
    assert encoded[0] >= 40  # both top peers were served from the same encodes


async def test_a_rung_nobody_takes_is_not_encoded(encoder: TrackEncoder) -> None:
    """With every peer on the top rung, the lower rungs never run an encoder."""
    receivers = [Receiver(_peer(encoder, 1_200_000)) for _ in range(2)]
    await asyncio.gather(*(r.read(20) for r in receivers))
    assert encoder.rungs[0].frames_encoded > 0
    assert [r.frames_encoded for r in encoder.rungs[1:]] == [0, 0]
    assert not encoder.rungs[1].active and not encoder.rungs[2].active


async def test_a_peer_switching_rung_gets_a_keyframe_of_the_new_size_first(
    encoder: TrackEncoder,
) -> None:
    """When a peer's REMB falls it moves down a rung, starting with a keyframe there, and its
    one decoder keeps decoding the code with rising counters."""
    fast, slow = _peer(encoder, 1_200_000), _peer(encoder, 1_200_000)
    fast_receiver, slow_receiver = Receiver(fast), Receiver(slow)
    await asyncio.gather(fast_receiver.read(10), slow_receiver.read(10))
    assert slow.rung == 0
    slow.on_remb(200_000)
    await asyncio.gather(fast_receiver.read(30), slow_receiver.read(30))
    assert slow.rung == 1 and fast.rung == 0
    assert slow_receiver.sizes[0] == (640, 480) and slow_receiver.sizes[-1] == (320, 240)
    assert slow_receiver.keyframe_at_switch == [True]
    assert slow_receiver.counters == sorted(slow_receiver.counters)
    assert slow_receiver.good_share >= 0.9 and fast_receiver.good_share >= 0.9
    assert fast_receiver.sizes[-1] == (640, 480)


async def test_a_rungs_bitrate_follows_its_slowest_peer_not_the_others(
    encoder: TrackEncoder,
) -> None:
    """The top rung runs at the lowest estimate among its peers; a peer that drops to a lower
    rung no longer holds it down."""
    a, b, c = _peer(encoder, 1_500_000), _peer(encoder, 500_000), _peer(encoder, 1_500_000)
    receivers = [Receiver(t) for t in (a, b, c)]
    await asyncio.gather(*(r.read(10) for r in receivers))
    assert encoder.rungs[0].bitrate == max(LADDER[0].min_bitrate, int(500_000 * HEADROOM))
    b.on_remb(100_000)  # b goes to the bottom rung
    await asyncio.gather(*(r.read(20) for r in receivers))
    assert b.rung == 2
    # Back to the uplink ceiling for three peers once the retarget interval allows.
    async with asyncio.timeout(TIMEOUT):
        while encoder.rungs[0].bitrate != bitrate_for_peers(3):
            await asyncio.gather(*(r.read(5) for r in receivers))
    top, bottom = LADDER[0], LADDER[2]
    assert top.min_bitrate <= bitrate_for_peers(3) <= top.max_bitrate
    assert encoder.rungs[2].bitrate == max(bottom.min_bitrate, int(100_000 * HEADROOM))


class QuickScreen(MediaStreamTrack):
    """A 1280x720 pattern picture, ~100 frames/s, as a shared screen would give it."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._picture = SyntheticVideoTrack("alice", width=1280, height=720)
        self.produced = 0

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await asyncio.sleep(0.01)
        frame = self._picture.render(self.produced, 1000 + self.produced)
        frame.pts = self.produced * 6000
        frame.time_base = fractions.Fraction(1, 90_000)
        self.produced += 1
        return frame


async def test_a_screen_keeps_its_size_and_lowers_its_bitrate_first() -> None:
    """With the screen profile a peer at 300 kbit/s still gets the full 1280x720 picture at a
    bit rate following its estimate (a camera would have stepped down a size); only a peer
    below the full size's floor gets a smaller picture."""
    encoder = TrackEncoder(QuickScreen(), "screen", SCREEN)
    encoder.start()
    try:
        slow, slowest = _peer(encoder, 300_000), _peer(encoder, 100_000)
        receivers = [Receiver(slow), Receiver(slowest)]
        await asyncio.gather(*(r.read(15) for r in receivers))
        assert slow.rung == 0 and receivers[0].sizes[-1] == (1280, 720)
        assert encoder.rungs[0].bitrate == max(SCREEN.ladder[0].min_bitrate,
                                               int(300_000 * HEADROOM))
        assert slowest.rung == 2 and receivers[1].sizes[-1] == (640, 360)
        assert all(r.good_share >= 0.9 for r in receivers), [r.good_share for r in receivers]
    finally:
        await encoder.stop()


async def test_a_camera_yields_to_its_members_shared_screen(encoder: TrackEncoder) -> None:
    """While the member also sends a screen, its camera runs at the capped rate however good
    the peer's estimate; once the screen goes, it climbs back to its ceiling."""
    screen = TrackEncoder(QuickScreen(), "screen", SCREEN)
    audio = TrackEncoder(SyntheticAudioTrack(), "mic")
    give_screen_priority([encoder, screen, audio])
    assert screen.ceiling_limit is None and audio.ceiling_limit is None
    peer = Receiver(_peer(encoder, 1_200_000))
    await peer.read(10)
    assert encoder.rungs[0].bitrate == CAMERA_CEILING_WHILE_SHARING
    assert peer.sizes[-1] == (640, 480)  # the size stays, the rate gives way
    give_screen_priority([encoder, audio])
    assert encoder.ceiling_limit is None
    async with asyncio.timeout(TIMEOUT):
        while encoder.rungs[0].bitrate != bitrate_for_peers(1):
            await peer.read(5)
