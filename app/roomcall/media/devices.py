"""Cameras, microphones and speakers: listing them and opening capture tracks.

Cameras go through PyAV (aiortc's ``MediaPlayer``) with the input format each OS needs:
``v4l2`` on Linux (listed from ``/dev/video*``), ``avfoundation`` on macOS (which needs an
explicit frame rate), ``dshow`` on Windows (which needs the exact device name).

Audio goes through PortAudio (the ``sounddevice`` package, imported on first use): it lists
microphones and speakers, captures the microphone (:class:`MicrophoneTrack`) and plays remote
audio (``roomcall.media.playout``). PortAudio ships inside sounddevice's macOS and Windows wheels;
on Linux it is the system's ``libportaudio2``. Without it, or without any audio device, the
audio lists are empty and opening says why with Qiniu's device codes.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import struct
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import av
import av.logging
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamTrack

from roomcall.media.microphone import MicrophoneTrack
from roomcall.media.processing import CaptureOptions, FarEndReference
from roomcall.protocol.errors import ErrorCode

__all__ = [
    "AudioEndpoint",
    "CaptureOptions",
    "DeviceError",
    "DeviceInfo",
    "DeviceKind",
    "MicrophoneSource",
    "MicrophoneTrack",
    "PlayerSource",
    "audio_backend",
    "audio_endpoints",
    "camera_source",
    "list_cameras",
    "list_microphones",
    "list_speakers",
    "microphone_source",
    "open_camera",
    "open_microphone",
    "parse_avfoundation_cameras",
    "parse_dshow_cameras",
    "rescan_audio_devices",
    "resolve_audio_device",
]

logger = logging.getLogger(__name__)

DeviceKind = Literal["camera", "microphone", "speaker"]
AudioKind = Literal["microphone", "speaker"]


@dataclass(frozen=True)
class DeviceInfo:
    """One capture or output device."""

    id: str
    """What opens it: a v4l2 path, a camera's name, or ``"<host API>/<name>"`` for audio."""
    name: str
    """Human-readable name (also the name dshow and avfoundation open cameras by)."""
    kind: DeviceKind
    is_default: bool = False
    """The system's default device of its kind."""


class DeviceError(Exception):
    """A device could not be listed or opened; ``code`` is Qiniu's (23001, 23006, ...)."""

    def __init__(self, code: int, message: str | None = None) -> None:
        message = message or _DEVICE_MESSAGES.get(code, f"device error {code}")
        super().__init__(f"{message} (error {code})")
        self.code = code
        self.message = message


_DEVICE_MESSAGES: Final[dict[int, str]] = {
    ErrorCode.CAMERA_OPEN_FAILED: "cannot open the camera",
    ErrorCode.CAMERA_ERROR: "camera failed",
    ErrorCode.MICROPHONE_OPEN_FAILED: "cannot open the microphone",
    ErrorCode.MICROPHONE_ERROR: "microphone failed",
    ErrorCode.SPEAKER_ERROR: "audio output failed",
}


# --- PortAudio seam --------------------------------------------------------------------


def _import_sounddevice() -> Any:
    # Imported on first use: it raises OSError when the PortAudio library is missing.
    import sounddevice

    return sounddevice


@functools.cache
def _load_backend() -> tuple[Any, str]:
    try:
        return _import_sounddevice(), ""
    except (ImportError, OSError) as exc:
        # sounddevice raises OSError when the PortAudio library is missing (Linux without
        # libportaudio2), ImportError when the package itself is.
        why = f"no audio backend: {exc} (on Linux install libportaudio2)"
        logger.warning("%s", why)
        return None, why


def audio_backend() -> tuple[Any, str]:
    """``(sounddevice, "")`` once PortAudio loads, else ``(None, why it did not)``."""
    return _load_backend()


def rescan_audio_devices() -> None:
    """Make PortAudio list the audio devices again (it lists them once, when it starts).

    For a "refresh devices" action after plugging in a headset. Call it only while no
    audio stream is open (no playout running, no microphone track live): restarting
    PortAudio invalidates open streams.
    """
    sd, _ = audio_backend()
    if sd is not None:
        # PortAudio has no hot-plug API; restarting it is the way sounddevice's maintainer
        # gives (python-sounddevice#125).
        sd._terminate()
        sd._initialize()


@dataclass(frozen=True)
class AudioEndpoint:
    """A listed audio device and what PortAudio needs to open it."""

    info: DeviceInfo
    index: int
    """PortAudio's device index (valid for this process: PortAudio lists devices once)."""
    channels: int
    """Most channels it captures (microphones) or plays (speakers)."""
    default_rate: int


