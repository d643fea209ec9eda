"""Media through the SDK: publish, auto-subscribe, unpublish, mute, and peer teardown driven by
the signalling, with real aiortc peer connections and synthetic sources."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psutil
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
from roomcall.sdk.compat import stop_ice_abruptly
from roomcall.server import RoomServer
from tests.waiting import ended_within, scaled, until

from .support import WINDOW, Proxy, Recorder

TONES = {"alice": 440.0, "bob": 660.0, "carol": 880.0}
FRAME_WAIT = scaled(10.0)
ROOT = Path(__file__).resolve().parents[2]


def video(label: str) -> SyntheticVideoTrack:
    """A small synthetic camera (keeps CPU low on shared machines)."""
    return SyntheticVideoTrack(label, width=320, height=240, fps=15)


Member = tuple[RTCClient, Recorder]


@pytest.fixture
async def members(server: RoomServer) -> AsyncIterator[Callable[..., Any]]:
    """``await member(user)``: a media-enabled client joined to room_1; all leave at teardown."""
    clients: list[RTCClient] = []
    sources: list[Any] = []

    async def member(user: str, publish: bool = False, admin: bool = False) -> Member:
        client = RTCClient(server.url)
        clients.append(client)
        rec = Recorder(client)
        await client.join(server.token("room_1", user, admin=admin))
        if publish:
            tracks = [video(user), SyntheticAudioTrack(frequency=TONES[user])]
            sources.extend(tracks)
            await client.publish(tracks, tag="camera")
        return client, rec

    yield member
    await asyncio.gather(*(c.leave() for c in clients), return_exceptions=True)
    for source in sources:
        source.stop()


def subscribed(rec: Recorder, user: str, kind: str) -> RemoteTrack | None:
    """The first remote track of ``kind`` from ``user`` that ``rec``'s client subscribed."""
    for sender, track in rec.named("track_subscribed"):
        if sender == user and track.kind == kind:
            return track  # type: ignore[no-any-return]
    return None


async def remote(rec: Recorder, user: str, kind: str) -> RemoteTrack:
    """Wait for ``rec``'s client to subscribe to ``user``'s ``kind`` track."""
    _, track = await rec.wait("track_subscribed", lambda u, t: u == user and t.kind == kind,
                              within=FRAME_WAIT)
    return track  # type: ignore[no-any-return]


async def check_video_from(track: RemoteTrack, user: str, frames: int = 3) -> None:
    """``track`` delivers decodable frames naming ``user`` with increasing counters."""
    counters: list[int] = []
    while len(counters) < frames:
        frame = await asyncio.wait_for(track.recv(), FRAME_WAIT)
        info = decode_pattern(frame)
        if info is None:
            continue  # the first frames after a keyframe request may be damaged
        assert info.identity == identity_code(user)
        counters.append(info.counter)
    assert counters == sorted(counters)
    assert frames == 1 or counters[0] < counters[-1]


async def check_audio_from(track: RemoteTrack, user: str) -> None:
    """``track`` carries ``user``'s tone."""
    for _ in range(50):
        frame = await asyncio.wait_for(track.recv(), FRAME_WAIT)
        if abs(dominant_frequency(frame) - TONES[user]) < 20:
            return
    pytest.fail(f"no {TONES[user]} Hz tone from {user}")


async def test_three_members_receive_each_other(members: Callable[..., Any]) -> None:
    """Three publishing members each receive both others' video and audio, each stream
    naming its real sender."""
    joined = [await members(user, publish=True) for user in ("alice", "bob", "carol")]
    for client, rec in joined:
        for other in TONES:
            if other == client.user_id:
                continue
            await check_video_from(await remote(rec, other, "video"), other)
            await check_audio_from(await remote(rec, other, "audio"), other)
            user = client.get_remote_user(other)
            assert user is not None
            assert sorted(t.kind for t in user.tracks) == ["audio", "video"]
            assert {t.tag for t in user.tracks} == {"camera"}


