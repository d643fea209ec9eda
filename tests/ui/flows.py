"""Driving the windows as a person does: links pasted into the join form, the pre-join
screen's Join now, and the answers to the app's questions."""

from __future__ import annotations

from roomcall.ui.end_call import Prompt
from roomcall.ui.window import MainWindow

from .conftest import until


async def open_link(window: MainWindow, link: str) -> None:
    """Paste ``link`` into the join form, press Join and wait for the pre-join screen."""
    window.form.address_edit.setText(link)
    window.form.join_button.click()
    await until(lambda: window.pages.currentWidget() is window.prejoin
                or window.form.error.isVisibleTo(window), what="the pre-join screen")
    assert window.pages.currentWidget() is window.prejoin, window.form.error.text()


async def join_by_link(window: MainWindow, link: str, name: str | None = None) -> bool:
    """Open ``link``, type ``name`` (None: keep what is filled in), press Join now; True once
    in the call, False once the form shows why not."""
    await open_link(window, link)
    if name is not None:
        window.prejoin.name_edit.setText(name)
    window.prejoin.join_button.click()
    await until(lambda: (window.session is not None and window.session.client.user_id)
                or (window.pages.currentWidget() is window.form
                    and window.form.error.isVisibleTo(window)), 20, "joined or refused")
    return window.session is not None


async def prompt_of(window: MainWindow) -> Prompt:
    """The question the window shows now (waits for it)."""
    def shown() -> Prompt | None:
        found = window.joining.prompt
        if found is None and window.session is not None:
            candidate = window.session.prompt
            found = candidate if isinstance(candidate, Prompt) else None
        return found if found is not None and found.isVisible() else None

    await until(lambda: shown() is not None, what="a question")
    prompt = shown()
    assert prompt is not None
    return prompt


async def host_with_room_link(windows: object, room: str = "standup") -> tuple[MainWindow, str]:
    """Alice hosts ``room`` and makes a room link in the Invite dialog."""
    host = windows.new("Alice")  # type: ignore[attr-defined]
    assert await host.host_room("Alice", room, False)
    dialog = host.show_invite()
    assert dialog is not None
    link = await dialog.create_room_link()
    assert link.startswith("roomcall://127.0.0.1:") and "/r/" in link
    dialog.close()
    return host, link
