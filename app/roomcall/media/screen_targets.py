"""What can be shared: the screens and windows of this desktop, and how to capture each.

Capture goes through PyAV's input devices, per platform (media-facts, screen capture):

- X11 (Linux): ``x11grab``. Screens are the RandR monitors (the whole desktop too when there
  are several); windows are the window manager's client list (``_NET_CLIENT_LIST``), or the
  mapped top-level windows when no window manager runs (a bare Xvfb). A window is captured
  by its id (x11grab's ``window_id``), wherever it is on the desktop. Listing needs
  ``python-xlib`` (a Linux dependency).
- Wayland: capture goes through the desktop portal (ScreenCast) and PipeWire, which neither
  PyAV's wheel nor PySide6-Essentials have, and ``x11grab`` on Xwayland sees only X11 windows
  (black elsewhere): sharing is unavailable, :class:`ShareUnavailable` says why.
- macOS: ``avfoundation``'s "Capture screen N" devices (needs the Screen Recording
  permission); windows cannot be captured that way.
- Windows: ``gdigrab``: each monitor (a region of the ``desktop``, from
  ``EnumDisplayMonitors``) and each visible titled window (``EnumWindows``), which gdigrab
  finds by its title. Listing goes through ``user32`` with ctypes.

The listing and capture arguments are pure functions of what the platform reports, so tests
check them without that platform.
"""

from __future__ import annotations

import enum
import logging
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from roomcall.media.devices import DeviceError, ffmpeg_device_list
from roomcall.protocol.errors import ErrorCode

logger = logging.getLogger(__name__)

ShareKind = Literal["screen", "window"]


@dataclass(frozen=True)
class ShareTarget:
    """A screen or a window that can be shared."""

    kind: ShareKind
    id: str
    """Stable while the target exists, e.g. ``"screen:0"``, ``"window:0x2a00007"``."""
    name: str
    """A monitor's name (``"HDMI-1"``) or a window's title, for the picker."""
    width: int
    """Pixels across (0 when the platform does not say before capturing)."""
    height: int
    x: int = 0
    """Left edge on the desktop (screens)."""
    y: int = 0
    display: str = ""
    """The X display (``":0"``), or the avfoundation device index on macOS."""
    window_id: int | None = None
    """The X window to capture (windows only)."""


class UnavailableReason(enum.Enum):
    """Why this desktop cannot be shared (the window words each for the person)."""

    WAYLAND = "wayland"
    """A Wayland session: only the desktop portal and PipeWire can capture it."""
    NO_DISPLAY = "no-display"
    """Linux without a display server to capture (``DISPLAY`` unset)."""
    NO_GRABBER = "no-grabber"
    """PyAV was built without this platform's screen grabber, or python-xlib is missing."""
    PLATFORM = "platform"
    """An operating system roomcall has no screen capture for."""


_REASON_TEXT: Final = {
    UnavailableReason.WAYLAND: (
        "screen sharing needs an X11 session: on Wayland only the desktop portal and "
        "PipeWire can capture the screen, which roomcall cannot use yet"),
    UnavailableReason.NO_DISPLAY: "no X11 display to capture (DISPLAY is not set)",
    UnavailableReason.NO_GRABBER: "this build has no screen grabber for this platform",
    UnavailableReason.PLATFORM: "screen sharing is not supported on this operating system",
}


class ShareUnavailable(DeviceError):
    """Sharing cannot work on this desktop at all; ``reason`` says why (error 23003)."""

    def __init__(self, reason: UnavailableReason, detail: str = "") -> None:
        text = _REASON_TEXT[reason] + (f" ({detail})" if detail else "")
        super().__init__(ErrorCode.SCREEN_CAPTURE_FAILED, text)
        self.reason = reason


def share_support(platform: str = sys.platform,
                  environ: Mapping[str, str] | None = None) -> UnavailableReason | None:
    """None when this desktop can be shared, else why not (from the platform and environment).

    A Wayland session counts as Wayland even with ``DISPLAY`` set: Xwayland's root window
    shows only X11 clients, so ``x11grab`` would send a mostly black screen.
    """
    env = os.environ if environ is None else environ
    if platform.startswith("linux"):
        wayland = (env.get("XDG_SESSION_TYPE", "").lower() == "wayland"
                   or bool(env.get("WAYLAND_DISPLAY")))
        if wayland:
            return UnavailableReason.WAYLAND
        if not env.get("DISPLAY"):
            return UnavailableReason.NO_DISPLAY
        return None
    if platform in ("darwin", "win32"):
        return None
    return UnavailableReason.PLATFORM


def list_share_targets(platform: str = sys.platform) -> list[ShareTarget]:
    """The screens (first) and windows that can be shared here.

    Listing talks to the display server: call it from an executor in a GUI.

    Raises:
        ShareUnavailable: this desktop cannot be shared (the reason says why).
    """
    reason = share_support(platform)
    if reason is not None:
        raise ShareUnavailable(reason)
    if platform.startswith("linux"):
        return x11_targets(os.environ["DISPLAY"])
    if platform == "darwin":
        text = ffmpeg_device_list("avfoundation", "")
        return [ShareTarget("screen", f"screen:{index}", name, 0, 0, display=str(index))
                for index, name in parse_avfoundation_screens(text)]
    return windows_targets()


