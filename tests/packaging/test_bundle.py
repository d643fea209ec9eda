"""The frozen roomcall: built with packaging/build.sh, then run as a user would run it.

Slow (a PyInstaller build, ~1 minute on 2 cores): marked ``packaging``, deselect it with
``-m "not packaging"``. The bundle in dist/roomcall is reused while it is newer than every
file under app/, packaging/ and resources/; set ROOMCALL_REBUILD=1 to force a build.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from roomcall import __version__
from roomcall.selftest import CHECKS
from tests.waiting import scaled

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "roomcall"
EXE = BUNDLE / ("roomcall.exe" if sys.platform == "win32" else "roomcall")
SIZE_BUDGET = 300 * 1024 * 1024
"""Onedir bundle budget (issue: under 300 MB)."""


def _newest_source() -> float:
    newest = 0.0
    for folder in ("app", "packaging", "resources"):
        for path in (ROOT / folder).rglob("*"):
            # Markdown never reaches the bundle (the spec skips it): editing docs needs no build.
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".md":
                newest = max(newest, path.stat().st_mtime)
    return newest


@pytest.fixture(scope="session")
def bundle() -> Path:
    """The onedir bundle, built now unless an up-to-date one is already there."""
    fresh = EXE.exists() and EXE.stat().st_mtime >= _newest_source()
    if not fresh or os.environ.get("ROOMCALL_REBUILD") == "1":
        # Build with this interpreter's environment (the one the tests run in).
        env = {**os.environ, "ROOMCALL_PYTHON": sys.executable}
        build = subprocess.run(["bash", str(ROOT / "packaging" / "build.sh")], cwd=ROOT,
                               env=env, capture_output=True, text=True, timeout=scaled(1800))
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        assert f"roomcall {__version__}" in build.stdout
    assert EXE.exists()
    return BUNDLE


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT.parent)


def test_frozen_version(bundle: Path) -> None:
    """`roomcall --version` from the bundle prints the package version."""
    result = _run("--version", timeout=scaled(60))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"roomcall {__version__}"


def test_frozen_self_test(bundle: Path) -> None:
    """`roomcall --self-test` from the bundle passes every check and exits 0."""
    result = _run("--self-test", timeout=scaled(90))
    lines = result.stdout.splitlines()
    for name in CHECKS:
        assert any(line.startswith(f"PASS {name}: ") for line in lines), (
            f"no PASS line for {name!r}:\n{result.stdout}\n{result.stderr[-3000:]}")
    assert lines[-1].startswith(f"self-test passed: {len(CHECKS)} of {len(CHECKS)}")
    assert result.returncode == 0
    # The video checks name the VP8 encoder: the libvpx the bundle ships, called directly.
    (video, *_) = [line for line in lines if line.startswith("PASS video ")]
    assert f"VP8 through {bundle / '_internal'}" in video and "libvpx" in video, video


def test_frozen_gui_smoke(bundle: Path, tmp_path: Path) -> None:
    """The frozen desktop app starts headless in Chinese, finds its translation and icon
    at roomcall/resources inside the bundle, hosts a room on its embedded server with
    synthetic media, and exits 0 (the UI's ROOMCALL_UI_SMOKE mode)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ROOMCALL_UI_SMOKE": "1",
           "ROOMCALL_UI_PORT": "0", "ROOMCALL_SYNTHETIC_MEDIA": "1"}
    result = subprocess.run([str(EXE), "--lang", "zh_CN", "--data-dir", str(tmp_path / "data")],
                            capture_output=True, text=True, env=env, timeout=scaled(90))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    icon = bundle / "_internal" / "roomcall" / "resources" / "icons" / "roomcall.png"
    assert f"roomcall: language zh_CN, icon {icon}" in result.stdout, result.stdout
    assert re.search(r"^roomcall: hosting smoke-test at ws://127\.0\.0\.1:\d+", result.stdout,
                     re.M), result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("xvfb-run") is None,
                    reason="needs Linux and xvfb-run (Debian: xvfb)")
