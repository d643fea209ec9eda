"""What can be shared and how: platform support, capture arguments per platform, sizes, and
the encoding profile a screen publication gets (pure functions, no display needed)."""

from __future__ import annotations

import pytest

from roomcall.media.devices import DeviceError
from roomcall.media.encoder import TrackEncoder
from roomcall.media.profile import CAMERA, SCREEN, profile_for_tag
from roomcall.media.screen import ShareSettings, fit_size, open_screen
from roomcall.media.screen_targets import (
    ShareTarget,
    ShareUnavailable,
    UnavailableReason,
    capture_source,
    list_share_targets,
    parse_avfoundation_screens,
    share_support,
    windows_targets,
    x11_targets,
)
from roomcall.media.synthetic import SyntheticVideoTrack
from roomcall.protocol.errors import ErrorCode

SCREEN_TARGET = ShareTarget("screen", "screen:1", "HDMI-1", 1920, 1080, 2560, 0, display=":0")
WINDOW_TARGET = ShareTarget("window", "window:0x2a", "Editor", 800, 600, display=":0",
                            window_id=0x2A)


@pytest.mark.parametrize(("platform", "env", "expected"), [
    ("linux", {"DISPLAY": ":0"}, None),
    ("linux", {"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, None),
    ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, UnavailableReason.WAYLAND),
    ("linux", {"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, UnavailableReason.WAYLAND),
    ("linux", {}, UnavailableReason.NO_DISPLAY),
    ("darwin", {}, None),
    ("win32", {}, None),
    ("freebsd14", {"DISPLAY": ":0"}, UnavailableReason.PLATFORM),
])
def test_share_support(platform: str, env: dict[str, str],
                       expected: UnavailableReason | None) -> None:
    """Sharing is available on X11, macOS and Windows; a Wayland session (even with Xwayland's
    DISPLAY) and a Linux without any display say why not."""
    assert share_support(platform, env) is expected


def test_listing_on_wayland_raises_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing on a Wayland session raises ShareUnavailable with error 23003 and the reason,
    in words a person can act on."""
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    with pytest.raises(ShareUnavailable) as caught:
        list_share_targets("linux")
    assert caught.value.reason is UnavailableReason.WAYLAND
    assert caught.value.code == ErrorCode.SCREEN_CAPTURE_FAILED
    assert "X11 session" in caught.value.message


def test_x11_capture_arguments() -> None:
    """A monitor is grabbed at its offset and size on the display; a window by its id."""
    screen = capture_source(SCREEN_TARGET, 15, platform="linux")
    assert (screen.file, screen.format) == (":0+2560,0", "x11grab")
    assert screen.options == {"framerate": "15", "video_size": "1920x1080", "draw_mouse": "1"}
    window = capture_source(WINDOW_TARGET, 5, platform="linux", show_cursor=False)
    assert (window.file, window.format) == (":0", "x11grab")
    assert window.options == {"framerate": "5", "window_id": str(0x2A), "draw_mouse": "0"}


def test_macos_capture_arguments() -> None:
    """macOS opens the avfoundation screen device by index and cannot capture a single
    window (a clear 23003)."""
    mac = ShareTarget("screen", "screen:3", "Capture screen 0", 0, 0, display="3")
    source = capture_source(mac, 15, platform="darwin")
    assert (source.file, source.format, source.options["framerate"]) == (
        "3:none", "avfoundation", "15")
    with pytest.raises(DeviceError) as caught:
        capture_source(WINDOW_TARGET, 15, platform="darwin")
    assert caught.value.code == ErrorCode.SCREEN_CAPTURE_FAILED


def test_windows_capture_arguments() -> None:
    """Windows grabs a monitor as a region of the desktop at its offset (negative left of the
    primary), the whole desktop when no size is known, and a window by its title."""
    left = ShareTarget("screen", "screen:1", "Screen 2", 1280, 1024, -1280, 0, display="desktop")
    source = capture_source(left, 15, platform="win32")
    assert (source.file, source.format) == ("desktop", "gdigrab")
    assert (source.options["offset_x"], source.options["offset_y"],
            source.options["video_size"]) == ("-1280", "0", "1280x1024")
    whole = ShareTarget("screen", "screen:all", "All screens", 0, 0, display="desktop")
    assert "video_size" not in capture_source(whole, 15, platform="win32").options
    window = capture_source(WINDOW_TARGET, 10, platform="win32")
    assert (window.file, window.format, window.options["framerate"]) == (
        "title=Editor", "gdigrab", "10")


def test_windows_listing_falls_back_to_the_desktop_elsewhere() -> None:
    """Where user32 cannot be reached (here: not Windows) the list is the whole desktop."""
    targets = windows_targets()
    assert [(t.kind, t.id, t.display) for t in targets] == [("screen", "screen:all", "desktop")]
    assert capture_source(targets[0], 15, platform="win32").file == "desktop"


def test_parse_avfoundation_screens() -> None:
    """Only the "Capture screen N" video devices are taken, with their device index."""
    text = ("[AVFoundation indev @ 0x1] AVFoundation video devices:\n"
            "[AVFoundation indev @ 0x1] [0] FaceTime HD Camera\n"
            "[AVFoundation indev @ 0x1] [1] Capture screen 0\n"
            "[AVFoundation indev @ 0x1] [2] Capture screen 1\n"
            "[AVFoundation indev @ 0x1] AVFoundation audio devices:\n"
            "[AVFoundation indev @ 0x1] [0] MacBook Pro Microphone\n")
    stripped = "\n".join(line.split("] ", 1)[1] for line in text.splitlines())
    assert parse_avfoundation_screens(stripped) == [(1, "Capture screen 0"),
                                                    (2, "Capture screen 1")]


@pytest.mark.parametrize(("size", "limit", "expected"), [
    ((1920, 1080), (1920, 1080), (1920, 1080)),
    ((2560, 1440), (1920, 1080), (1920, 1080)),
    ((3440, 1440), (1920, 1080), (1920, 802)),
    ((1280, 720), (1920, 1080), (1280, 720)),  # never upscaled
    ((801, 601), (1920, 1080), (800, 600)),  # even
    ((1080, 1920), (1920, 1080), (606, 1080)),  # portrait keeps its aspect
])
def test_fit_size(size: tuple[int, int], limit: tuple[int, int],
                  expected: tuple[int, int]) -> None:
    """The sent size fits the chosen limit, keeps the aspect, is even and never upscaled."""
    assert fit_size(*size, *limit) == expected


def test_share_settings_reject_nonsense() -> None:
    """A frame rate outside 1..60 or a tiny size is refused at once."""
    assert ShareSettings().fps == 15
    with pytest.raises(ValueError):
        ShareSettings(fps=0)
    with pytest.raises(ValueError):
        ShareSettings(max_width=10)


def test_screen_tag_selects_the_screen_profile() -> None:
    """A publication tagged "screen" is encoded with libvpx's screen-content mode on a ladder
    that keeps the full size down to a lower bit rate than a camera's; others as cameras."""
    assert profile_for_tag("screen") is SCREEN
    assert profile_for_tag("camera") is CAMERA and profile_for_tag("") is CAMERA
    assert SCREEN.video.options["screen-content-mode"] != "0"
    assert "screen-content-mode" not in CAMERA.video.options
    assert SCREEN.ladder[0].width is None  # the full size
    assert SCREEN.ladder[0].min_bitrate < CAMERA.ladder[0].min_bitrate
    encoder = TrackEncoder(SyntheticVideoTrack("s", width=64, height=48), "m", SCREEN)
    assert all(rung.settings is SCREEN.video for rung in encoder.rungs)
    # 300 kbit/s keeps a screen's peer on the full size; a camera's would step down.
    assert encoder.subscribe().select_rung(300_000, now=0.0) == 0
    camera = TrackEncoder(SyntheticVideoTrack("c", width=64, height=48), "c")
    assert camera.subscribe().select_rung(300_000, now=0.0) == 1


def test_an_unreachable_display_is_a_clear_error() -> None:
    """Listing or capturing a display nobody serves fails at once with error 23003."""
    gone = ShareTarget("screen", "screen:0", "screen", 640, 480, display=":987")
    with pytest.raises(DeviceError) as listing:
        x11_targets(":987")
    assert listing.value.code == ErrorCode.SCREEN_CAPTURE_FAILED
    with pytest.raises(DeviceError) as capture:
        open_screen(gone)
    assert capture.value.code == ErrorCode.SCREEN_CAPTURE_FAILED
    assert "screen" in capture.value.message