# ALSA's plugin PCMs that are other views of the same card; "default", "pulse", "pipewire"
# and the hw devices stay.
_ALSA_PLUGINS: Final = frozenset({
    "sysdefault", "front", "rear", "center_lfe", "side", "surround21", "surround40",
    "surround41", "surround50", "surround51", "surround71", "iec958", "spdif", "hdmi", "dmix",
    "dsnoop", "samplerate", "speexrate", "lavrate", "upmix", "vdownmix", "speex", "jack", "oss",
})


def audio_endpoints(
    kind: AudioKind,
    devices: Sequence[Mapping[str, Any]],
    hostapis: Sequence[Mapping[str, Any]],
    default_hostapi: int,
) -> list[AudioEndpoint]:
    """The microphones or speakers of a PortAudio device table, the default one first.

    ``devices`` and ``hostapis`` are what ``sounddevice.query_devices()`` and
    ``query_hostapis()`` return. One OS lists each device once per host API (Windows: MME,
    DirectSound, WASAPI, WDM-KS); only the default host API's entries are kept, or, when it
    has none of this kind, every host API's with repeated names dropped.
    """
    channel_key = "max_input_channels" if kind == "microphone" else "max_output_channels"
    default_key = "default_input_device" if kind == "microphone" else "default_output_device"

    def usable(device: Mapping[str, Any]) -> bool:
        api = hostapis[device["hostapi"]]["name"]
        return device[channel_key] > 0 and not (api == "ALSA" and device["name"] in _ALSA_PLUGINS)

    candidates = [d for d in devices if usable(d)]
    chosen = [d for d in candidates if d["hostapi"] == default_hostapi]
    defaults: set[int] = set()
    if 0 <= default_hostapi < len(hostapis):
        defaults.add(int(hostapis[default_hostapi][default_key]))
    if not chosen:
        chosen = candidates
        defaults.update(int(api[default_key]) for api in hostapis)
    found: list[AudioEndpoint] = []
    seen: dict[str, int] = {}
    default_marked = False
    for device in chosen:
        api_name = str(hostapis[device["hostapi"]]["name"])
        name = str(device["name"])
        count = seen[name] = seen.get(name, 0) + 1
        if count > 1 and chosen is candidates:
            continue  # the same device under another host API
        label = name if count == 1 else f"{name} #{count}"
        is_default = not default_marked and int(device["index"]) in defaults
        default_marked |= is_default
        info = DeviceInfo(f"{api_name}/{label}", label, kind, is_default=is_default)
        found.append(AudioEndpoint(info, int(device["index"]), int(device[channel_key]),
                                   int(device["default_samplerate"])))
    return sorted(found, key=lambda endpoint: not endpoint.info.is_default)


def _endpoints(kind: AudioKind) -> list[AudioEndpoint]:
    sd, _ = audio_backend()
    if sd is None:
        return []
    try:
        return audio_endpoints(kind, sd.query_devices(), sd.query_hostapis(), sd.default.hostapi)
    except sd.PortAudioError as exc:
        logger.warning("cannot list audio devices: %s", exc)
        return []


def resolve_audio_device(
    kind: AudioKind, device: DeviceInfo | None, code: int
) -> tuple[Any, AudioEndpoint]:
    """sounddevice and the endpoint that opens ``device`` (None: the default one).

    Raises:
        DeviceError: ``code`` when there is no audio backend or no such device.
    """
    sd, why = audio_backend()
    if sd is None:
        raise DeviceError(code, why)
    endpoints = _endpoints(kind)
    if not endpoints:
        raise DeviceError(code, f"no {kind} found")
    if device is None:
        return sd, endpoints[0]
    for endpoint in endpoints:
        if endpoint.info.id == device.id:
            return sd, endpoint
    raise DeviceError(code, f"{kind} {device.name!r} is not connected")


# --- listing ---------------------------------------------------------------------------

_VIDIOC_QUERYCAP: Final = 0x80685600
"""``_IOR('V', 0, struct v4l2_capability)``; the struct is 104 bytes."""
_V4L2_CAP_VIDEO_CAPTURE: Final = 0x0000_0001
_V4L2_CAP_DEVICE_CAPS: Final = 0x8000_0000


def is_v4l2_capture(capability: bytes) -> bool:
    """Whether a raw ``struct v4l2_capability`` describes a video capture node.

    UVC cameras also expose metadata nodes (a second ``/dev/videoN``) that cannot capture;
    ``device_caps`` tells them apart when the driver fills it.
    """
    if len(capability) < 92:
        return False
    capabilities, device_caps = struct.unpack_from("<II", capability, 84)
    caps = device_caps if capabilities & _V4L2_CAP_DEVICE_CAPS else capabilities
    return bool(caps & _V4L2_CAP_VIDEO_CAPTURE)


