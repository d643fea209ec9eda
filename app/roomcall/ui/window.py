"""The main window: the join form, or the call (video grid beside the room panel)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from roomcall.aio import TaskSet
from roomcall.protocol.errors import ErrorCode
from roomcall.sdk import RTCError
from roomcall.ui import i18n, ice_servers
from roomcall.ui.call_session import ENDED_CLOSED, ENDED_ERROR, ENDED_KICKED, CallSession
from roomcall.ui.errors import describe_error
from roomcall.ui.fonts import missing_font_hint
from roomcall.ui.host import EmbeddedHost
from roomcall.ui.invite import read_claims, room_name_for, user_id_for
from roomcall.ui.invite_dialog import InviteDialog
from roomcall.ui.join_form import JoinForm
from roomcall.ui.joining import Joining
from roomcall.ui.local_media import LocalMedia, list_devices
from roomcall.ui.options import AppOptions
from roomcall.ui.prejoin import PreJoinScreen
from roomcall.ui.room_panel import RoomPanel
from roomcall.ui.room_view import CallClient, display_name
from roomcall.ui.settings import AppSettings
from roomcall.ui.settings_dialog import SettingsDialog
from roomcall.ui.stats_panel import StatsPanel
from roomcall.ui.video_grid import VideoGrid
from roomcall.ui.view_switch import ViewSwitch

if TYPE_CHECKING:
    from aiortc import RTCIceServer

    from roomcall.media.playout import AudioPlayout

log = logging.getLogger(__name__)

T = TypeVar("T")

ClientFactory = Callable[[str, Sequence["RTCIceServer"]], CallClient]
"""Makes the client of a call: the server's base URL and the person's own ICE servers."""
PlayoutFactory = Callable[[], "AudioPlayout"]


def _default_client(server_url: str, ice: Sequence[RTCIceServer]) -> CallClient:
    from roomcall.sdk import RTCClient

    # With no servers of the person's own, the client takes those the room server hands out.
    return RTCClient(server_url, ice_servers=ice) if ice else RTCClient(server_url)


def _default_playout() -> AudioPlayout:
    from roomcall.media.playout import AudioPlayout

    return AudioPlayout()


class MainWindow(QMainWindow):
    """One person's window. ``host`` runs the embedded server when the person hosts;
    ``settings`` remembers what the person chose between launches (name, language, devices,
    geometry, invites, the Settings dialog's servers; the user's settings file if None)."""

    def __init__(self, options: AppOptions, host: EmbeddedHost | None = None, *,
                 client_factory: ClientFactory = _default_client,
                 playout_factory: PlayoutFactory = _default_playout,
                 settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.options = options
        self.host = host or EmbeddedHost(options.data_dir, options.embedded_port,
                                         **options.server_config)
        self._client_factory = client_factory
        self._playout_factory = playout_factory
        self.session: CallSession | None = None
        self.stats_panel: StatsPanel | None = None
        """The call statistics panel while it is open."""
        self._hosted_room: str | None = None
        self.settings = settings or AppSettings()
        self._tasks = TaskSet(log, "window")
        self._closed = asyncio.Event()
        self._shutting_down = False
        self.exit_status = 0
        """What the process exits with once the window closed."""

        self.form = JoinForm()
        self.form.name_edit.setText(self.settings.name or options.name)
        self.form.set_hosting_available(options.server_url is None)
        if options.server_url:
            self.form.prefill(options.server_url)
        if options.join_link:
            self.form.prefill(options.join_link)
        self.grid = VideoGrid()
        self.view_switch = ViewSwitch()
        self.panel = RoomPanel()
        self.call_page = QSplitter(Qt.Orientation.Horizontal)
        self.call_page.addWidget(self._call_column())
        self.call_page.addWidget(self.panel)
        self.call_page.setStretchFactor(0, 1)
        self.call_page.setStretchFactor(1, 0)
        self.call_page.setChildrenCollapsible(False)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.form)
        self.pages.addWidget(self.call_page)
        self.prejoin = PreJoinScreen(playout_factory)
        self.pages.addWidget(self.prejoin)
        self.setCentralWidget(self.pages)
        self.resize(1180, 720)
        if self.settings.geometry is not None:
            self.restoreGeometry(self.settings.geometry)

        self.devices = list_devices()
        self.form.offer_synthetic_media(not self.devices.cameras and not options.synthetic_media)
        self.joining = Joining(self)
        """The way from a link to a call: the pre-join screen, redemption, the host's
        questions when leaving (``roomcall.ui.joining``)."""

        self._build_menus()
        self.form.host_requested.connect(
            lambda name, room, network: self.spawn(self.host_room(name, room, network)))
        self.form.join_requested.connect(
            lambda _name, address, token: self.spawn(self.joining.open_prejoin(address, token)))
        self.panel.invite_requested.connect(self.show_invite)
        self._retranslate()

    def _call_column(self) -> QWidget:
        """The view switch's bar over the video grid."""
        column = QWidget()
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 0)
        bar.addWidget(self.view_switch)
        bar.addStretch(1)
        self.stats_button = QPushButton()
        self.stats_button.setStyleSheet("QPushButton { padding: 3px 12px; color: #d8d8d8;"
                                        " background: #25272d; border: 1px solid #3a3d45; }")
        self.stats_button.clicked.connect(self.show_stats)
        bar.addWidget(self.stats_button)
        self.call_bar = bar
        """The row over the grid (the view switch, then the call's own buttons)."""
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.grid, 1)
        palette = column.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("#15161a"))
        column.setPalette(palette)
        column.setAutoFillBackground(True)
        return column

    # --- starting and ending calls ---------------------------------------------------------

    async def host_room(self, name: str, room: str, network: bool) -> bool:
        """Start the embedded server (if needed) and join ``room`` on it as the host."""
        self.form.set_busy(True)
        try:
            await self.host.ensure(network, self.options.ice_servers)
        except OSError as exc:
            log.warning("could not start the embedded server: %s", exc)
            self.form.show_error(self.tr("Could not start the room server on this computer: "
                                         "{error}").format(error=exc.strerror or exc))
            self.form.set_busy(False)
            return False
        title = room.strip() or self.joining.last_room
        room_name = room_name_for(title)
        token = self.host.host_token(room_name, user_id_for(name))
        self._hosted_room = room_name
        joined = await self._start_call(self.host.url, token, name, title or room_name)
        if joined:
            self.joining.hosting(title or room_name)
        return joined

    async def join_room(self, name: str, address: str, token: str) -> bool:
        """Join with an invite link (a room link is redeemed as ``name`` first), or a server
        URL and a token."""
        server_url, room_token = await self.joining.resolve(name, address, token)
        if not room_token:
            return False
        self._hosted_room = None
        return await self._start_call(server_url, room_token, name)

    async def _start_call(self, server_url: str, token: str, name: str,
                          title: str = "") -> bool:
        self.form.set_busy(True)
        self.form.show_notice("")
        claims = read_claims(token)
        synthetic = self.options.synthetic_media or self.form.synthetic_check.isChecked()
        media = LocalMedia(name or (claims.user_id if claims else "me"), synthetic=synthetic,
                           camera=self.devices.find(self.panel.camera_picker.currentData()),
                           microphone=self.devices.find(
                               self.panel.microphone_picker.currentData()))
        me = claims.user_id if claims else name
        client = self._client_factory(server_url, [s.to_rtc(me, time.time())
                                                   for s in self.options.ice_servers])
        playout = self._playout_factory()
        speaker = self.devices.find(self.panel.speaker_picker.currentData())
        if speaker is not None:
            playout.set_output_device(speaker)
        session = CallSession(client, grid=self.grid, panel=self.panel, media=media,
                              user_data=name, kick_grace=self.options.kick_grace,
                              playout=playout, devices=self.devices,
                              view_switch=self.view_switch, parent=self)
        session.ended.connect(self._on_ended)
        session.room_title = title
        session.leave_requested.connect(self.joining.request_leave)
        session.bridge.permission_changed.connect(lambda *_: self._retranslate())
        self.settings.name = name
        self.session = session
        self.pages.setCurrentWidget(self.call_page)
        try:
            await session.join(token)
        except Exception as exc:
            if isinstance(exc, RTCError):
                code: int | None = exc.code
            elif isinstance(exc, OSError):
                code = ErrorCode.AUTH_FAILED
            else:
                code = None
            log.info("join failed: %r", exc)
            await session.leave()
            self.form.show_error(describe_error(code, server_url))
            return False
        finally:
            self.form.set_busy(False)
        self._retranslate()
        return True

    def _on_ended(self, kind: str, text: str) -> None:
        self._close_stats()
        session, self.session = self.session, None
        if session is not None:
            session.deleteLater()
        self._hosted_room = None
        self.pages.setCurrentWidget(self.form)
        if kind in (ENDED_KICKED, ENDED_CLOSED):
            self.form.show_notice(text)
        elif kind == ENDED_ERROR:
            self.form.show_error(text)
        self._retranslate()

    def show_invite(self) -> InviteDialog | None:
        """Open the Invite dialog (the host of the room only)."""
        session = self.session
        if session is None or session.client.permission != "admin":
            return None
        embedded = self._hosted_room is not None and self.host.server is not None
        dialog = InviteDialog(session.client,
                              link_host=self.host.link_host if embedded else None,
                              local_only=embedded and not self.host.accepts_network_guests,
                              parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_stats(self) -> StatsPanel | None:
        """Open the call statistics panel (in a call only; an open one is raised)."""
        session = self.session
        if session is None:
            return None
        if self.stats_panel is None:
            client = session.client

            def name_of(user_id: str) -> str:
                if user_id == client.user_id:
                    return self.tr("{name} (you)").format(name=session.user_data or user_id)
                return display_name(client.get_remote_user(user_id), user_id)

            self.stats_panel = StatsPanel(client, name_of, parent=self)
        self.stats_panel.show()
        self.stats_panel.raise_()
        return self.stats_panel

    def _close_stats(self) -> None:
        panel, self.stats_panel = self.stats_panel, None
        if panel is not None:
            panel.close()
            panel.deleteLater()

    def show_settings(self) -> SettingsDialog:
        """Open the Settings dialog; what it accepts applies to the next call."""
        dialog = SettingsDialog(self.options.ice_servers, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._keep_ice_servers(dialog.servers))
        dialog.show()
        return dialog

    def _keep_ice_servers(self, servers: list[ice_servers.IceServer]) -> None:
        self.options.ice_servers = servers
        self.settings.ice_servers = servers

    @property
    def hosts_embedded_room(self) -> bool:
        """True while this window is in a room on its own embedded server."""
        return self.session is not None and self._hosted_room is not None

    async def leave(self) -> None:
        """Leave the current call, if any."""
        if self.session is not None:
            await self.session.leave()

    # --- closing ---------------------------------------------------------------------------

    async def wait_closed(self) -> None:
        """Return once the window was closed and everything it ran has stopped."""
        await self._closed.wait()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Leave the room and stop the embedded server before the window goes."""
        if self._closed.is_set():
            event.accept()
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # No loop runs (the app is being torn down): nothing can be awaited any more.
            log.warning("window closed without a running event loop; not leaving cleanly")
            event.accept()
            return
        event.ignore()
        if not self._shutting_down:
            self.joining.request_close()

    def close_now(self) -> None:
        """Close without asking (a signal from the OS): a host ends the call for everyone."""
        self.joining.ask_before_closing = False
        self.close()

    def shut_down(self, *, end_call: bool = False, successor: str | None = None) -> None:
        """Leave (ending the call for everyone, or handing over to ``successor``, when
        asked), stop the embedded server and close."""
        if not self._shutting_down:
            self._shutting_down = True
            self.spawn(self._shutdown(end_call, successor))

    async def _shutdown(self, end_call: bool, successor: str | None) -> None:
        try:
            self.settings.geometry = self.saveGeometry()
            session = self.session
            if session is not None and end_call:
                await session.end_for_everyone()
            elif session is not None and successor is not None:
                await session.hand_over_and_leave(successor)
            await self.leave()
            self._close_stats()
            await self.prejoin.stop()
            # Members of rooms on this computer read "The host ended the call" at once.
            await self.host.stop(cause="ended")
            self._tasks.cancel()
            await self._tasks.wait()
        finally:
            self._closed.set()
            QTimer.singleShot(0, self.close)

    def spawn(self, coro: Awaitable[T]) -> asyncio.Future[T]:
        """Run ``coro`` on the loop, keeping a reference until it ends."""
        return self._tasks.spawn(coro)

    # --- menus and language ----------------------------------------------------------------

    def _build_menus(self) -> None:
        self._room_menu = self.menuBar().addMenu("")
        self.invite_action = QAction(self)
        self.invite_action.triggered.connect(self.show_invite)
        self.leave_action = QAction(self)
        self.leave_action.triggered.connect(lambda: self.spawn(self.leave()))
        self.stats_action = QAction(self)
        self.stats_action.triggered.connect(self.show_stats)
        self.settings_action = QAction(self)
        self.settings_action.triggered.connect(self.show_settings)
        self.quit_action = QAction(self)
        self.quit_action.triggered.connect(self.close)
        for action in (self.invite_action, self.leave_action, self.stats_action,
                       self.settings_action, self.quit_action):
            self._room_menu.addAction(action)
        self._language_menu = self.menuBar().addMenu("")
        group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        for code, label in i18n.LANGUAGES.items():
            action = QAction(label, self, checkable=True)
            action.setChecked(code == i18n.current_language())
            action.triggered.connect(lambda _=False, c=code: self.set_language(c))
            group.addAction(action)
            self._language_menu.addAction(action)
            self.language_actions[code] = action

    def set_language(self, code: str) -> None:
        """Switch the interface language now."""
        used = i18n.install_language(code)
        self.settings.language = used
        for name, action in self.language_actions.items():
            action.setChecked(name == used)
        self.form.show_font_hint(missing_font_hint(used))

    def changeEvent(self, event: QEvent) -> None:
        """Retranslate when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        in_call = self.session is not None
        if self.session is None:
            self.setWindowTitle(self.tr("roomcall"))
        else:
            self.setWindowTitle(self.tr("roomcall: {room}").format(
                room=self.panel.title.text()))  # the room's name as typed, not its id
        self._room_menu.setTitle(self.tr("&Room"))
        self._language_menu.setTitle(self.tr("&Language"))
        self.invite_action.setText(self.tr("&Invite…"))
        self.leave_action.setText(self.tr("L&eave"))
        self.settings_action.setText(self.tr("&Settings…"))
        self.stats_action.setText(self.tr("Call s&tatistics…"))
        self.stats_button.setText(self.tr("Statistics"))
        self.stats_button.setToolTip(self.tr("Figures of every track, to attach to a bug "
                                             "report"))
        self.quit_action.setText(self.tr("&Quit"))
        self.invite_action.setEnabled(
            in_call and getattr(self.session.client if self.session else None,
                                "permission", None) == "admin")
        self.leave_action.setEnabled(in_call)
        self.stats_action.setEnabled(in_call)
