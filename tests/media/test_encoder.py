"""Encode-once fan-out: the shared VP8/Opus encoders and the per-peer packet tracks."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import itertools
from collections.abc import AsyncIterator

import av
import pytest
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.video.frame import PictureType

from roomcall.media import packet_track
from roomcall.media.codecs import CAMERA_VP8, SCREEN_VP8, AudioCodec, VideoCodec, VideoSettings
from roomcall.media.encoder import TrackEncoder, bitrate_for_peers
from roomcall.media.packet_track import VIDEO_QUEUE_PACKETS, PacketTrack
from roomcall.media.synthetic import (
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    decode_pattern,
    dominant_frequency,
    identity_code,
)
from tests.waiting import scaled

TIMEOUT = scaled(10.0)


class QuickVideo(MediaStreamTrack):
    """The synthetic pattern at 200 frames/s (no real-time pacing) to keep tests short."""

    kind = "video"

    def __init__(self, label: str = "alice", width: int = 160, height: int = 120) -> None:
        super().__init__()
        self._pattern = SyntheticVideoTrack(label, width=width, height=height)
        self.produced = 0
        self._produced = asyncio.Event()

    async def wait_produced(self, count: int) -> None:
        """Return once ``count`` frames have been produced in total."""
        async with asyncio.timeout(TIMEOUT):
            while self.produced < count:
                self._produced.clear()
                await self._produced.wait()

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await asyncio.sleep(0.005)
        frame = self._pattern.render(self.produced, 0)
        frame.pts = self.produced * 3000
        frame.time_base = fractions.Fraction(1, 90_000)
        self.produced += 1
        self._produced.set()
        return frame


def _frames(count: int, label: str = "alice") -> list[av.VideoFrame]:
    source = SyntheticVideoTrack(label, width=320, height=240)
    frames = []
    for i in range(count):
        frame = source.render(i, 1000 + i)
        frame.pts = i * 3000
        frame.time_base = fractions.Fraction(1, 90_000)
        frames.append(frame)
    return frames


@pytest.fixture
async def encoder() -> AsyncIterator[TrackEncoder]:
    """A started video encoder on a quick synthetic source, stopped after the test."""
    encoder = TrackEncoder(QuickVideo(), "cam-1")
    encoder.start()
    yield encoder
    await encoder.stop()


def test_bitrate_falls_with_the_number_of_peers_within_vp8_limits() -> None:
    """More peers means a lower per-stream target, inside aiortc's 250 kbit/s-1.5 Mbit/s clamp."""
    rates = [bitrate_for_peers(n) for n in range(0, 9)]
    assert rates == sorted(rates, reverse=True)
    assert all(250_000 <= r <= 1_500_000 for r in rates)
    assert bitrate_for_peers(7) * 7 <= 5_000_000


def test_video_codec_starts_with_a_keyframe_and_forces_one_on_request() -> None:
    """VP8 packets keep the frame's pts, start with a keyframe, and decode to the same pattern."""
    codec = VideoCodec()
    decoder = av.CodecContext.create("libvpx", "r")
    keyframes = []
    for i, frame in enumerate(_frames(6)):
        packets = codec.encode(frame, keyframe=i == 4)
        assert len(packets) == 1
        packet = packets[0]
        assert packet.pts == i * 3000 and packet.time_base == fractions.Fraction(1, 90_000)
        keyframes.append(bool(packet.is_keyframe))
        decoded = decoder.decode(packet)
        info = decode_pattern(decoded[0])
        assert info is not None and info.identity == identity_code("alice") and info.counter == i
    assert keyframes == [True, False, False, False, True, False]


@pytest.mark.parametrize("settings", [CAMERA_VP8, SCREEN_VP8], ids=["camera", "screen"])
def test_frames_marked_i_by_a_grabber_are_not_all_keyframes(settings: VideoSettings) -> None:
    """Frames that come marked I (FFmpeg's rawvideo decoder marks every grabbed frame so)
    are encoded as delta frames unless a keyframe is asked for, with either profile."""
    codec = VideoCodec(settings)
    keyframes = []
    for i, frame in enumerate(_frames(5)):
        frame.pict_type = PictureType.I
        keyframes.append(bool(codec.encode(frame, keyframe=i == 3)[0].is_keyframe))
    assert keyframes == [True, False, False, True, False]


