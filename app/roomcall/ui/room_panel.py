"""The room panel: connection state, Leave, members with Kick, media toggles, devices, chat."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from roomcall.media.screen_targets import ShareTarget
from roomcall.sdk import PeerState
from roomcall.ui.chat import ChatView
from roomcall.ui.elided_label import ElidedLabel
from roomcall.ui.room_view import RoomView, display_name, is_admin, state_name
from roomcall.ui.share_picker import ShareBanner

_STATE_COLOURS = {
    "CONNECTED": "#2fa57a",
    "RECONNECTED": "#2fa57a",
    "CONNECTING": "#e0a526",
    "RECONNECTING": "#e0a526",
    "DISCONNECTED": "#9a9a9a",
}


class MemberRow(QWidget):
    """One member in the list: a speaking mark, name (elided), host badge, "sharing screen",
    state, and the host's Make host and Kick buttons (absent for everyone but the host)."""

    def __init__(self, user_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.user_id = user_id
        self.speaking = False
        """Whether the speaking mark is lit."""
        self.sharing = False
        """Whether the member shares a screen."""
        self.speaking_mark = QLabel("●", self)
        self.speaking_mark.setFixedWidth(14)
        self.speaking_mark.setStyleSheet("color:transparent;")
        self.sharing_label = QLabel("▣", self)
        """A screen mark while the member shares (its tooltip says so in words)."""
        self.sharing_label.setStyleSheet("color:#4f7cff; font-weight:bold;")
        self.sharing_label.hide()
        self.name_label = ElidedLabel("", self)
        self.badge = QLabel(self)
        self.badge.setStyleSheet("background:#e0a526; color:#1b1b1b; border-radius:4px;"
                                 "padding:0 4px; font-size:10px; font-weight:bold;")
        self.status = QLabel(self)
        self.status.setStyleSheet("color:#e0a526;")
        self.media_status = QLabel(self)
        """What is wrong with the media path to this member ("" while it is fine)."""
        self.peer_state: PeerState | None = None
        self.kick_button = QPushButton(self)
        self.host_button = QPushButton(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.speaking_mark)
        layout.addWidget(self.name_label, 1)
        layout.addWidget(self.sharing_label)
        layout.addWidget(self.status)
        layout.addWidget(self.media_status)
        layout.addWidget(self.badge)
        layout.addWidget(self.host_button)
        layout.addWidget(self.kick_button)


class RoomPanel(QWidget):
    """Shows the room as the SDK knows it; every button only emits a request.

    Signals:
        leave_requested()
        invite_requested()
        kick_requested(user_id)
        make_host_requested(user_id)
        microphone_toggled(on)
        camera_toggled(on)
        camera_chosen(device_id)
        microphone_chosen(device_id)
        speaker_chosen(device_id)
        share_requested(): Share screen was pressed (the session opens the picker)
        stop_share_requested(): the sharing banner's Stop was pressed
        chat_send(text)
    """

    leave_requested = Signal()
    invite_requested = Signal()
    kick_requested = Signal(str)
    make_host_requested = Signal(str)
    microphone_toggled = Signal(bool)
    camera_toggled = Signal(bool)
    camera_chosen = Signal(str)
    microphone_chosen = Signal(str)
    speaker_chosen = Signal(str)
    share_requested = Signal()
    stop_share_requested = Signal()
    chat_send = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(300)
        self.setMaximumWidth(380)
        self._room_name = ""
        self._state = "DISCONNECTED"
        self._rows: dict[str, MemberRow] = {}
        self._local_admin = False
        self._local_name = ""
        self._local_id = ""

        self.title = QLabel(self)
        self.title.setStyleSheet("font-size:16px; font-weight:bold;")
        self.state_label = QLabel(self)
        self.microphone_button = QPushButton(self)
        self.camera_button = QPushButton(self)
        for button in (self.microphone_button, self.camera_button):
            button.setCheckable(True)
            button.setChecked(True)
        self.invite_button = QPushButton(self)
        self.leave_button = QPushButton(self)
        self.leave_button.setStyleSheet(
            "QPushButton { background:#d9453f; color:white; border-radius:4px; padding:4px 10px; }"
            "QPushButton:disabled { background:#999; }")

        buttons = QHBoxLayout()
        for button in (self.microphone_button, self.camera_button, self.invite_button,
                       self.leave_button):
            buttons.addWidget(button)
        self.share_button = QPushButton(self)
        self.share_banner = ShareBanner(self)
        self.share_banner.hide()

        self.members_box = QGroupBox(self)
        self._members_layout = QVBoxLayout()
        self._members_layout.setContentsMargins(0, 0, 0, 0)
        self._members_layout.setSpacing(0)
        self._members_layout.addStretch(1)
        members_widget = QWidget()
        members_widget.setLayout(self._members_layout)
        scroll = QScrollArea(self.members_box)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(members_widget)
        QVBoxLayout(self.members_box).addWidget(scroll)

        self.devices_box = QGroupBox(self)
        self.camera_picker = QComboBox(self)
        self.microphone_picker = QComboBox(self)
        self.speaker_picker = QComboBox(self)
        self._devices_form = QFormLayout(self.devices_box)
        self._device_labels = [QLabel(self), QLabel(self), QLabel(self)]
        for label, picker in zip(self._device_labels, (self.camera_picker,
                                 self.microphone_picker, self.speaker_picker), strict=True):
            picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            picker.setMinimumContentsLength(12)
            self._devices_form.addRow(label, picker)

        self.chat_box = QGroupBox(self)
        self.chat = ChatView(self.chat_box)
        QVBoxLayout(self.chat_box).addWidget(self.chat)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.state_label)
        layout.addLayout(buttons)
        layout.addWidget(self.share_button)
        layout.addWidget(self.share_banner)
        layout.addWidget(self.members_box, 2)
        layout.addWidget(self.devices_box)
        layout.addWidget(self.chat_box, 3)

        self.leave_button.clicked.connect(self.leave_requested)
        self.invite_button.clicked.connect(self.invite_requested)
        self.microphone_button.toggled.connect(self._microphone_toggled)
        self.camera_button.toggled.connect(self._camera_toggled)
        self.chat.send_requested.connect(self.chat_send)
        self.share_button.clicked.connect(self.share_requested)
        self.share_banner.stop_requested.connect(self.stop_share_requested)
        self.camera_picker.activated.connect(
            lambda i: self.camera_chosen.emit(str(self.camera_picker.itemData(i) or "")))
        self.microphone_picker.activated.connect(
            lambda i: self.microphone_chosen.emit(str(self.microphone_picker.itemData(i) or "")))
        self.speaker_picker.activated.connect(
            lambda i: self.speaker_chosen.emit(str(self.speaker_picker.itemData(i) or "")))
        self._retranslate()

    # --- fed from the SDK (through the window) ---------------------------------------------

    def set_room_name(self, name: str) -> None:
        """The room's name, shown as the title."""
        self._room_name = name
        self._retranslate()

    def show_state(self, state: object) -> None:
        """Show the connection state; Leave is enabled while connected or trying to be."""
        self._state = state_name(state)
        self.leave_button.setEnabled(self._state != "DISCONNECTED")
        self.share_button.setEnabled(self._state in ("CONNECTED", "RECONNECTED"))
        self._retranslate()

    def refresh_members(self, room: RoomView) -> None:
        """Rebuild the member list from the SDK: the local member first, then remote ones."""
        self._local_admin = room.permission == "admin"
        self._local_id = room.user_id or ""
        wanted = [(room.user_id or "", None)] + [(u.user_id, u) for u in room.remote_users]
        ids = [user_id for user_id, _ in wanted]
        for user_id in list(self._rows):
            if user_id not in ids:
                row = self._rows.pop(user_id)
                self._members_layout.removeWidget(row)
                row.deleteLater()
        for index, (user_id, user) in enumerate(wanted):
            found = self._rows.get(user_id)
            if found is None:
                row = MemberRow(user_id)
                row.kick_button.clicked.connect(
                    lambda _=False, uid=user_id: self.kick_requested.emit(uid))
                row.host_button.clicked.connect(
                    lambda _=False, uid=user_id: self.make_host_requested.emit(uid))
                self._rows[user_id] = row
                self._members_layout.insertWidget(index, row)
                row.show()  # a layout shows new children only at the next event loop turn
            else:
                row = found
            local = user is None
            if local:
                row.name_label.setText(self.tr("{name} (you)").format(name=self._local_name))
                row.badge.setVisible(self._local_admin)
                row.kick_button.setVisible(False)
                row.host_button.setVisible(False)
            else:
                row.name_label.setText(display_name(user, user_id))
                row.badge.setVisible(is_admin(user))
                # Only the host sees Kick and Make host, and never on another admin's row.
                hostable = self._local_admin and not is_admin(user)
                row.kick_button.setVisible(hostable)
                row.host_button.setVisible(hostable)
            row.badge.setText(self.tr("HOST"))
            row.kick_button.setText(self.tr("Kick"))
            row.host_button.setText(self.tr("Make host"))
            row.name_label.setToolTip(user_id)
            self._retranslate_row(row)
        self.invite_button.setVisible(self._local_admin)

    def set_local_name(self, name: str) -> None:
        """The local person's display name."""
        self._local_name = name

    def set_member_status(self, user_id: str, text: str) -> None:
        """A short status next to a member (e.g. "reconnecting"), "" to clear."""
        row = self._rows.get(user_id)
        if row is not None:
            row.status.setText(text)

    def set_member_peer_state(self, user_id: str, state: PeerState | None) -> None:
        """The media path to ``user_id`` (``peer_state_changed``): the row says when it is
        being recovered or cannot connect."""
        row = self._rows.get(user_id)
        if row is not None:
            row.peer_state = state
            self._show_peer_state(row)

    def set_member_sharing(self, user_id: str, sharing: bool) -> None:
        """Whether ``user_id`` shares a screen now (the row says so)."""
        row = self._rows.get(user_id)
        if row is not None:
            row.sharing = sharing
            row.sharing_label.setVisible(sharing)

    def set_member_speaking(self, user_id: str, speaking: bool) -> None:
        """Whether ``user_id`` speaks now (the row's mark lights up)."""
        row = self._rows.get(user_id)
        if row is not None and row.speaking != speaking:
            row.speaking = speaking
            row.speaking_mark.setStyleSheet(
                "color:#3ddc84;" if speaking else "color:transparent;")
            self._retranslate_row(row)

    def clear_members(self) -> None:
        """Empty the list (the call ended)."""
        for row in self._rows.values():
            self._members_layout.removeWidget(row)
            row.deleteLater()
        self._rows.clear()

    def member_row(self, user_id: str) -> MemberRow | None:
        """The list row of ``user_id``, or None."""
        return self._rows.get(user_id)

    def member_ids(self) -> list[str]:
        """User ids listed, in order."""
        return list(self._rows)

    def set_devices(self, picker: QComboBox, devices: Sequence[tuple[str, str]],
                    current: str | None = None) -> None:
        """Fill ``picker`` with ``(device_id, label)`` pairs."""
        picker.clear()
        for device_id, label in devices:
            picker.addItem(label, device_id)
        if not devices:
            picker.addItem(self.tr("None found"), "")
            picker.setEnabled(False)
        else:
            picker.setEnabled(True)
        if current is not None:
            index = picker.findData(current)
            if index >= 0:
                picker.setCurrentIndex(index)

    def set_media_state(self, *, microphone: bool | None = None, camera: bool | None = None,
                        camera_available: bool | None = None,
                        microphone_available: bool | None = None) -> None:
        """Reflect whether the microphone / camera send (without emitting toggles)."""
        for button, on, available in ((self.microphone_button, microphone, microphone_available),
                                      (self.camera_button, camera, camera_available)):
            if on is not None:
                button.blockSignals(True)
                button.setChecked(on)
                button.blockSignals(False)
            if available is not None:
                button.setEnabled(available)
        self._retranslate()

    def set_sharing(self, target: ShareTarget | None) -> None:
        """While ``target`` is shared the banner (with Stop) replaces Share screen."""
        if target is not None:
            self.share_banner.show_target(target)
        self.share_banner.setVisible(target is not None)
        self.share_button.setVisible(target is None)

    # --- Qt --------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        """Retranslate when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _microphone_toggled(self, on: bool) -> None:
        self._retranslate()
        self.microphone_toggled.emit(on)

    def _camera_toggled(self, on: bool) -> None:
        self._retranslate()
        self.camera_toggled.emit(on)

    def _show_peer_state(self, row: MemberRow) -> None:
        if row.peer_state is PeerState.FAILED:
            row.media_status.setText(self.tr("Can't connect video"))
            row.media_status.setToolTip(self.tr(
                "Their network or yours blocks direct calls; the server needs a relay "
                "(TURN) — see Settings."))
            row.media_status.setStyleSheet("color:#d9453f;")
        elif row.peer_state is PeerState.RECOVERING:
            row.media_status.setText(self.tr("Reconnecting video…"))
            row.media_status.setToolTip("")
            row.media_status.setStyleSheet("color:#e0a526;")
        else:
            row.media_status.setText("")
            row.media_status.setToolTip("")

    def _retranslate_row(self, row: MemberRow) -> None:
        row.sharing_label.setToolTip(self.tr("Sharing screen"))
        row.sharing_label.setAccessibleName(self.tr("Sharing screen"))
        row.speaking_mark.setToolTip(self.tr("Speaking"))
        row.speaking_mark.setAccessibleName(self.tr("Speaking") if row.speaking else "")

    def _retranslate(self) -> None:
        self.title.setText(self._room_name or self.tr("Room"))
        texts = {
            "CONNECTED": self.tr("Connected"),
            "RECONNECTED": self.tr("Connected"),
            "CONNECTING": self.tr("Connecting…"),
            "RECONNECTING": self.tr("Connection lost, reconnecting…"),
            "DISCONNECTED": self.tr("Not connected"),
        }
        colour = _STATE_COLOURS.get(self._state, "#9a9a9a")
        self.state_label.setText(
            f'<span style="color:{colour}">●</span> {texts.get(self._state, self._state)}')
        self.state_label.setTextFormat(Qt.TextFormat.RichText)
        self.microphone_button.setText(
            self.tr("Mic on") if self.microphone_button.isChecked() else self.tr("Mic off"))
        self.camera_button.setText(
            self.tr("Camera on") if self.camera_button.isChecked() else self.tr("Camera off"))
        self.invite_button.setText(self.tr("Invite…"))
        self.share_button.setText(self.tr("Share screen…"))
        self.leave_button.setText(self.tr("Leave"))
        self.members_box.setTitle(self.tr("People"))
        self.devices_box.setTitle(self.tr("Devices"))
        self.chat_box.setTitle(self.tr("Chat"))
        for label, text in zip(self._device_labels, (self.tr("Camera"), self.tr("Microphone"),
                               self.tr("Speaker")), strict=True):
            label.setText(text)
        for picker in (self.camera_picker, self.microphone_picker, self.speaker_picker):
            if not picker.isEnabled() and picker.count() == 1 and not picker.itemData(0):
                picker.setItemText(0, self.tr("None found"))
        for user_id, row in self._rows.items():
            self._show_peer_state(row)
            self._retranslate_row(row)
            row.badge.setText(self.tr("HOST"))
            row.kick_button.setText(self.tr("Kick"))
            row.host_button.setText(self.tr("Make host"))
            if user_id == self._local_id:
                row.name_label.setText(self.tr("{name} (you)").format(name=self._local_name))
