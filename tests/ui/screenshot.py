"""Regenerate ``docs/screenshot.png``: a real window with a call in progress.

Run on a display (or a virtual one)::

    xvfb-run -s "-screen 0 1280x800x24" .venv/bin/python -m tests.ui.screenshot docs/screenshot.png

A host and a guest window join a room on the host's embedded server with synthetic media; once
video flows both ways and a few chat lines went by, the host's window is captured from the
screen.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QApplication

from roomcall.ui.host import EmbeddedHost
from roomcall.ui.options import AppOptions
from roomcall.ui.window import MainWindow
from tests.waiting import scaled, until


async def _capture(app: QApplication, target: Path, data: Path) -> None:
    host = MainWindow(AppOptions(synthetic_media=True, embedded_port=0, name="Alice"),
                      EmbeddedHost(data, 0))
    guest = MainWindow(AppOptions(synthetic_media=True, name="Bob"), EmbeddedHost(data, 0))
    host.resize(1280, 720)
    host.move(0, 0)
    guest.resize(900, 600)
    guest.move(200, 100)
    guest.show()
    host.show()
    try:
        assert await host.host_room("Alice", "design review", False)
        assert await guest.join_room("Bob", host.host.invite("design-review", "Bob"), "")
        assert host.session is not None and guest.session is not None
        guest_id = guest.session.client.user_id
        await until(lambda: (t := host.grid.tile(guest_id)) is not None and t.frames_shown > 30,
                    scaled(20), "the guest's video")
        host.panel.chat.input.setText("Morning Bob! Ready for the review?")
        host.panel.chat.input.returnPressed.emit()
        await asyncio.sleep(0.3)  # let the chat line travel before the reply (cosmetic only)
        guest.panel.chat.input.setText("Ready when you are.")
        guest.panel.chat.input.returnPressed.emit()
        await until(lambda: len(host.panel.chat.lines) >= 2, scaled(20), "two chat lines")
        host.raise_()
        host.activateWindow()
        await asyncio.sleep(0.5)  # a few more frames, so the moving bars are mid-screen
        screen = host.screen()
        geometry = host.frameGeometry()
        picture = screen.grabWindow(0, geometry.x(), geometry.y(), geometry.width(),
                                    geometry.height())
        picture.save(str(target))
        print(f"saved {target} ({picture.width()}x{picture.height()})")
    finally:
        for window in (guest, host):
            window.close()
            await window.wait_closed()


def run_in_app(capture: Callable[[QApplication, Path], Coroutine[Any, Any, None]]) -> int:
    """Run ``capture(app, data_folder)`` on a qasync loop; settings and data in a temporary
    folder, never the user's."""
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    QStandardPaths.setTestModeEnabled(True)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(16))
    with tempfile.TemporaryDirectory() as data, loop:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, data)
        loop.run_until_complete(capture(app, Path(data)))
    return 0


def capture_into_folder(capture: Callable[[Path, Path], Coroutine[Any, Any, None]]) -> int:
    """Run ``capture(folder, data_folder)`` in the app, ``folder`` being the first argument
    (default ``docs/screenshots``), made if missing."""
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return run_in_app(lambda _app, data: capture(folder, data))


def main() -> int:
    """Capture the screenshot into the path given as the first argument."""
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.png")
    return run_in_app(lambda app, data: _capture(app, target, data))


if __name__ == "__main__":
    sys.exit(main())
