"""Regenerate the screenshots of the call views: ``docs/screenshots/presenter.png`` (a remote
member shares a screen: it is large, cameras in the strip, the member list says who shares),
``speaker-view.png`` (the speaker view on the member talking, with the speaking ring and
every tile's signal bars) and ``stats.png`` (the call statistics panel).

Run on a display (or a virtual one)::

    xvfb-run -s "-screen 0 1280x800x24" \\
        .venv/bin/python -m tests.ui.call_screenshots docs/screenshots

The host is a real window on its embedded server with synthetic media; Bob and Eve are SDK
clients publishing test patterns and tones; Bob's "screen" is a slide drawn with QPainter.
Settings are kept in a temporary folder, never the user's.
"""

from __future__ import annotations

import asyncio
import fractions
import sys
from pathlib import Path

import av
import numpy as np
from aiortc import VideoStreamTrack
from PySide6.QtCore import QRectF, QSettings, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from roomcall.media.synthetic import SyntheticAudioTrack, SyntheticVideoTrack
from roomcall.ui.host import EmbeddedHost
from roomcall.ui.options import AppOptions
from roomcall.ui.settings import AppSettings
from roomcall.ui.spotlight import ViewMode
from roomcall.ui.window import MainWindow

from .members import remote_member
from .room_screenshots import _grab, _until
from .screenshot import capture_into_folder


class SlideTrack(VideoStreamTrack):
    """A still slide (a title and a few lines of text) as a video track."""

    def __init__(self, width: int = 960, height: int = 540) -> None:
        super().__init__()
        image = QImage(width, height, QImage.Format.Format_RGB32)
        image.fill(QColor("#f4f5f7"))
        painter = QPainter(image)
        try:
            painter.fillRect(0, 0, width, 70, QColor("#2b4c9b"))
            font = QFont()
            font.setPixelSize(34)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(QColor("white"))
            painter.drawText(QRectF(40, 0, width - 80, 70), Qt.AlignmentFlag.AlignVCenter,
                             "Release 2.4: what changes for users")
            font.setPixelSize(24)
            font.setBold(False)
            painter.setFont(font)
            painter.setPen(QColor("#222"))
            lines = ["• Screen sharing with a presenter layout",
                     "• Speaker view that follows who talks",
                     "• Signal bars and call statistics",
                     "• Echo cancellation on by default"]
            for index, line in enumerate(lines):
                painter.drawText(QRectF(60, 120 + index * 56, width - 120, 48),
                                 Qt.AlignmentFlag.AlignVCenter, line)
            painter.fillRect(60, height - 150, 360, 90, QColor("#d8e2f5"))
            painter.fillRect(460, height - 190, 360, 130, QColor("#f5dfd8"))
        finally:
            painter.end()
        pixels = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())
        bgra = np.ascontiguousarray(pixels[:, : width * 4].reshape(height, width, 4))
        self._yuv = av.VideoFrame.from_ndarray(bgra, format="bgra").reformat(
            format="yuv420p").to_ndarray()

    async def recv(self) -> av.VideoFrame:
        """The slide again, paced as a camera."""
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame.from_ndarray(self._yuv, format="yuv420p")
        frame.pts, frame.time_base = pts, fractions.Fraction(time_base)
        return frame


async def _capture(folder: Path, data: Path) -> None:
    settings = AppSettings(QSettings(str(data / "settings.ini"), QSettings.Format.IniFormat))
    host = MainWindow(AppOptions(synthetic_media=True, embedded_port=0, name="Alice"),
                      EmbeddedHost(data / "server", 0), settings=settings)
    host.resize(1240, 720)
    host.move(0, 0)
    host.show()
    try:
        assert await host.host_room("Alice", "Release review", False)
        bob_voice, eve_voice = SyntheticAudioTrack(amplitude=0.0), SyntheticAudioTrack(
            amplitude=0.0, frequency=330.0)
        async with remote_member(host, "bob", "Bob",
                                 (SyntheticVideoTrack("Bob", width=320, height=240), "camera"),
                                 (bob_voice, "microphone")) as (bob, _), \
                remote_member(host, "eve", "Eve",
                              (SyntheticVideoTrack("Eve", width=320, height=240), "camera"),
                              (eve_voice, "microphone")):
            grid = host.grid
            await _until(lambda: all((t := grid.tile(u)) is not None and t.frames_shown > 20
                                     for u in ("bob", "eve")))
            await _until(lambda: all(t.signal_bars > 0 for t in grid.tiles()), 30)

            eve_voice.amplitude = 0.3
            host.view_switch.buttons[ViewMode.SPEAKER].click()
            await _until(lambda: grid.stage_key == "eve"
                         and (t := grid.tile("eve")) is not None and t.speaking)
            await asyncio.sleep(0.5)  # a few more frames (cosmetic)
            host.raise_()
            host.activateWindow()
            _grab(host, folder / "speaker-view.png")

            panel = host.show_stats()
            assert panel is not None
            panel.move(160, 120)
            await _until(lambda: panel.refreshes >= 2 and panel.table.rowCount() >= 6)
            await asyncio.sleep(0.3)  # the dialog's first paint reaches the screen (cosmetic)
            _grab(panel, folder / "stats.png")
            panel.close()

            eve_voice.amplitude = 0.0
            host.view_switch.buttons[ViewMode.GRID].click()
            slide = SlideTrack()
            await bob.publish([slide], tag="screen")
            try:
                await _until(lambda: (key := grid.stage_key) is not None
                             and (t := grid.tile(key)) is not None and t.frames_shown > 10)
            except TimeoutError:
                print("stage", grid.stage_key, [(t.key, t.frames_shown) for t in grid.tiles()],
                      file=sys.stderr)
                raise
            await asyncio.sleep(0.5)
            _grab(host, folder / "presenter.png")
            slide.stop()
    finally:
        host.close_now()
        await host.wait_closed()


def main() -> int:
    """Capture the screenshots into the folder given as the first argument."""
    return capture_into_folder(_capture)


if __name__ == "__main__":
    sys.exit(main())
