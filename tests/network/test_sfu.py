"""Calls through the SFU: a real room server driving a real Janus (Debian's, in a namespace of
its own), SDK clients in this process gathering on the Janus veth end, synthetic pattern
cameras whose decoded codes name their senders at the far end."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiortc.mediastreams import MediaStreamError

from roomcall.media.synthetic import (
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    decode_pattern,
    dominant_frequency,
    identity_code,
)
from roomcall.sdk import RemoteTrack, RTCClient, TrackProfile
from roomcall.server import RoomServer, ServerConfig
from roomcall.server.config import JanusInstanceConfig, SfuConfig
from tests.network.janus import JanusBed, JanusInstance, janus_host_candidates
from tests.sdk.support import Recorder
from tests.waiting import scaled, until

pytestmark = pytest.mark.network

SMALL = (160, 120)
"""Camera size of the big rooms: eight members encode and decode on two shared cores."""
FPS = 10
MOVE_TIMEOUT = scaled(30.0)
"""Seconds for media to flow after a join or a route change (ICE, DTLS, keyframes)."""
LARGEST_GAP = scaled(3.0)
"""Longest a receiver may go without a picture from a sender while the room moves."""


def instance_config(instance: JanusInstance) -> JanusInstanceConfig:
    """The room server's entry for a Janus of the bed."""
    setup = instance.setup
    return JanusInstanceConfig(instance.url, api_secret=setup.api_secret,
                               token_secret=setup.token_secret, admin_key=setup.admin_key)


def server_config(tmp_path: Path, bed: JanusBed, **sfu: Any) -> ServerConfig:
    """A room server using every Janus of ``bed``."""
    return ServerConfig(port=0, data_dir=tmp_path / "server", sfu=SfuConfig(
        instances=tuple(instance_config(i) for i in bed.instances), **sfu))


@contextlib.asynccontextmanager
async def running(config: ServerConfig, bed: JanusBed) -> AsyncIterator[RoomServer]:
    """The server started, and this process's peers gathering where Janus reaches them."""
    server = RoomServer(config)
    await server.start()
    try:
        with janus_host_candidates(bed):
            yield server
    finally:
        await server.stop()


