"""What goes into the roomcall bundle and what is left out.

``roomcall.spec`` imports this module; the packaging tests import it too, so the rules are
checked without building. roomcall's GUI uses only QtCore, QtGui and QtWidgets (through
qasync; audio goes through PortAudio, not Qt Multimedia); everything else PySide6 may ship
(QML/Quick, WebEngine, 3D, Designer, SQL, ...) and the Qt plugins that serve only those, or
serve embedded/kiosk platforms, are left out.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

# Qt bindings the app imports. A PySide6 module imported under app/ must be in this set
# (tests/packaging/test_policy.py checks it), or the frozen app would fail to import it.
QT_MODULES_USED = frozenset({"QtCore", "QtGui", "QtWidgets"})

# Every other binding PySide6 (Essentials or Addons) may provide.
QT_MODULES_EXCLUDED = frozenset({
    "Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender",
    "QtAxContainer", "QtBluetooth", "QtCanvasPainter", "QtCharts", "QtConcurrent", "QtDBus",
    "QtDataVisualization", "QtDesigner", "QtGraphs", "QtGraphsWidgets", "QtHelp",
    "QtHttpServer", "QtLocation", "QtMultimedia", "QtMultimediaWidgets", "QtNetwork",
    "QtNetworkAuth", "QtNfc", "QtOpenGL", "QtOpenGLWidgets", "QtPdf", "QtPdfWidgets",
    "QtPositioning", "QtPrintSupport", "QtQml", "QtQuick", "QtQuick3D", "QtQuickControls2",
    "QtQuickTest", "QtQuickWidgets", "QtRemoteObjects", "QtScxml", "QtSensors", "QtSerialBus",
    "QtSerialPort", "QtSpatialAudio", "QtSql", "QtStateMachine", "QtSvg", "QtSvgWidgets",
    "QtTest", "QtTextToSpeech", "QtUiTools", "QtWebChannel", "QtWebEngineCore",
    "QtWebEngineQuick", "QtWebEngineWidgets", "QtWebSockets", "QtWebView", "QtXml",
})

# Python modules that must never be frozen in: other Qt bindings (qasync probes for them),
# GUI toolkits we do not use, and development tools that happen to share the venv.
PYTHON_EXCLUDES = (
    "tkinter", "_tkinter", "PyQt5", "PyQt6", "PySide2",
    "IPython", "matplotlib", "pytest", "_pytest", "hypothesis", "mypy", "ruff",
    "pytestqt", "pytest_asyncio", "qiniu", "PyInstaller",
)


def qt_hidden_imports() -> list[str]:
    """The Qt bindings to freeze in."""
    return [f"PySide6.{name}" for name in sorted(QT_MODULES_USED)]


def excluded_modules() -> list[str]:
    """Module names for ``Analysis(excludes=...)``."""
    return [*PYTHON_EXCLUDES, *(f"PySide6.{name}" for name in sorted(QT_MODULES_EXCLUDED))]


# Qt plugins the app does not need, as bundle-relative path fragments. Kept on purpose:
# platforms xcb / wayland (desktop Linux), offscreen / minimal (headless runs), cocoa and
# windows; the xcb GL integrations; image formats ico, jpeg, gif, svg; the XDG portal
# platform themes; input contexts for compose keys and IBus (CJK input).
_DROPPED_PLUGINS = (
    "platforms/libqeglfs", "platforms/libqlinuxfb", "platforms/libqminimalegl",
    "platforms/libqvnc", "platforms/libqvkkhrdisplay", "platforms/qdirect2d",
    "egldeviceintegrations/", "generic/", "designer/", "qmllint/", "qmltooling/",
    "sqldrivers/", "vectorimageformats/", "networkinformation/", "tls/", "printsupport/",
    "wayland-graphics-integration-server/", "platforminputcontexts/libqtvirtualkeyboard",
    "wayland-shell-integration/libwl-shell", "wayland-shell-integration/libivi-shell",
    "wayland-shell-integration/libfullscreen-shell",
    "imageformats/libqpdf", "imageformats/qpdf", "imageformats/libqtiff",
    "imageformats/qtiff", "imageformats/libqwebp", "imageformats/qwebp",
    "imageformats/libqtga", "imageformats/qtga", "imageformats/libqwbmp",
    "imageformats/qwbmp",
    # The GTK theme drags the build host's GTK/cairo/pango stack into the bundle, where it
    # can clash with the user's own GTK; the XDG desktop portal theme stays.
    "platformthemes/libqgtk3",
)

# Qt shared libraries needed only by the bindings or plugins dropped above. Each one is
# reached from nothing we keep (tests/packaging/test_bundle.py runs ldd over the bundle to
# prove no kept library lost a dependency).
_DROPPED_QT_LIBS = re.compile(
    r"(lib)?Qt6(Qml\w*|Quick\w*|Labs\w*|Lottie\w*|Designer\w*|Help|Sql|Test|UiTools|"
    r"WaylandCompositor|WaylandEglCompositorHwIntegration|WlShellIntegration|"
    r"EglFSDeviceIntegration|EglFsKmsSupport|EglFsKmsGbmSupport|VirtualKeyboard\w*|Pdf\w*|"
    r"WebEngine\w*|Network|PrintSupport|Concurrent|Xml|SvgWidgets|OpenGLWidgets)"
    r"(\.so[.\d]*|\.dll|\.dylib)?$"
)
# Qt's own translations: keep the UI languages roomcall offers (English needs none).
UI_LANGUAGES = ("zh_CN",)
_QT_TRANSLATION = re.compile(r"(?:^|/)translations/(\w+?)_([a-z]{2}(?:_[A-Z]{2})?)\.qm$")


def _norm(dest: str) -> str:
    return dest.replace("\\", "/")


def keep_binary(dest: str) -> bool:
    """Whether a binary (bundle-relative destination path) belongs in the bundle."""
    path = _norm(dest)
    if any(fragment in path for fragment in _DROPPED_PLUGINS):
        return False
    name = path.rsplit("/", 1)[-1]
    return not ("PySide6/" in path and _DROPPED_QT_LIBS.match(name))


def keep_data(dest: str) -> bool:
    """Whether a data file (bundle-relative destination path) belongs in the bundle."""
    path = _norm(dest)
    if "PySide6/" in path:
        match = _QT_TRANSLATION.search(path)
        if match:
            catalog, language = match.groups()
            return catalog in ("qt", "qtbase") and language in UI_LANGUAGES
        if "/qml/" in path or "/metatypes/" in path:
            return False
    return not any(fragment in path for fragment in _DROPPED_PLUGINS)


def prune(entries: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Filter PyInstaller TOC entries ``(dest, source, typecode)`` through the rules above.

    A SYMLINK entry (``source`` is the link text, relative to ``dest``'s folder) goes when
    the file it points at went, so the bundle holds no dangling links.
    """
    kept: list[tuple[str, str, str]] = []
    links: list[tuple[str, str, str]] = []
    for dest, source, typecode in entries:
        if typecode == "SYMLINK":
            links.append((dest, source, typecode))
        elif typecode in ("BINARY", "EXTENSION"):
            if keep_binary(dest):
                kept.append((dest, source, typecode))
        elif typecode == "DATA":
            if keep_data(dest):
                kept.append((dest, source, typecode))
        else:
            kept.append((dest, source, typecode))
    present = {_norm(dest) for dest, _, _ in kept}
    for dest, source, typecode in links:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(_norm(dest)), _norm(source)))
        if target in present and keep_binary(dest):
            kept.append((dest, source, typecode))
    return kept