def test_frozen_app_opens_on_a_real_x_server(bundle: Path, tmp_path: Path) -> None:
    """On an X server (Xvfb) the frozen app's display check passes with the libraries the
    bundle carries, Qt loads the bundled xcb plugin, and the smoke run exits 0."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "QT_PLUGIN_PATH")}
    env.update(ROOMCALL_UI_SMOKE="1", ROOMCALL_UI_PORT="0", ROOMCALL_SYNTHETIC_MEDIA="1")
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", str(EXE), "--data-dir",
         str(tmp_path / "data")],
        env=env, capture_output=True, text=True, timeout=scaled(90))
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "roomcall: hosting smoke-test at ws://127.0.0.1:" in result.stdout
    assert "qt.qpa.plugin" not in result.stderr


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


@pytest.fixture
def served(bundle: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`roomcall serve --port 0` from the bundle, and the base URL it printed."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(EXE), "serve", "--port", "0", "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    output: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc.stdout, output), daemon=True)
    reader.start()
    seen: list[str] = []
    url = ""
    try:
        while not url:
            try:
                line = output.get(timeout=scaled(30))
            except queue.Empty:
                pytest.fail(f"serve printed no ws:// URL within 30 s: {seen}")
            seen.append(line)
            match = re.search(r"ws://127\.0\.0\.1:\d+", line)
            url = match.group(0) if match else ""
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=scaled(10))
        reader.join(timeout=scaled(10))  # it ends at the pipe's end of file
        assert proc.stdout is not None
        proc.stdout.close()


def test_frozen_serve(served: tuple[subprocess.Popen[str], str]) -> None:
    """`roomcall serve --port 0` prints its URL, answers HTTP there and stops on Ctrl-C."""
    proc, url = served
    http_url = url.replace("ws://", "http://")
    try:
        with urllib.request.urlopen(f"{http_url}/", timeout=scaled(10)) as response:
            status = response.status
    except urllib.error.HTTPError as error:  # a 401/404 is still the server answering
        status = error.code
    assert 200 <= status < 500
    if sys.platform == "win32":
        proc.terminate()
    else:
        proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=scaled(15)) is not None


def test_bundle_size_within_budget(bundle: Path) -> None:
    """The onedir bundle stays under 300 MB."""
    size = sum(p.lstat().st_size for p in bundle.rglob("*") if p.is_file() or p.is_symlink())
    assert size < SIZE_BUDGET, f"{size / 2**20:.0f} MB"


def test_bundle_leaves_out_unused_qt(bundle: Path) -> None:
    """Desktop platform plugins and the icons are in; QML, WebEngine and EGLFS are out."""
    names = {p.name for p in bundle.rglob("*")}
    assert "roomcall.png" in names and "roomcall.ico" in names
    if sys.platform.startswith("linux"):
        assert {"libqxcb.so", "libqwayland.so", "libqoffscreen.so"} <= names
    unwanted = [n for n in names if re.match(
        r"(lib)?Qt6?(Quick|Qml|WebEngine|Pdf|Designer|3D|Charts|Sql|Test)\w*\.(so|dll|dylib)", n)]
    if sys.platform.startswith("linux"):
        assert unwanted == []
    assert not [n for n in names if n.startswith("libqeglfs")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldd is Linux's")
def test_bundle_libraries_resolve(bundle: Path) -> None:
    """No bundled binary misses a library that the bundle should have carried (Qt, Python,
    FFmpeg, or anything from site-packages); only system libraries may come from the host."""
    internal = bundle / "_internal"
    site = Path(pytest.importorskip("PySide6").__file__).resolve().parent.parent
    env = {**os.environ, "LD_LIBRARY_PATH": str(internal)}
    elves = [EXE] + [p for p in internal.rglob("*.so*") if p.is_file() and not p.is_symlink()]
    missing: dict[str, set[str]] = {}
    for path in elves:
        result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env,
                                timeout=scaled(30))
        for name in re.findall(r"^\s*(\S+) => not found", result.stdout, re.M):
            missing.setdefault(name, set()).add(path.relative_to(bundle).as_posix())
    ours = {
        name: users for name, users in missing.items()
        if re.match(r"lib(Qt6|pyside6|shiboken6|python3|av|sw)", name)
        or any(site.rglob(name))
    }
    assert ours == {}