@dataclass
class Member:
    """One client with a pattern camera (and a tone), and a watch on every picture it gets:
    per sender, when the last one naming that sender arrived and the longest gap between
    two (across the tracks the move replaces)."""

    user_id: str
    client: RTCClient
    size: tuple[int, int] = SMALL
    tone: float | None = None
    recorder: Recorder = field(init=False)
    last: dict[str, float] = field(default_factory=dict)
    gaps: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    tones: dict[str, float] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _sources: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.recorder = Recorder(self.client)
        self.client.on("track_subscribed", self._watch)

    async def join(self, server: RoomServer, room: str) -> None:
        await self.client.join(server.token(room, self.user_id))
        tracks: list[Any] = [SyntheticVideoTrack(self.user_id, width=self.size[0],
                                                 height=self.size[1], fps=FPS)]
        if self.tone is not None:
            tracks.append(SyntheticAudioTrack(frequency=self.tone))
        self._sources.extend(tracks)
        await self.client.publish(tracks, tag="camera")

    def sees(self, user_id: str, since: float) -> bool:
        """A picture naming ``user_id`` arrived after ``since`` (monotonic time)."""
        return self.last.get(user_id, float("-inf")) > since

    def video_from(self, user_id: str) -> RemoteTrack | None:
        return next((t for t in self.client.remote_tracks
                     if t.user_id == user_id and t.kind == "video"), None)

    def _watch(self, user_id: str, track: RemoteTrack) -> None:
        self._tasks.append(asyncio.create_task(self._read(user_id, track)))

    async def _read(self, user_id: str, track: RemoteTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                now = time.monotonic()
                if track.kind == "audio":
                    self.tones[user_id] = dominant_frequency(frame)  # type: ignore[arg-type]
                    continue
                info = decode_pattern(frame)  # type: ignore[arg-type]
                if info is None or info.identity != identity_code(user_id):
                    continue
                if user_id in self.last:
                    self.gaps[user_id] = max(self.gaps.get(user_id, 0.0),
                                             now - self.last[user_id])
                self.last[user_id] = now
                self.sizes[user_id] = (frame.width, frame.height)

    async def leave(self) -> None:
        await self.client.leave()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for source in self._sources:
            source.stop()


@pytest.fixture
async def members() -> AsyncIterator[Callable[..., Awaitable[Member]]]:
    """``await member(server, room, user, ...)``: a joined, publishing member; all leave after."""
    made: list[Member] = []

    async def member(server: RoomServer, room: str, user_id: str, **kwargs: Any) -> Member:
        m = Member(user_id, RTCClient(server.url), **kwargs)
        made.append(m)
        await m.join(server, room)
        return m

    yield member
    await asyncio.gather(*(m.leave() for m in made), return_exceptions=True)


def on_sfu(member: Member) -> bool:
    """Whether every other member's media reach ``member`` through the SFU."""
    media = member.client._media
    if media is None or media.sfu is None:
        return False
    others = [u.user_id for u in member.client.remote_users]
    return all(media.peer_connection(u) is media.sfu.connection(u) for u in others)


async def everyone_sees_everyone(room: list[Member], since: float) -> None:
    """Every member gets fresh pictures naming each other member."""
    def all_seen() -> bool:
        return all(m.sees(o.user_id, since) for m in room for o in room if o is not m)
    await until(all_seen, MOVE_TIMEOUT, "pictures from every other member")


async def test_a_room_grows_from_two_to_eight_and_everyone_keeps_receiving(
        janus: JanusBed, tmp_path: Path, room: str,
        members: Callable[..., Awaitable[Member]]) -> None:
    """Members join one by one: a mesh up to three, then (the app's threshold is 4) the room
    moves to Janus and later members join it there; after each join every member decodes
    pictures naming each other member, and nobody ever hears ``user_left``."""
    async with running(server_config(tmp_path, janus), janus) as server:
        joined: list[Member] = []
        for n in range(8):
            since = time.monotonic()
            joined.append(await members(server, room, f"user{n}"))
            if len(joined) > 1:
                await everyone_sees_everyone(joined, since)
            if len(joined) >= 4:
                await until(lambda: all(on_sfu(m) for m in joined), MOVE_TIMEOUT,
                            "every member on the SFU")
        await until(lambda: all(not m.client._media._mesh.peers  # type: ignore[union-attr]
                                for m in joined), MOVE_TIMEOUT, "mesh pairs closed")
        assert all(m.recorder.named("user_left") == [] for m in joined)


async def test_the_move_from_mesh_to_sfu_loses_at_most_a_moment(
        janus: JanusBed, tmp_path: Path, room: str,
        members: Callable[..., Awaitable[Member]]) -> None:
    """Three members talk in a mesh (video and a tone each); a fourth makes the room move to
    Janus: no ``user_left``, pictures and tones keep naming their senders, no receiver goes
    more than a moment without a picture of any sender, and the mesh pairs close."""
    tones = [440.0, 660.0, 880.0, 1100.0]
    async with running(server_config(tmp_path, janus), janus) as server:
        first = [await members(server, room, f"member{n}", tone=tones[n]) for n in range(3)]
        await everyone_sees_everyone(first, 0.0)
        assert not any(on_sfu(m) for m in first)
        moved_at = time.monotonic()
        room_of_four = [*first, await members(server, room, "member3", tone=tones[3])]
        await until(lambda: all(on_sfu(m) for m in room_of_four), MOVE_TIMEOUT,
                    "every member on the SFU")
        await everyone_sees_everyone(room_of_four, time.monotonic())
        for m in first:
            for other in first:
                if other is not m:
                    assert m.gaps.get(other.user_id, 0.0) < LARGEST_GAP, (m.user_id, m.gaps)
        await until(lambda: all(abs(m.tones.get(o.user_id, 0) - (o.tone or 0)) < 20
                                for m in room_of_four for o in room_of_four if o is not m),
                    MOVE_TIMEOUT, "every tone through the SFU")
        await until(lambda: all(not m.client._media._mesh.peers  # type: ignore[union-attr]
                                for m in room_of_four), MOVE_TIMEOUT, "mesh pairs closed")
        assert all(m.recorder.named("user_left") == [] for m in room_of_four)
        assert time.monotonic() - moved_at < MOVE_TIMEOUT * 2


async def test_subscribers_switch_layers_as_the_profile_changes(
        janus: JanusBed, tmp_path: Path, room: str,
        members: Callable[..., Awaitable[Member]]) -> None:
    """Through the SFU a 640x480 camera arrives full at HIGH, 320x240 at LOW, not at all at
    NONE (the track stays subscribed), and full again at HIGH, on the same remote track."""
    async with running(server_config(tmp_path, janus, always=True), janus) as server:
        await members(server, room, "alice", size=(640, 480))
        bob = await members(server, room, "bob")
        # The first members may meet in the mesh while the room's VideoRoom is being made.
        await until(lambda: on_sfu(bob), MOVE_TIMEOUT, "bob on the SFU")
        since = time.monotonic()
        await until(lambda: bob.sizes.get("alice") == (640, 480) and bob.sees("alice", since),
                    MOVE_TIMEOUT, "alice's full picture")
        track = bob.video_from("alice")
        assert track is not None and on_sfu(bob)
        unsubscribed = len(bob.recorder.named("track_unsubscribed"))
        # Stats read the SFU's streams: alice's full picture in, bob's two layers out.
        stats = await bob.client.get_stats()
        received = [t for t in stats.remote if t.user_id == "alice" and t.kind == "video"]
        assert [(t.width, t.height) for t in received] == [(640, 480)]
        assert {t.peer_id for t in stats.local} == {""}
        assert sorted(t.kind for t in stats.local) == ["video", "video"]
        track.set_profile(TrackProfile.LOW)
        await until(lambda: bob.sizes.get("alice") == (320, 240), MOVE_TIMEOUT,
                    "alice's low layer")
        track.set_profile(TrackProfile.NONE)
        paused_at = time.monotonic()
        # Pictures stop: none arrives for a second (the one in flight may still come).
        await until(lambda: time.monotonic() - bob.last["alice"] > 1.0, MOVE_TIMEOUT,
                    "alice's pictures to stop")
        assert bob.last["alice"] < paused_at + 0.5
        track.set_profile(TrackProfile.HIGH)
        await until(lambda: bob.sizes.get("alice") == (640, 480)
                    and bob.sees("alice", paused_at + 1.0), MOVE_TIMEOUT,
                    "alice's full picture again")
        assert bob.video_from("alice") is track
        assert len(bob.recorder.named("track_unsubscribed")) == unsubscribed


async def test_a_room_whose_janus_dies_moves_to_another_and_media_flow_again(
        janus: JanusBed, tmp_path: Path, room: str,
        members: Callable[..., Awaitable[Member]]) -> None:
    """The room's Janus is killed mid-call: the server notices, puts the room on the other
    instance and pushes a new route; the members connect there and pictures naming each
    other flow again, nobody hearing ``user_left``."""
    await janus.start_instance()
    config = server_config(tmp_path, janus, always=True, keepalive_interval=0.5,
                           request_timeout=1.0, retry_interval=0.5)
    async with running(config, janus) as server:
        pair = [await members(server, room, "alice"), await members(server, room, "bob")]
        await everyone_sees_everyone(pair, 0.0)
        first = pair[0].client._media.sfu  # type: ignore[union-attr]
        assert first is not None
        next(i for i in janus.instances if i.url == first.url).kill()
        killed = time.monotonic()

        def moved(member: Member) -> bool:
            media = member.client._media
            return (media is not None and media.sfu is not None
                    and media.sfu.url != first.url and on_sfu(member))
        await until(lambda: all(moved(m) for m in pair), MOVE_TIMEOUT, "the other Janus")
        await everyone_sees_everyone(pair, killed)
        assert all(m.recorder.named("user_left") == [] for m in pair)
