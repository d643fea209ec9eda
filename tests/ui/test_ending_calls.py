"""The host ending a call, handing it over, or being stopped by the OS, through the widgets."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from roomcall.ui.end_call import CANCEL, END_FOR_EVERYONE, HAND_OVER
from roomcall.ui.main import install_quit_signals

from .conftest import Windows, until
from .flows import host_with_room_link, join_by_link, prompt_of


def test_closing_the_hosts_window_asks_then_ends_the_call(windows: Windows) -> None:
    """Closing the host's window asks; Cancel keeps the call; End for everyone closes the
    guests' sessions at once with "The host ended the call"."""

    async def scenario() -> None:
        host, link = await host_with_room_link(windows)
        guest = windows.new("Bob")
        assert await join_by_link(guest, link, "Bob")
        await until(lambda: len(host.panel.member_ids()) == 2, what="Bob listed")

        host.close()
        prompt = await prompt_of(host)
        # The room lives on this window's server: it cannot stay open without it.
        assert set(prompt.choices) == {END_FOR_EVERYONE, CANCEL}
        prompt.choose(CANCEL)
        assert host.isVisible() and host.session is not None

        host.close()
        started = time.monotonic()
        (await prompt_of(host)).choose(END_FOR_EVERYONE)
        await until(lambda: guest.session is None, 5, "the guest's call ended")
        assert time.monotonic() - started < 3  # at once, not after a reconnect window
        assert guest.form.notice.text() == "The host ended the call."
        await asyncio.wait_for(host.wait_closed(), 10)
        assert host.host.server is None

    windows.run(scenario)


def test_make_host_then_the_new_host_kicks_and_ends(windows: Windows) -> None:
    """Make host hands the role over: the new host's Kick works, its Leave offers to end the
    call for everyone; the old host's Start room with no name goes back to the same room."""

    async def scenario() -> None:
        alice, link = await host_with_room_link(windows)
        bob, carol = windows.new("Bob"), windows.new("Carol")
        assert await join_by_link(bob, link, "Bob")
        assert await join_by_link(carol, link, "Carol")
        room = alice.session.client.room  # type: ignore[union-attr]
        bob_id = bob.session.client.user_id  # type: ignore[union-attr]
        carol_id = carol.session.client.user_id  # type: ignore[union-attr]
        await until(lambda: len(alice.panel.member_ids()) == 3, what="three in the room")

        alice.panel.member_row(bob_id).host_button.click()  # type: ignore[union-attr]
        await until(lambda: bob.session.client.permission == "admin", what="Bob hosts")  # type: ignore
        await until(lambda: bob.panel.member_row(carol_id).kick_button.isVisibleTo(bob.panel),  # type: ignore
                    what="Bob's Kick")
        assert not alice.panel.member_row(carol_id).kick_button.isVisibleTo(alice.panel)  # type: ignore
        assert bob.invite_action.isEnabled() and not alice.invite_action.isEnabled()

        bob.panel.member_row(carol_id).kick_button.click()  # type: ignore[union-attr]
        (await prompt_of(bob)).choose("kick")
        await until(lambda: carol.session is None, what="Carol removed by the new host")
        assert "The host removed you" in carol.form.notice.text()

        bob.panel.leave_button.click()
        (await prompt_of(bob)).choose(END_FOR_EVERYONE)
        await until(lambda: alice.session is None, 5, "Alice's call ended")
        assert alice.form.notice.text() == "The host ended the call."
        await until(lambda: bob.session is None, 5, "Bob's own call ended")
        assert not bob.form.notice.isVisibleTo(bob)

        alice.form.room_edit.clear()
        alice.form.host_button.click()
        await until(lambda: alice.session is not None and alice.session.client.user_id,
                    what="Alice back")
        assert alice.session.client.room == room  # type: ignore[union-attr]

    windows.run(scenario)


def test_host_leaving_hands_the_room_over(windows: Windows) -> None:
    """A host pressing Leave can let another member host: the room stays open for them."""

    async def scenario() -> None:
        alice, link = await host_with_room_link(windows)
        bob = windows.new("Bob")
        assert await join_by_link(bob, link, "Bob")
        await until(lambda: len(alice.panel.member_ids()) == 2, what="Bob listed")
        alice.panel.leave_button.click()
        prompt = await prompt_of(alice)
        assert "Bob" in prompt.choices[HAND_OVER].text()
        prompt.choose(HAND_OVER)
        await until(lambda: alice.session is None, what="Alice left")
        await until(lambda: bob.session.client.permission == "admin", what="Bob hosts")  # type: ignore
        await until(lambda: bob.panel.member_ids() == [bob.session.client.user_id],  # type: ignore
                    what="Bob alone")
        assert bob.session is not None and bob.invite_action.isEnabled()

    windows.run(scenario)


def test_sigterm_leaves_like_closing_the_window(windows: Windows) -> None:
    """SIGTERM to the app closes the host's window without a question and ends the call for
    the guest at once, as closing the window does."""

    async def scenario() -> None:
        host, link = await host_with_room_link(windows)
        guest = windows.new("Bob")
        assert await join_by_link(guest, link, "Bob")
        await until(lambda: len(host.panel.member_ids()) == 2, what="Bob listed")
        loop = asyncio.get_running_loop()
        numbers = install_quit_signals(loop, host)
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(host.wait_closed(), 10)
        finally:
            for number in numbers:
                loop.remove_signal_handler(number)
        await until(lambda: guest.session is None, 5, "the guest's call ended")
        assert guest.form.notice.text() == "The host ended the call."
        assert host.joining.prompt is None

    windows.run(scenario)
