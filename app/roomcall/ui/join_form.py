"""The first page: start a room on this computer, or join one with an invite link."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)


class JoinForm(QWidget):
    """Name, then either "Start a room" (embedded server) or "Join" (link or URL + token).

    Signals:
        host_requested(name, room, accept_network_guests)
        join_requested(name, address, token)
    """

    host_requested = Signal(str, str, bool)
    join_requested = Signal(str, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel(self)
        self.heading.setStyleSheet("font-size:22px; font-weight:bold;")
        self.subheading = QLabel(self)
        self.subheading.setWordWrap(True)
        self.notice = QLabel(self)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background:#fff4d6; color:#5a4300; border:1px solid #e0a526;"
                                  "border-radius:6px; padding:8px;")
        self.notice.hide()
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("background:#fde8e7; color:#8a1f1a; border:1px solid #d9453f;"
                                 "border-radius:6px; padding:8px;")
        self.error.hide()
        self.font_hint = QLabel(self)
        self.font_hint.setWordWrap(True)
        self.font_hint.setStyleSheet("color:#8a5a00;")
        self.font_hint.hide()
        for label in (self.subheading, self.notice, self.error, self.font_hint):
            # A long text (an address without spaces) wraps within the column, never
            # widening the window past the screen.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.name_edit = QLineEdit(self)
        self.name_edit.setMaxLength(64)
        self._name_label = QLabel(self)

        self.host_box = QGroupBox(self)
        self.room_edit = QLineEdit(self.host_box)
        self.room_edit.setMaxLength(64)
        self.network_check = QCheckBox(self.host_box)
        self.host_button = QPushButton(self.host_box)
        self.host_button.setDefault(True)
        self._room_label = QLabel(self.host_box)
        host_form = QFormLayout(self.host_box)
        host_form.addRow(self._room_label, self.room_edit)
        host_form.addRow(self.network_check)
        host_form.addRow(self.host_button)

        self.join_box = QGroupBox(self)
        self.address_edit = QLineEdit(self.join_box)
        self.token_edit = QLineEdit(self.join_box)
        self.join_button = QPushButton(self.join_box)
        self._address_label = QLabel(self.join_box)
        self._token_label = QLabel(self.join_box)
        join_form = QFormLayout(self.join_box)
        join_form.addRow(self._address_label, self.address_edit)
        join_form.addRow(self._token_label, self.token_edit)
        join_form.addRow(self.join_button)

        self.synthetic_check = QCheckBox(self)
        self.synthetic_check.hide()

        name_row = QHBoxLayout()
        name_row.addWidget(self._name_label)
        name_row.addWidget(self.name_edit, 1)
        boxes = QHBoxLayout()
        boxes.addWidget(self.host_box, 1)
        boxes.addWidget(self.join_box, 1)
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(self.heading)
        column.addWidget(self.subheading)
        column.addSpacing(8)
        column.addWidget(self.font_hint)
        column.addWidget(self.notice)
        column.addWidget(self.error)
        column.addLayout(name_row)
        column.addLayout(boxes)
        column.addWidget(self.synthetic_check)
        column.addStretch(2)
        content = QWidget(self)
        content.setLayout(column)
        content.setMaximumWidth(860)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(content, 6)
        outer.addStretch(1)

        self.host_button.clicked.connect(self._host)
        self.room_edit.returnPressed.connect(self._host)
        self.join_button.clicked.connect(self._join)
        self.address_edit.returnPressed.connect(self._join)
        self.token_edit.returnPressed.connect(self._join)
        self._retranslate()

    # --- what the window tells it ---------------------------------------------------------

    def show_error(self, text: str) -> None:
        """Show ``text`` as the reason the last attempt failed ("" hides it)."""
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def show_notice(self, text: str) -> None:
        """Show ``text`` as news about the last call, e.g. that the host removed you."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def show_font_hint(self, text: str) -> None:
        """Say which font to install for the chosen language ("" hides it)."""
        self.font_hint.setText(text)
        self.font_hint.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        """Disable the buttons while an attempt runs."""
        self.host_button.setEnabled(not busy)
        self.join_button.setEnabled(not busy)

    def set_hosting_available(self, available: bool) -> None:
        """Hide "Start a room" when this app was pointed at another server."""
        self.host_box.setVisible(available)

    def prefill(self, address: str = "", token: str = "") -> None:
        """Put an invite link or server URL (and token) into the join fields."""
        self.address_edit.setText(address)
        self.token_edit.setText(token)

    def offer_synthetic_media(self, offer: bool) -> None:
        """Show the "use a test pattern" choice (there is no camera)."""
        self.synthetic_check.setVisible(offer)

    @property
    def display_name(self) -> str:
        """The name typed, or a default."""
        return self.name_edit.text().strip() or self.tr("Guest")

    # --- Qt --------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        """Retranslate when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self.heading.setText(self.tr("roomcall"))
        self.subheading.setText(self.tr(
            "Start a room on this computer and invite people, or join a room with the invite "
            "link you were sent."))
        self._name_label.setText(self.tr("Your name"))
        self.name_edit.setPlaceholderText(self.tr("How others will see you"))
        self.host_box.setTitle(self.tr("Start a room"))
        self._room_label.setText(self.tr("Room name"))
        self.room_edit.setPlaceholderText(self.tr("e.g. Team sync"))
        self.network_check.setText(self.tr("Accept guests from other computers on the network"))
        self.host_button.setText(self.tr("Start room"))
        self.join_box.setTitle(self.tr("Join a room"))
        self._address_label.setText(self.tr("Invite link"))
        self.address_edit.setPlaceholderText(self.tr("roomcall://… or ws://host:port"))
        self._token_label.setText(self.tr("Token"))
        self.token_edit.setPlaceholderText(self.tr("Only needed with a server address"))
        self.join_button.setText(self.tr("Join"))
        self.synthetic_check.setText(self.tr("No camera found: send a test pattern instead"))

    def _host(self) -> None:
        self.show_error("")
        self.host_requested.emit(self.display_name, self.room_edit.text().strip(),
                                 self.network_check.isChecked())

    def _join(self) -> None:
        self.show_error("")
        self.join_requested.emit(self.display_name, self.address_edit.text().strip(),
                                 self.token_edit.text().strip())

