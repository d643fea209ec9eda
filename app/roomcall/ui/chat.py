"""Text chat over the room's custom messages.

A chat line travels as a custom message whose content is ``{"chat": text}`` in JSON, so it can
never be mistaken for a control message such as ``kickOut``. The host tells each newcomer the
room's name as typed with ``{"roomTitle": name}`` (obeyed only from an admin member).
"""

from __future__ import annotations

import datetime
import html
import json

from PySide6.QtCore import QCoreApplication, QEvent, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

MAX_CHAT_CHARS = 2000
"""Longest chat line sent (the server refuses contents over 15 KiB)."""


def _field(content: str, key: str) -> str | None:
    """The text under ``key`` in a JSON object content, or None."""
    if not content.startswith("{"):
        return None
    try:
        value = json.loads(content)
    except ValueError:
        return None
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, str) else None


def encode_chat(text: str) -> str:
    """The custom message content for one chat line."""
    return json.dumps({"chat": text[:MAX_CHAT_CHARS]}, ensure_ascii=False)


def decode_chat(content: str) -> str | None:
    """The chat text in a custom message content, or None if it is not a chat line.

    >>> decode_chat(encode_chat("hi")), decode_chat("kickOut")
    ('hi', None)
    """
    return _field(content, "chat")


def people_here_text(names: list[str]) -> str:
    """The notice a newcomer reads about who is already in the call."""
    tr = QCoreApplication
    if not names:
        return tr.translate("Chat", "Nobody else is here yet.")
    if len(names) == 1:
        return tr.translate("Chat", "{name} is here.").format(name=names[0])
    if len(names) <= 4:
        return tr.translate("Chat", "{names} and {last} are here.").format(
            names=", ".join(names[:-1]), last=names[-1])
    return tr.translate("Chat", "{names} and {count} others are here.").format(
        names=", ".join(names[:3]), count=len(names) - 3)


def encode_room_title(title: str) -> str:
    """The custom message content by which the host tells a newcomer the room's name as
    typed (the room id is derived from it and may not read like it, e.g. for "周会")."""
    return json.dumps({"roomTitle": title[:MAX_CHAT_CHARS]}, ensure_ascii=False)


def decode_room_title(content: str) -> str | None:
    """The room name in a custom message content, or None if it is not one.

    >>> decode_room_title(encode_room_title("周会")), decode_room_title(encode_chat("x"))
    ('周会', None)
    """
    title = _field(content, "roomTitle")
    return title if title is not None and title.strip() else None


class ChatView(QWidget):
    """The chat history and an input line.

    Signals:
        send_requested(text): the person pressed Enter or Send with non-empty text.
    """

    send_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._history = QTextBrowser(self)
        self._history.setOpenExternalLinks(False)
        self._input = QLineEdit(self)
        self._input.setMaxLength(MAX_CHAT_CHARS)
        self._send = QPushButton(self)
        row = QHBoxLayout()
        row.addWidget(self._input, 1)
        row.addWidget(self._send)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._history, 1)
        layout.addLayout(row)
        self._input.returnPressed.connect(self._submit)
        self._send.clicked.connect(self._submit)
        self._lines: list[str] = []
        self._notices: list[str] = []
        self._retranslate()

    def add_line(self, sender: str, text: str, timestamp: float | None = None,
                 own: bool = False) -> None:
        """Append ``sender``'s ``text`` (``timestamp`` in Unix seconds, server time)."""
        when = datetime.datetime.fromtimestamp(timestamp) if timestamp else datetime.datetime.now()
        colour = "#4f7cff" if own else "#2fa57a"
        self._lines.append(text)
        self._history.append(
            f'<span style="color:#888">{when:%H:%M}</span> '
            f'<b style="color:{colour}">{html.escape(sender)}</b>: {html.escape(text)}')

    def add_notice(self, text: str) -> None:
        """Append a line from the app itself (someone joined, left, ...)."""
        self._notices.append(text)
        self._history.append(f'<i style="color:#888">{html.escape(text)}</i>')

    def clear(self) -> None:
        """Forget the history (a new call starts)."""
        self._history.clear()
        self._lines.clear()
        self._notices.clear()

    @property
    def history_text(self) -> str:
        """Everything shown, notices included, as plain text."""
        return self._history.toPlainText()

    @property
    def lines(self) -> list[str]:
        """The chat texts shown so far, oldest first."""
        return list(self._lines)

    @property
    def notices(self) -> list[str]:
        """The app's own notices shown so far, oldest first."""
        return list(self._notices)

    @property
    def input(self) -> QLineEdit:
        """The input line."""
        return self._input

    def changeEvent(self, event: QEvent) -> None:
        """Retranslate when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self._send.setText(self.tr("Send"))
        self._input.setPlaceholderText(self.tr("Write a message…"))

    def _submit(self) -> None:
        text = self._input.text().strip()
        if text:
            self._input.clear()
            self.send_requested.emit(text)
