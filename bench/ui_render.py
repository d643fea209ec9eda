"""Desktop app rendering benchmark: GUI-thread time per frame per tile, process CPU and RSS.

A sender process runs the room server and N members publishing 640x480@30 synthetic cameras
(VP8 over real aiortc peer connections on loopback). This process joins as a viewer with the
real SDK and shows the N remote tracks in the app's video grid, once per rendering path:

- ``blit`` (the app's path, app/ui/frame_renderer.py): YUV420P -> BGRA scaled to the tile's
  size in swscale on an executor thread (PyAV releases the GIL there); the GUI thread only
  wraps the buffer in a QImage and draws it 1:1;
- ``qimage`` (the usual path): on the GUI thread ``to_ndarray("rgb24")`` -> QImage ->
  ``drawImage`` scaled into the tile with smooth transformation.

GUI-thread time is the GUI thread's CPU time (``time.thread_time``) per frame and tile: the
frame hand-over plus the tile's paintEvent, summed and divided by the frames painted (wall time
is printed beside it; on a loaded machine it includes waiting for the CPU and the GIL). Process
CPU is all threads (network, VP8 decode, conversion, painting) as % of one core; "GUI thread
%" is everything the GUI thread did (it also runs the asyncio loop: signalling, RTP, SRTP);
RSS is read at the end of the window.

    .venv/bin/python bench/ui_render.py                       # 4 tiles, 8 s per path
    .venv/bin/python bench/ui_render.py --seconds 4 --warmup 2   # quick check
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TARGET_GUI_MS = 0.2
TARGET_RSS_MB = 350.0


# --- the sender process -----------------------------------------------------------------


async def _senders(count: int) -> None:
    from roomcall.media.synthetic import SyntheticVideoTrack
    from roomcall.sdk import RTCClient
    from roomcall.server import RoomServer, ServerConfig

    with tempfile.TemporaryDirectory() as data:
        server = RoomServer(ServerConfig(port=0, data_dir=Path(data)))
        await server.start()
        clients = []
        for index in range(count):
            client = RTCClient(server.url)
            await client.join(server.token("bench", f"sender-{index}"), f"Sender {index}")
            await client.publish([SyntheticVideoTrack(f"sender-{index}")], tag="camera")
            clients.append(client)
        print(json.dumps({"url": server.url, "token": server.token("bench", "viewer")}),
              flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        for client in clients:
            await client.leave()
        await server.stop()


# --- the viewer -------------------------------------------------------------------------


class Meter:
    """GUI-thread seconds (CPU, and wall for comparison) and paint counts of one path."""

    def __init__(self) -> None:
        self.gui_seconds = 0.0
        self.gui_wall = 0.0
        self.show_seconds = 0.0
        self.paints = 0
        self.frames = 0
        self.convert_ms: list[float] = []
        self.on = False

    def reset(self) -> None:
        self.gui_seconds, self.gui_wall, self.paints, self.frames = 0.0, 0.0, 0, 0
        self.show_seconds = 0.0
        self.convert_ms = []
        self.on = True

    def add(self, cpu0: float, wall0: float, paint: bool) -> None:
        if self.on:
            cpu = time.thread_time() - cpu0
            self.gui_seconds += cpu
            self.gui_wall += time.perf_counter() - wall0
            if paint:
                self.paints += 1
            else:
                self.frames += 1
                self.show_seconds += cpu


def _tile_classes(meter: Meter) -> tuple[type, type]:
    import numpy as np
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter

    from roomcall.ui.frame_renderer import RenderedFrame
    from roomcall.ui.video_tile import VideoTile

    class BlitTile(VideoTile):
        def show_frame(self, frame: RenderedFrame) -> None:
            cpu0, wall0 = time.thread_time(), time.perf_counter()
            super().show_frame(frame)
            meter.add(cpu0, wall0, paint=False)

        def paintEvent(self, event: Any) -> None:
            cpu0, wall0 = time.thread_time(), time.perf_counter()
            super().paintEvent(event)
            meter.add(cpu0, wall0, paint=True)

    class QImageTile(VideoTile):
        """The usual path: convert on the GUI thread, let QPainter scale."""

        _rgb: Any = None
        _full: QImage | None = None

        def show_av_frame(self, frame: Any) -> None:
            cpu0, wall0 = time.thread_time(), time.perf_counter()
            rgb = frame.to_ndarray(format="rgb24")
            # QImage does not own the ndarray's memory: keep a reference.
            self._rgb = np.ascontiguousarray(rgb)
            self._full = QImage(self._rgb.data, rgb.shape[1], rgb.shape[0], rgb.shape[1] * 3,
                                QImage.Format.Format_RGB888)
            self._video.shown += 1
            self.update()
            meter.add(cpu0, wall0, paint=False)

        def paintEvent(self, event: Any) -> None:
            cpu0, wall0 = time.thread_time(), time.perf_counter()
            painter = QPainter(self)
            painter.fillRect(self.rect(), self.palette().dark())
            if self._full is not None:
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                w, h = self._full.width(), self._full.height()
                scale = min(self.width() / w, self.height() / h)
                tw, th = w * scale, h * scale
                painter.drawImage(QRectF((self.width() - tw) / 2, (self.height() - th) / 2,
                                         tw, th), self._full)
            painter.end()
            meter.add(cpu0, wall0, paint=True)

    return BlitTile, QImageTile


async def _view(path: str, url: str, token: str, tiles: int, warmup: float,
                seconds: float) -> dict[str, float]:
    import psutil

    from roomcall.sdk import RTCClient
    from roomcall.ui import frame_renderer
    from roomcall.ui.frame_renderer import TrackRenderer
    from roomcall.ui.video_grid import VideoGrid

    meter = Meter()
    blit_tile, qimage_tile = _tile_classes(meter)
    grid = VideoGrid()
    grid.resize(1280, 720)
    grid.show()
    tasks: list[asyncio.Task[None]] = []
    renderers: list[TrackRenderer] = []
    original_convert = frame_renderer.convert_for_display

    def timed_convert(frame: Any, w: int, h: int, *rest: Any) -> Any:
        start = time.perf_counter()
        result = original_convert(frame, w, h, *rest)
        if meter.on:
            meter.convert_ms.append((time.perf_counter() - start) * 1000)
        return result

    frame_renderer.convert_for_display = timed_convert  # type: ignore[assignment]

    async def pump(track: Any, tile: Any) -> None:
        while True:
            tile.show_av_frame(await track.recv())

    def subscribed(user_id: str, track: Any) -> None:
        if track.kind != "video":
            return
        cls = blit_tile if path == "blit" else qimage_tile
        tile = cls(user_id, parent=grid)
        grid._tiles[user_id] = tile  # place the measured tile class in the real grid
        grid._relayout(force=True)
        if path == "blit":
            renderer = TrackRenderer(track, tile.show_frame, tile.box_size)
            renderer.start()
            renderers.append(renderer)
        else:
            tasks.append(asyncio.get_running_loop().create_task(pump(track, tile)))

    client = RTCClient(url)
    client.on("track_subscribed", subscribed)
    await client.join(token, "viewer")
    deadline = time.monotonic() + 20
    while len(grid.tiles()) < tiles:
        if time.monotonic() > deadline:
            raise TimeoutError("remote tracks did not arrive")
        await asyncio.sleep(0.05)
    await asyncio.sleep(warmup)
    process = psutil.Process()
    cpu0, wall0, gui0 = process.cpu_times(), time.monotonic(), time.thread_time()
    meter.reset()
    await asyncio.sleep(seconds)
    meter.on = False
    cpu1, wall1, gui1 = process.cpu_times(), time.monotonic(), time.thread_time()
    rss_mb = process.memory_info().rss / 2**20
    painted_fps = meter.paints / tiles / (wall1 - wall0)
    result = {
        "gui_ms_per_frame_tile": 1000 * meter.gui_seconds / max(1, meter.paints),
        "gui_wall_ms_per_frame_tile": 1000 * meter.gui_wall / max(1, meter.paints),
        "show_ms_per_frame_tile": 1000 * meter.show_seconds / max(1, meter.paints),
        "painted_fps_per_tile": painted_fps,
        "frames_per_tile_s": meter.frames / tiles / (wall1 - wall0),
        "cpu_percent": 100 * ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system))
        / (wall1 - wall0),
        "rss_mb": rss_mb,
        "gui_thread_percent": 100 * (gui1 - gui0) / (wall1 - wall0),
        "convert_ms": statistics.median(meter.convert_ms) if meter.convert_ms else 0.0,
    }
    for renderer in renderers:
        await renderer.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await client.leave()
    frame_renderer.convert_for_display = original_convert
    grid.close()
    grid.deleteLater()
    return result


def _isolated(path: str, tiles: int, rounds: int) -> float:
    """GUI-thread CPU ms per frame and tile with no call running: synthetic frames (converted
    on a worker thread for ``blit``), shown in the grid and painted by processEvents()."""
    from PySide6.QtWidgets import QApplication

    from roomcall.media.synthetic import SyntheticVideoTrack
    from roomcall.ui.frame_renderer import convert_for_display
    from roomcall.ui.video_grid import VideoGrid

    meter = Meter()
    blit_tile, qimage_tile = _tile_classes(meter)
    grid = VideoGrid()
    grid.resize(1280, 720)
    grid.show()
    cls = blit_tile if path == "blit" else qimage_tile
    shown = []
    for index in range(tiles):
        tile = cls(f"user-{index}", parent=grid)
        grid._tiles[tile.user_id] = tile
        shown.append(tile)
    grid._relayout(force=True)
    app = QApplication.instance()
    assert app is not None
    app.processEvents()
    source = SyntheticVideoTrack("isolated")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        gui = 0.0
        for number in range(rounds + 10):
            frame = source.render(number, 0)
            converted = ([pool.submit(convert_for_display, frame, *t.box_size()).result()
                          for t in shown] if path == "blit" else [])
            start = time.thread_time()
            for index, tile in enumerate(shown):
                if path == "blit":
                    tile.show_frame(converted[index])
                else:
                    tile.show_av_frame(frame)
            app.processEvents()
            if number >= 10:  # the first rounds warm caches and lay the grid out
                gui += time.thread_time() - start
    grid.close()
    grid.deleteLater()
    return 1000 * gui / rounds / tiles


def _quiet_offscreen_warnings() -> None:
    """Drop the offscreen plugin's "does not support propagateSizeHints()" line (printed for
    every new window); every other Qt message still reaches stderr."""
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--paths", default="blit,qimage")
    parser.add_argument("--senders", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.senders:
        asyncio.run(_senders(args.senders))
        return 0

    import qasync
    from PySide6.QtWidgets import QApplication

    sender = subprocess.Popen([sys.executable, __file__, "--senders", str(args.tiles)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert sender.stdout is not None and sender.stdin is not None
    hello = json.loads(sender.stdout.readline())
    _quiet_offscreen_warnings()
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    executor = concurrent.futures.ThreadPoolExecutor(32)
    loop.set_default_executor(executor)
    results: dict[str, dict[str, float]] = {}
    isolated = {path: _isolated(path, args.tiles, 300) for path in args.paths.split(",")}
    try:
        for path in args.paths.split(","):
            results[path] = loop.run_until_complete(
                _view(path, hello["url"], hello["token"], args.tiles, args.warmup,
                      args.seconds))
    finally:
        sender.stdin.close()
        sender.wait(30)
        executor.shutdown(wait=False, cancel_futures=True)

    print(f"{args.tiles} remote 640x480@30 tiles in a 1280x720 grid, {args.seconds:.0f} s "
          f"per path ({os.environ.get('QT_QPA_PLATFORM') or 'display'})")
    print(f"{'path':8} {'GUI CPU ms/frame/tile':>22} {'(wall)':>7} {'painted fps/tile':>17} "
          f"{'process CPU %':>14} {'GUI thread %':>13} {'RSS MB':>7} {'worker convert ms':>18}")
    for path, r in results.items():
        print(f"{path:8} {r['gui_ms_per_frame_tile']:22.3f} {r['gui_wall_ms_per_frame_tile']:7.3f} "
              f"{r['painted_fps_per_tile']:17.1f} {r['cpu_percent']:14.1f} "
              f"{r['gui_thread_percent']:13.1f} {r['rss_mb']:7.0f} {r['convert_ms']:18.3f}")
    print("GUI CPU split, hand-over (show_frame) + paintEvent: " + ", ".join(
        f"{path} {r['show_ms_per_frame_tile']:.3f} + "
        f"{r['gui_ms_per_frame_tile'] - r['show_ms_per_frame_tile']:.3f} ms"
        for path, r in results.items()))
    print("no call running (synthetic frames; GUI thread CPU per frame and tile, everything "
          "processEvents() does): " + ", ".join(f"{p} {ms:.3f} ms" for p, ms in isolated.items()))
    ok = True
    if "blit" in results:
        chosen = results["blit"]
        gui_ok = chosen["gui_ms_per_frame_tile"] <= TARGET_GUI_MS
        rss_ok = chosen["rss_mb"] <= TARGET_RSS_MB
        print(f"target GUI <= {TARGET_GUI_MS} ms/frame/tile: "
              f"{'PASS' if gui_ok else 'FAIL'} ({chosen['gui_ms_per_frame_tile']:.3f} ms)")
        print(f"target RSS <= {TARGET_RSS_MB:.0f} MB: {'PASS' if rss_ok else 'FAIL'} "
              f"({chosen['rss_mb']:.0f} MB)")
        ok = gui_ok and rss_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
