"""Device listing and opening: PortAudio's device table, camera arguments, clear errors."""

from __future__ import annotations

import struct
import sys
from typing import Any

import pytest

from roomcall.media import devices
from roomcall.media.devices import (
    DeviceError,
    DeviceInfo,
    PlayerSource,
    audio_endpoints,
    camera_source,
    is_v4l2_capture,
    list_cameras,
    list_microphones,
    list_speakers,
    microphone_source,
    open_camera,
    open_microphone,
    parse_avfoundation_cameras,
    parse_dshow_cameras,
)
from roomcall.protocol.errors import ErrorCode

CAMERA = DeviceInfo("0x8020000005ac8514", "FaceTime HD Camera", "camera")


def pa_device(index: int, name: str, hostapi: int, inputs: int, outputs: int) -> dict[str, Any]:
    """One entry of ``sounddevice.query_devices()``."""
    return {
        "index": index, "name": name, "hostapi": hostapi, "max_input_channels": inputs,
        "max_output_channels": outputs, "default_samplerate": 44100.0,
    }


def pa_hostapi(name: str, default_input: int, default_output: int) -> dict[str, Any]:
    """One entry of ``sounddevice.query_hostapis()``."""
    return {"name": name, "default_input_device": default_input,
            "default_output_device": default_output}


# A Windows machine: each device appears under MME (the default host API, names cut to 31
# characters), DirectSound and WASAPI.
WINDOWS_DEVICES = [
    pa_device(0, "Microsoft Sound Mapper - Input", 0, 2, 0),
    pa_device(1, "Microphone (Realtek(R) Audio)", 0, 2, 0),
    pa_device(2, "Headset Microphone (USB Audio ", 0, 1, 0),
    pa_device(3, "Speakers (Realtek(R) Audio)", 0, 0, 2),
    pa_device(4, "Microphone (Realtek(R) Audio)", 1, 2, 0),
    pa_device(5, "Speakers (Realtek(R) Audio)", 1, 0, 2),
    pa_device(6, "Headset Microphone (USB Audio Device)", 2, 1, 0),
    pa_device(7, "Microphone (Realtek(R) Audio)", 2, 2, 0),
]
WINDOWS_APIS = [pa_hostapi("MME", 2, 3), pa_hostapi("Windows DirectSound", 4, 5),
                pa_hostapi("Windows WASAPI", 7, -1)]


def test_listing_returns_typed_lists() -> None:
    """Listing works (possibly empty) on any machine; at most one default, listed first."""
    for found, kind in (
        (list_cameras(), "camera"),
        (list_microphones(), "microphone"),
        (list_speakers(), "speaker"),
    ):
        assert isinstance(found, list)
        assert all(isinstance(d, DeviceInfo) and d.kind == kind and d.name for d in found)
        assert sum(d.is_default for d in found) <= 1
        assert not any(d.is_default for d in found[1:])


def test_windows_table_keeps_the_default_host_api_only() -> None:
    """MME/DirectSound/WASAPI duplicates collapse to the default host API's entries."""
    mics = audio_endpoints("microphone", WINDOWS_DEVICES, WINDOWS_APIS, default_hostapi=0)
    assert [m.info.name for m in mics] == [
        "Headset Microphone (USB Audio ",
        "Microsoft Sound Mapper - Input",
        "Microphone (Realtek(R) Audio)",
    ]
    assert mics[0].info == DeviceInfo(
        "MME/Headset Microphone (USB Audio ", "Headset Microphone (USB Audio ", "microphone",
        is_default=True,
    )
    assert (mics[0].index, mics[0].channels, mics[0].default_rate) == (2, 1, 44100)
    speakers = audio_endpoints("speaker", WINDOWS_DEVICES, WINDOWS_APIS, default_hostapi=0)
    assert [(s.info.id, s.info.is_default) for s in speakers] == [
        ("MME/Speakers (Realtek(R) Audio)", True)
    ]


def test_without_default_host_api_devices_every_api_is_used_once_per_name() -> None:
    """If the default host API has none, other APIs' devices are listed with names deduped."""
    table = [
        pa_device(0, "hw mic", 1, 2, 0),
        pa_device(1, "hw mic", 2, 2, 0),
        pa_device(2, "USB mic", 2, 1, 0),
    ]
    apis = [pa_hostapi("ALSA", -1, -1), pa_hostapi("JACK", 0, -1), pa_hostapi("OSS", 2, -1)]
    mics = audio_endpoints("microphone", table, apis, default_hostapi=0)
    assert [(m.info.id, m.info.is_default) for m in mics] == [
        ("JACK/hw mic", True),
        ("OSS/USB mic", False),
    ]
    assert audio_endpoints("speaker", table, apis, default_hostapi=0) == []


