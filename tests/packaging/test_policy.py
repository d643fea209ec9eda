"""The packaging inputs, checked without building: bundle pruning rules, Qt modules the app
imports, icons, the macOS Info.plist keys and the Windows version resource."""

from __future__ import annotations

import ast
import importlib.util
import plistlib
import re
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "resources" / "icons"


def _load_policy() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle_policy", PACKAGING / "bundle_policy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


policy = _load_policy()


def _qt_modules_imported_by_app() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "PySide6" and len(parts) > 1 and parts[1].startswith("Qt"):
                    found.add(parts[1])
    return found


def test_app_imports_only_bundled_qt_modules() -> None:
    """Every PySide6 module imported under app/ is bundled, none is on the exclude list."""
    used = _qt_modules_imported_by_app()
    assert "QtWidgets" in used
    missing = used - policy.QT_MODULES_USED
    assert not missing, f"add to QT_MODULES_USED in packaging/bundle_policy.py: {missing}"
    assert not policy.QT_MODULES_USED & policy.QT_MODULES_EXCLUDED
    assert policy.qt_hidden_imports() == [f"PySide6.{n}" for n in sorted(policy.QT_MODULES_USED)]


def test_excluded_modules_name_qt_bindings_and_tools() -> None:
    """The Analysis excludes hold the unused Qt bindings and dev tools, never a used module."""
    excluded = policy.excluded_modules()
    assert "PySide6.QtQuick" in excluded and "PySide6.QtWebEngineCore" in excluded
    assert "tkinter" in excluded and "pytest" in excluded
    assert not {"PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "qasync",
                "aiortc", "av", "numpy", "aiohttp"} & set(excluded)


@pytest.mark.parametrize(("dest", "kept"), [
    ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
    ("PySide6/Qt/plugins/platforms/libqwayland.so", True),
    ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
    ("PySide6/Qt/plugins/platforms/libqeglfs.so", False),
    ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
    ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", False),
    ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", True),
    ("PySide6/Qt/plugins/imageformats/libqico.so", True),
    ("PySide6/Qt/plugins/imageformats/libqpdf.so", False),
    ("PySide6/Qt/plugins/sqldrivers/libqsqlite.so", False),
    ("PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so", True),
    ("PySide6/Qt/plugins/wayland-shell-integration/libwl-shell-plugin.so", False),
    ("PySide6/Qt/lib/libQt6Core.so.6", True),
    ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
    ("PySide6/Qt/lib/libQt6DBus.so.6", True),
    ("PySide6/Qt/lib/libQt6Svg.so.6", True),
    ("PySide6/Qt/lib/libQt6OpenGL.so.6", True),
    ("PySide6/Qt/lib/libQt6Quick.so.6", False),
    ("PySide6/Qt/lib/libQt6QmlModels.so.6", False),
    ("PySide6/Qt/lib/libQt6LabsSettings.so.6", False),
    ("PySide6/Qt/lib/libQt6Network.so.6", False),
    ("PySide6/Qt/lib/libQt6EglFSDeviceIntegration.so.6", False),
    ("PySide6/Qt6Quick.dll", False),
    ("PySide6/Qt6Widgets.dll", True),
    ("PySide6\\plugins\\platforms\\qwindows.dll", True),
    ("PySide6\\plugins\\platforms\\qdirect2d.dll", False),
    ("av.libs/libavcodec-5e6b81c2.so.62", True),
])
def test_keep_binary(dest: str, kept: bool) -> None:
    """Desktop platform plugins and the core Qt libraries stay; QML, EGLFS, SQL and PDF go."""
    assert policy.keep_binary(dest) is kept


@pytest.mark.parametrize(("dest", "kept"), [
    ("PySide6/Qt/translations/qtbase_zh_CN.qm", True),
    ("PySide6/Qt/translations/qt_zh_CN.qm", True),
    ("PySide6/Qt/translations/qtbase_de.qm", False),
    ("PySide6/Qt/translations/qtdeclarative_zh_CN.qm", False),
    ("PySide6/Qt/translations/qtmultimedia_zh_CN.qm", False),
    ("PySide6/Qt/qml/QtQuick/Controls/qmldir", False),
    ("app/ui/translations/roomcall_zh_CN.qm", True),
    ("resources/icons/roomcall.png", True),
])
def test_keep_data(dest: str, kept: bool) -> None:
    """Qt's own translations stay only for the UI's languages; the app's files always stay."""
    assert policy.keep_data(dest) is kept


