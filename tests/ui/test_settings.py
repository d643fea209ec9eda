"""The person's own STUN/TURN servers: entered in Settings, kept in QSettings, handed to the
next call's RTCClient as aiortc RTCIceServer values."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aiortc import RTCIceServer
from PySide6.QtCore import QLocale, QSettings
from PySide6.QtWidgets import QStyledItemDelegate
from pytestqt.qtbot import QtBot

from roomcall.protocol.ice import turn_credential
from roomcall.sdk import RTCClient
from roomcall.ui import ice_servers
from roomcall.ui.host import EmbeddedHost
from roomcall.ui.ice_servers import IceServer
from roomcall.ui.options import AppOptions
from roomcall.ui.room_view import CallClient
from roomcall.ui.settings import AppSettings
from roomcall.ui.settings_dialog import SettingsDialog
from roomcall.ui.window import MainWindow

from .conftest import FAST_SERVER, Windows

TURN = IceServer("turn:203.0.113.5:3478?transport=udp", "alice", "s3cret")
STUN = IceServer("stun:203.0.113.5:3478")
"""Values only: no test here gathers candidates through them."""


def _settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "roomcall.ini"), QSettings.Format.IniFormat)


def test_servers_survive_a_restart(tmp_path: Path) -> None:
    """What is saved is what a new QSettings on the same file loads, in order."""
    ice_servers.save(_settings(tmp_path), [TURN, STUN])
    assert ice_servers.load(_settings(tmp_path)) == [TURN, STUN]
    ice_servers.save(_settings(tmp_path), [STUN])
    assert ice_servers.load(_settings(tmp_path)) == [STUN]


def test_entries_become_aiortc_ice_servers() -> None:
    """TURN entries carry their username and password, or, holding coturn's secret, a
    credential minted from it for the person; STUN entries carry none."""
    now = 1_700_000_000
    assert TURN.to_rtc("ann", now) == RTCIceServer(urls=TURN.url, username="alice",
                                                   credential="s3cret")
    assert STUN.to_rtc("ann", now) == RTCIceServer(urls=STUN.url)
    secret = IceServer(TURN.url, "", "coturn-secret")
    assert secret.uses_secret and not TURN.uses_secret
    minted = secret.to_rtc("ann", now)
    assert (minted.username, minted.credential) == turn_credential(
        "coturn-secret", "ann", now + ice_servers.CREDENTIAL_TTL)


def test_dialog_refuses_unusable_entries(qtbot: QtBot) -> None:
    """A URL without a STUN/TURN scheme, or a TURN server without a credential, keeps the
    dialog open with the reason; a usable list is accepted, empty rows dropped."""
    dialog = SettingsDialog([STUN])
    qtbot.addWidget(dialog)
    dialog.add_row(IceServer("203.0.113.5:3478"))
    dialog.accept()
    assert dialog.result() == 0 and "is not a STUN or TURN address" in dialog.error.text()
    dialog.table.removeRow(1)
    dialog.add_row(IceServer("turn:203.0.113.5:3478", "alice"))
    dialog.accept()
    assert "needs a credential" in dialog.error.text()
    dialog.table.removeRow(1)
    dialog.add_row(TURN)
    dialog.add_row(IceServer(""))
    dialog.accept()
    assert dialog.result() == 1 and dialog.servers == [STUN, TURN]
    secret = dialog.table.itemDelegateForColumn(2)
    assert isinstance(secret, QStyledItemDelegate)
    assert secret.displayText("s3cret", QLocale()) == "••••••"  # never shown in clear


def test_window_keeps_settings_and_passes_them_to_the_next_call(
        windows: Windows, tmp_path: Path) -> None:
    """Servers accepted in the window's Settings are saved and reach the RTCClient of the
    next call; with none, the client is made without ice_servers (the server's apply)."""
    made: list[tuple[str, list[RTCIceServer]]] = []

    def client(url: str, ice: Sequence[RTCIceServer]) -> CallClient:
        made.append((url, list(ice)))
        return RTCClient(url, ice_servers=ice)

    # Loopback only: nothing here may send to another address (and alone in its room the
    # client opens no peer connection that would).
    turn = IceServer("turn:127.0.0.1:3478", "ann", "pw")
    settings = _settings(tmp_path)
    options = AppOptions(synthetic_media=True, embedded_port=0, name="Ann",
                         server_config=dict(FAST_SERVER))
    window = MainWindow(options, EmbeddedHost(tmp_path / "data", 0, **FAST_SERVER),
                        settings=AppSettings(settings), client_factory=client)
    windows.windows.append(window)

    async def scenario() -> None:
        assert await window.host_room("Ann", "first", False)
        assert made[-1][1] == []
        await window.leave()
        dialog = window.show_settings()
        dialog.add_row(turn)
        dialog.accept()
        assert ice_servers.load(settings) == [turn]
        assert await window.host_room("Ann", "second", False)
        assert made[-1][1] == [turn.to_rtc("ann", 0)]  # a password: the same for anyone

    windows.run(scenario)
