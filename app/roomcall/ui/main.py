"""``roomcall`` with no subcommand: the desktop app on a qasync event loop."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING

EXECUTOR_THREADS = 32
"""aiortc encodes and decodes on the default executor; qasync's own has 10 threads, which a
few peers exhaust (media-facts)."""

SIGNAL_WAKE_MS = 200
"""How often the event loop hands control to Python, so Ctrl+C is handled at once."""

if TYPE_CHECKING:
    from roomcall.ui.options import AppOptions
    from roomcall.ui.window import MainWindow

log = logging.getLogger(__name__)


def run_app(args: argparse.Namespace) -> int:
    """Open the window and run until it is closed; the exit status (0 after a clean close)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        print("roomcall: no display found (set DISPLAY, or QT_QPA_PLATFORM=offscreen)",
              file=sys.stderr)
        return 2
    from roomcall.ui.platform_plugin import EXIT_MISSING_LIBRARIES, check_display_plugin

    problem = check_display_plugin()
    if problem is not None:
        # Qt would abort (exit 134) with a hint naming the wrong library.
        print(problem.message(), file=sys.stderr)
        return EXIT_MISSING_LIBRARIES
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from roomcall.ui import i18n
    from roomcall.ui.fonts import missing_font_hint
    from roomcall.ui.joining import LinkOpener
    from roomcall.ui.options import AppOptions
    from roomcall.ui.settings import AppSettings
    from roomcall.ui.window import MainWindow

    logging.basicConfig(level=os.environ.get("ROOMCALL_LOG", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("roomcall")
    app.setOrganizationName("roomcall")
    app.setQuitOnLastWindowClosed(False)  # the loop ends when the window finished leaving
    icon = i18n.resources_dir() / "icons" / "roomcall.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    settings = AppSettings()
    language = i18n.install_language(args.lang or settings.language or None)
    options = AppOptions.from_args(args)
    if options.smoke:
        # Package data found where it is installed (a wheel, a bundle): worth one line.
        shown = icon if not app.windowIcon().isNull() else "missing"
        print(f"roomcall: language {language}, icon {shown}", flush=True)
    options.ice_servers = settings.ice_servers

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    executor = concurrent.futures.ThreadPoolExecutor(EXECUTOR_THREADS,
                                                     thread_name_prefix="roomcall")
    loop.set_default_executor(executor)
    window = MainWindow(options, settings=settings)
    app.installEventFilter(LinkOpener(window))
    window.form.show_font_hint(missing_font_hint(language))
    # Ctrl+C in the terminal leaves the room like closing the window does.
    signal.signal(signal.SIGINT, lambda *_: window.close())
    # Python runs a signal handler only when it gets control back, and an idle Qt loop stays
    # in C: without a periodic wake-up Ctrl+C waits for the next mouse move.
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(SIGNAL_WAKE_MS)
    install_quit_signals(loop, window)
    status = 0
    try:
        status = int(loop.run_until_complete(_run(window, options)))
    finally:
        # A job stuck in the executor must not hang the exit (media-facts: qasync waits).
        executor.shutdown(wait=False, cancel_futures=True)
        loop.close()
    return status


def install_quit_signals(loop: asyncio.AbstractEventLoop, window: MainWindow) -> list[int]:
    """Make SIGTERM (logout, shutdown, ``kill``) and SIGHUP (the terminal went away) leave
    the room and close like the window's close button, without asking (nobody is there to
    answer: a host ends the call for everyone). The handlers run on the loop, between Qt
    events. Returns the signal numbers handled."""
    if not hasattr(signal, "SIGHUP"):  # Windows: no loop signal handlers
        signal.signal(signal.SIGTERM, lambda *_: window.close_now())
        return [signal.SIGTERM]
    numbers: list[int] = [signal.SIGTERM, signal.SIGHUP]
    for number in numbers:
        loop.add_signal_handler(number, window.close_now)
    return numbers


async def _run(window: MainWindow, options: AppOptions) -> int:
    window.show()
    log.info("window shown; SIGTERM and SIGHUP leave the room (pid %d)", os.getpid())
    if options.smoke:
        window.spawn(_smoke(window, options))
    elif options.join_link:
        # A clicked invite opens the pre-join screen: the person checks name and devices.
        window.spawn(window.joining.open_prejoin(options.join_link))
    await window.wait_closed()
    return window.exit_status


async def _smoke(window: MainWindow, options: AppOptions) -> None:
    """Join the ``--join`` link, or host a room; report; close. Proves start, join and a clean
    exit in one run (``ROOMCALL_UI_SMOKE=1``)."""
    if options.join_link:
        joined = await window.join_room(window.form.display_name, options.join_link, "")
    else:
        joined = await window.host_room(window.form.display_name, "smoke-test", False)
    session = window.session
    if joined and session is not None:
        client = session.client
        role = "hosting" if client.permission == "admin" else "joined"
        print(f"roomcall: {role} {client.room} at {client.server_url} as {client.user_id}",
              flush=True)
    else:
        print("roomcall: could not join: " + window.form.error.text(), file=sys.stderr,
              flush=True)
        window.exit_status = 1
    window.close()
