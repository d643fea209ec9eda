"""The wheel as a user installs it: into a fresh virtual environment outside the checkout,
where only the installed package (and its package data) can be found.

Slow (builds the wheel and installs its dependencies, from pip's cache or PyPI): marked
``packaging``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from roomcall.selftest import CHECKS
from tests.waiting import scaled

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]

PROBE = '''
import sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

app = QApplication([])
import roomcall
from roomcall.ui import i18n

print("package", Path(roomcall.__file__).resolve().parent)
print("language", i18n.install_language("zh_CN"))
print("join", QCoreApplication.translate("JoinForm", "Join"))
icon = i18n.resources_dir() / "icons" / "roomcall.png"
print("icon_path", icon.resolve())
print("icon_null", QIcon(str(icon)).isNull())
'''


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (outside the checkout) with the roomcall wheel installed; its bin dir."""
    where = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps",
         "-w", str(where / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=scaled(300))
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    wheels = list((where / "dist").glob("roomcall-*.whl"))
    assert len(wheels) == 1, wheels
    venv.create(where / "venv", with_pip=True)
    bin_dir = where / "venv" / ("Scripts" if sys.platform == "win32" else "bin")
    install = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
                              str(wheels[0])],
                             capture_output=True, text=True, timeout=scaled(900), cwd=where)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    return bin_dir


def _env() -> dict[str, str]:
    """The environment without anything pointing back at the checkout."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("ROOMCALL_")}


def test_wheel_self_test_passes(installed: Path) -> None:
    """``roomcall --self-test`` from the installed console script passes every check."""
    result = subprocess.run([str(installed / "roomcall"), "--self-test"], capture_output=True,
                            text=True, timeout=scaled(120), env=_env(), cwd=installed)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert result.stdout.count("PASS ") == len(CHECKS)


def test_wheel_holds_roomcall_only(installed: Path) -> None:
    """The source tree's folder name is no package there: ``import app`` fails."""
    result = subprocess.run([str(installed / "python"), "-c", "import app"],
                            capture_output=True, text=True, timeout=scaled(60), env=_env(),
                            cwd=installed)
    assert result.returncode != 0
    assert "No module named 'app'" in result.stderr


def test_translation_and_icon_load_from_the_installed_package(installed: Path) -> None:
    """Chinese loads from the installed package data and translates; the icon is a file
    inside site-packages that Qt loads; the app's headless run reports both."""
    env = {**_env(), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([str(installed / "python"), "-c", PROBE], capture_output=True,
                            text=True, timeout=scaled(60), env=env, cwd=installed)
    assert result.returncode == 0, result.stderr[-3000:]
    facts = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    package = Path(facts["package"])
    assert "site-packages" in package.parts and ROOT not in package.parents
    assert facts["language"] == "zh_CN" and facts["join"] == "加入"
    assert package in Path(facts["icon_path"]).parents, facts["icon_path"]
    assert facts["icon_null"] == "False"

    smoke = subprocess.run(
        [str(installed / "roomcall"), "--lang", "zh_CN", "--data-dir",
         str(installed.parent / "data")],
        capture_output=True, text=True, timeout=scaled(90), cwd=installed,
        env={**env, "ROOMCALL_UI_SMOKE": "1", "ROOMCALL_UI_PORT": "0",
             "ROOMCALL_SYNTHETIC_MEDIA": "1"})
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr[-3000:]
    assert f"roomcall: language zh_CN, icon {package / 'resources' / 'icons'}" in smoke.stdout
