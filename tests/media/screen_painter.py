"""A full-screen window that shows the synthetic pattern's code, for screen-sharing tests.

Run by :class:`tests.media.xvfb.ScreenPainter` as ``screen_painter.py MODE LABEL FPS`` on an
X display (``QT_QPA_PLATFORM=xcb``). It prints ``ready <window id> <title>`` once shown.

- ``pattern``: the code of ``LABEL`` with counter 0 over a page of text; each line read from
  stdin (a number) repaints it with that counter and prints ``painted <counter>``.
- ``scroll``: text scrolling up a few pixels per frame at ``FPS``, under a code whose counter
  is the frame number and whose time is when the frame was drawn (for latency at the far end);
  ``still`` / ``scroll`` on stdin stops and restarts it (answered with the same word).

Ends when stdin closes.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from PySide6.QtCore import QSocketNotifier, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QWidget

from roomcall.media.pattern import CodeGeometry, PatternInfo, encode_bits, identity_code

WORDS = ("screen", "sharing", "keeps", "every", "line", "of", "this", "text", "readable", "at",
         "the", "far", "end", "while", "it", "scrolls", "past", "fifteen", "frames", "a",
         "second")
SCROLL_STEP = 3
"""Pixels the text moves up per frame."""
LINE_HEIGHT = 22


class Painter(QWidget):
    """The window: the code on top, a page of text below."""

    def __init__(self, mode: str, label: str, fps: int) -> None:
        super().__init__()
        self.mode = mode
        self.identity = identity_code(label)
        self.counter = 0
        self.offset = 0
        self.sent_at_ms = 0
        self.announce: int | None = None
        self.setWindowTitle(f"roomcall painter {label}")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.font_ = QFont("DejaVu Sans", 11)
        rng = np.random.default_rng(7)
        self.lines = [" ".join(rng.choice(WORDS, 18)) for _ in range(400)]
        if mode == "scroll":
            self.timer = QTimer(self, interval=round(1000 / fps))
            self.timer.timeout.connect(self.step)
            self.timer.start()

    def step(self) -> None:
        self.counter += 1
        self.offset += SCROLL_STEP
        self.update()

    def set_scrolling(self, on: bool) -> None:
        """(scroll mode) Stop or restart the scrolling."""
        if on:
            self.timer.start()
        else:
            self.timer.stop()

    def show_counter(self, counter: int) -> None:
        self.counter = counter
        self.announce = counter
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        width, height = self.width(), self.height()
        geometry = CodeGeometry(width, height)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        painter.setPen(QColor("black"))
        painter.setFont(self.font_)
        top = geometry.code_height
        first = self.offset // LINE_HEIGHT
        shift = self.offset % LINE_HEIGHT
        for row in range((height - top) // LINE_HEIGHT + 2):
            text = self.lines[(first + row) % len(self.lines)]
            painter.drawText(8, top + 16 + row * LINE_HEIGHT - shift, text)
        info = PatternInfo(self.identity, self.counter, int(time.time() * 1000))
        code = np.ascontiguousarray(geometry.render(encode_bits(info)))
        image = QImage(code.data, width, top, width, QImage.Format.Format_Grayscale8)
        painter.drawImage(0, 0, image)
        painter.end()
        if self.announce is not None:
            print(f"painted {self.announce}", flush=True)
            self.announce = None


def main() -> None:
    mode, label, fps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = QApplication(sys.argv[:1])
    window = Painter(mode, label, fps)
    window.setWindowFlag(Qt.WindowType.FramelessWindowHint)
    window.setGeometry(app.primaryScreen().geometry())
    window.show()
    app.processEvents()

    def read_stdin() -> None:
        line = sys.stdin.readline()
        if not line:
            app.quit()
            return
        command = line.strip()
        if command in ("still", "scroll"):
            window.set_scrolling(command == "scroll")
            print(command, flush=True)
        else:
            window.show_counter(int(command))

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(read_stdin)
    QTimer.singleShot(0, lambda: print(f"ready {int(window.winId()):#x} {window.windowTitle()}",
                                       flush=True))
    app.exec()


if __name__ == "__main__":
    main()