def test_audio_codec_turns_any_rate_into_20ms_opus_packets() -> None:
    """An 8 kHz mono tone comes out as 48 kHz Opus packets that decode to the same tone."""
    source = SyntheticAudioTrack(frequency=500.0, sample_rate=8000)
    codec = AudioCodec()
    decoder = av.CodecContext.create("libopus", "r")
    packets = []
    for i in range(25):
        packets += codec.encode(source.render(i * 160), keyframe=False)
    assert len(packets) >= 20
    assert all(p.time_base == fractions.Fraction(1, 48_000) for p in packets)
    steps = {b.pts - a.pts for a, b in itertools.pairwise(packets)}
    assert steps == {960}
    decoded = [f for p in packets for f in decoder.decode(p)]
    assert abs(dominant_frequency(decoded[-1]) - 500.0) < 20


async def test_one_encode_per_frame_feeds_every_peer_the_same_packets(
    encoder: TrackEncoder,
) -> None:
    """Three peers get identical packet objects from one encoder invocation per frame."""
    peers = [encoder.subscribe() for _ in range(3)]
    received: list[list[av.Packet]] = [[] for _ in peers]

    async def read(track: PacketTrack, into: list[av.Packet]) -> None:
        while len(into) < 20:
            into.append(await track.recv())

    await asyncio.wait_for(
        asyncio.gather(*(read(t, r) for t, r in zip(peers, received, strict=True))), TIMEOUT
    )
    assert all(r[0].is_keyframe for r in received)
    assert encoder.frames_encoded <= encoder.frames_read
    # The peers started within a few frames of each other; from then on they share packets.
    shared = set(map(id, received[0])) & set(map(id, received[1])) & set(map(id, received[2]))
    assert len(shared) >= 10
    assert encoder.frames_encoded < sum(len(r) for r in received)


async def test_pinned_tracks_take_their_rung_whatever_the_estimate() -> None:
    """Two tracks pinned to the top rung and to the 320x240 rung (an SFU's two layers) get
    pictures of those sizes from one encoder, the low one's rate held to its ceiling."""
    encoder = TrackEncoder(QuickVideo(width=640, height=480), "cam-2")
    encoder.start()
    try:
        full, low = encoder.subscribe(rung=0), encoder.subscribe(rung=1, max_bitrate=200_000)
        sizes: dict[int, set[tuple[int, int]]] = {0: set(), 1: set()}

        async def read(track: PacketTrack, rung: int) -> None:
            decoder = av.CodecContext.create("vp8", "r")
            while len(sizes[rung]) == 0 or track.packets_sent < 15:
                for frame in decoder.decode(await track.recv()):
                    sizes[rung].add((frame.width, frame.height))

        await asyncio.wait_for(asyncio.gather(read(full, 0), read(low, 1)), TIMEOUT)
        assert sizes == {0: {(640, 480)}, 1: {(320, 240)}}
        assert (full.rung, low.rung) == (0, 1)
        low_rate = encoder.rungs[1].bitrate
        assert low_rate is not None and low_rate <= 200_000
        assert not encoder.rungs[2].active  # nobody takes the smallest rung
    finally:
        await encoder.stop()


async def test_nothing_is_encoded_until_a_peer_reads(encoder: TrackEncoder) -> None:
    """Frames are read but not encoded while no peer's sender has started."""
    encoder.subscribe()
    assert isinstance(encoder.source, QuickVideo)
    await encoder.source.wait_produced(10)
    assert encoder.frames_encoded == 0


async def test_a_slow_peer_skips_to_a_keyframe_and_never_holds_up_the_others(
    encoder: TrackEncoder,
) -> None:
    """A peer that stops reading drops packets; the other keeps getting every one."""
    fast, slow = encoder.subscribe(), encoder.subscribe()
    await asyncio.wait_for(slow.recv(), TIMEOUT)  # started, then stalls
    fast_packets = [await asyncio.wait_for(fast.recv(), TIMEOUT)
                    for _ in range(3 * VIDEO_QUEUE_PACKETS)]
    assert len(fast_packets) == 3 * VIDEO_QUEUE_PACKETS
    assert slow.packets_dropped > 0
    assert fast.packets_dropped == 0
    # What the slow peer reads next is a keyframe: a gap is never followed by a delta frame.
    resumed = await asyncio.wait_for(slow.recv(), TIMEOUT)
    assert resumed.is_keyframe


