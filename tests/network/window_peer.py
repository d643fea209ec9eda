"""The desktop window as a call participant of the network test bed, run as a process inside
a client namespace (Qt offscreen, synthetic media).

    ip netns exec <client ns> python -m tests.network.window_peer --url ws://203.0.113.10:7880 \\
        --token TOKEN --label alice

It opens the real ``MainWindow``, joins with ``TOKEN`` (the room server's ICE servers), and
reports what its tiles show on stdout, one JSON object a line with ``t`` and ``event``, as
:mod:`tests.network.peer` does:

- ``joined``; ``join_failed``: ``{"message"}``
- ``video``: a remote member's tile shows video for the first time: ``{"from"}``
- ``bars``: a tile's signal bars changed (the local tile's included): ``{"user", "bars",
  "uplink", "downlink"}`` as the tile shows them (0-4 lit bars; grade names)

It runs until its stdin closes (or SIGTERM), then leaves and exits 0. ``--label`` is the
person's name; ``--ice`` is accepted for the bed's sake and must be ``server``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QApplication

from roomcall.ui.host import EmbeddedHost
from roomcall.ui.options import AppOptions
from roomcall.ui.settings import AppSettings
from roomcall.ui.window import MainWindow

POLL = 0.1
"""Seconds between two looks at the tiles."""


def report(event: str, **fields: Any) -> None:
    """Write one report line (flushed: the bed reads them as they come)."""
    sys.stdout.write(json.dumps({"t": time.time(), "event": event, **fields}) + "\n")
    sys.stdout.flush()


async def run(args: argparse.Namespace, data: Path) -> int:
    """Join in a window, report its tiles until stdin closes; the exit status."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    watcher = asyncio.ensure_future(reader.read())
    watcher.add_done_callback(lambda _: stop.set())
    settings = AppSettings(QSettings(str(data / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(AppOptions(synthetic_media=True, name=args.label),
                        EmbeddedHost(data / "server", 0), settings=settings)
    window.resize(1000, 640)
    window.show()
    try:
        if not await window.join_room(args.label, args.url, args.token):
            report("join_failed", message=window.form.error.text())
            return 1
        report("joined")
        shown: dict[str, tuple[int, str, str]] = {}
        with_video: set[str] = set()
        while not stop.is_set():
            for tile in window.grid.tiles():
                if tile.is_screen:
                    continue
                quality = tile.network_quality
                now = (tile.signal_bars, quality.uplink.name, quality.downlink.name)
                if shown.get(tile.user_id) != now:
                    shown[tile.user_id] = now
                    report("bars", user=tile.user_id, bars=now[0], uplink=now[1],
                           downlink=now[2])
                if not tile.local and tile.has_video and tile.user_id not in with_video:
                    with_video.add(tile.user_id)
                    report("video", **{"from": tile.user_id})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL)
    finally:
        watcher.cancel()
        window.close_now()
        await asyncio.wait_for(window.wait_closed(), 10)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--ice", default="server", choices=["server"])
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    QStandardPaths.setTestModeEnabled(True)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(16))
    with tempfile.TemporaryDirectory() as folder, loop:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)
        return loop.run_until_complete(run(args, Path(folder)))


if __name__ == "__main__":
    sys.exit(main())