def test_prune_drops_links_to_dropped_files() -> None:
    """A top-level symlink survives only if the library it points at survives."""
    toc = [
        ("PySide6/Qt/lib/libQt6Core.so.6", "/x/libQt6Core.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Sql.so.6", "/x/libQt6Sql.so.6", "BINARY"),
        ("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6", "SYMLINK"),
        ("libQt6Sql.so.6", "PySide6/Qt/lib/libQt6Sql.so.6", "SYMLINK"),
        ("app/__init__.pyc", "/x/app/__init__.py", "PYMODULE"),
    ]
    kept = [dest for dest, _, _ in policy.prune(toc)]
    assert kept == ["PySide6/Qt/lib/libQt6Core.so.6", "app/__init__.pyc", "libQt6Core.so.6"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF debug info is Linux's")
def test_strip_debug_info_shrinks_debug_builds(tmp_path: Path) -> None:
    """A binary with DWARF sections is replaced by a smaller copy; others are left alone."""
    libpython = Path(sys.executable).resolve().parent.parent / "lib"
    candidates = sorted(libpython.glob("libpython3*.so*")) + sorted(
        (Path(sys.base_prefix) / "lib").glob("libpython3*.so*"))
    debug = [p for p in candidates if policy._has_debug_info(str(p))]
    if not debug:
        pytest.skip("this interpreter ships no debug info to strip")
    plain = ROOT / "resources" / "icons" / "roomcall.png"
    toc = [("libpython.so", str(debug[0]), "BINARY"), ("icon.png", str(plain), "DATA")]
    (lib, stripped, code), data = policy.strip_debug_info(toc, str(tmp_path))
    assert (lib, code) == ("libpython.so", "BINARY")
    assert Path(stripped).parent == tmp_path
    assert Path(stripped).stat().st_size < debug[0].stat().st_size
    assert not policy._has_debug_info(stripped)
    assert data == toc[1]


def test_icons_are_valid_files() -> None:
    """The PNG, the multi-size .ico and the .icns exist with well-formed headers."""
    png = (ICONS / "roomcall.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (256, 256)
    ico = (ICONS / "roomcall.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 4
    sizes = {ico[6 + 16 * i] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sizes
    icns = (ICONS / "roomcall.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    assert b"ic10" in icns and b"icp4" in icns


def test_info_plist_has_usage_descriptions() -> None:
    """macOS needs camera and microphone usage strings or it kills the app on first use."""
    with open(PACKAGING / "Info.plist", "rb") as f:
        info = plistlib.load(f)
    assert "camera" in info["NSCameraUsageDescription"]
    assert "microphone" in info["NSMicrophoneUsageDescription"]
    spec = (PACKAGING / "roomcall.spec").read_text(encoding="utf-8")
    assert 'bundle_identifier="org.roomcall.roomcall"' in spec


def test_windows_version_template_renders() -> None:
    """The version resource template becomes a valid VSVersionInfo expression."""
    template = (PACKAGING / "windows_version_info.txt").read_text(encoding="utf-8")
    text = template.replace("{version_tuple}", repr((0, 1, 0, 0))).replace("{version}", "0.1.0")
    tree = ast.parse(text, mode="eval")
    assert isinstance(tree.body, ast.Call) and ast.unparse(tree.body.func) == "VSVersionInfo"
    assert "StringStruct('ProductVersion', '0.1.0')" in text
    assert not re.search(r"\{\w+\}", text)


def test_spec_parses() -> None:
    """The spec is valid Python naming the onedir and one-file targets."""
    source = (PACKAGING / "roomcall.spec").read_text(encoding="utf-8")
    ast.parse(source)
    assert "ROOMCALL_ONEFILE" in source and 'name="roomcall"' in source


def test_find_library_hook_prefers_the_bundle(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """In the bundle, find_library("portaudio") gives the bundled soname; other names still
    go to the system lookup."""
    import ctypes.util

    spec = importlib.util.spec_from_file_location("rthook", PACKAGING / "rthook_find_library.py")
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)  # not frozen: defines install() without installing it
    (tmp_path / "libportaudio.so.2").write_bytes(b"")
    (tmp_path / "libportaudio.so.2.0.0").write_bytes(b"")
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"system:{name}")
    hook.install(str(tmp_path))
    assert ctypes.util.find_library("portaudio") == str(tmp_path / "libportaudio.so.2")
    assert ctypes.util.find_library("asound") == "system:asound"
