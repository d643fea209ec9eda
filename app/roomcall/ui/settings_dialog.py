"""The Settings dialog: the person's own STUN/TURN servers."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QLocale, QModelIndex, QPersistentModelIndex
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from roomcall.ui.ice_servers import IceServer


class _SecretDelegate(QStyledItemDelegate):
    """Shows a credential as dots and edits it in a password field."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        """A line edit that echoes dots."""
        editor = QLineEdit(parent)
        editor.setEchoMode(QLineEdit.EchoMode.Password)
        return editor

    def displayText(self, value: object, locale: QLocale | QLocale.Language) -> str:
        """One dot per character."""
        return "•" * len(str(value or ""))


class SettingsDialog(QDialog):
    """Edits a list of :class:`IceServer`; :attr:`servers` holds the result once accepted.

    Rows left empty are dropped; OK is refused (with the reason shown) while a row cannot be
    used.
    """

    def __init__(self, servers: Sequence[IceServer], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.servers = list(servers)
        """The servers as the dialog was last accepted with."""
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(640)
        intro = QLabel(self.tr(
            "Calls connect directly between computers. Where a network blocks that, a relay "
            "(TURN) server carries the media. Add STUN and TURN servers of your own here; "
            "with none, roomcall uses those the room server provides. For a coturn of your "
            "own, leave Username empty and enter its static-auth-secret as the Credential. "
            "Rooms you host give your guests these STUN servers and the coturn ones (with "
            "passwords made for each guest), never a TURN password of yours. Changes apply "
            "to the next call."), self)
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(
            [self.tr("URL"), self.tr("Username"), self.tr("Credential")])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._secret = _SecretDelegate(self.table)
        self.table.setItemDelegateForColumn(2, self._secret)
        for server in servers:
            self.add_row(server)
        self.add_button = QPushButton(self.tr("Add server"), self)
        self.remove_button = QPushButton(self.tr("Remove"), self)
        self.add_button.clicked.connect(lambda: self.add_row(IceServer("")))
        self.remove_button.clicked.connect(self._remove_selected)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color:#c0392b;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def add_row(self, server: IceServer) -> int:
        """Append a row showing ``server``; its index."""
        index = self.table.rowCount()
        self.table.insertRow(index)
        for column, text in enumerate((server.url, server.username, server.credential)):
            self.table.setItem(index, column, QTableWidgetItem(text))
        return index

    def entered(self) -> list[IceServer]:
        """The servers in the table as typed (empty rows left out)."""
        servers = []
        for index in range(self.table.rowCount()):
            cells = [self.table.item(index, column) for column in range(3)]
            url, username, credential = (c.text().strip() if c is not None else ""
                                         for c in cells)
            if url or username or credential:
                servers.append(IceServer(url, username, credential))
        return servers

    def accept(self) -> None:
        """Keep the entered servers, unless one cannot be used (then say why)."""
        servers = self.entered()
        problems = [p for p in (s.problem() for s in servers) if p is not None]
        if problems:
            self.error.setText(problems[0])
            return
        self.error.clear()
        self.servers = servers
        super().accept()

    def _remove_selected(self) -> None:
        for index in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(index)
