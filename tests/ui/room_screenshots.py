"""Regenerate the screenshots of a room's life: ``docs/screenshots/prejoin.png`` (the pre-join
screen), ``end-call.png`` (the host closing the window is asked) and ``host-ended.png`` (what
the guest reads then).

Run on a display (or a virtual one)::

    xvfb-run -s "-screen 0 1280x800x24" \
        .venv/bin/python -m tests.ui.room_screenshots docs/screenshots

Real windows on a real embedded server with synthetic media; the guest joins with a room link
from the host's Invite dialog. Settings are kept in a temporary folder, never the user's.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from roomcall.ui.end_call import END_FOR_EVERYONE
from roomcall.ui.host import EmbeddedHost
from roomcall.ui.options import AppOptions
from roomcall.ui.settings import AppSettings
from roomcall.ui.window import MainWindow

from .screenshot import capture_into_folder


async def _until(predicate: Callable[[], object], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {predicate}")
        await asyncio.sleep(0.05)


def _grab(window: QWidget, target: Path) -> None:
    """The screen where ``window`` is, so that dialogs over it are in the picture too."""
    geometry = window.frameGeometry()
    picture = window.screen().grabWindow(0, geometry.x(), geometry.y(), geometry.width(),
                                         geometry.height())
    picture.save(str(target))
    print(f"saved {target} ({picture.width()}x{picture.height()})")


async def _capture(folder: Path, data: Path) -> None:
    def window(name: str, index: int) -> MainWindow:
        settings = AppSettings(QSettings(str(data / f"settings-{index}.ini"),
                                         QSettings.Format.IniFormat))
        return MainWindow(AppOptions(synthetic_media=True, embedded_port=0, name=name),
                          EmbeddedHost(data / f"server-{index}", 0), settings=settings)

    host, guest = window("Alice", 0), window("Bob", 1)
    host.resize(1100, 680)
    host.move(0, 0)
    guest.resize(1000, 600)
    guest.move(140, 100)
    host.show()
    guest.show()
    try:
        assert await host.host_room("Alice", "Design review", False)
        dialog = host.show_invite()
        assert dialog is not None
        link = await dialog.create_room_link()
        dialog.close()

        guest.raise_()
        guest.form.address_edit.setText(link)
        guest.form.join_button.click()
        await _until(lambda: guest.pages.currentWidget() is guest.prejoin)
        guest.prejoin.name_edit.setText("Bob")
        await _until(lambda: guest.prejoin.frames_shown > 20 and guest.prejoin.meter.value() > 0)
        _grab(guest, folder / "prejoin.png")

        guest.prejoin.join_button.click()
        await _until(lambda: guest.session is not None and guest.session.client.user_id)
        guest_id = guest.session.client.user_id  # type: ignore[union-attr]
        await _until(lambda: (t := host.grid.tile(guest_id)) is not None and t.frames_shown > 30)

        host.raise_()
        host.activateWindow()
        host.close()
        await _until(lambda: host.joining.prompt is not None and host.joining.prompt.isVisible())
        await asyncio.sleep(0.3)  # the dialog's first paint reaches the screen (cosmetic)
        _grab(host, folder / "end-call.png")
        prompt = host.joining.prompt
        assert prompt is not None
        prompt.choose(END_FOR_EVERYONE)

        await _until(lambda: guest.session is None and guest.form.notice.isVisible())
        guest.raise_()
        await asyncio.sleep(0.3)
        _grab(guest, folder / "host-ended.png")
    finally:
        for each in (guest, host):
            each.close_now()
            await each.wait_closed()


def main() -> int:
    """Capture the screenshots into the folder given as the first argument."""
    return capture_into_folder(_capture)


if __name__ == "__main__":
    sys.exit(main())