def test_alsa_plugin_views_are_hidden_and_repeated_names_numbered() -> None:
    """ALSA's surround/dmix views are not offered; two identical cards stay apart."""
    table = [
        pa_device(0, "USB Audio: - (hw:1,0)", 0, 1, 2),
        pa_device(1, "USB Audio: - (hw:1,0)", 0, 1, 2),
        pa_device(2, "surround51", 0, 0, 6),
        pa_device(3, "dmix", 0, 0, 2),
        pa_device(4, "pulse", 0, 32, 32),
        pa_device(5, "default", 0, 32, 32),
    ]
    speakers = audio_endpoints("speaker", table, [pa_hostapi("ALSA", 5, 5)], default_hostapi=0)
    assert [s.info.name for s in speakers] == [
        "default", "USB Audio: - (hw:1,0)", "USB Audio: - (hw:1,0) #2", "pulse",
    ]
    assert [s.index for s in speakers] == [5, 0, 1, 4]
    assert len({s.info.id for s in speakers}) == 4


def test_microphone_source_is_mono_or_stereo_at_the_asked_rate() -> None:
    """A many-channel input is captured as stereo, a mono one as mono, at the asked rate."""
    table = [pa_device(0, "default", 0, 32, 32), pa_device(1, "mono mic", 0, 1, 0)]
    wide, mono = audio_endpoints("microphone", table, [pa_hostapi("ALSA", 0, 0)], 0)
    assert microphone_source(wide) == devices.MicrophoneSource(0, 48_000, 2)
    assert microphone_source(mono, sample_rate=16_000) == devices.MicrophoneSource(1, 16_000, 1)


def test_missing_portaudio_lists_nothing_and_opening_says_why(no_portaudio: None) -> None:
    """Without the PortAudio library the audio lists are empty and opening names the fix."""
    assert list_microphones() == [] and list_speakers() == []
    with pytest.raises(DeviceError) as caught:
        open_microphone()
    assert caught.value.code == ErrorCode.MICROPHONE_OPEN_FAILED == 23006
    assert "libportaudio2" in caught.value.message
    assert devices.audio_backend()[0] is None


def test_open_camera_without_cameras_raises_23001() -> None:
    """With no camera, open_camera() fails with Qiniu's camera code and says why."""
    if list_cameras():
        pytest.skip("this machine has a camera")
    with pytest.raises(DeviceError) as caught:
        open_camera()
    assert caught.value.code == ErrorCode.CAMERA_OPEN_FAILED == 23001
    assert "no camera" in str(caught.value)


def test_open_microphone_without_microphones_raises_23006() -> None:
    """With no microphone, open_microphone() fails with Qiniu's microphone code."""
    if list_microphones():
        pytest.skip("this machine has a microphone")
    with pytest.raises(DeviceError) as caught:
        open_microphone()
    assert caught.value.code == ErrorCode.MICROPHONE_OPEN_FAILED == 23006
    why = "no microphone" if devices.audio_backend()[0] is not None else "libportaudio2"
    assert why in str(caught.value)


def test_opening_a_missing_device_raises_device_error() -> None:
    """A named device that is not there gives DeviceError naming the device."""
    if sys.platform.startswith("linux"):
        with pytest.raises(DeviceError) as camera:
            open_camera(DeviceInfo("/dev/video97", "gone", "camera"))
        assert camera.value.code == 23001 and "/dev/video97" in camera.value.message
    if devices.audio_backend()[0] is None:
        pytest.skip("no PortAudio here")
    with pytest.raises(DeviceError) as mic:
        open_microphone(DeviceInfo("ALSA/unplugged", "Unplugged mic", "microphone"))
    assert mic.value.code == 23006
    assert "Unplugged mic" in mic.value.message or "no microphone" in mic.value.message


