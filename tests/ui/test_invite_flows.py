"""Invites as people use them, through the widgets: one room link for many, personal links,
revocation, the same person twice, and removal that holds."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from roomcall.ui.end_call import CANCEL
from roomcall.ui.invite import room_name_for

from .conftest import Windows, until
from .flows import host_with_room_link, join_by_link, open_link, prompt_of


def test_room_link_admits_many_and_can_be_revoked(windows: Windows) -> None:
    """Two people join with one room link as themselves; the dialog says what the clipboard
    holds; a personal link pre-fills its name; after Revoke all the link is refused."""

    async def scenario() -> None:
        host = windows.new("Alice")
        assert await host.host_room("Alice", "周会", False)
        assert host.panel.title.text() == "周会"  # shown as typed
        assert host.session.client.room == room_name_for("周会")  # type: ignore[union-attr]
        dialog = host.show_invite()
        assert dialog is not None
        room_link = await dialog.create_room_link()
        assert QGuiApplication.clipboard().text() == room_link and dialog.on_clipboard
        assert "on the clipboard" in dialog.clipboard_state.text()

        bob, carol = windows.new("Bob"), windows.new("Carol")
        assert await join_by_link(bob, room_link, "Bob"), bob.form.error.text()
        assert await join_by_link(carol, room_link, "Carol"), carol.form.error.text()
        bob_id = bob.session.client.user_id  # type: ignore[union-attr]
        carol_id = carol.session.client.user_id  # type: ignore[union-attr]
        assert bob_id != carol_id
        await until(lambda: len(host.panel.member_ids()) == 3, what="three in the room")
        assert bob.session is not None  # Carol's join did not throw Bob out
        assert host.panel.member_row(bob_id).name_label.text() == "Bob"  # type: ignore
        await until(lambda: bob.panel.title.text() == "周会", what="the room's name for Bob")

        dialog.guest_edit.setText("Dave")
        dave_link = await dialog.create_personal_link()
        assert dave_link != room_link
        assert QGuiApplication.clipboard().text() == dave_link and dialog.on_clipboard
        QGuiApplication.clipboard().setText("something else")
        await until(lambda: "holds something else" in dialog.clipboard_state.text(),
                    what="the clipboard state follows the clipboard")
        assert not dialog.on_clipboard
        await until(lambda: len(dialog.rows) == 2, what="two live links")

        dave = windows.new("Someone")
        await open_link(dave, dave_link)
        assert dave.prejoin.name_edit.text() == "Dave"  # the invited name
        dave.prejoin.back_button.click()
        await until(lambda: dave.pages.currentWidget() is dave.form, what="back on the form")

        dialog.revoke_all_button.click()
        await until(lambda: not dialog.rows, what="no live links")
        late = windows.new("Eve")
        late.form.address_edit.setText(room_link)
        late.form.join_button.click()
        await until(lambda: late.form.error.isVisibleTo(late), what="the refusal")
        assert "no longer works" in late.form.error.text()
        assert bob.session is not None and carol.session is not None  # who is in stays
        dialog.close()

    windows.run(scenario)


def test_same_person_in_a_second_window_is_told_the_truth(windows: Windows) -> None:
    """Joining with the same personal link again moves the person: the first window says
    they joined from another window, never that the host removed them."""

    async def scenario() -> None:
        host = windows.new("Alice")
        assert await host.host_room("Alice", "standup", False)
        dialog = host.show_invite()
        assert dialog is not None
        dialog.guest_edit.setText("Bob")
        link = await dialog.create_personal_link()
        first, second = windows.new("Bob"), windows.new("Bob")
        assert await join_by_link(first, link)
        assert await join_by_link(second, link)
        await until(lambda: first.session is None, what="the first window ended")
        assert first.form.notice.text() == "You joined this room from another window."
        assert "removed" not in first.form.notice.text()
        assert second.session is not None
        dialog.close()

    windows.run(scenario)


def test_kick_is_confirmed_and_the_removed_guest_stays_out(windows: Windows) -> None:
    """Kick asks first (Cancel keeps the guest); once confirmed the guest reads that the host
    removed them, and pressing Join with the same link is refused with a clear text."""

    async def scenario() -> None:
        host, link = await host_with_room_link(windows)
        guest = windows.new("Bob")
        assert await join_by_link(guest, link, "Bob")
        host_id = host.session.client.user_id  # type: ignore[union-attr]
        guest_id = guest.session.client.user_id  # type: ignore[union-attr]
        await until(lambda: host.panel.member_row(guest_id) is not None, what="Bob listed")
        host_row = guest.panel.member_row(host_id)
        assert host_row is not None and not host_row.kick_button.isVisibleTo(guest.panel)

        row = host.panel.member_row(guest_id)
        assert row is not None
        row.kick_button.click()
        prompt = await prompt_of(host)
        assert "Bob" in prompt.text()
        prompt.choose(CANCEL)
        assert not host.session.kicker.pending  # type: ignore[union-attr]
        assert guest.session is not None

        row.kick_button.click()
        (await prompt_of(host)).choose("kick")
        await until(lambda: guest.session is None, what="Bob removed")
        assert "The host removed you" in guest.form.notice.text()
        assert guest.form.address_edit.text() == link
        assert not await join_by_link(guest, link)
        assert "The host removed you from this room" in guest.form.error.text()
        assert guest_id not in host.panel.member_ids()

    windows.run(scenario)
