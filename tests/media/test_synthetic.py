"""Synthetic sources: the pattern survives VP8 and scaling, the tone survives Opus."""

from __future__ import annotations

import time
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from roomcall.media.codecs import VideoCodec
from roomcall.media.glyphs import text_mask
from roomcall.media.pattern import COLUMNS, ROWS_PER_FRAME
from roomcall.media.synthetic import (
    CameraLikeVideoTrack,
    PatternInfo,
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    decode_pattern,
    dominant_frequency,
    identity_code,
)


def vp8_round_trip(
    frames: list[av.VideoFrame], *, bitrate: int = 300_000
) -> Iterator[tuple[int, av.VideoFrame]]:
    """Encode ``frames`` with libvpx as aiortc configures it and yield (index, decoded frame)."""
    first = frames[0]
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height = first.width, first.height
    encoder.pix_fmt = "yuv420p"
    encoder.bit_rate = bitrate
    encoder.framerate = Fraction(30, 1)
    encoder.time_base = Fraction(1, 30)
    encoder.options = {
        "bufsize": str(bitrate),
        "cpu-used": "-6",
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(bitrate),
        "maxrate": str(bitrate),
    }
    decoder = av.CodecContext.create("libvpx", "r")
    for index, frame in enumerate(frames):
        frame.pts = index
        frame.time_base = Fraction(1, 30)
        for packet in encoder.encode(frame):
            for decoded in decoder.decode(packet):
                yield index, decoded


def pattern_frames(label: str, count: int, **size: int) -> list[av.VideoFrame]:
    """``count`` consecutive pattern frames of ``label`` stamped 1000 + index ms."""
    track = SyntheticVideoTrack(label, **size)
    return [track.render(i, 1000 + i) for i in range(count)]


def test_pattern_decodes_after_vp8_at_300_kbps() -> None:
    """Every frame of a 640x480 pattern decodes to its own values after a VP8 round trip."""
    frames = pattern_frames("alice", 40)
    results = [(i, decode_pattern(decoded)) for i, decoded in vp8_round_trip(frames)]
    assert len(results) == 40
    expected = identity_code("alice")
    assert all(info == PatternInfo(expected, i, 1000 + i) for i, info in results)


def test_pattern_decodes_after_vp8_and_downscale() -> None:
    """A VP8-decoded 640x480 pattern still decodes once scaled down to 320x240."""
    frames = pattern_frames("bob", 20)
    decoded = [(i, d.reformat(width=320, height=240)) for i, d in vp8_round_trip(frames)]
    assert len(decoded) == 20
    assert [decode_pattern(f) for _, f in decoded] == [
        PatternInfo(identity_code("bob"), i, 1000 + i) for i, _ in decoded
    ]


def test_pattern_decodes_when_encoded_at_320x240() -> None:
    """A pattern scaled to 320x240 before a low-bitrate VP8 encode still decodes."""
    frames = [f.reformat(width=320, height=240) for f in pattern_frames("carol", 30)]
    results = [(i, decode_pattern(d)) for i, d in vp8_round_trip(frames, bitrate=150_000)]
    assert [info.counter if info else None for _, info in results] == list(range(30))


def test_pattern_at_other_sizes() -> None:
    """The pattern decodes at 1280x720 and at a small odd-ratio size."""
    for width, height in ((1280, 720), (352, 288), (64, 48)):
        frame = SyntheticVideoTrack("dan", width=width, height=height).render(3, 42)
        assert decode_pattern(frame) == PatternInfo(identity_code("dan"), 3, 42)


def test_identity_distinguishes_labels() -> None:
    """Different labels give different identity codes and frames name their own label."""
    labels = [f"user-{n}" for n in range(50)]
    assert len({identity_code(label) for label in labels}) == len(labels)
    assert identity_code("alice") == identity_code("alice")
    for label in labels[:5]:
        info = decode_pattern(SyntheticVideoTrack(label).render(0, 0))
        assert info is not None and info.identity == identity_code(label)