async def test_profile_in_the_mesh_is_a_preference(members: Callable[..., Any]) -> None:
    """In the mesh a remote video's profile (LOW, NONE) is remembered but the sender's ladder
    still decides, so frames keep arriving; a value that is not a TrackProfile is refused."""
    await members("alice", publish=True)
    _, rec_b = await members("bob")
    track = await remote(rec_b, "alice", "video")
    assert track.profile is TrackProfile.HIGH
    track.set_profile(TrackProfile.LOW)
    assert track.profile is TrackProfile.LOW
    await check_video_from(track, "alice")
    track.set_profile(TrackProfile.NONE)
    await check_video_from(track, "alice")
    with pytest.raises(TypeError):
        track.set_profile("low")  # type: ignore[arg-type]
    audio = await remote(rec_b, "alice", "audio")
    audio.set_profile(TrackProfile.LOW)
    assert audio.profile is TrackProfile.HIGH  # audio has no layers


async def test_late_joiner_gets_what_was_published(members: Callable[..., Any]) -> None:
    """A member joining after others published hears of and receives their tracks."""
    await members("alice", publish=True)
    await members("bob", publish=True)
    carol, rec_c = await members("carol")
    published = {u for u, _ in rec_c.named("user_published")}
    assert published == {"alice", "bob"}
    for other in ("alice", "bob"):
        await check_video_from(await remote(rec_c, other, "video"), other)
    assert len(carol.remote_tracks) >= 2


async def test_publish_after_others_joined(members: Callable[..., Any]) -> None:
    """Tracks published while others are present reach them with user_published first."""
    alice, _ = await members("alice")
    _, rec_b = await members("bob")
    source = video("alice")
    try:
        (pub,) = await alice.publish([source], tag="screen")
        assert pub.track_id and pub.kind == "video" and pub.tag == "screen"
        _, tracks = await rec_b.wait("user_published", lambda u, t: u == "alice")
        assert [(t.track_id, t.kind, t.tag, t.muted) for t in tracks] == [
            (pub.track_id, "video", "screen", False)]
        track = await remote(rec_b, "alice", "video")
        assert (track.track_id, track.tag, track.user_id) == (pub.track_id, "screen", "alice")
        await check_video_from(track, "alice")
    finally:
        source.stop()


async def test_unpublish_ends_the_remote_track(members: Callable[..., Any]) -> None:
    """Unpublishing fires user_unpublished and track_unsubscribed; the remote track ends."""
    alice, _ = await members("alice", publish=True)
    _, rec_b = await members("bob")
    track = await remote(rec_b, "alice", "video")
    await check_video_from(track, "alice", frames=1)
    pub = next(p for p in alice.published_tracks if p.kind == "video")
    await alice.unpublish([pub.track])
    _, gone = await rec_b.wait("user_unpublished", lambda u, t: u == "alice")
    assert [t.track_id for t in gone] == [pub.track_id]
    await rec_b.wait("track_unsubscribed", lambda u, t: t is track)
    with pytest.raises(MediaStreamError):
        while True:
            await asyncio.wait_for(track.recv(), FRAME_WAIT)
    assert [p.kind for p in alice.published_tracks] == ["audio"]


async def test_mute_and_unmute_propagate(members: Callable[..., Any]) -> None:
    """set_muted reaches others as mute_state_changed and on the remote track; unmuted media
    flows again."""
    alice, _ = await members("alice", publish=True)
    _, rec_b = await members("bob")
    track = await remote(rec_b, "alice", "video")
    pub = next(p for p in alice.published_tracks if p.kind == "video")
    await alice.set_muted(pub, True)
    _, info, muted = await rec_b.wait("mute_state_changed", lambda u, t, m: m)
    assert (info.track_id, muted, track.muted) == (pub.track_id, True, True)
    assert pub.muted
    await alice.set_muted(pub.track, False)
    await rec_b.wait("mute_state_changed", lambda u, t, m: not m)
    assert not track.muted
    await check_video_from(track, "alice")


async def _closed_within_a_second_of_user_left(client: RTCClient, rec: Recorder, user: str,
                                               pc: Any, within: float = FRAME_WAIT) -> None:
    await rec.wait("user_left", lambda u: u == user, within=within)
    left_at = time.monotonic()
    await until(lambda: pc.connectionState == "closed", within=scaled(1.0))
    assert time.monotonic() - left_at < 1.0
    assert client.peer_connection(user) is None


