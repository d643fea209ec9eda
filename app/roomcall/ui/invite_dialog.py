"""The host's Invite dialog: a guest's name in, a copyable invite link out."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class InviteDialog(QDialog):
    """Mints an invite link for a named guest with ``make_link(guest_name)``.

    ``local_only`` adds a note that only this computer can reach the room.
    """

    def __init__(self, make_link: Callable[[str], str], *, local_only: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._make_link = make_link
        self.setWindowTitle(self.tr("Invite someone"))
        self.setMinimumWidth(520)
        self.guest_edit = QLineEdit(self)
        self.guest_edit.setPlaceholderText(self.tr("Guest's name"))
        self.create_button = QPushButton(self.tr("Create link"), self)
        self.link_edit = QLineEdit(self)
        self.link_edit.setReadOnly(True)
        self.copy_button = QPushButton(self.tr("Copy"), self)
        self.copy_button.setEnabled(False)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setText(self.tr(
            "The guest pastes the link into roomcall's join form, or runs "
            "roomcall --join LINK. It works for 24 hours."))
        self.local_note = QLabel(self)
        self.local_note.setWordWrap(True)
        self.local_note.setStyleSheet("color:#8a5a00;")
        self.local_note.setText(self.tr(
            "This room only accepts people on this computer. To invite people on other "
            "computers, leave and start the room again with \"Accept guests from other "
            "computers on the network\"."))
        self.local_note.setVisible(local_only)

        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.guest_edit, 1)
        row.addWidget(self.create_button)
        form.addRow(self.tr("Name"), row)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link_edit, 1)
        link_row.addWidget(self.copy_button)
        form.addRow(self.tr("Link"), link_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.local_note)
        layout.addWidget(buttons)

        self.create_button.clicked.connect(self.create_link)
        self.guest_edit.returnPressed.connect(self.create_link)
        self.copy_button.clicked.connect(self.copy_link)

    def create_link(self) -> str:
        """Mint and show a link for the name typed; returns it."""
        name = self.guest_edit.text().strip() or self.tr("Guest")
        link = self._make_link(name)
        self.link_edit.setText(link)
        self.link_edit.selectAll()
        self.copy_button.setEnabled(True)
        return link

    def copy_link(self) -> None:
        """Put the link on the clipboard."""
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.link_edit.text())
        self.copy_button.setText(self.tr("Copied"))
