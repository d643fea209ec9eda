"""The VP8 encoder called through libvpx directly: a new target applies from the next frame on
without a keyframe, what it encodes decodes with the source's code, and where libvpx cannot be
reached PyAV's encoder takes over (re-opening, with a keyframe, for each new target)."""

from __future__ import annotations

import fractions

import av
import pytest

from roomcall.media import libvpx
from roomcall.media.codecs import CAMERA_VP8, SCREEN_VP8, VideoCodec, VideoSettings
from roomcall.media.synthetic import CameraLikeVideoTrack, decode_pattern, identity_code

FPS = 30


def camera_frames(first: int, count: int, width: int = 640,
                  height: int = 480) -> list[av.VideoFrame]:
    """Frames ``first``.. of a camera-like source (motion and noise that fill a budget)."""
    source = CameraLikeVideoTrack("alice", width=width, height=height, fps=FPS)
    frames = []
    for i in range(first, first + count):
        frame = source.render(i, 1000 + i)
        frame.pts = i * (90_000 // FPS)
        frame.time_base = fractions.Fraction(1, 90_000)
        frames.append(frame)
    return frames


def encode(codec: VideoCodec, frames: list[av.VideoFrame]) -> list[av.Packet]:
    return [packet for frame in frames for packet in codec.encode(frame, keyframe=False)]


def kbit_per_s(packets: list[av.Packet]) -> float:
    return sum(p.size for p in packets) * 8 / (len(packets) / FPS) / 1000


def test_the_library_pyav_loads_is_called_directly() -> None:
    """On this platform the encoder reaches libvpx itself (PyAV's wheel copy or the system's),
    with the encoder ABI it was built with."""
    library = libvpx.load()
    assert library is not None
    assert library.abi > 0
    assert "vpx" in library.path


def test_a_new_target_applies_in_place_without_a_keyframe() -> None:
    """From 800 to 250 kbit/s and back on a camera-like 640x480 source: one encoder
    throughout, no keyframe after the first, each stretch near its own target, and nearly every
    frame decodes with the source's code (the first few are still coarse)."""
    codec = VideoCodec(CAMERA_VP8)
    codec.bitrate = 800_000
    decoder = av.CodecContext.create("vp8", "r")
    stretches = []
    for number, target in enumerate((800_000, 250_000, 800_000)):
        codec.bitrate = target
        packets = encode(codec, camera_frames(number * 90, 90))
        stretches.append(packets)
        codes = [decode_pattern(frame) for packet in packets for frame in decoder.decode(packet)]
        readable = [c for c in codes if c is not None and c.identity == identity_code("alice")]
        assert len(codes) == len(packets)
        assert len(readable) >= 0.9 * len(codes), (target, len(readable))
    keyframes = [bool(p.is_keyframe) for packets in stretches for p in packets]
    assert keyframes[0] and not any(keyframes[1:])
    assert codec.reopened == 0
    # Each stretch's second half, once the rate control has settled on the new target.
    rates = [kbit_per_s(packets[45:]) for packets in stretches]
    assert 0.7 * 800 < rates[0] < 1.2 * 800, rates
    assert 0.5 * 250 < rates[1] < 1.4 * 250, rates
    assert 0.6 * 800 < rates[2] < 1.2 * 800, rates


def test_a_new_size_opens_a_new_encoder_with_a_keyframe() -> None:
    """A source that changes size (another camera, a resized window) gets a fresh encoder,
    which starts with a keyframe of the new size."""
    codec = VideoCodec(CAMERA_VP8)
    encode(codec, camera_frames(0, 3, 320, 240))
    packets = encode(codec, camera_frames(3, 2, 640, 480))
    assert packets[0].is_keyframe and not packets[1].is_keyframe
    assert codec.reopened == 1
    decoded = av.CodecContext.create("vp8", "r").decode(packets[0])
    assert (decoded[0].width, decoded[0].height) == (640, 480)


@pytest.mark.parametrize("settings", [CAMERA_VP8, SCREEN_VP8], ids=["camera", "screen"])
def test_every_libvpx_option_of_a_profile_is_applied(settings: VideoSettings) -> None:
    """The profile's options libvpx takes as controls all reach it; a control it does not know
    is refused with libvpx's own reason rather than ignored."""
    library = libvpx.load()
    assert library is not None
    codec = VideoCodec(settings)
    setup = codec._setup(camera_frames(0, 1)[0])
    applied = {name for name, control in libvpx.CONTROLS.items() if control in setup.controls}
    assert applied == set(settings.options) & set(libvpx.CONTROLS)
    assert "cpu-used" in applied and "static-thresh" in applied
    libvpx.Encoder(library, setup, 500_000).close()
    bogus = libvpx.EncoderSetup(**{**setup.__dict__, "controls": {9999: 1}})
    with pytest.raises(libvpx.LibvpxError, match="control 9999"):
        libvpx.Encoder(library, bogus, 500_000)


def test_without_the_library_pyav_reopens_the_encoder_with_a_keyframe(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where libvpx cannot be called directly, PyAV's encoder is used: it cannot change its
    rate once open, so a new target re-opens it and the next packet is a keyframe."""
    monkeypatch.setattr(libvpx, "load", lambda: None)
    codec = VideoCodec(CAMERA_VP8)
    frames = camera_frames(0, 3, 320, 240)
    assert codec.encode(frames[0], keyframe=False)[0].is_keyframe
    assert not codec.encode(frames[1], keyframe=False)[0].is_keyframe
    codec.bitrate = 300_000
    assert codec.encode(frames[2], keyframe=False)[0].is_keyframe
    assert codec.reopened == 1


def test_both_paths_encode_alike_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    """libvpx called directly is configured as FFmpeg configured it (rate control, buffer,
    quantizers, controls): until a target changes, both give the very same bytes."""
    frames = camera_frames(0, 20, 320, 240)
    direct = VideoCodec(CAMERA_VP8)
    direct.bitrate = 300_000
    ours = [bytes(p) for p in encode(direct, frames)]
    monkeypatch.setattr(libvpx, "load", lambda: None)
    through_pyav = VideoCodec(CAMERA_VP8)
    through_pyav.bitrate = 300_000
    assert [bytes(p) for p in encode(through_pyav, frames)] == ours