async def test_leaving_member_peer_is_closed_at_once(members: Callable[..., Any]) -> None:
    """When a member leaves, the others close its peer connection within a second."""
    _, rec_a = await members("alice", publish=True)
    bob, _ = await members("bob", publish=True)
    carol, rec_c = await members("carol")
    await remote(rec_c, "bob", "video")
    pcs = [(c, r, c.peer_connection("bob")) for c, r in ((rec_a.client, rec_a), (carol, rec_c))]
    assert all(pc is not None for _, _, pc in pcs)
    await bob.leave()
    assert bob.peer_connection("alice") is None
    for client, rec, pc in pcs:
        await _closed_within_a_second_of_user_left(client, rec, "bob", pc)


async def test_kicked_member_peer_is_closed(members: Callable[..., Any], server: RoomServer
                                            ) -> None:
    """A kicked member's peer connections close on both sides."""
    host, rec_h = await members("alice", publish=True, admin=True)
    guest, _ = await members("bob", publish=True)
    await remote(rec_h, "bob", "video")
    pc = host.peer_connection("bob")
    await host.kick_user("bob")
    await _closed_within_a_second_of_user_left(host, rec_h, "bob", pc)
    await until(lambda: guest.peer_connection("alice") is None)
    assert guest.remote_tracks == []


VICTIM = """
import asyncio, sys
from roomcall.media.synthetic import SyntheticVideoTrack
from roomcall.sdk import RTCClient

async def main() -> None:
    client = RTCClient(sys.argv[1])
    await client.join(sys.argv[2])
    await client.publish([SyntheticVideoTrack("bob", width=320, height=240, fps=15)])
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_killed_member_peer_is_closed_after_user_left(members: Callable[..., Any],
                                                            server: RoomServer) -> None:
    """A member whose process is killed (SIGKILL) has its peer connection closed within a
    second of the server's user_left, not after aiortc's 29 s consent timeout."""
    alice, rec_a = await members("alice")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", VICTIM, server.url, server.token("room_1", "bob"),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        assert await asyncio.wait_for(proc.stdout.readline(), 30) == b"ready\n"
        await check_video_from(await remote(rec_a, "bob", "video"), "bob", frames=1)
        pc = alice.peer_connection("bob")
        assert pc is not None
        proc.send_signal(signal.SIGKILL)
        await rec_a.wait("user_reconnecting", lambda u: u == "bob")
        await _closed_within_a_second_of_user_left(alice, rec_a, "bob", pc,
                                                   within=WINDOW * 4)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_leave_closes_every_peer(members: Callable[..., Any]) -> None:
    """leave() closes the leaving client's peer connections and its remote tracks end."""
    alice, rec_a = await members("alice")
    await members("bob", publish=True)
    track = await remote(rec_a, "bob", "video")
    pc = alice.peer_connection("bob")
    assert pc is not None
    await alice.leave()
    assert pc.connectionState == "closed"
    assert alice.peer_connection("bob") is None and alice.remote_tracks == []
    with pytest.raises(MediaStreamError):
        while True:
            await asyncio.wait_for(track.recv(), FRAME_WAIT)


async def test_media_continues_across_a_signalling_reconnection(
    members: Callable[..., Any], server: RoomServer, proxy: Proxy
) -> None:
    """While a member's signalling is cut, media keeps flowing; a member who joined and
    published meanwhile reaches it after the resume."""
    alice = RTCClient(proxy.url, reconnect_delays=lambda: itertools.repeat(0.05))
    rec_a = Recorder(alice)
    source = video("alice")
    try:
        await alice.join(server.token("room_1", "alice"))
        await alice.publish([source])
        _, rec_b = await members("bob", publish=True)
        await check_video_from(await remote(rec_a, "bob", "video"), "bob", frames=1)
        proxy.refuse = True
        proxy.cut()
        await rec_a.wait_state("RECONNECTING")
        _, rec_c = await members("carol", publish=True)
        proxy.refuse = False
        await rec_a.wait_state("RECONNECTED")
        await check_video_from(await remote(rec_a, "carol", "video"), "carol")
        await check_video_from(await remote(rec_c, "alice", "video"), "alice")
        await check_video_from(await remote(rec_b, "alice", "video"), "alice")
    finally:
        await alice.leave()
        source.stop()


