"""The display plugin check: missing system libraries of Qt's xcb plugin are named in one
line, with the packages that bring them, instead of Qt's abort."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from roomcall.ui.platform_plugin import (
    DEBIAN_PACKAGES,
    EXIT_MISSING_LIBRARIES,
    PluginProblem,
    check_display_plugin,
    find_plugin,
    platforms_to_try,
    plugin_dirs,
)
from tests.waiting import scaled

REPO = Path(__file__).resolve().parents[2]
RENAMED = {b"libxcb-icccm.so.4": b"libxcb-iccXm.so.4",
           b"libxcb-keysyms.so.1": b"libxcb-keyXyms.so.1"}
"""Dependencies of the real plugin renamed (same length) in the copy: no such libraries exist."""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="Qt's xcb plugin is Linux only")


def _real_plugin() -> Path:
    plugin = find_plugin("xcb", plugin_dirs({}))
    assert plugin is not None, "PySide6 ships libqxcb.so"
    return plugin


def _broken_plugin_dir(tmp_path: Path) -> Path:
    """A plugin folder holding a copy of PySide6's real xcb plugin whose dynamic section asks
    for two libraries that do not exist; its Qt libraries resolve as the original's do."""
    real = _real_plugin()
    plugins = tmp_path / "plugins"
    (plugins / "platforms").mkdir(parents=True)
    # The plugin finds libQt6XcbQpa through RUNPATH $ORIGIN/../../lib.
    (tmp_path / "lib").symlink_to(real.parents[2] / "lib")
    data = real.read_bytes()
    for old, new in RENAMED.items():
        assert data.count(old + b"\0") == 1, f"{old!r} is not a NEEDED entry of {real}"
        data = data.replace(old + b"\0", new + b"\0")
    (plugins / "platforms" / "libqxcb.so").write_bytes(data)
    return plugins


def test_installed_xcb_plugin_loads() -> None:
    """After ./scripts/setup, every library of PySide6's xcb plugin resolves."""
    assert check_display_plugin({"QT_QPA_PLATFORM": "xcb"}) is None, (
        check_display_plugin({"QT_QPA_PLATFORM": "xcb"}))


def test_missing_libraries_are_named(tmp_path: Path) -> None:
    """The check lists exactly the dependencies that cannot be found, none that can."""
    plugins = _broken_plugin_dir(tmp_path)
    problem = check_display_plugin({"QT_QPA_PLATFORM": "xcb"}, [plugins])
    assert problem is not None
    assert problem.platform == "xcb"
    assert {"libxcb-iccXm.so.4", "libxcb-keyXyms.so.1"} <= set(problem.missing)
    assert "libxcb.so.1" not in problem.missing
    assert "libQt6XcbQpa.so.6" not in problem.missing


def test_message_names_libraries_and_packages() -> None:
    """The one line names each missing library and the Debian packages to install."""
    problem = PluginProblem("xcb", ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"))
    assert problem.message() == (
        'roomcall: the Qt "xcb" display plugin cannot load: missing libxcb-icccm.so.4, '
        "libxcb-keysyms.so.1 (Debian/Ubuntu: sudo apt-get install libxcb-icccm4 "
        "libxcb-keysyms1)")


def test_platforms_follow_the_environment() -> None:
    """QT_QPA_PLATFORM decides (fallbacks and options included), else the session type."""
    assert platforms_to_try({"QT_QPA_PLATFORM": "wayland:foo;xcb"}) == ["wayland", "xcb"]
    assert platforms_to_try({"DISPLAY": ":0"}) == ["xcb"]
    assert platforms_to_try({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}
                            ) == ["wayland", "xcb"]
    assert check_display_plugin({"QT_QPA_PLATFORM": "offscreen"}, []) is None


def test_app_says_what_is_missing_instead_of_aborting(tmp_path: Path) -> None:
    """``roomcall`` with the broken plugin exits with its own status and one line on stderr,
    before Qt gets to abort (134)."""
    plugins = _broken_plugin_dir(tmp_path)
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0",
           "QT_PLUGIN_PATH": str(plugins)}
    result = subprocess.run([sys.executable, "-m", "roomcall", "--data-dir",
                             str(tmp_path / "data")], env=env, capture_output=True, text=True,
                            timeout=scaled(60), cwd=REPO)
    assert result.returncode == EXIT_MISSING_LIBRARIES, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith('roomcall: the Qt "xcb" display plugin cannot load: missing ')
    assert "libxcb-iccXm.so.4" in lines[0] and "libxcb-keyXyms.so.1" in lines[0]
    assert "qt.qpa.plugin" not in result.stderr


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (Debian: xvfb)")
def test_app_opens_on_a_real_x_server(tmp_path: Path) -> None:
    """On an X server (Xvfb) the app passes its own check, Qt loads the real xcb plugin, and
    the headless smoke run hosts a room and exits 0."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "QT_PLUGIN_PATH")}
    env.update(ROOMCALL_UI_SMOKE="1", ROOMCALL_UI_PORT="0", ROOMCALL_SYNTHETIC_MEDIA="1")
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, "-m", "roomcall",
         "--data-dir", str(tmp_path / "data")],
        env=env, capture_output=True, text=True, timeout=scaled(90), cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "roomcall: hosting smoke-test at ws://127.0.0.1:" in result.stdout
    assert "qt.qpa.plugin" not in result.stderr


def test_setup_installs_every_package_the_plugins_need() -> None:
    """Every system library PySide6's xcb and wayland plugins need has a package, and
    scripts/setup's one list installs each of them."""
    plugin = _real_plugin()
    needed: set[str] = set()
    for library in (plugin, plugin.with_name("libqwayland.so"),
                    plugin.parents[2] / "lib" / "libQt6XcbQpa.so.6",
                    plugin.parents[2] / "lib" / "libQt6Gui.so.6"):
        dynamic = subprocess.run(["readelf", "-d", str(library)], capture_output=True,
                                 text=True, check=True).stdout
        needed.update(re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]", dynamic))
    system = {n for n in needed if not n.startswith("libQt6")
              and not re.match(r"lib(c|m|stdc\+\+|gcc_s)\.so", n)}
    assert system, needed
    assert system <= set(DEBIAN_PACKAGES), system - set(DEBIAN_PACKAGES)
    setup = (REPO / "scripts" / "setup").read_text()
    listed = re.search(r"SYSTEM_PACKAGES=\((.*?)\n\)", setup, re.S)
    assert listed is not None, "scripts/setup keeps one SYSTEM_PACKAGES=( ... ) list"
    words = set(re.sub(r"#[^\n]*", "", listed.group(1)).split())
    assert set(DEBIAN_PACKAGES.values()) <= words, set(DEBIAN_PACKAGES.values()) - words
