"""Fixtures for desktop app tests: a qasync loop bound to pytest-qt's QApplication, and
windows that host or join on an in-process room server with synthetic media."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QApplication

from roomcall.ui.host import EmbeddedHost
from roomcall.ui.options import AppOptions
from roomcall.ui.settings import AppSettings
from roomcall.ui.window import MainWindow
from tests import waiting
from tests.waiting import scaled

FAST_SERVER = {"empty_room_timeout": 1.0, "unjoined_room_timeout": 2.0,
               "silent_user_timeout": 5.0, "heartbeat_interval": 1.0}


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path) -> Iterator[Path]:
    """Keep every QSettings of a test in its own folder, never the user's."""
    QStandardPaths.setTestModeEnabled(True)
    folder = tmp_path / "settings"
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


def settings_file(path: Path) -> AppSettings:
    """Settings kept in the file ``path`` (one per window, or shared to test relaunches)."""
    return AppSettings(QSettings(str(path), QSettings.Format.IniFormat))


@pytest.fixture(scope="session")
def loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """One qasync event loop on pytest-qt's application for the session (pytest-qt alone
    runs no coroutines; a second QEventLoop on the same application confuses both)."""
    qapp.setQuitOnLastWindowClosed(False)  # else closing a test's windows stops the loop
    event_loop = qasync.QEventLoop(qapp)
    executor = concurrent.futures.ThreadPoolExecutor(16)
    event_loop.set_default_executor(executor)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    executor.shutdown(wait=False, cancel_futures=True)
    event_loop.close()


UI_WAIT = scaled(10.0)
"""Longest wait for a window to show what a test expects (calls take a while to start)."""


async def until(predicate: Callable[[], Any], within: float = UI_WAIT, what: str = "") -> None:
    """:func:`tests.waiting.until` with the desktop tests' longer default."""
    await waiting.until(predicate, within, what)


class Windows:
    """Creates shown windows using synthetic media, a 0.5 s kick grace and embedded servers
    on free ports with short lifecycle durations, and runs a scenario with them.

    :meth:`run` closes every window inside the same loop run as the scenario: between two
    loop runs Qt still delivers socket events, whose asyncio callbacks then find no running
    loop, so nothing may be left alive across runs.
    """

    def __init__(self, loop: qasync.QEventLoop, tmp_path: Path) -> None:
        self._loop = loop
        self._tmp_path = tmp_path
        self.windows: list[MainWindow] = []

    def new(self, name: str = "Ann", server: dict[str, Any] | None = None,
            settings: AppSettings | None = None, **fields: Any) -> MainWindow:
        """A shown window whose person is called ``name``; ``server`` overrides fields of
        its embedded server's config; settings of its own unless ``settings`` are given."""
        config = {**FAST_SERVER, **(server or {})}
        options = AppOptions(synthetic_media=True, kick_grace=0.5, embedded_port=0,
                             name=name, server_config=dict(config), **fields)
        number = len(self.windows)
        host = EmbeddedHost(self._tmp_path / f"data-{number}", 0, **config)
        settings = settings or settings_file(self._tmp_path / f"settings-{number}.ini")
        window = MainWindow(options, host, settings=settings)
        if settings.geometry is None:  # else the window restored the remembered one
            window.resize(1000, 640)
        window.show()
        self.windows.append(window)
        return window

    def run(self, scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``scenario()``, then close every window (guests first), in one loop run."""
        self._loop.run_until_complete(self._run(scenario))

    async def _run(self, scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
        try:
            await asyncio.wait_for(scenario(), scaled(60))
        finally:
            await self.close_all()

    async def close_all(self) -> None:
        """Close every window and wait until each has left its room and stopped."""
        for window in reversed(self.windows):  # guests first, the hosts' servers last
            started = time.monotonic()
            window.close_now()  # teardown: a host still with guests ends the call, unasked
            await asyncio.wait_for(window.wait_closed(), scaled(20))
            took = time.monotonic() - started
            assert took < scaled(5), f"closing a window took {took:.1f} s"


@pytest.fixture
def windows(loop: qasync.QEventLoop, tmp_path: Path) -> Iterator[Windows]:
    """A :class:`Windows` for one test; its windows are deleted at teardown."""
    made = Windows(loop, tmp_path)
    yield made
    for window in made.windows:
        window.deleteLater()
