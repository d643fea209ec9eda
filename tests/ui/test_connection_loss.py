"""The desktop app when its link to the room server breaks: a local mute that cannot reach
the room is not shown as done, and past the reconnect window the app rejoins by itself."""

from __future__ import annotations

from roomcall.sdk import ConnectionState
from roomcall.ui.invite import format_invite
from roomcall.ui.window import MainWindow
from tests.sdk.support import Proxy
from tests.waiting import scaled

from .conftest import Windows, until

WINDOW = 2.0
"""The host's reconnect window (silent_user_timeout) in these tests, in seconds."""


async def guest_through_proxy(windows: Windows) -> tuple[MainWindow, MainWindow, Proxy, str]:
    """A host on its embedded server and a guest whose link to it runs through a proxy."""
    host = windows.new("Alice", server={"silent_user_timeout": WINDOW})
    guest = windows.new("Bob")
    assert await host.host_room("Alice", "standup", False)
    server = host.host.server
    assert server is not None
    proxy = Proxy(server.port)
    await proxy.start()
    token = server.token("standup", "bob-1", admin=False, ttl=3600)
    port = int(proxy.url.rsplit(":", 1)[1])
    link = format_invite("127.0.0.1", port, "standup", str(token))
    assert await guest.join_room("Bob", link, ""), guest.form.error.text()
    await until(lambda: host.panel.member_row("bob-1") is not None, what="guest listed")
    return host, guest, proxy, "bob-1"


def test_camera_toggle_while_reconnecting_keeps_showing_the_truth(windows: Windows) -> None:
    """While the guest is RECONNECTING its camera toggle is refused: the button still says
    "Camera on", a notice says why, the host still gets video; once reconnected it works."""

    async def scenario() -> None:
        host, guest, proxy, guest_id = await guest_through_proxy(windows)
        try:
            assert guest.session is not None
            client = guest.session.client
            seen = host.grid.tile(guest_id)
            assert seen is not None
            await until(lambda: seen.has_video, scaled(20), "the guest's video at the host")
            proxy.refuse = True
            proxy.cut()
            await until(lambda: client.connection_state is ConnectionState.RECONNECTING,
                        what="guest reconnecting")
            before = len(guest.panel.chat.notices)
            guest.panel.camera_button.click()
            await until(lambda: len(guest.panel.chat.notices) > before, what="a notice")
            assert "Your camera is still on." in guest.panel.chat.notices[-1]
            assert "being restored" in guest.panel.chat.notices[-1]
            assert guest.panel.camera_button.isChecked()
            assert guest.panel.camera_button.text() == "Camera on"
            own = guest.grid.tile(guest_id)
            assert own is not None and not own.video_muted
            assert guest.session.media.camera_on
            assert not seen.video_muted  # the host was never told the camera went off
            proxy.refuse = False
            await until(lambda: client.connection_state is ConnectionState.RECONNECTED,
                        what="guest back")
            guest.panel.camera_button.click()
            await until(lambda: guest.panel.camera_button.text() == "Camera off"
                        and seen.video_muted and not seen.has_video, what="camera off")
        finally:
            await proxy.stop()

    windows.run(scenario)


def test_app_rejoins_after_the_reconnect_window(windows: Windows) -> None:
    """Cut off for longer than the server's reconnect window, the guest's app says it is
    rejoining, joins again once the server is reachable, says so, and video flows again."""

    async def scenario() -> None:
        host, guest, proxy, guest_id = await guest_through_proxy(windows)
        try:
            assert guest.session is not None
            session, client = guest.session, guest.session.client
            proxy.refuse = True
            proxy.cut()
            await until(lambda: any("rejoining" in n for n in guest.panel.chat.notices),
                        scaled(3 * WINDOW + 5), "the rejoining notice")
            await until(lambda: host.panel.member_row(guest_id) is None,
                        what="the server letting the seat go")
            assert guest.grid.tile(host.session.client.user_id) is None  # type: ignore[union-attr]
            assert guest.session is session  # still in the call screen, not the form
            assert guest.panel.leave_button.isEnabled()  # leaving stays possible
            proxy.refuse = False
            await until(lambda: any("rejoined the room" in n for n in guest.panel.chat.notices),
                        scaled(15), "the rejoined notice")
            assert client.connection_state is ConnectionState.CONNECTED
            await until(lambda: host.panel.member_row(guest_id) is not None,
                        what="guest listed again")
            host_id = host.session.client.user_id  # type: ignore[union-attr]
            await until(lambda: (t := guest.grid.tile(host_id)) is not None and t.has_video,
                        scaled(20), "the host's video again")
            await until(lambda: (t := host.grid.tile(guest_id)) is not None and t.has_video,
                        scaled(20), "the guest's video again")
            assert guest.pages.currentWidget() is guest.call_page
        finally:
            await proxy.stop()

    windows.run(scenario)