def _linux_cameras(sysfs: Path = Path("/sys/class/video4linux")) -> list[DeviceInfo]:
    import fcntl  # POSIX only: imported here so the module loads on Windows

    cameras: list[DeviceInfo] = []
    paths = sorted(Path("/dev").glob("video*"), key=lambda p: int(p.name[5:] or 0))
    for path in paths:
        if not path.name[5:].isdigit():
            continue
        try:
            name = (sysfs / path.name / "name").read_text().strip() or path.name
        except OSError:
            name = path.name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            try:
                capability = fcntl.ioctl(fd, _VIDIOC_QUERYCAP, bytes(104))
            finally:
                os.close(fd)
            if not is_v4l2_capture(capability):
                continue
        except OSError as exc:
            # Cannot ask (permissions, busy): list it anyway and let opening say why.
            logger.debug("cannot query %s: %s", path, exc)
        cameras.append(DeviceInfo(str(path), name, "camera", is_default=not cameras))
    return cameras


_DSHOW_DEVICE: Final = re.compile(r'^\s*"(?P<name>[^"]+)"(?:\s*\((?P<types>[^)]*)\))?\s*$')
_AVFOUNDATION_DEVICE: Final = re.compile(r"^\s*\[\d+\]\s+(?P<name>.+?)\s*$")


def parse_dshow_cameras(text: str) -> list[str]:
    """Camera names in FFmpeg's dshow ``list_devices`` output (FFmpeg 4 and 5+ layouts).

    FFmpeg 5+ tags each device ``"name" (video)``; FFmpeg 4 lists video devices under a
    "DirectShow video devices" heading and audio ones under another.
    """
    names: list[str] = []
    section = "video"
    for line in text.splitlines():
        if "DirectShow video devices" in line or "DirectShow audio devices" in line:
            section = "video" if "video" in line else "audio"
            continue
        match = _DSHOW_DEVICE.match(line)
        if match is None:
            continue  # "Alternative name" lines and the rest
        types = match["types"]
        is_video = "video" in types if types is not None else section == "video"
        if is_video and match["name"] not in names:
            names.append(match["name"])
    return names


def parse_avfoundation_cameras(text: str) -> list[str]:
    """Camera names in FFmpeg's avfoundation ``list_devices`` output (screens left out)."""
    names: list[str] = []
    in_video = False
    for line in text.splitlines():
        if "AVFoundation video devices" in line or "AVFoundation audio devices" in line:
            in_video = "video" in line
            continue
        match = _AVFOUNDATION_DEVICE.match(line)
        if in_video and match is not None and not match["name"].startswith("Capture screen"):
            names.append(match["name"])
    return names


def ffmpeg_device_list(input_format: str, target: str) -> str:
    """What FFmpeg logs when asked to list ``input_format``'s devices (it then fails)."""
    previous = av.logging.get_level()
    # PyAV keeps FFmpeg's log off by default; the list is logged at INFO level.
    av.logging.set_level(av.logging.INFO)
    try:
        # Listing always ends in an "exit" error.
        with av.logging.Capture() as logs, contextlib.suppress(
            av.FFmpegError, OSError, ValueError
        ):
            av.open(target, format=input_format, options={"list_devices": "true"}).close()
    finally:
        av.logging.set_level(previous)
    return "".join(str(message) for _level, _name, message in logs)


def list_cameras() -> list[DeviceInfo]:
    """The cameras this machine has (empty if none); the default one is marked."""
    names: list[str] = []
    if sys.platform.startswith("linux"):
        return _linux_cameras()
    if sys.platform == "darwin":
        names = parse_avfoundation_cameras(ffmpeg_device_list("avfoundation", ""))
        if not names:
            return [DeviceInfo("default", "Default camera", "camera", is_default=True)]
    elif sys.platform == "win32":
        names = parse_dshow_cameras(ffmpeg_device_list("dshow", "dummy"))
    return [DeviceInfo(name, name, "camera", is_default=i == 0) for i, name in enumerate(names)]


def list_microphones() -> list[DeviceInfo]:
    """The microphones PortAudio sees (empty if none or no PortAudio), the default first."""
    return [endpoint.info for endpoint in _endpoints("microphone")]


def list_speakers() -> list[DeviceInfo]:
    """The audio outputs PortAudio sees (empty if none or no PortAudio), the default first."""
    return [endpoint.info for endpoint in _endpoints("speaker")]


# --- opening ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlayerSource:
    """Arguments for ``MediaPlayer(file, format=..., options=...)``."""

    file: str
    format: str
    options: dict[str, str] = field(default_factory=dict)