_AVFOUNDATION_SCREEN: Final = re.compile(r"^\s*\[(?P<index>\d+)\]\s+(?P<name>Capture screen \d+)")


def parse_avfoundation_screens(text: str) -> list[tuple[int, str]]:
    """``(device index, name)`` of the "Capture screen N" devices in avfoundation's list."""
    screens: list[tuple[int, str]] = []
    in_video = False
    for line in text.splitlines():
        if "AVFoundation video devices" in line or "AVFoundation audio devices" in line:
            in_video = "video" in line
            continue
        match = _AVFOUNDATION_SCREEN.match(line)
        if in_video and match is not None:
            screens.append((int(match["index"]), match["name"]))
    return screens


# --- X11 -------------------------------------------------------------------------------


_LOCAL_DISPLAY: Final = re.compile(r"^(unix)?:(?P<number>\d+)(\.\d+)?$")


def x11_targets(display_name: str) -> list[ShareTarget]:
    """Screens (RandR monitors) and windows of X display ``display_name``.

    Raises:
        ShareUnavailable: python-xlib is missing.
        DeviceError: 23003 when the display cannot be reached.
    """
    try:
        from Xlib import X, display, error
    except ImportError as exc:
        raise ShareUnavailable(UnavailableReason.NO_GRABBER, "python-xlib is missing") from exc
    local = _LOCAL_DISPLAY.match(display_name)
    if local is not None and not Path(f"/tmp/.X11-unix/X{local['number']}").exists():
        # Checked first: python-xlib leaves its sockets open when it cannot connect
        # (Xlib.support.unix_connect tries the unix socket, then TCP, closing neither).
        raise DeviceError(ErrorCode.SCREEN_CAPTURE_FAILED,
                          f"no X server on display {display_name!r}")
    try:
        conn = display.Display(display_name)
    except (error.DisplayError, OSError) as exc:
        raise DeviceError(ErrorCode.SCREEN_CAPTURE_FAILED,
                          f"cannot reach display {display_name!r}: {exc}") from exc
    try:
        root = conn.screen().root
        screens = _x11_screens(conn, root, display_name)
        windows = [
            ShareTarget("window", f"window:{hex(w.id)}", title, g.width, g.height, g.x, g.y,
                        display=display_name, window_id=w.id)
            for w, title, g in _x11_windows(conn, root, X)
        ]
    finally:
        conn.close()
    return screens + windows


def _x11_screens(conn: Any, root: Any, display_name: str) -> list[ShareTarget]:
    geometry = root.get_geometry()
    whole = ShareTarget("screen", "screen:all", "All screens", geometry.width, geometry.height,
                        display=display_name)
    monitors: list[ShareTarget] = []
    try:
        from Xlib.ext import randr

        if conn.has_extension("RANDR"):
            for index, mon in enumerate(randr.get_monitors(root).monitors):
                monitors.append(ShareTarget(
                    "screen", f"screen:{index}", str(conn.get_atom_name(mon.name)),
                    mon.width_in_pixels, mon.height_in_pixels, mon.x, mon.y,
                    display=display_name))
    except Exception as exc:  # RandR < 1.5 has no monitors request
        logger.debug("no RandR monitors: %s", exc)
    if len(monitors) <= 1:
        return [monitors[0] if monitors else whole]
    return [*monitors, whole]


@dataclass(frozen=True)
class _Geometry:
    x: int
    y: int
    width: int
    height: int


def _x11_windows(conn: Any, root: Any, X: Any) -> list[tuple[Any, str, _Geometry]]:
    """(window, title, geometry on the desktop) of every window worth sharing."""
    client_list = root.get_full_property(conn.intern_atom("_NET_CLIENT_LIST"), X.AnyPropertyType)
    if client_list is not None:
        candidates = [conn.create_resource_object("window", wid) for wid in client_list.value]
    else:
        # No window manager (a bare X server): the mapped top-level windows are the clients.
        candidates = [w for w in root.query_tree().children
                      if w.get_attributes().map_state == X.IsViewable
                      and not w.get_attributes().override_redirect]
    found = []
    for window in candidates:
        try:
            title = _window_title(conn, window, X)
            geometry = window.get_geometry()
            origin = root.translate_coords(window, 0, 0)
        except Exception:  # the window went away while we asked
            continue
        if title and geometry.width > 1 and geometry.height > 1:
            found.append((window, title, _Geometry(origin.x, origin.y,
                                                   geometry.width, geometry.height)))
    return found


def _window_title(conn: Any, window: Any, X: Any) -> str:
    net_name = window.get_full_property(conn.intern_atom("_NET_WM_NAME"),
                                        conn.intern_atom("UTF8_STRING"))
    if net_name is not None and net_name.value:
        value = net_name.value
        return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))
    name = window.get_wm_name()
    return name.decode("latin-1") if isinstance(name, bytes) else str(name or "")


