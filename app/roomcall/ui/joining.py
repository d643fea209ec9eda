"""The way into a call and out of it, as the window walks it.

In: a link from the join form (or ``--join``) opens the pre-join screen; "Join now" redeems
a room link with the name typed (presenting the token this app got from the same link
before, so the person comes back as the same member) and joins. Out: a host who leaves or
closes the window with others in the call is asked whether to end it for everyone or hand
the host role over.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtGui import QFileOpenEvent

from roomcall.sdk.invites import InviteLinkError, peek_invite, redeem_invite
from roomcall.sdk.state import JoinError
from roomcall.ui import invite as links
from roomcall.ui.device_names import device_choices
from roomcall.ui.end_call import END_FOR_EVERYONE, HAND_OVER, Prompt, ask_host_leaving
from roomcall.ui.errors import describe_error
from roomcall.ui.room_view import display_name, is_admin

if TYPE_CHECKING:
    from roomcall.ui.call_session import CallSession
    from roomcall.ui.window import MainWindow

log = logging.getLogger(__name__)

DEVICE_KINDS = ("camera", "microphone", "speaker")


class Joining(QObject):
    """The window's pre-join screen, invite redemption and the host's leaving questions."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.last_room = ""
        """The display name of the room this window hosted last (Start room goes back)."""
        self.ask_before_closing = True
        """False once the OS asked the app to quit: nobody is there to answer."""
        self.prompt: Prompt | None = None
        """The question shown now (for tests to answer), or None."""
        self._pending: tuple[str, str] | None = None
        prejoin = window.prejoin
        prejoin.join_requested.connect(lambda: window.spawn(self.join_from_prejoin()))
        prejoin.back_requested.connect(lambda: window.spawn(self.back()))
        prejoin.device_chosen.connect(self._prejoin_device)
        panel = window.panel
        for kind, signal in (("camera", panel.camera_chosen),
                             ("microphone", panel.microphone_chosen),
                             ("speaker", panel.speaker_chosen)):
            signal.connect(lambda device_id, k=kind: window.settings.set_device(k, device_id))
        self.show_devices()

    # --- devices --------------------------------------------------------------------------

    def show_devices(self) -> None:
        """Fill the panel's and the pre-join screen's pickers, the remembered ones chosen."""
        w = self.window
        lists = {"camera": w.devices.cameras, "microphone": w.devices.microphones,
                 "speaker": w.devices.speakers}
        choices = {kind: device_choices(found) for kind, found in lists.items()}
        chosen = {kind: w.settings.device(kind) for kind in DEVICE_KINDS}
        for kind, picker in zip(DEVICE_KINDS, (w.panel.camera_picker, w.panel.microphone_picker,
                                              w.panel.speaker_picker), strict=True):
            w.panel.set_devices(picker, choices[kind], chosen[kind] or None)
        w.prejoin.set_devices(w.devices, choices, chosen)

    def _prejoin_device(self, kind: str, device_id: str) -> None:
        w = self.window
        w.settings.set_device(kind, device_id)
        picker = {"camera": w.panel.camera_picker, "microphone": w.panel.microphone_picker,
                  "speaker": w.panel.speaker_picker}[kind]
        index = picker.findData(device_id)
        if index >= 0:
            picker.setCurrentIndex(index)
        if kind != "speaker" and w.prejoin.previewing:
            w.spawn(w.prejoin.open_preview(w.prejoin.display_name, synthetic=self.synthetic))

    @property
    def synthetic(self) -> bool:
        """True when a test pattern and tone stand in for the devices."""
        return self.window.options.synthetic_media or self.window.form.synthetic_check.isChecked()

    # --- in -------------------------------------------------------------------------------

    async def open_prejoin(self, address: str, token: str = "") -> bool:
        """Show the pre-join screen for an invite link (or server URL and token); False (and
        why, on the form) when the link is unusable."""
        w = self.window
        w.form.show_error("")
        try:
            invite = links.resolve_join(address, token)
        except links.InviteError as exc:
            w.form.show_error(invite_error_text(exc))
            return False
        name = w.form.name_edit.text().strip()
        if invite.needs_redemption:
            try:
                details = await peek_invite(address)
            except JoinError as exc:
                w.form.show_error(describe_error(exc.code, invite.server_url))
                return False
            except InviteLinkError:
                w.form.show_error(invite_error_text(links.InviteError("", links.DAMAGED)))
                return False
            if details.personal and details.name:
                name = details.name
            room = self.tr("You are invited to the room {room}.").format(room=details.room)
        else:
            room = self.tr("You are joining the room {room}.").format(
                room=invite.room or invite.server_url)
        self._pending = (address.strip(), token.strip())
        prejoin = w.prejoin
        prejoin.name_edit.setText(name)
        prejoin.set_room(room)
        prejoin.show_error("")
        w.pages.setCurrentWidget(prejoin)
        prejoin.name_edit.setFocus()
        log.info("pre-join screen for a link to %s", invite.server_url)
        await prejoin.open_preview(prejoin.display_name, synthetic=self.synthetic)
        return True

    async def join_from_prejoin(self) -> bool:
        """"Join now": close the preview and join as the name typed."""
        w = self.window
        if self._pending is None or w.session is not None:
            return False
        address, token = self._pending
        name = w.prejoin.display_name
        w.form.name_edit.setText(name)
        w.prejoin.set_busy(True)
        try:
            await w.prejoin.close_preview()
            joined = await w.join_room(name, address, token)
        finally:
            w.prejoin.set_busy(False)
        if not joined and w.session is None:
            w.pages.setCurrentWidget(w.form)
        return joined

    async def back(self) -> None:
        """Back to the first page."""
        await self.window.prejoin.close_preview()
        self.window.pages.setCurrentWidget(self.window.form)

    async def resolve(self, name: str, address: str, token: str) -> tuple[str, str]:
        """``(server_url, token)`` to join with; a room link is redeemed as ``name``. On a
        failure the form says why and the token is ""."""
        w = self.window
        try:
            invite = links.resolve_join(address, token)
        except links.InviteError as exc:
            w.form.show_error(invite_error_text(exc))
            return "", ""
        if not invite.needs_redemption:
            return invite.server_url, invite.token
        link = address.strip()
        try:
            server_url, room_token = await redeem_invite(
                link, name, previous_token=w.settings.invite_token(link))
        except JoinError as exc:
            w.form.show_error(describe_error(exc.code, invite.server_url))
            return "", ""
        w.settings.set_invite_token(link, room_token)
        return server_url, room_token

    def hosting(self, title: str) -> None:
        """The window hosts ``title`` now: Start room offers it again later."""
        self.last_room = title
        self.window.form.room_edit.setText(title)

    # --- out ------------------------------------------------------------------------------

    def request_leave(self) -> None:
        """Leave pressed: a host with others in the call is asked first."""
        w = self.window
        session = w.session
        if session is None:
            return
        if not _hosts_others(session):
            w.spawn(session.leave())
            return
        successor = _successor(session)
        self.prompt = ask_host_leaving(
            w, closing=False, successor=successor[1] if successor else None,
            answered=lambda choice: self._left(session, choice, successor))

    def _left(self, session: CallSession, choice: str, successor: tuple[str, str] | None) -> None:
        self.prompt = None
        if choice == END_FOR_EVERYONE:
            self.window.spawn(session.end_for_everyone())
        elif choice == HAND_OVER and successor is not None:
            self.window.spawn(session.hand_over_and_leave(successor[0]))

    def request_close(self) -> None:
        """The window is closing: a host with others in the call is asked first (unless the
        OS asked: then the call ends for everyone)."""
        w = self.window
        session = w.session
        if session is None or not _hosts_others(session):
            w.shut_down()
            return
        if not self.ask_before_closing:
            w.shut_down(end_call=True)
            return
        if self.prompt is not None:
            self.prompt.raise_()
            return
        # A room on this window's own server cannot outlive the window.
        successor = None if w.hosts_embedded_room else _successor(session)
        self.prompt = ask_host_leaving(
            w, closing=True, successor=successor[1] if successor else None,
            answered=lambda choice: self._closed(choice, successor))

    def _closed(self, choice: str, successor: tuple[str, str] | None) -> None:
        self.prompt = None
        if choice == END_FOR_EVERYONE:
            self.window.shut_down(end_call=True)
        elif choice == HAND_OVER and successor is not None:
            self.window.shut_down(successor=successor[0])


