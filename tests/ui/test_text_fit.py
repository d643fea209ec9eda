"""Names and texts that fit, and say what they mean, through the widgets."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QScrollArea

from roomcall.ui.fonts import has_cjk_font

from .conftest import Windows, until
from .flows import host_with_room_link, join_by_link

LONG_NAME = "Maximiliane Alexandra Konstantinopoulou-Wittgenstein-Hohenzoller"
assert len(LONG_NAME) <= 64  # the name fields' limit


def test_long_names_elide_and_keep_the_controls_visible(windows: Windows) -> None:
    """A very long name is elided with the full name as tooltip; Kick, Make host and the HOST
    badge stay inside the member list, which never scrolls sideways."""

    async def scenario() -> None:
        host, link = await host_with_room_link(windows)
        guest = windows.new("Max")
        assert await join_by_link(guest, link, LONG_NAME)
        guest_id = guest.session.client.user_id  # type: ignore[union-attr]
        host_id = host.session.client.user_id  # type: ignore[union-attr]
        await until(lambda: host.panel.member_row(guest_id) is not None, what="listed")
        row = host.panel.member_row(guest_id)
        assert row is not None
        await until(lambda: row.width() > 0 and row.name_label.is_elided(), what="elided")
        assert LONG_NAME in row.name_label.toolTip()
        for button in (row.kick_button, row.host_button):
            assert button.isVisibleTo(host.panel)
            assert row.rect().contains(button.geometry()), button.text()
        assert row.width() <= host.panel.width()
        host_row = guest.panel.member_row(host_id)
        assert host_row is not None and host_row.badge.isVisibleTo(guest.panel)
        assert host_row.rect().contains(host_row.badge.geometry())
        scroll = host.panel.members_box.findChild(QScrollArea)
        assert scroll is not None and not scroll.horizontalScrollBar().isVisible()
        tile = host.grid.tile(guest_id)
        assert tile is not None and tile.name == LONG_NAME

    windows.run(scenario)


def test_a_long_error_wraps_instead_of_widening_the_window(windows: Windows) -> None:
    """An error with a long unbroken address wraps inside the form: the window's minimum
    width stays far below a screen's."""

    async def scenario() -> None:
        window = windows.new("Ann")
        before = window.minimumSizeHint().width()
        window.form.show_error("Could not reach ws://" + "very-long-host-name-" * 40 + ":7880."
                               " Check the address and that the server is running.")
        window.prejoin.show_error("x" * 1500)
        assert window.minimumSizeHint().width() <= max(before, 900)
        assert window.width() == 1000

    windows.run(scenario)


def test_chat_starts_empty_and_notices_say_who_was_there(windows: Windows) -> None:
    """A newcomer reads who is already here (not "Alice joined"), others read that it joined;
    a later call starts with an empty chat."""

    async def scenario() -> None:
        alice, link = await host_with_room_link(windows)
        bob, carol = windows.new("Bob"), windows.new("Carol")
        assert await join_by_link(bob, link, "Bob")
        bob.panel.chat.input.setText("hello from the first call")
        bob.panel.chat.input.returnPressed.emit()
        await until(lambda: "hello from the first call" in alice.panel.chat.lines,
                    what="chat delivered")
        assert await join_by_link(carol, link, "Carol")
        history = carol.panel.chat.history_text
        assert "Alice and Bob are here." in history or "Bob and Alice are here." in history
        assert "joined" not in history
        await until(lambda: "Carol joined" in alice.panel.chat.history_text,
                    what="Alice told Carol joined")
        assert "Bob is here." not in alice.panel.chat.history_text

        bob.panel.leave_button.click()
        await until(lambda: bob.session is None, what="Bob left")
        assert await join_by_link(bob, link, "Bob")
        assert bob.panel.chat.lines == []
        assert "hello from the first call" not in bob.panel.chat.history_text

    windows.run(scenario)


def test_form_keys_and_precise_messages(windows: Windows) -> None:
    """Enter in Room name starts the room; a link without a port and an address without a
    token get different, precise texts; Chinese without a CJK font says what to install."""

    async def scenario() -> None:
        window = windows.new("Ann")
        window.form.address_edit.setText("roomcall://127.0.0.1/r/abcdef")
        window.form.join_button.click()
        await until(lambda: window.form.error.isVisibleTo(window), what="no-port text")
        no_port = window.form.error.text()
        assert "has no port" in no_port
        window.form.address_edit.setText("ws://127.0.0.1:7880")
        window.form.join_button.click()
        await until(lambda: window.form.error.text() not in ("", no_port), what="no-token text")
        assert "needs a token" in window.form.error.text()

        window.set_language("zh_CN")
        try:
            assert window.form.font_hint.isVisibleTo(window) == (not has_cjk_font())
            if not has_cjk_font():
                assert "fonts-noto-cjk" in window.form.font_hint.text()
            none_found = window.panel.speaker_picker
            if not none_found.isEnabled():  # no speaker here: "None found", retranslated
                await until(lambda: none_found.currentText() == "未找到", what="retranslated")
                assert window.prejoin.speaker_picker.currentText() == "未找到"
        finally:
            window.set_language("en")
        assert not window.form.font_hint.isVisibleTo(window)

        window.form.room_edit.setText("Team sync")
        QTest.keyClick(window.form.room_edit, Qt.Key.Key_Return)
        await until(lambda: window.session is not None and window.session.client.user_id,
                    what="hosting after Enter")
        assert window.session.client.room == "team-sync"  # type: ignore[union-attr]
        assert window.panel.title.text() == "Team sync"

    windows.run(scenario)
