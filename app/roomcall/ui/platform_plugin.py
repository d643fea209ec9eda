"""Qt's display (platform) plugin, checked before the QApplication exists.

When a system library of the plugin is missing, Qt aborts the process (exit 134) with "Could
not load the Qt platform plugin" and a hint that names the wrong library (it always suggests
``libxcb-cursor0``). Reading the plugin's unresolved dependencies first lets the app say in one
line which libraries are missing and which Debian/Ubuntu packages bring them.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

EXIT_MISSING_LIBRARIES = 3
"""The exit status of ``roomcall`` when the display plugin cannot load (2 is "no display")."""

DEBIAN_PACKAGES: dict[str, str] = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libz.so.1": "zlib1g",
}
"""Debian/Ubuntu package of each system library Qt's display plugins and Qt Gui load
(``ldd`` of ``PySide6/Qt/plugins/platforms/libqxcb.so``, ``libqwayland.so`` and their Qt
libraries). ``scripts/setup`` installs every package named here."""

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.M)
_DLOPEN_MISSING = re.compile(r"^(\S+?): cannot open shared object file", re.M)
_NO_CHECK = {"offscreen", "minimal", "vnc", "linuxfb"}
"""Plugins that need no system display library worth checking (or are never ours)."""


@dataclass(frozen=True)
class PluginProblem:
    """A display plugin that cannot load, and why."""

    platform: str
    """The plugin's key, e.g. ``"xcb"``."""
    missing: tuple[str, ...]
    """Shared libraries the dynamic linker cannot find (sonames)."""

    def message(self) -> str:
        """The one line the app prints instead of Qt's abort."""
        packages = sorted({DEBIAN_PACKAGES[name] for name in self.missing
                           if name in DEBIAN_PACKAGES})
        text = (f'roomcall: the Qt "{self.platform}" display plugin cannot load: missing '
                + ", ".join(self.missing))
        if packages:
            text += f" (Debian/Ubuntu: sudo apt-get install {' '.join(packages)})"
        return text


def platforms_to_try(env: Mapping[str, str]) -> list[str]:
    """The display plugins Qt will try, in order, for this environment."""
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        # "xcb;wayland" lists fallbacks; "wayland:option" passes options to a plugin.
        return [name.split(":", 1)[0] for name in chosen.split(";") if name]
    if env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland":
        return ["wayland", "xcb"]
    return ["xcb"]


def plugin_dirs(env: Mapping[str, str]) -> list[Path]:
    """Where Qt looks for plugins: ``QT_PLUGIN_PATH`` first, then its own plugin folder."""
    from PySide6.QtCore import QLibraryInfo

    dirs = [Path(p) for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    dirs.append(Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)))
    return dirs


def find_plugin(platform: str, dirs: Sequence[Path]) -> Path | None:
    """The shared library of display plugin ``platform`` (``libq<platform>.so``), or None."""
    for folder in dirs:
        candidate = folder / "platforms" / f"libq{platform}.so"
        if candidate.is_file():
            return candidate
    return None


def missing_libraries(library: Path) -> tuple[str, ...]:
    """Sonames ``library`` needs (directly or through what it loads) that cannot be found.

    Reads ``ldd``, which lists every unresolved dependency; without ``ldd``, asks the dynamic
    linker itself, which names only the first one.
    """
    ldd = shutil.which("ldd")
    if ldd is not None:
        env = dict(os.environ)
        bundle = getattr(sys, "_MEIPASS", None)
        if bundle is not None:
            # A PyInstaller bundle carries system libraries of its build host in its own
            # folder, where the running app finds them; ldd must look there too.
            env["LD_LIBRARY_PATH"] = os.pathsep.join(
                p for p in (str(bundle), env.get("LD_LIBRARY_PATH", "")) if p)
        result = subprocess.run([ldd, str(library)], capture_output=True, text=True,
                                check=False, timeout=30, env=env)
        names = dict.fromkeys(_NOT_FOUND.findall(result.stdout))
        return tuple(names)
    try:
        ctypes.CDLL(str(library))
    except OSError as exc:
        found = _DLOPEN_MISSING.search(str(exc))
        return (found.group(1),) if found else (str(exc),)
    return ()


def check_display_plugin(env: Mapping[str, str] | None = None,
                         dirs: Sequence[Path] | None = None) -> PluginProblem | None:
    """None when Qt's display plugin can load (or is not ours to check); else the problem
    of the first plugin Qt would try. Linux only: elsewhere Qt ships what it needs."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return None
    wanted = platforms_to_try(env)
    if any(name in _NO_CHECK for name in wanted):
        return None
    search = plugin_dirs(env) if dirs is None else list(dirs)
    first: PluginProblem | None = None
    for platform in wanted:
        plugin = find_plugin(platform, search)
        if plugin is None:
            continue  # Qt itself reports a plugin it does not have; nothing to add
        missing = missing_libraries(plugin)
        if not missing:
            return None
        first = first or PluginProblem(platform, missing)
    return first
