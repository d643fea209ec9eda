"""The host's Invite dialog: a room link anyone can use, personal invites, the live links.

Links are made by the room server over the host's own connection (``create_invite``), so
any host makes them, also one who took over the role on someone else's server.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Iterable
from typing import Any, Protocol

from PySide6.QtCore import QEvent
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from roomcall.aio import TaskSet
from roomcall.ui.elided_label import ElidedLabel
from roomcall.ui.errors import describe_error

log = logging.getLogger(__name__)


class InviteMaker(Protocol):
    """The host's calls of ``RTCClient`` the dialog uses."""

    async def create_invite(self, *, name: str = "", personal: bool = False) -> Any: ...

    async def list_invites(self) -> list[Any]: ...

    async def revoke_invites(self, codes: Iterable[str] | None = None) -> None: ...


class LinkRow(QWidget):
    """One live link: what it is for, and its Revoke button."""

    def __init__(self, invite: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.invite = invite
        self.label = ElidedLabel("", self)
        self.revoke_button = QPushButton(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.revoke_button)
        self.retranslate()

    def retranslate(self) -> None:
        """Texts in the current language."""
        invite = self.invite
        until = datetime.datetime.fromtimestamp(invite.expires_at / 1000)
        if invite.user_id:
            what = self.tr("For {name}").format(name=invite.name)
        else:
            what = self.tr("Room link, used by {count}").format(count=invite.uses)
        self.label.setText(self.tr("{what}, until {time}").format(
            what=what, time=f"{until:%H:%M %d.%m.}"))
        self.label.setToolTip(invite.code)
        self.revoke_button.setText(self.tr("Revoke"))


class InviteDialog(QDialog):
    """Makes links with ``maker`` (the host's client); ``link_host`` is the address guests
    reach the server at (None: as the host's client reached it).

    ``local_only`` adds a note that only this computer can reach the room.
    """

    def __init__(self, maker: InviteMaker, *, link_host: str | None, local_only: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._maker = maker
        self._link_host = link_host
        self._tasks = TaskSet(log, "invite dialog")
        self.setMinimumWidth(560)
        self.setMaximumWidth(760)

        self.room_box = QGroupBox(self)
        self.room_hint = QLabel(self.room_box)
        self.room_hint.setWordWrap(True)
        self.room_button = QPushButton(self.room_box)
        room_layout = QVBoxLayout(self.room_box)
        room_layout.addWidget(self.room_hint)
        room_layout.addWidget(self.room_button)

        self.personal_box = QGroupBox(self)
        self.guest_edit = QLineEdit(self.personal_box)
        self.guest_edit.setMaxLength(64)
        self.personal_button = QPushButton(self.personal_box)
        personal_row = QHBoxLayout(self.personal_box)
        personal_row.addWidget(self.guest_edit, 1)
        personal_row.addWidget(self.personal_button)

        self.link_edit = QLineEdit(self)
        self.link_edit.setReadOnly(True)
        self.copy_button = QPushButton(self)
        self.copy_button.setEnabled(False)
        self.clipboard_state = QLabel(self)
        self.clipboard_state.setWordWrap(True)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link_edit, 1)
        link_row.addWidget(self.copy_button)

        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#8a1f1a;")
        self.error.hide()
        self.local_note = QLabel(self)
        self.local_note.setWordWrap(True)
        self.local_note.setStyleSheet("color:#8a5a00;")
        self.local_note.setVisible(local_only)

        self.live_box = QGroupBox(self)
        self._live_layout = QVBoxLayout(self.live_box)
        self.none_label = QLabel(self.live_box)
        self._live_layout.addWidget(self.none_label)
        self.revoke_all_button = QPushButton(self.live_box)
        self._live_layout.addWidget(self.revoke_all_button)
        self.rows: dict[str, LinkRow] = {}

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.room_box)
        layout.addWidget(self.personal_box)
        layout.addLayout(link_row)
        layout.addWidget(self.clipboard_state)
        layout.addWidget(self.error)
        layout.addWidget(self.local_note)
        layout.addWidget(self.live_box)
        layout.addWidget(buttons)

        self.room_button.clicked.connect(lambda: self._spawn(self.create_room_link()))
        self.personal_button.clicked.connect(lambda: self._spawn(self.create_personal_link()))
        self.guest_edit.returnPressed.connect(lambda: self._spawn(self.create_personal_link()))
        self.copy_button.clicked.connect(self.copy_link)
        self.revoke_all_button.clicked.connect(lambda: self._spawn(self.revoke(None)))
        clipboard = QGuiApplication.clipboard()
        clipboard.dataChanged.connect(self._show_clipboard_state)
        self.finished.connect(lambda _result: self._tasks.cancel())
        self._retranslate()
        self._spawn(self.refresh())

    # --- what the buttons do (awaitable, for tests) -----------------------------------------

    async def create_room_link(self) -> str:
        """Make a room link anyone can use, show it and copy it; returns it ("" on error)."""
        return await self._create(name="", personal=False)

    async def create_personal_link(self) -> str:
        """Make a link for the name typed, show it and copy it; returns it ("" on error)."""
        name = self.guest_edit.text().strip()
        if not name:
            self._show_error(self.tr("Type the name of the person you invite."))
            return ""
        return await self._create(name=name, personal=True)

    async def revoke(self, codes: list[str] | None) -> None:
        """Revoke these links (None: all of the room's), then list the live ones again."""
        try:
            await self._maker.revoke_invites(codes)
        except Exception as exc:
            self._show_error(describe_error(getattr(exc, "code", None)))
            return
        revoked = set(self.rows) if codes is None else set(codes)
        if self.current_code in revoked:
            self.link_edit.clear()
            self.copy_button.setEnabled(False)
            self._show_clipboard_state()
        await self.refresh()

    async def refresh(self) -> None:
        """List the room's live links."""
        try:
            invites = await self._maker.list_invites()
        except Exception as exc:
            self._show_error(describe_error(getattr(exc, "code", None)))
            return
        for row in self.rows.values():
            self._live_layout.removeWidget(row)
            row.deleteLater()
        self.rows = {}
        for invite in invites:
            row = LinkRow(invite, self.live_box)
            row.revoke_button.clicked.connect(
                lambda _=False, code=invite.code: self._spawn(self.revoke([code])))
            self._live_layout.insertWidget(self._live_layout.count() - 1, row)
            self.rows[invite.code] = row
        self.none_label.setVisible(not invites)
        self.revoke_all_button.setEnabled(bool(invites))

    def copy_link(self) -> None:
        """Put the link shown on the clipboard."""
        QGuiApplication.clipboard().setText(self.link_edit.text())
        self._show_clipboard_state()

    @property
    def current_code(self) -> str:
        """The code of the link shown ("" if none)."""
        return self._current_code

    @property
    def on_clipboard(self) -> bool:
        """True when the clipboard holds exactly the link shown."""
        link = self.link_edit.text()
        return bool(link) and QGuiApplication.clipboard().text() == link

    # --- inside -----------------------------------------------------------------------------

    _current_code = ""

    async def _create(self, *, name: str, personal: bool) -> str:
        self._show_error("")
        try:
            invite = await self._maker.create_invite(name=name, personal=personal)
        except Exception as exc:
            self._show_error(describe_error(getattr(exc, "code", None)))
            return ""
        link = str(invite.link(host=self._link_host))
        self._current_code = str(invite.code)
        self.link_edit.setText(link)
        self.link_edit.selectAll()
        self.copy_button.setEnabled(True)
        self.copy_link()
        await self.refresh()
        return link

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _show_clipboard_state(self) -> None:
        if not self.link_edit.text():
            self.clipboard_state.setText("")
        elif self.on_clipboard:
            self.clipboard_state.setText(self.tr("This link is on the clipboard."))
        else:
            self.clipboard_state.setText(self.tr("The clipboard holds something else: press "
                                                 "Copy to put this link there."))

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Future[Any]:
        return self._tasks.spawn(coro)

    def changeEvent(self, event: QEvent) -> None:
        """Retranslate when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self.setWindowTitle(self.tr("Invite people"))
        self.room_box.setTitle(self.tr("Room link"))
        self.room_hint.setText(self.tr(
            "Anyone with this link can join; each person types their own name. Send it to a "
            "group, or post it in a chat."))
        self.room_button.setText(self.tr("Create room link"))
        self.personal_box.setTitle(self.tr("Personal invite"))
        self.guest_edit.setPlaceholderText(self.tr("Name of the person you invite"))
        self.personal_button.setText(self.tr("Create personal link"))
        self.copy_button.setText(self.tr("Copy"))
        self.local_note.setText(self.tr(
            "This room only accepts people on this computer. To invite people on other "
            "computers, leave and start the room again with \"Accept guests from other "
            "computers on the network\"."))
        self.live_box.setTitle(self.tr("Links that work now"))
        self.none_label.setText(self.tr("None yet."))
        self.revoke_all_button.setText(self.tr("Revoke all links"))
        for row in self.rows.values():
            row.retranslate()
        self._show_clipboard_state()
