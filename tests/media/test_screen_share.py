"""Screen sharing end to end under Xvfb: a window with the pattern's code on a virtual screen,
captured by the real x11grab source, published with ``tag="screen"`` beside a camera through
the real SDK and a real server on loopback, and read back from the frames the far end decodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiortc.mediastreams import MediaStreamError

from roomcall.media.pattern import PatternInfo, decode_pattern, identity_code
from roomcall.media.screen import ScreenTrack, ShareSettings, open_screen
from roomcall.media.screen_targets import ShareTarget, list_share_targets
from roomcall.media.synthetic import SyntheticVideoTrack
from roomcall.protocol.errors import ErrorCode
from roomcall.sdk import RemoteTrack, RTCClient
from roomcall.server import RoomServer, ServerConfig
from tests.media.xvfb import ScreenPainter
from tests.waiting import scaled

LABEL = "alice-screen"
FRAME_WAIT = scaled(15.0)


@pytest.fixture
def painter(display: str) -> Iterator[ScreenPainter]:
    """The pattern window, full screen on ``display``."""
    with ScreenPainter(display, "pattern", LABEL) as window:
        yield window


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RoomServer]:
    """A running room server on 127.0.0.1, port 0."""
    srv = RoomServer(ServerConfig(port=0, data_dir=tmp_path))
    await srv.start()
    yield srv
    await srv.stop()


def target(kind: str) -> ShareTarget:
    """The first listed target of ``kind``."""
    return next(t for t in list_share_targets() if t.kind == kind)


async def read_until(track: RemoteTrack | ScreenTrack, counter: int) -> PatternInfo:
    """Frames of ``track`` until one carries the painter's code with ``counter``."""
    async def find() -> PatternInfo:
        while True:
            info = decode_pattern(await track.recv())
            if info is not None and info.counter == counter:
                return info
    return await asyncio.wait_for(find(), FRAME_WAIT)


def test_lists_the_screen_and_the_painter_window(painter: ScreenPainter) -> None:
    """The virtual screen is listed with its size, and the painter's window by its title."""
    targets = list_share_targets()
    screens = [t for t in targets if t.kind == "screen"]
    assert [(s.width, s.height) for s in screens] == [(1280, 720)]
    windows = {t.window_id: t for t in targets if t.kind == "window"}
    assert windows[painter.window_id].name == painter.title
    assert (windows[painter.window_id].width, windows[painter.window_id].height) == (1280, 720)


async def test_window_capture_reads_the_window(painter: ScreenPainter) -> None:
    """Capturing the painter's window by its id gives its picture, scaled to the chosen size
    with its aspect kept, and stopping releases the grabber."""
    painter.show(3)
    track = open_screen(target("window"), ShareSettings(fps=10, max_width=640, max_height=640))
    try:
        info = await read_until(track, 3)
        assert info.identity == identity_code(LABEL)
        frame = await track.recv() if track.frames_delivered < 2 else None
        assert frame is None or (frame.width, frame.height) == (640, 360)
    finally:
        track.stop()
    assert await track.wait_released(within=scaled(5))
    assert track.released


@pytest.mark.parametrize("sharer", ["alice", "zoe"], ids=["offerer", "answerer"])
async def test_far_end_reads_the_shared_screen(server: RoomServer, painter: ScreenPainter,
                                               sharer: str) -> None:
    """The sharer shares the screen beside a camera (as the pair's offerer, then as its
    answerer); Bob sees both tags, decodes the code on the screen from the frames he receives,
    sees it change when the window's picture changes, and the screen's track ends when the
    sharer stops sharing."""
    presenter, bob = RTCClient(server.url), RTCClient(server.url)
    camera = SyntheticVideoTrack("alice-camera", width=320, height=240, fps=10)
    screen = open_screen(target("screen"), ShareSettings(fps=10))
    published: list[tuple[str, list[str]]] = []
    tracks: dict[str, asyncio.Future[RemoteTrack]] = {
        tag: asyncio.get_running_loop().create_future() for tag in ("camera", "screen")}
    unpublished = asyncio.Event()
    bob.on("user_published", lambda uid, infos: published.append((uid, [t.tag for t in infos])))
    bob.on("track_subscribed", lambda uid, track: tracks[track.tag].set_result(track)
           if not tracks[track.tag].done() else None)
    bob.on("user_unpublished", lambda uid, infos: unpublished.set()
           if [t.tag for t in infos] == ["screen"] else None)
    try:
        await presenter.join(server.token("room", sharer))
        await bob.join(server.token("room", "bob"))
        await presenter.publish([camera], tag="camera")
        painter.show(1)
        (share,) = await presenter.publish([screen], tag="screen")
        assert share.tag == "screen"
        remote_screen = await asyncio.wait_for(tracks["screen"], FRAME_WAIT)
        remote_camera = await asyncio.wait_for(tracks["camera"], FRAME_WAIT)
        assert remote_screen.kind == remote_camera.kind == "video"
        assert (sharer, ["screen"]) in published and (sharer, ["camera"]) in published
        user = bob.get_remote_user(sharer)
        assert user is not None and sorted(t.tag for t in user.tracks) == ["camera", "screen"]

        info = await read_until(remote_screen, 1)
        assert info.identity == identity_code(LABEL)
        frame = remote_screen.latest()
        assert frame is not None and (frame.width, frame.height) == (1280, 720)  # size kept
        painter.show(2)
        assert (await read_until(remote_screen, 2)).identity == identity_code(LABEL)
        camera_info = decode_pattern(await asyncio.wait_for(remote_camera.recv(), FRAME_WAIT))
        while camera_info is None:  # a frame damaged around a keyframe request
            camera_info = decode_pattern(await asyncio.wait_for(remote_camera.recv(),
                                                                FRAME_WAIT))
        assert camera_info.identity == identity_code("alice-camera")

        await presenter.unpublish([share])
        screen.stop()
        await asyncio.wait_for(unpublished.wait(), FRAME_WAIT)
        assert await screen.wait_released(within=scaled(5))
        user = bob.get_remote_user(sharer)
        assert user is not None and [t.tag for t in user.tracks] == ["camera"]
    finally:
        await asyncio.gather(presenter.leave(), bob.leave(), return_exceptions=True)
        screen.stop()
        camera.stop()


async def test_capture_ends_when_the_window_closes(display: str) -> None:
    """Sharing a window that then closes ends the track by itself: readers get
    MediaStreamError, "ended" fires, the reason is error 23003 and the grabber is released."""
    painter = ScreenPainter(display, "pattern", LABEL)
    try:
        painter.show(7)
        track = open_screen(target("window"), ShareSettings(fps=10))
        ended = asyncio.Event()
        track.on("ended", ended.set)
        assert (await read_until(track, 7)).identity == identity_code(LABEL)
    finally:
        painter.close()

    async def drain() -> None:
        while True:
            await track.recv()

    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(drain(), FRAME_WAIT)
    await asyncio.wait_for(ended.wait(), FRAME_WAIT)
    assert track.error is not None and track.error.code == ErrorCode.SCREEN_CAPTURE_FAILED
    assert await track.wait_released(within=scaled(5))