def test_camera_source_per_platform() -> None:
    """Each OS gets its input format, device naming and size/rate options."""
    size = {"video_size": "640x480", "framerate": "30"}
    linux = DeviceInfo("/dev/video2", "UVC Camera", "camera")
    assert camera_source(linux, platform="linux") == PlayerSource("/dev/video2", "v4l2", size)
    assert camera_source(None, platform="linux").file == "/dev/video0"
    assert camera_source(CAMERA, platform="darwin") == PlayerSource(
        "FaceTime HD Camera:none", "avfoundation", size
    )
    assert camera_source(None, platform="darwin").file == "default:none"
    windows = camera_source(CAMERA, platform="win32", width=1280, height=720, fps=15)
    assert windows.file == "video=FaceTime HD Camera" and windows.format == "dshow"
    assert windows.options["video_size"] == "1280x720" and windows.options["framerate"] == "15"


def test_windows_needs_a_camera_name() -> None:
    """dshow cannot open an unnamed default camera, so None is refused with the right code."""
    with pytest.raises(DeviceError) as camera:
        camera_source(None, platform="win32")
    assert camera.value.code == 23001


def test_device_error_has_a_default_message_per_code() -> None:
    """DeviceError(code) alone still says in words what failed."""
    assert DeviceError(23001).message == "cannot open the camera"
    assert str(DeviceError(23006)) == "cannot open the microphone (error 23006)"
    assert DeviceError(29999).message == "device error 29999"


def test_unknown_platform_is_refused() -> None:
    """An OS without a capture backend gets a clear DeviceError."""
    with pytest.raises(DeviceError, match="not supported"):
        camera_source(None, platform="haiku")


def v4l2_capability(capabilities: int, device_caps: int) -> bytes:
    """A raw struct v4l2_capability with the given capability words."""
    head = b"uvcvideo".ljust(16, b"\0") + b"Cam".ljust(32, b"\0") + b"usb".ljust(32, b"\0")
    return head + struct.pack("<IIII", 0x60000, capabilities, device_caps, 0) + bytes(8)


def test_v4l2_capture_nodes_are_told_from_metadata_nodes() -> None:
    """A UVC capture node passes; its metadata twin and short buffers do not."""
    assert len(v4l2_capability(0, 0)) == 104
    assert is_v4l2_capture(v4l2_capability(0x8420_0001, 0x0420_0001))
    assert not is_v4l2_capture(v4l2_capability(0x8420_0001, 0x0480_0000))
    assert is_v4l2_capture(v4l2_capability(0x0000_0001, 0))  # old driver: no device_caps
    assert not is_v4l2_capture(b"short")


def test_dshow_camera_names_are_read_from_ffmpeg_5_and_4_listings() -> None:
    """Video devices are picked out of both dshow layouts; microphones and aliases are not."""
    ffmpeg5 = (
        '"Integrated Camera" (video)\n'
        '  Alternative name "@device_pnp_\\\\?\\usb#vid_04f2&pid_b6cb"\n'
        '"OBS Virtual Camera" (none)\n'
        '"Elgato Cam Link 4K" (video, audio)\n'
        '"Microphone (Realtek(R) Audio)" (audio)\n'
        '  Alternative name "@device_cm_{33D9A762-90C8-11D0-BD43-00A0C911CE86}"\n'
    )
    assert parse_dshow_cameras(ffmpeg5) == ["Integrated Camera", "Elgato Cam Link 4K"]
    ffmpeg4 = (
        "DirectShow video devices (some may be both video and audio devices)\n"
        ' "Integrated Camera"\n'
        '    Alternative name "@device_pnp_x"\n'
        "DirectShow audio devices\n"
        ' "Microphone (Realtek(R) Audio)"\n'
    )
    assert parse_dshow_cameras(ffmpeg4) == ["Integrated Camera"]
    assert parse_dshow_cameras("Could not enumerate video devices.\n") == []


def test_avfoundation_camera_names_leave_out_screens_and_microphones() -> None:
    """Cameras come from the video section of avfoundation's list, without screen capture."""
    listing = (
        "AVFoundation video devices:\n"
        "[0] FaceTime HD Camera\n"
        "[1] Capture screen 0\n"
        "[2] iPhone Camera\n"
        "AVFoundation audio devices:\n"
        "[0] MacBook Pro Microphone\n"
    )
    assert parse_avfoundation_cameras(listing) == ["FaceTime HD Camera", "iPhone Camera"]
    assert parse_avfoundation_cameras("") == []