def toc_bytes(entries: Iterable[tuple[str, str, str]]) -> int:
    """Total size of the files a TOC collects (links and missing sources count 0)."""
    total = 0
    for _dest, source, typecode in entries:
        if typecode != "SYMLINK" and source and os.path.isfile(source):
            total += os.path.getsize(source)
    return total


def strip_debug_info(entries: Iterable[tuple[str, str, str]],
                     cache_dir: str) -> list[tuple[str, str, str]]:
    """Replace ELF binaries that carry DWARF debug info by copies without it (Linux only).

    The interpreter from pyenv and several sdist-built extensions (aiohttp, av, multidict)
    ship ``.debug_*`` sections: 57 MB of the bundle. ``strip --strip-debug`` removes only
    those sections and keeps every symbol table, so it is safe even for libraries that
    auditwheel rewrote with patchelf; plain ``strip`` is not used for that reason. Copies are
    cached in ``cache_dir`` and reused while the source is unchanged.
    """
    result = list(entries)
    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return result
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    for index, (dest, source, typecode) in enumerate(result):
        if typecode not in ("BINARY", "EXTENSION") or not _has_debug_info(source):
            continue
        key = hashlib.sha1(os.path.realpath(source).encode()).hexdigest()[:12]
        target = cache / f"{key}-{Path(source).name}"
        if not target.exists() or target.stat().st_mtime < Path(source).stat().st_mtime:
            subprocess.run([strip, "--strip-debug", "-o", str(target), source], check=True)
        result[index] = (dest, str(target), typecode)
    return result


def _has_debug_info(path: str) -> bool:
    """Whether an ELF file has a .debug_info section (reads the section headers only)."""
    try:
        with open(path, "rb") as f:
            header = f.read(64)
            if header[:4] != b"\x7fELF" or header[4] != 2:  # 64-bit ELF only
                return False
            order = "<" if header[5] == 1 else ">"
            shoff = struct.unpack_from(order + "Q", header, 0x28)[0]
            shentsize, shnum, shstrndx = struct.unpack_from(order + "HHH", header, 0x3A)
            f.seek(shoff)
            table = f.read(shentsize * shnum)
            names_offset = struct.unpack_from(order + "Q", table, shstrndx * shentsize + 0x18)[0]
            names_size = struct.unpack_from(order + "Q", table, shstrndx * shentsize + 0x20)[0]
            f.seek(names_offset)
            names = f.read(names_size)
    except (OSError, struct.error, IndexError):
        return False
    return b".debug_info\x00" in names
