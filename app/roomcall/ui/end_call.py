"""The questions asked before something that cannot be undone: removing a member, and the host
leaving or closing the window while others are in the call.

Each prompt is a non-modal ``QMessageBox`` opened with ``open()``: the event loop (and the
call) keeps running while it is shown, and tests press its buttons like a person would.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QPushButton, QWidget

END_FOR_EVERYONE = "end"
"""The host's choice: end the call for everyone."""
HAND_OVER = "hand-over"
"""The host's choice: make another member host, then leave; the room stays open."""
JUST_LEAVE = "leave"
"""Leave only (a member who is not the host, or a host with nobody else in the room)."""
CANCEL = "cancel"


class Prompt(QMessageBox):
    """A question with named answers; ``answered(choice)`` is called once with the choice
    (:data:`CANCEL` when it is closed without one)."""

    def __init__(self, parent: QWidget | None, title: str, text: str,
                 answers: list[tuple[str, str, QMessageBox.ButtonRole]],
                 answered: Callable[[str], None]) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setIcon(QMessageBox.Icon.Question)
        self.setWindowTitle(title)
        self.setText(text)
        self.choices: dict[str, QPushButton] = {}
        for choice, label, role in answers:
            self.choices[choice] = self.addButton(label, role)
        if CANCEL in self.choices:
            self.setEscapeButton(self.choices[CANCEL])
            self.setDefaultButton(self.choices[CANCEL])
        self._answered = answered
        self._done = False
        self.buttonClicked.connect(self._clicked)
        self.finished.connect(lambda _result: self._answer(CANCEL))

    def choose(self, choice: str) -> None:
        """Press the button of ``choice`` (as a click would)."""
        self.choices[choice].click()

    def _clicked(self, button: QAbstractButton) -> None:
        for choice, candidate in self.choices.items():
            if candidate is button:
                self._answer(choice)
                return

    def _answer(self, choice: str) -> None:
        if not self._done:
            self._done = True
            self._answered(choice)


def confirm_kick(parent: QWidget | None, name: str,
                 answered: Callable[[str], None]) -> Prompt:
    """"Remove <name> from the call?" with Remove / Cancel; ``answered("kick")`` on Remove."""
    tr = QCoreApplication
    prompt = Prompt(parent, tr.translate("Prompts", "Remove from the call"),
                    tr.translate("Prompts", "Remove {name} from the call? They cannot come back "
                                 "into this room unless you let them.").format(name=name),
                    [("kick", tr.translate("Prompts", "Remove"),
                      QMessageBox.ButtonRole.DestructiveRole),
                     (CANCEL, tr.translate("Prompts", "Cancel"),
                      QMessageBox.ButtonRole.RejectRole)],
                    answered)
    prompt.open()
    return prompt


def ask_host_leaving(parent: QWidget | None, *, closing: bool, successor: str | None,
                     answered: Callable[[str], None]) -> Prompt:
    """What the host wants when leaving (``closing``: the window) with others in the call.

    ``successor`` is the member who would become host; None when the room cannot stay open
    (e.g. its server runs in this window, which is closing): then only End and Cancel are
    offered.
    """
    tr = QCoreApplication
    if closing:
        text = tr.translate("Prompts", "You are the host. Closing roomcall ends the call for "
                            "everyone unless someone else takes over.")
    else:
        text = tr.translate("Prompts", "You are the host. End the call for everyone, or "
                            "leave and let someone else host?")
    answers = [(END_FOR_EVERYONE, tr.translate("Prompts", "End for everyone"),
                QMessageBox.ButtonRole.DestructiveRole)]
    if successor is not None:
        answers.append((HAND_OVER, tr.translate("Prompts", "Leave and make {name} host").format(
            name=successor), QMessageBox.ButtonRole.AcceptRole))
    answers.append((CANCEL, tr.translate("Prompts", "Cancel"),
                    QMessageBox.ButtonRole.RejectRole))
    prompt = Prompt(parent, tr.translate("Prompts", "End the call?"), text, answers, answered)
    prompt.open()
    return prompt
