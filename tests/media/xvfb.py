"""A private Xvfb server and a painter window on it, for tests and benchmarks that share a
real (virtual) screen through x11grab. ``scripts/setup --test`` installs xvfb; without it
:class:`XvfbUnavailable` says why.

The painter (``tests/media/screen_painter.py``, a PySide6 window on the xcb plugin) fills the
screen with the synthetic pattern's code, so the far end of a call can tell what was on the
screen: ``pattern`` mode shows the counter it is told on stdin, ``scroll`` mode scrolls text
under a code that carries the frame number and the time it was drawn.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.waiting import scaled

PAINTER = Path(__file__).with_name("screen_painter.py")
ROOT = Path(__file__).resolve().parents[2]


class XvfbUnavailable(Exception):
    """Xvfb is not installed here, or did not start."""


def _read_line(stream: object, timeout: float, what: str) -> str:
    fd = stream.fileno()  # type: ignore[attr-defined]
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        raise TimeoutError(f"no {what} within {timeout:.0f} s")
    line: str = stream.readline()  # type: ignore[attr-defined]
    if not line:
        raise EOFError(f"{what}: the process ended")
    return line.strip()


@contextlib.contextmanager
def private_xvfb(width: int = 1280, height: int = 720) -> Iterator[str]:
    """Run an Xvfb of ``width`` x ``height`` (24-bit) and yield its display name (``":N"``).

    Xvfb picks a free display number itself (``-displayfd``) and is stopped on exit.
    """
    if shutil.which("Xvfb") is None:
        raise XvfbUnavailable("Xvfb is not installed (scripts/setup --test installs xvfb)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            try:
                number = _read_line(pipe, scaled(10), "display number from Xvfb")
            except (TimeoutError, EOFError) as exc:
                raise XvfbUnavailable(f"Xvfb did not start: {exc}") from exc
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(scaled(10))
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class ScreenPainter:
    """The painter window on ``display``, full screen; stopped on :meth:`close`."""

    def __init__(self, display: str, mode: str, label: str, *, fps: int = 15) -> None:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
               "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, str(PAINTER), mode, label, str(fps)], env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            ready = self._line("the painter's window")
        except (TimeoutError, EOFError):
            self.close()
            raise
        kind, window_id, title = ready.split(" ", 2)
        assert kind == "ready", ready
        self.window_id = int(window_id, 16)
        """The painter's X window."""
        self.title = title

    def show(self, counter: int) -> None:
        """(pattern mode) Draw the code with ``counter``; returns once it was painted."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{counter}\n")
        self.process.stdin.flush()
        painted = self._line("a repaint")
        assert painted == f"painted {counter}", painted

    def scroll(self, on: bool) -> None:
        """(scroll mode) Stop (``on=False``) or restart the scrolling; returns once done."""
        assert self.process.stdin is not None
        word = "scroll" if on else "still"
        self.process.stdin.write(f"{word}\n")
        self.process.stdin.flush()
        answer = self._line(f"the painter's {word}")
        assert answer == word, answer

    def _line(self, what: str) -> str:
        return _read_line(self.process.stdout, scaled(20), what)

    def close(self) -> None:
        """Stop the painter."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(scaled(10))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> ScreenPainter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