async def test_publish_while_a_member_is_away_reaches_it_after_its_resume(
    members: Callable[..., Any], server: RoomServer, proxy: Proxy
) -> None:
    """Negotiation aimed at a member whose signalling is cut is dropped by the server; once the
    member resumes, the publication still reaches it."""
    alice, _ = await members("alice")
    bob = RTCClient(proxy.url, reconnect_delays=lambda: itertools.repeat(0.05))
    rec_b = Recorder(bob)
    source = video("alice")
    try:
        await bob.join(server.token("room_1", "bob"))
        proxy.refuse = True
        proxy.cut()
        await rec_b.wait_state("RECONNECTING")
        await alice.publish([source])
        proxy.refuse = False
        await rec_b.wait_state("RECONNECTED")
        await check_video_from(await remote(rec_b, "alice", "video"), "alice")
    finally:
        await bob.leave()
        source.stop()


async def test_members_present_then_both_publish(members: Callable[..., Any]) -> None:
    """Two members already in the room publish video and audio; each receives both of the
    other's tracks."""
    alice, rec_a = await members("alice")
    bob, rec_b = await members("bob")
    sources = {user: [video(user), SyntheticAudioTrack(frequency=TONES[user])]
               for user in ("alice", "bob")}
    try:
        await alice.publish(sources["alice"])
        await bob.publish(sources["bob"])
        for rec, other in ((rec_a, "bob"), (rec_b, "alice")):
            await check_video_from(await remote(rec, other, "video"), other)
            await check_audio_from(await remote(rec, other, "audio"), other)
    finally:
        for source in (*sources["alice"], *sources["bob"]):
            source.stop()




async def kicked_with_media(members: Callable[..., Any]) -> RTCClient:
    """Alice (admin) and bob both publish and receive; alice kicks bob and sees him go."""
    alice, rec_a = await members("alice", publish=True, admin=True)
    _, rec_b = await members("bob", publish=True)
    await remote(rec_a, "bob", "video")
    await remote(rec_b, "alice", "video")
    await alice.kick_user("bob")
    await rec_b.wait_state("DISCONNECTED")
    await rec_a.wait("user_left", lambda u: u == "bob")
    return alice  # type: ignore[no-any-return]


async def test_admin_leave_returns_after_kicking_a_publishing_member(
        members: Callable[..., Any]) -> None:
    """After kicking a member whose media it received, the admin's leave() returns promptly
    (closing the kicked member's peer no longer swallows the media worker's cancellation)."""
    alice = await kicked_with_media(members)
    leaving = asyncio.ensure_future(alice.leave())
    assert await ended_within(leaving), "leave() did not return"
    leaving.result()
    assert alice.connection_state.name == "DISCONNECTED"


async def test_cancelling_a_leave_in_progress_is_not_lost(members: Callable[..., Any]) -> None:
    """A cancel sent to a task inside leave() ends that task: the media teardown passes the
    cancellation on instead of swallowing it."""
    alice = await kicked_with_media(members)
    # The media worker is internal; it is watched only to cancel leave() while leave() waits
    # for it (the moment a swallowed cancellation used to leave the caller stuck).
    worker = alice._media._worker
    leaving = asyncio.ensure_future(alice.leave())
    await until(lambda: worker.cancelling() > 0 or worker.done(), interval=0)
    still_leaving = not leaving.done()
    leaving.cancel()
    assert await ended_within(leaving), "the cancelled leave() kept running"
    # A leave() still running when cancelled ends cancelled; one that already ended is done.
    assert leaving.cancelled() if still_leaving else leaving.exception() is None
    assert alice.connection_state.name == "DISCONNECTED"


def open_udp_ports() -> set[int]:
    """The local ports of the UDP sockets this process holds open."""
    return {c.laddr.port for c in psutil.Process().net_connections(kind="udp")}


