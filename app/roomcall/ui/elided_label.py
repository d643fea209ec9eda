"""A one-line label that shortens its text with "…" to the width it is given."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class ElidedLabel(QWidget):
    """Shows :meth:`text` elided at the right when it does not fit; the full text is the
    tooltip then. It asks for no more width than a few characters, so a long name never
    pushes the controls beside it out of view."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._tooltip = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def text(self) -> str:
        """The full text."""
        return self._text

    def setText(self, text: str) -> None:
        """Show ``text``."""
        self._text = text
        self._update_tooltip()
        self.updateGeometry()
        self.update()

    def setToolTip(self, text: str) -> None:
        """An extra tooltip line (e.g. the user id), shown under the full text."""
        self._tooltip = text
        self._update_tooltip()

    def elided_text(self) -> str:
        """What is drawn at the current width."""
        return self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight,
                                             max(self.width(), 0))

    def is_elided(self) -> bool:
        """True when the text does not fit."""
        return self.elided_text() != self._text

    def sizeHint(self) -> QSize:
        """The full text's size (what it would like)."""
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance(self._text) + 2, metrics.height())

    def minimumSizeHint(self) -> QSize:
        """A few characters: the rest elides."""
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance("M…") + 2, metrics.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """The tooltip depends on whether the text fits."""
        self._update_tooltip()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the elided text, vertically centred."""
        painter = QPainter(self)
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignVCenter
                                          | Qt.AlignmentFlag.AlignLeft), self.elided_text())

    def _update_tooltip(self) -> None:
        lines = [self._text] if self.is_elided() else []
        if self._tooltip and self._tooltip != self._text:
            lines.append(self._tooltip)
        super().setToolTip("\n".join(lines))
