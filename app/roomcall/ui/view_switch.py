"""The call view's switch: Grid, Speaker, and Presentation while someone shares a screen."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QWidget

from roomcall.ui.spotlight import ViewMode

_STYLE = ("QPushButton { padding: 3px 12px; border: 1px solid #3a3d45; background: #25272d;"
          " color: #d8d8d8; }"
          "QPushButton:checked { background: #4f7cff; color: white; border-color: #4f7cff; }")


class ViewSwitch(QWidget):
    """Exclusive buttons, one per :class:`ViewMode`; the Presentation button is there only
    while a remote member shares a screen. Choosing only emits; :meth:`show_mode` reflects
    what the call view shows (a share may switch it by itself).

    Signals:
        mode_chosen(mode): the person picked a ``ViewMode``.
    """

    mode_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: dict[ViewMode, QPushButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for mode in ViewMode:
            button = QPushButton(self)
            button.setCheckable(True)
            button.setStyleSheet(_STYLE)
            button.clicked.connect(lambda _=False, m=mode: self.mode_chosen.emit(m))
            self._group.addButton(button)
            layout.addWidget(button)
            self.buttons[mode] = button
        self.buttons[ViewMode.GRID].setChecked(True)
        self.buttons[ViewMode.PRESENTATION].hide()
        self._retranslate()

    def show_mode(self, mode: ViewMode, *, sharing: bool) -> None:
        """Check ``mode``'s button; offer Presentation only while ``sharing``."""
        self.buttons[ViewMode.PRESENTATION].setVisible(sharing)
        self.buttons[mode].setChecked(True)

    @property
    def mode(self) -> ViewMode:
        """The view whose button is checked."""
        return next(m for m, b in self.buttons.items() if b.isChecked())

    def changeEvent(self, event: QEvent) -> None:
        """Retranslate when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        texts = {ViewMode.GRID: self.tr("Grid"), ViewMode.SPEAKER: self.tr("Speaker"),
                 ViewMode.PRESENTATION: self.tr("Presentation")}
        tips = {ViewMode.GRID: self.tr("Everyone the same size"),
                ViewMode.SPEAKER: self.tr("The person speaking large, the others in a strip"),
                ViewMode.PRESENTATION: self.tr("The shared screen large, cameras in a strip")}
        for mode, button in self.buttons.items():
            button.setText(texts[mode])
            button.setToolTip(tips[mode])