def test_garbage_frames_decode_to_none() -> None:
    """Noise, flat, striped and tiny frames, and a pattern with one damaged cell, give None."""
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    stripes = np.zeros((480, 640, 3), dtype=np.uint8)
    stripes[:, ::40] = 255
    candidates = [
        av.VideoFrame.from_ndarray(noise, format="rgb24"),
        av.VideoFrame.from_ndarray(np.full((480, 640, 3), 128, np.uint8), format="rgb24"),
        av.VideoFrame.from_ndarray(stripes, format="rgb24"),
        av.VideoFrame(16, 16, "yuv420p"),
    ]
    for frame in candidates:
        assert decode_pattern(frame) is None

    frame = SyntheticVideoTrack("eve").render(9, 9)
    luma = frame.to_ndarray(format="gray")
    cell_w, cell_h = 640 // COLUMNS, 480 // ROWS_PER_FRAME
    y, x = 3 * cell_h, 7 * cell_w  # a data cell (row 3, column 7)
    luma[y : y + cell_h, x : x + cell_w] = 255 - luma[y : y + cell_h, x : x + cell_w]
    assert decode_pattern(av.VideoFrame.from_ndarray(luma, format="gray")) is None


async def test_video_track_counts_and_stamps_frames() -> None:
    """Frames from recv() carry increasing counters, a 90 kHz pts and the current time."""
    track = SyntheticVideoTrack("frank", fps=30)
    infos: list[PatternInfo] = []
    pts: list[int] = []
    for _ in range(4):
        frame = await track.recv()
        before_decode_ms = time.time() * 1000
        info = decode_pattern(frame)
        assert info is not None
        assert 0 <= before_decode_ms - info.sent_at_ms < 1000
        assert frame.format.name == "yuv420p" and (frame.width, frame.height) == (640, 480)
        assert frame.time_base == Fraction(1, 90_000)
        infos.append(info)
        pts.append(frame.pts)
    assert [i.counter for i in infos] == [0, 1, 2, 3]
    assert pts == [0, 3000, 6000, 9000]
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()


async def test_video_track_skips_frames_after_a_stall() -> None:
    """After the loop was blocked for 0.6 s the source skips the missed slots, not bursts them."""
    track = SyntheticVideoTrack("hal", width=64, height=48, fps=50)
    await track.recv()
    time.sleep(0.6)  # noqa: ASYNC251 -- deliberately block the loop, as a slow call would
    late = decode_pattern(await track.recv())
    after = decode_pattern(await track.recv())
    assert late is not None and after is not None
    assert late.counter >= 25 and after.counter == late.counter + 1
    assert track.frames_sent == 3
    track.stop()


def test_video_track_rejects_odd_sizes() -> None:
    """An odd frame size cannot be yuv420p and is refused up front."""
    with pytest.raises(ValueError, match="even"):
        SyntheticVideoTrack("x", width=641)