async def test_muted_encoder_sends_nothing_and_resumes_with_a_keyframe(
    encoder: TrackEncoder,
) -> None:
    """While muted no frame is encoded; the first packet after unmuting is a keyframe."""
    peer = encoder.subscribe()
    await asyncio.wait_for(peer.recv(), TIMEOUT)
    encoder.muted = True
    assert isinstance(encoder.source, QuickVideo)
    await encoder.source.wait_produced(encoder.source.produced + 3)  # an encode in flight lands
    with contextlib.suppress(asyncio.QueueEmpty):
        while True:
            peer._queue.get_nowait()
    encoded = encoder.frames_encoded
    await encoder.source.wait_produced(encoder.source.produced + 10)
    assert encoder.frames_encoded == encoded
    encoder.muted = False
    assert (await asyncio.wait_for(peer.recv(), TIMEOUT)).is_keyframe


async def test_stopping_a_peer_track_ends_its_reader_and_detaches_it(
    encoder: TrackEncoder,
) -> None:
    """A stopped per-peer track raises MediaStreamError to its sender and leaves the encoder."""
    peer, other = encoder.subscribe(), encoder.subscribe()
    pending = asyncio.create_task(peer.recv())
    await asyncio.wait_for(other.recv(), TIMEOUT)
    await asyncio.wait_for(pending, TIMEOUT)
    reading = asyncio.create_task(peer.recv())
    await asyncio.sleep(0)
    peer.stop()
    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(reading, TIMEOUT)
    assert encoder.outputs == (other,)


async def test_a_source_that_ends_ends_every_peer_track() -> None:
    """When the local source ends, every peer's track ends too."""
    source = QuickVideo()
    encoder = TrackEncoder(source, "cam-2")
    encoder.start()
    peer = encoder.subscribe()
    await asyncio.wait_for(peer.recv(), TIMEOUT)
    source.stop()
    with pytest.raises(MediaStreamError):
        async with asyncio.timeout(TIMEOUT):
            while True:
                await peer.recv()
    await encoder.stop()
    assert encoder.outputs == ()


def _drain(track: PacketTrack) -> None:
    with contextlib.suppress(asyncio.QueueEmpty):
        while True:
            track._queue.get_nowait()


async def test_a_held_track_sends_nothing_until_its_receiver_asks_then_starts_on_a_keyframe(
    encoder: TrackEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A held video track gets no packet until a keyframe request, then begins with a keyframe."""
    monkeypatch.setattr(packet_track, "ASK_WAIT", 60.0)
    other, held = encoder.subscribe(), encoder.subscribe(held=True)
    reading = asyncio.create_task(held.recv())
    await asyncio.wait_for(other.recv(), TIMEOUT)
    assert isinstance(encoder.source, QuickVideo)
    await encoder.source.wait_produced(encoder.source.produced + 10)
    assert not reading.done() and held._queue.empty()

    held.picture_lost()
    first = await asyncio.wait_for(reading, TIMEOUT)
    assert first.is_keyframe


async def test_a_held_track_that_is_never_asked_starts_on_its_own(
    encoder: TrackEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a request a held track starts sending, with a keyframe, after ASK_WAIT."""
    monkeypatch.setattr(packet_track, "ASK_WAIT", 0.05)
    held = encoder.subscribe(held=True)
    assert (await asyncio.wait_for(held.recv(), TIMEOUT)).is_keyframe


async def test_the_first_picture_loss_report_gets_a_keyframe_without_waiting(
    encoder: TrackEncoder,
) -> None:
    """The first PLI after start is served on the next frame, not after the keyframe interval."""
    peer = encoder.subscribe()
    assert (await asyncio.wait_for(peer.recv(), TIMEOUT)).is_keyframe
    _drain(peer)
    peer.picture_lost()
    # At most an encode already under way comes first.
    packets = [await asyncio.wait_for(peer.recv(), TIMEOUT) for _ in range(3)]
    assert any(p.is_keyframe for p in packets)


def test_a_track_of_another_kind_is_refused() -> None:
    """Only audio and video tracks can be encoded."""
    track = QuickVideo()
    track.kind = "data"
    with pytest.raises(ValueError, match="kind"):
        TrackEncoder(track, "x")