class LinkOpener(QObject):
    """macOS hands a clicked ``roomcall://`` link (``CFBundleURLTypes`` in Info.plist) to the
    running app as a ``QFileOpenEvent``: open the pre-join screen for it. Install it on the
    application with ``installEventFilter``."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Take ``roomcall://`` open events; pass everything else on."""
        if isinstance(event, QFileOpenEvent) and event.url().scheme() == links.SCHEME:
            self._window.spawn(self._window.joining.open_prejoin(event.url().toString()))
            return True
        return super().eventFilter(watched, event)


def _hosts_others(session: CallSession) -> bool:
    client: Any = session.client
    return client.permission == "admin" and bool(client.remote_users)


def _successor(session: CallSession) -> tuple[str, str] | None:
    """``(user_id, name)`` of the member who would take over as host, or None."""
    for user in session.client.remote_users:
        if not is_admin(user):
            return user.user_id, display_name(user, user.user_id)
    return None


def invite_error_text(error: links.InviteError) -> str:
    """What is wrong with the text in the join form, precisely."""
    tr = QCoreApplication
    if error.reason == links.NO_PORT:
        return tr.translate("Joining", "This link has no port. Invite links look like "
                            "roomcall://host:port/r/code: ask the host to copy the whole link "
                            "again.")
    if error.reason == links.DAMAGED:
        return tr.translate("Joining", "This invite link is damaged or incomplete. Ask the "
                            "host to copy it again.")
    if error.reason == links.NO_TOKEN:
        return tr.translate("Joining", "A server address needs a token: paste the token the "
                            "host gave you into Token, or paste the invite link (roomcall://…) "
                            "instead.")
    if error.reason == links.BAD_ADDRESS:
        return tr.translate("Joining", "The server address must look like ws://host:port.")
    return tr.translate("Joining", "Paste the invite link you were sent (it starts with "
                        "roomcall://), or a server address and a token.")
