"""Join failures read as a person understands them, on the join form, with no call left."""

from __future__ import annotations

import socket
from pathlib import Path

from roomcall.server.store import AppStore
from roomcall.ui.invite import format_invite

from .conftest import Windows, until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_expired_invite_asks_for_a_new_one(windows: Windows) -> None:
    """An expired invite tells the guest to ask the host for a new one."""

    async def scenario() -> None:
        host = windows.new("Alice")
        assert await host.host_room("Alice", "standup", False)
        server = host.host.server
        token = server.token("standup", "bob-1", ttl=-10)
        link = format_invite("127.0.0.1", server.port, "standup", token)
        guest = windows.new("Bob")
        assert not await guest.join_room("Bob", link, "")
        assert guest.form.error.isVisibleTo(guest)
        assert "expired" in guest.form.error.text()
        assert "new one" in guest.form.error.text()
        assert guest.session is None and guest.pages.currentWidget() is guest.form
        assert len(host.panel.member_ids()) == 1

    windows.run(scenario)


def test_room_full(windows: Windows) -> None:
    """A join beyond the app's maxUsers says the room is full."""

    async def scenario() -> None:
        host = windows.new("Alice")
        assert await host.host_room("Alice", "standup", False)
        server = host.host.server
        server.store.update_app(server.default_app.app_id, max_users=1)
        # Rooms keep the settings they opened with: open a fresh one under the new limit.
        await host.leave()
        assert await host.host_room("Alice", "second", False)
        guest = windows.new("Bob")
        assert not await guest.join_room("Bob", host.host.invite("second", "Bob"), "")
        assert "full" in guest.form.error.text()

    windows.run(scenario)


def test_server_unreachable(windows: Windows) -> None:
    """Nobody listening at the link's address: the form says the server cannot be reached."""

    async def scenario() -> None:
        guest = windows.new("Bob")
        link = format_invite("127.0.0.1", free_port(), "standup", "AK:sig:e30=")
        assert not await guest.join_room("Bob", link, "")
        assert "Could not reach" in guest.form.error.text()
        assert guest.session is None

    windows.run(scenario)


def test_not_a_link(windows: Windows) -> None:
    """Text that is neither a link nor a server address and token explains what to paste."""

    async def scenario() -> None:
        guest = windows.new("Bob")
        guest.form.address_edit.setText("hello")
        guest.form.join_button.click()
        await until(lambda: "roomcall://" in guest.form.error.text(), what="the explanation")
        assert guest.session is None

    windows.run(scenario)


def test_data_folder_in_use_is_reported(windows: Windows, tmp_path: Path) -> None:
    """Hosting while another roomcall holds the embedded server's data folder says so on the
    form, and hosting works once that one is gone."""

    async def scenario() -> None:
        host = windows.new("Alice")
        other = AppStore.open(tmp_path / "data-0")  # the folder windows.new gave Alice
        try:
            assert not await host.host_room("Alice", "standup", False)
            assert host.form.error.isVisibleTo(host)
            assert "is in use by another roomcall server" in host.form.error.text()
        finally:
            other.close()
        assert await host.host_room("Alice", "standup", False)

    windows.run(scenario)