def ice_sockets(client: RTCClient, user: str) -> tuple[Any, set[int]]:
    """``client``'s connected peer connection to ``user`` and the local ports of its ICE
    candidates (one open UDP socket each)."""
    pc = client.peer_connection(user)
    assert pc is not None
    transports = {id(t.receiver.transport): t.receiver.transport for t in pc.getTransceivers()}
    ports = {c.port for d in transports.values()
             for c in d.transport.iceGatherer.getLocalCandidates()}
    assert ports and ports <= open_udp_ports()
    return pc, ports


async def test_leave_after_a_kick_returns_once_the_media_are_closed(
        members: Callable[..., Any]) -> None:
    """A kicked client's leave() returns only once its peer connections are closed: no UDP
    socket of theirs stays open for the event loop's end to find."""
    alice, _ = await members("alice", publish=True, admin=True)
    bob, rec_b = await members("bob", publish=True)
    await rec_b.wait("peer_state_changed", lambda u, s: u == "alice" and s.name == "CONNECTED")
    pc, ports = ice_sockets(bob, "alice")
    await alice.kick_user("bob")
    await rec_b.wait_state("DISCONNECTED")
    await bob.leave()
    assert pc.connectionState == "closed"
    assert not ports & open_udp_ports(), "the kicked client's ICE sockets are still open"


async def test_a_cancelled_leave_still_closes_every_peer_connection(
        members: Callable[..., Any]) -> None:
    """leave() cancelled while it stops the media worker still closes the other peer
    connections, and a second leave() returns once they are closed."""
    alice = await kicked_with_media(members)
    _, rec_c = await members("carol", publish=True)
    await rec_c.wait("peer_state_changed", lambda u, s: u == "alice" and s.name == "CONNECTED")
    pc, ports = ice_sockets(alice, "carol")
    worker = alice._media._worker  # watched only to cancel leave() while it stops the worker
    leaving = asyncio.ensure_future(alice.leave())
    await until(lambda: worker.cancelling() > 0 or worker.done(), interval=0)
    leaving.cancel()
    assert await ended_within(leaving), "the cancelled leave() kept running"
    second = asyncio.ensure_future(alice.leave())
    assert await ended_within(second), "the second leave() did not return"
    assert pc.connectionState == "closed"
    assert not ports & open_udp_ports(), "the cancelled leave() left ICE sockets open"


async def test_peer_state_and_media_recover_after_a_connection_dies(
        members: Callable[..., Any]) -> None:
    """The peer connection dies under one member (no goodbye to the other) while both stay in
    the room: peer_state_changed goes CONNECTING, CONNECTED, RECOVERING, CONNECTED, and the
    other member's video comes back as a new subscribed track within 10 s."""
    alice, rec_a = await members("alice", publish=True)
    bob, rec_b = await members("bob", publish=True)
    first = await remote(rec_a, "bob", "video")
    await check_video_from(first, "bob", frames=2)
    await rec_a.wait("peer_state_changed", lambda u, s: u == "bob" and s.name == "CONNECTED")
    pc = alice.peer_connection("bob")
    assert pc is not None

    await stop_ice_abruptly(pc)
    await rec_a.wait("track_unsubscribed", lambda u, t: t is first)
    _, again = await rec_a.wait("track_subscribed",
                                lambda u, t: u == "bob" and t.kind == "video" and t is not first,
                                within=10.0)
    await check_video_from(again, "bob", frames=2)
    await rec_a.wait("peer_state_changed",
                     lambda u, s: u == "bob" and s.name == "CONNECTED"
                     and len(rec_a.named("peer_state_changed")) > 2)
    assert [s.name for u, s in rec_a.named("peer_state_changed") if u == "bob"] == [
        "CONNECTING", "CONNECTED", "RECOVERING", "CONNECTED"]
    assert alice.peer_connection("bob") is not pc
    # The far side's states never claim FAILED, and it ends connected too.
    await rec_b.wait("peer_state_changed",
                     lambda u, s: u == "alice" and s.name == "CONNECTED")
    assert "FAILED" not in [s.name for u, s in rec_b.named("peer_state_changed")]
    assert bob.connection_state.is_connected and alice.connection_state.is_connected