# --- Windows ---------------------------------------------------------------------------


def windows_targets() -> list[ShareTarget]:
    """Monitors and visible titled windows, through ``user32`` (Windows only).

    Monitor rectangles are in desktop coordinates from the primary monitor's corner, which is
    what gdigrab's offsets are measured from. Falls back to the whole desktop when listing
    fails.
    """
    desktop = [ShareTarget("screen", "screen:all", "All screens", 0, 0, display="desktop")]
    try:
        monitors, windows = _enumerate_user32()
    except (AttributeError, OSError) as exc:  # not Windows, or user32 refused
        logger.warning("cannot list monitors and windows: %s", exc)
        return desktop
    screens = [ShareTarget("screen", f"screen:{i}", f"Screen {i + 1}", w, h, x, y,
                           display="desktop")
               for i, (x, y, w, h) in enumerate(monitors)]
    listed = [ShareTarget("window", f"window:{hwnd:#x}", title, w, h, x, y,
                          display="desktop", window_id=hwnd)
              for hwnd, title, (x, y, w, h) in windows]
    return (screens if len(screens) == 1 else [*screens, *desktop]) + listed


Rect = tuple[int, int, int, int]


def _enumerate_user32() -> tuple[list[Rect], list[tuple[int, str, Rect]]]:
    import ctypes
    from ctypes import wintypes

    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    monitors: list[Rect] = []
    windows: list[tuple[int, str, Rect]] = []

    def size(rect: Any) -> Rect:
        return rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top

    monitor_proc = ctypes.WINFUNCTYPE(  # type: ignore[attr-defined]
        wintypes.BOOL, wintypes.HMONITOR, wintypes.HDC, ctypes.POINTER(wintypes.RECT),
        wintypes.LPARAM)

    def on_monitor(_monitor: Any, _dc: Any, rect: Any, _data: Any) -> bool:
        monitors.append(size(rect.contents))
        return True

    window_proc = ctypes.WINFUNCTYPE(  # type: ignore[attr-defined]
        wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)

    def on_window(hwnd: Any, _data: Any) -> bool:
        if user32.IsWindowVisible(hwnd) and not user32.IsIconic(hwnd):
            length = user32.GetWindowTextLengthW(hwnd)
            if length > 0:
                title = ctypes.create_unicode_buffer(length + 1)
                user32.GetWindowTextW(hwnd, title, length + 1)
                rect = wintypes.RECT()
                user32.GetWindowRect(hwnd, ctypes.byref(rect))
                if rect.right - rect.left > 1 and rect.bottom - rect.top > 1:
                    windows.append((int(hwnd), title.value, size(rect)))
        return True

    # Keep the callbacks referenced until the calls return (ctypes frees them otherwise).
    monitor_callback, window_callback = monitor_proc(on_monitor), window_proc(on_window)
    user32.EnumDisplayMonitors(None, None, monitor_callback, 0)
    user32.EnumWindows(window_callback, 0)
    return monitors, windows


# --- capture arguments -------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureSource:
    """Arguments for ``av.open(file, format=..., options=...)`` that capture one target."""

    file: str
    format: str
    options: dict[str, str] = field(default_factory=dict)


def capture_source(target: ShareTarget, fps: int, *, platform: str = sys.platform,
                   show_cursor: bool = True) -> CaptureSource:
    """How PyAV opens ``target`` at ``fps`` frames/s on ``platform``.

    Raises:
        DeviceError: 23003 when the platform cannot capture this kind of target.
    """
    rate = {"framerate": str(fps)}
    cursor = "1" if show_cursor else "0"
    if platform.startswith("linux"):
        if target.kind == "window" and target.window_id is not None:
            # x11grab reads the window's own pixels (and follows its size at open).
            return CaptureSource(target.display, "x11grab",
                                 {**rate, "window_id": str(target.window_id),
                                  "draw_mouse": cursor})
        return CaptureSource(f"{target.display}+{target.x},{target.y}", "x11grab",
                             {**rate, "video_size": f"{target.width}x{target.height}",
                              "draw_mouse": cursor})
    if platform == "win32":
        if target.kind == "window":
            # gdigrab finds the window by its title (the first one, if several share it).
            return CaptureSource(f"title={target.name}", "gdigrab",
                                 {**rate, "draw_mouse": cursor})
        if target.width and target.height:
            return CaptureSource("desktop", "gdigrab", {
                **rate, "draw_mouse": cursor, "offset_x": str(target.x),
                "offset_y": str(target.y), "video_size": f"{target.width}x{target.height}"})
        return CaptureSource("desktop", "gdigrab", {**rate, "draw_mouse": cursor})
    if target.kind == "window":
        raise DeviceError(ErrorCode.SCREEN_CAPTURE_FAILED,
                          f"windows cannot be captured on {platform}")
    if platform == "darwin":
        return CaptureSource(f"{target.display}:none", "avfoundation",
                             {**rate, "capture_cursor": cursor})
    raise ShareUnavailable(UnavailableReason.PLATFORM)