def opus_round_trip(frames: list[av.AudioFrame]) -> list[av.AudioFrame]:
    """Encode ``frames`` with libopus at 48 kHz stereo and decode them again."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = 48_000
    encoder.layout = "stereo"
    encoder.format = av.AudioFormat("s16")
    encoder.bit_rate = 64_000
    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate = 48_000
    decoder.layout = "stereo"
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=48_000)
    decoded: list[av.AudioFrame] = []
    for frame in frames:
        for resampled in resampler.resample(frame):
            for packet in encoder.encode(resampled):
                decoded.extend(decoder.decode(packet))
    return decoded


def test_tone_frequency_survives_opus() -> None:
    """A 440 Hz mono tone comes out of an Opus round trip as s16 stereo at 440 Hz."""
    track = SyntheticAudioTrack(frequency=440.0)
    frames = [track.render(i * track.samples_per_frame) for i in range(25)]
    decoded = opus_round_trip(frames)
    assert len(decoded) >= 20
    assert decoded[-1].format.name == "s16" and len(decoded[-1].layout.channels) == 2
    # Skip the codec's start-up frames; the steady state must be the tone.
    for frame in decoded[5:]:
        assert dominant_frequency(frame) == pytest.approx(440.0, abs=15.0)


async def test_audio_track_yields_continuous_20ms_frames() -> None:
    """recv() gives 20 ms s16 frames with contiguous pts and the configured tone."""
    track = SyntheticAudioTrack(frequency=1000.0, channels=2)
    frames = [await track.recv() for _ in range(3)]
    assert [f.pts for f in frames] == [0, 960, 1920]
    for frame in frames:
        assert frame.samples == 960 and frame.sample_rate == 48_000
        assert frame.format.name == "s16" and len(frame.layout.channels) == 2
        assert dominant_frequency(frame) == pytest.approx(1000.0, abs=10.0)
    joined = np.concatenate([f.to_ndarray().reshape(-1, 2)[:, 0] for f in frames])
    # Continuity: no sample-to-sample jump larger than the sine's steepest step.
    assert np.max(np.abs(np.diff(joined.astype(np.int32)))) < 0.3 * 32767 * 0.14
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()


def test_silence_has_no_dominant_frequency() -> None:
    """A silent frame reports 0 Hz rather than a spurious peak."""
    frame = SyntheticAudioTrack(amplitude=0.0).render(0)
    assert dominant_frequency(frame) == 0.0


def test_picture_shows_label_colour_and_moving_bar() -> None:
    """Below the code, labels get their own colour and text, and the bar moves every frame."""
    alice, bob = SyntheticVideoTrack("alice"), SyntheticVideoTrack("bob")
    a0, a1 = alice.render(0, 0).to_ndarray(), alice.render(1, 0).to_ndarray()
    b0 = bob.render(0, 0).to_ndarray()
    below_code = slice(130, 480)
    assert not np.array_equal(a0[below_code], b0[below_code])
    assert not np.array_equal(a0[below_code], a1[below_code])
    chroma_a, chroma_b = a0[480 + 100 :], b0[480 + 100 :]
    assert not np.array_equal(chroma_a, chroma_b)


def test_text_mask_draws_known_glyphs() -> None:
    """The bitmap font renders each character 5 px wide plus a gap, unknown ones as a box."""
    mask = text_mask("A1?")
    assert mask.shape == (7, 18)
    assert mask[:, 0:5].any() and not mask[:, 5].any()
    assert np.array_equal(text_mask("a"), text_mask("A"))
    assert np.array_equal(text_mask("é"), text_mask("?"))


def _vp8_rate_and_codes(track: SyntheticVideoTrack, bitrate: int, size: tuple[int, int],
                        frames: int = 90) -> tuple[float, float]:
    """Encode ``frames`` frames scaled to ``size`` at ``bitrate``; (kbit/s after the first
    second, share of frames whose code decodes to the track's identity)."""
    codec = VideoCodec()
    codec.bitrate = bitrate
    decoder = av.CodecContext.create("libvpx", "r")
    total = decoded = 0
    for i in range(frames):
        frame = track.render(i, 5000 + i)
        if (frame.width, frame.height) != size:
            frame = frame.reformat(width=size[0], height=size[1], format="yuv420p")
        frame.pts, frame.time_base = i * 3000, Fraction(1, 90_000)
        for packet in codec.encode(frame, keyframe=False):
            if i >= 30:
                total += packet.size
            for out in decoder.decode(packet):
                info = decode_pattern(out)
                decoded += info is not None and info.identity == track.identity \
                    and info.counter == i and info.sent_at_ms == 5000 + i
    return total * 8 / 1000 / ((frames - 30) / 30), decoded / frames


def test_camera_like_video_fills_a_one_megabit_budget_unlike_the_plain_pattern() -> None:
    """At a 1 Mbit/s target VP8 spends about that on the camera-like source, while the plain
    pattern needs a fraction of it; both carry a decodable code."""
    camera_rate, camera_codes = _vp8_rate_and_codes(CameraLikeVideoTrack("cam"), 1_000_000,
                                                    (640, 480))
    plain_rate, plain_codes = _vp8_rate_and_codes(SyntheticVideoTrack("cam"), 1_000_000,
                                                  (640, 480))
    assert 850 <= camera_rate <= 1200
    assert plain_rate < 0.5 * camera_rate
    assert camera_codes >= 0.95 and plain_codes >= 0.95


@pytest.mark.parametrize(("size", "bitrate"), [((320, 240), 300_000), ((160, 120), 100_000)])
def test_camera_like_code_survives_vp8_at_the_lower_rungs(
    size: tuple[int, int], bitrate: int
) -> None:
    """Scaled to a lower rung's size and coded at its rate, the code still reads back."""
    rate, codes = _vp8_rate_and_codes(CameraLikeVideoTrack("cam"), bitrate, size)
    assert rate <= bitrate * 1.3 / 1000
    assert codes >= 0.9


def test_camera_like_frames_differ_everywhere_below_the_code() -> None:
    """Motion and noise: consecutive frames differ across the picture, not just in a bar."""
    track = CameraLikeVideoTrack("cam")
    first = track.render(0, 0).to_ndarray()[: track.height].astype(int)
    second = track.render(1, 0).to_ndarray()[: track.height].astype(int)
    top = -(-track.height * 6 // 24)
    changed = np.abs(first[top:] - second[top:]) > 2
    assert changed.mean() > 0.5
