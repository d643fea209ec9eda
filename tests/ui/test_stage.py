"""The stage layout in a real call: a remote screen share presented, pins, full screen.

The host is a window on its embedded server; remote members are SDK clients publishing
synthetic sources whose pattern the test reads back from the tiles."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from roomcall.media.pattern import identity_code
from roomcall.media.synthetic import SyntheticVideoTrack
from roomcall.ui.spotlight import ViewMode
from roomcall.ui.video_grid import VideoGrid, screen_key
from roomcall.ui.video_tile import VideoTile
from roomcall.ui.window import MainWindow
from tests.waiting import scaled

from .conftest import Windows, until
from .members import remote_member
from .test_call import pattern_of


def camera(label: str) -> SyntheticVideoTrack:
    """A small camera-like pattern (cheap to encode on a loaded machine)."""
    return SyntheticVideoTrack(label, width=320, height=240, fps=15)


def shared_screen(label: str) -> SyntheticVideoTrack:
    """A 16:9 pattern standing in for a captured screen."""
    return SyntheticVideoTrack(label, width=640, height=360, fps=10)


async def hosting(windows: Windows) -> MainWindow:
    host = windows.new("Alice")
    assert await host.host_room("Alice", "review", False)
    return host


def test_presenter_layout_follows_a_remote_screen_share(windows: Windows) -> None:
    """A remote screen share goes large with the cameras in the strip, whole and labelled;
    the person can go back to the grid and return; unpublishing restores the grid."""

    async def scenario() -> None:
        host = await hosting(windows)
        grid, switch = host.grid, host.view_switch
        async with remote_member(host, "bob", "Bob", (camera("Bob"), "camera")) as (bob, _):
            await until(lambda: grid.tile("bob") is not None, what="Bob's tile")
            assert grid.stage_key is None and switch.mode is ViewMode.GRID
            assert not switch.buttons[ViewMode.PRESENTATION].isVisibleTo(host)
            (share,) = await bob.publish([shared_screen("Bob screen")], tag="screen")
            key = screen_key("bob", share.track_id)
            await until(lambda: grid.stage_key == key, what="the presentation")
            assert switch.mode is ViewMode.PRESENTATION
            assert switch.buttons[ViewMode.PRESENTATION].isVisibleTo(host)
            tile = grid.tile(key)
            assert tile is not None and tile.caption == "Bob's screen"
            assert grid.stage.main is tile
            assert {t.key for t in grid.stage.others} == {"bob", host.session.client.user_id}
            row = host.panel.member_row("bob")
            assert row is not None and row.sharing and row.sharing_label.isVisibleTo(host)
            assert row.sharing_label.toolTip() == "Sharing screen"
            # The mark fits beside the name and the host's buttons: nothing is pushed out.
            await until(lambda: row.name_label.elided_text() == "Bob", what="Bob's name shown")
            for widget in (row.sharing_label, row.kick_button, row.host_button):
                assert row.rect().contains(widget.geometry())
            assert row.width() <= host.panel.width()
            await until(lambda: pattern_of(tile) == identity_code("Bob screen"), scaled(20),
                        "the shared screen's pattern on stage")
            image = tile.current_image()
            assert image is not None
            # The whole 16:9 picture, letterboxed in the large tile (no crop).
            assert abs(image.width() / image.height() - 640 / 360) < 0.03
            assert image.width() == tile.width() or image.height() == tile.height()
            assert tile.width() > 2 * grid.stage.others[0].width()

            switch.buttons[ViewMode.GRID].click()
            await until(lambda: grid.stage_key is None, what="back to the grid")
            assert grid.columns >= 2 and tile.isVisibleTo(host)  # the share is a grid tile
            switch.buttons[ViewMode.PRESENTATION].click()
            await until(lambda: grid.stage_key == key, what="the presentation again")

            await bob.unpublish([share])
            await until(lambda: grid.tile(key) is None, what="the share's tile gone")
            assert grid.stage_key is None and switch.mode is ViewMode.GRID
            assert not switch.buttons[ViewMode.PRESENTATION].isVisibleTo(host)
            assert not row.sharing and not row.sharing_label.isVisibleTo(host)

    windows.run(scenario)


def test_presentation_ends_when_the_sharer_leaves(windows: Windows) -> None:
    """The sharer leaving the room takes the presentation with it."""

    async def scenario() -> None:
        host = await hosting(windows)
        grid = host.grid
        async with remote_member(host, "bob", "Bob", (camera("Bob"), "camera"),
                                 (shared_screen("Bob screen"), "screen")) as (_bob, pubs):
            key = screen_key("bob", pubs[1].track_id)
            await until(lambda: grid.stage_key == key, what="the presentation")
        await until(lambda: grid.tile("bob") is None, what="Bob gone")
        assert grid.stage_key is None and not grid.screen_tiles()
        assert host.view_switch.mode is ViewMode.GRID

    windows.run(scenario)


def test_pin_puts_a_tile_on_stage_even_over_a_share(windows: Windows) -> None:
    """The pin button puts a camera on stage, above a share that starts; the menu's Unpin
    gives the stage back to the share."""

    async def scenario() -> None:
        host = await hosting(windows)
        grid = host.grid
        async with remote_member(host, "bob", "Bob", (camera("Bob"), "camera")) as (bob, _):
            await until(lambda: grid.tile("bob") is not None, what="Bob's tile")
            tile = grid.tile("bob")
            assert tile is not None and tile.controls.pin_button.text() == "Pin"
            tile.controls.pin_button.click()
            assert grid.stage_key == "bob" and tile.pinned and grid.stage.main is tile
            assert tile.controls.pin_button.text() == "Unpin"
            (share,) = await bob.publish([shared_screen("Bob screen")], tag="screen")
            key = screen_key("bob", share.track_id)
            await until(lambda: grid.tile(key) is not None, what="the share's tile")
            assert grid.stage_key == "bob"  # the pin wins
            assert host.view_switch.mode is ViewMode.PRESENTATION
            unpin = next(a for a in tile.context_menu().actions() if a.text() == "Unpin")
            unpin.trigger()
            assert grid.stage_key == key and not tile.pinned

    windows.run(scenario)


def test_full_screen_by_double_click_and_menu_and_esc_leaves(windows: Windows) -> None:
    """A double-click shows a tile full screen, Esc brings it back; the menu does the same."""

    async def scenario() -> None:
        host = await hosting(windows)
        grid = host.grid
        async with remote_member(host, "bob", "Bob", (camera("Bob"), "camera")):
            await until(lambda: (t := grid.tile("bob")) is not None and t.has_video,
                        scaled(20), "Bob's video")
            tile = grid.tile("bob")
            assert tile is not None
            QTest.mouseDClick(tile, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                              QPoint(20, 20))
            view = grid.full_screen_view
            assert grid.full_screen_key == "bob" and view is not None
            assert view.windowState() & Qt.WindowState.WindowFullScreen
            assert tile.window() is view and tile.full_screen
            shown = tile.frames_shown
            await until(lambda: tile.frames_shown > shown + 3, what="video full screen")
            QTest.keyClick(view, Qt.Key.Key_Escape)
            assert grid.full_screen_key is None and tile.window() is host
            assert not tile.full_screen and tile.isVisibleTo(host)

            full = next(a for a in tile.context_menu().actions() if a.text() == "Full screen")
            full.trigger()
            assert grid.full_screen_key == "bob"
            leave = next(a for a in tile.context_menu().actions()
                         if a.text() == "Exit full screen")
            leave.trigger()
            assert grid.full_screen_key is None and tile.window() is host

    windows.run(scenario)


def test_strip_scrolls_when_its_tiles_do_not_fit(qtbot: QtBot) -> None:
    """With more tiles than the strip's width holds, it scrolls; with few it does not."""
    grid = VideoGrid()
    qtbot.addWidget(grid)
    grid.resize(640, 480)
    grid.show()
    for index in range(8):
        grid.add_tile(f"u{index}", local=index == 0)
    grid.set_stage("u3")
    assert grid.stage.main is grid.tile("u3") and len(grid.stage.others) == 7
    qtbot.waitUntil(lambda: grid.stage.scroll_bar().maximum() > 0)
    assert all(t.width() == 160 for t in grid.stage.others)
    for index in range(4, 8):
        grid.remove_tile(f"u{index}")
    qtbot.waitUntil(lambda: grid.stage.scroll_bar().maximum() == 0)
    grid.remove_tile("u3")  # the tile on stage went: the grid shows again
    assert grid.stage_key is None and grid.columns >= 1
    assert all(isinstance(t, VideoTile) and t.width() >= 160 for t in grid.tiles())