def camera_source(
    device: DeviceInfo | None, *, platform: str, width: int = 640, height: int = 480, fps: int = 30
) -> PlayerSource:
    """The MediaPlayer arguments that open ``device`` (None: the default) on ``platform``."""
    size = {"video_size": f"{width}x{height}", "framerate": str(fps)}
    if platform.startswith("linux"):
        path = device.id if device is not None and device.id.startswith("/dev/") else "/dev/video0"
        return PlayerSource(path, "v4l2", size)
    if platform == "darwin":
        # avfoundation refuses its default 29.97 fps on most cameras: the rate must be given.
        name = "default" if device is None or device.id == "default" else device.name
        return PlayerSource(f"{name}:none", "avfoundation", size)
    if platform == "win32":
        if device is None:
            raise DeviceError(ErrorCode.CAMERA_OPEN_FAILED, "dshow needs a camera chosen by name")
        # A larger real-time buffer avoids dshow's "real-time buffer full" frame drops.
        return PlayerSource(f"video={device.name}", "dshow", {**size, "rtbufsize": "64M"})
    raise DeviceError(ErrorCode.CAMERA_OPEN_FAILED, f"cameras are not supported on {platform}")


@dataclass(frozen=True)
class MicrophoneSource:
    """Arguments for a PortAudio input stream: device index, rate, channels."""

    device: int
    sample_rate: int
    channels: int


def microphone_source(endpoint: AudioEndpoint, *, sample_rate: int = 48_000) -> MicrophoneSource:
    """How to capture ``endpoint``: mono or stereo (as it offers) at ``sample_rate``."""
    return MicrophoneSource(endpoint.index, sample_rate, min(2, endpoint.channels))


def _default(devices: list[DeviceInfo]) -> DeviceInfo | None:
    return next((d for d in devices if d.is_default), devices[0] if devices else None)


def open_camera(
    device: DeviceInfo | None = None, *, width: int = 640, height: int = 480, fps: int = 30
) -> MediaStreamTrack:
    """A live video track from ``device`` (None: the default camera).

    Opening blocks while the OS starts the device; call it from an executor in a GUI.

    Raises:
        DeviceError: 23001 when there is no camera or it cannot be opened.
    """
    if device is None:
        device = _default(list_cameras())
        if device is None:
            raise DeviceError(ErrorCode.CAMERA_OPEN_FAILED, "no camera found")
    source = camera_source(device, platform=sys.platform, width=width, height=height, fps=fps)
    code = ErrorCode.CAMERA_OPEN_FAILED
    try:
        player = MediaPlayer(source.file, format=source.format, options=source.options)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise DeviceError(code, f"cannot open camera {source.file!r}: {exc}") from exc
    if player.video is None:
        raise DeviceError(code, f"{source.file!r} has no video stream")
    return player.video


def open_microphone(
    device: DeviceInfo | None = None, *, sample_rate: int = 48_000,
    processing: CaptureOptions | None = None, far_end: FarEndReference | None = None,
) -> MicrophoneTrack:
    """A live audio track from ``device`` (a ``list_microphones()`` entry; None: the default).

    ``processing`` selects echo cancellation, noise suppression, gain and the high-pass
    filter (all on by default; ``track.set_processing()`` changes them later); ``far_end``
    is what the playout plays (default: the shared reference the default playout writes).

    Frames are 20 ms of s16 audio, mono or stereo as the device offers, at ``sample_rate``
    (or the device's own rate if it cannot do that one); the encoder resamples them. Stopping
    the track closes the device. Opening blocks while the OS starts the device.

    Raises:
        DeviceError: 23006 when there is no microphone or it cannot be opened.
    """
    code = ErrorCode.MICROPHONE_OPEN_FAILED
    sd, endpoint = resolve_audio_device("microphone", device, code)
    source = microphone_source(endpoint, sample_rate=sample_rate)
    try:
        sd.check_input_settings(source.device, source.channels, "int16", None, source.sample_rate)
    except (sd.PortAudioError, ValueError):
        logger.info("%s cannot capture at %d Hz; using %d Hz", endpoint.info.name,
                    source.sample_rate, endpoint.default_rate)
        source = MicrophoneSource(source.device, endpoint.default_rate, source.channels)
    track = MicrophoneTrack(sample_rate=source.sample_rate, channels=source.channels,
                            processing=processing, far_end=far_end)
    try:
        stream = sd.InputStream(
            samplerate=source.sample_rate,
            blocksize=track.frame_samples,
            device=source.device,
            channels=source.channels,
            dtype="int16",
            latency="low",
            callback=track.on_block,
            finished_callback=track.on_finished,
        )
        stream.start()
    except (sd.PortAudioError, ValueError) as exc:
        raise DeviceError(code, f"cannot open microphone {endpoint.info.name!r}: {exc}") from exc
    track.attach(stream)
    logger.info("capturing %s at %d Hz, %d channel(s)", endpoint.info.name,
                source.sample_rate, source.channels)
    return track
