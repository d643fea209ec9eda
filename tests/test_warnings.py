"""The suite's warning policy: a leaked resource fails the test that leaked it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.waiting import scaled

ROOT = Path(__file__).resolve().parents[1]

LEAKS = '''
import gc
import socket
import warnings


def test_socket_left_open():
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # closed only by __del__
    gc.collect()


def test_resource_warning_raised():
    warnings.warn("a pipe was left open", ResourceWarning)


def test_clean():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM):
        pass
'''


def test_resource_warnings_fail_tests(tmp_path: Path) -> None:
    """With the project's pytest settings, a socket closed by its finaliser and a
    ResourceWarning raised directly both fail their test; a test that closes its socket
    passes."""
    (tmp_path / "test_leaks.py").write_text(LEAKS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c",
         str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=scaled(60), cwd=tmp_path)
    summary = result.stdout.strip().splitlines()[-1]
    assert "2 failed, 1 passed" in summary, result.stdout[-3000:]
    assert "FAILED test_leaks.py::test_socket_left_open" in result.stdout
    assert "FAILED test_leaks.py::test_resource_warning_raised" in result.stdout
