"""Volume indication, network quality and get_stats() end to end: a real server on loopback,
real aiortc peer connections, synthetic sources whose figures are checked at both ends, and
user-space loss on one member's peer connection."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiortc.mediastreams import MediaStreamTrack

from roomcall.media.ladder import LADDER
from roomcall.media.playout import AudioPlayout
from roomcall.media.synthetic import CameraLikeVideoTrack, SyntheticAudioTrack, SyntheticVideoTrack
from roomcall.sdk import CallStats, NetworkGrade, NetworkQuality, RTCClient, TrackStats
from roomcall.server import RoomServer
from tests.media.impair import ImpairedLink, Impairment
from tests.waiting import scaled, until

from .support import Recorder

MEDIA_WAIT = scaled(20.0)
"""Media to flow and a few 3 s quality evaluations to pass."""
FPS = 15
GOOD_GRADES = (NetworkGrade.EXCELLENT, NetworkGrade.GOOD)
BAD_GRADES = (NetworkGrade.FAIR, NetworkGrade.POOR)

Member = tuple[RTCClient, Recorder]


@pytest.fixture
async def members(server: RoomServer) -> AsyncIterator[Callable[..., Any]]:
    """``await member(user, *tracks)``: a media client joined to room_1 that published
    ``tracks``; all leave and every source stops at teardown."""
    clients: list[RTCClient] = []
    sources: list[MediaStreamTrack] = []

    async def member(user: str, *tracks: MediaStreamTrack) -> Member:
        client = RTCClient(server.url)
        clients.append(client)
        rec = Recorder(client)
        await client.join(server.token("room_1", user))
        if tracks:
            sources.extend(tracks)
            await client.publish(list(tracks), tag="camera")
        return client, rec

    yield member
    await asyncio.gather(*(c.leave() for c in clients), return_exceptions=True)
    for source in sources:
        source.stop()


def tone() -> SyntheticAudioTrack:
    """A talker: a 440 Hz tone at -13.5 dBFS RMS."""
    return SyntheticAudioTrack(frequency=440.0, amplitude=0.3)


def silence() -> SyntheticAudioTrack:
    """A member with a microphone and nothing to say."""
    return SyntheticAudioTrack(amplitude=0.0)


def camera(user: str) -> SyntheticVideoTrack:
    """A small synthetic camera (keeps CPU low on shared machines)."""
    return SyntheticVideoTrack(user, width=320, height=240, fps=FPS)


Impair = Callable[[RTCClient, str, Impairment], Awaitable[ImpairedLink]]


@pytest.fixture
async def impair() -> AsyncIterator[Impair]:
    """``await impair(client, peer, impairment)``: shape every datagram of ``client``'s peer
    connection to ``peer`` from now on, and of any connection that replaces it, until the
    test ends."""
    async with contextlib.AsyncExitStack() as links:
        async def start(client: RTCClient, peer: str, impairment: Impairment) -> ImpairedLink:
            link = ImpairedLink(impairment)
            return await links.enter_async_context(
                link.follow(lambda: client.peer_connection(peer)))
        yield start


def graded(user_id: str, grades: tuple[NetworkGrade, ...]
           ) -> Callable[[str, NetworkQuality], bool]:
    """A predicate for ``network_quality_changed`` of ``user_id`` with both grades in
    ``grades``."""
    def match(uid: str, quality: NetworkQuality) -> bool:
        return uid == user_id and quality.uplink in grades and quality.downlink in grades
    return match


def one(stats: CallStats, *, local: bool, kind: str, user_id: str) -> TrackStats:
    """The only track of ``kind`` published by ``user_id`` in ``stats``."""
    found = [t for t in stats.tracks
             if t.local is local and t.kind == kind and t.user_id == user_id]
    assert len(found) == 1, stats
    return found[0]


async def test_volume_indication_names_the_talker_and_turns_off(
        members: Callable[..., Any]) -> None:
    """With a tone on alice and silence on bob, each client's volume indication reads alice
    high and bob near 0, its own level included; once turned off, no more events come while
    the other client's keep coming."""
    alice, rec_a = await members("alice", tone())
    bob, rec_b = await members("bob", silence())
    alice.enable_volume_indication(200)
    bob.enable_volume_indication(200)

    def talker(levels: dict[str, float]) -> bool:
        return levels.keys() == {"alice", "bob"} and levels["alice"] > 0.5

    (levels_a,) = await rec_a.wait("volume_indication", talker, within=MEDIA_WAIT)
    (levels_b,) = await rec_b.wait("volume_indication", talker, within=MEDIA_WAIT)
    for levels in (levels_a, levels_b):
        assert 0.6 < levels["alice"] < 0.9  # -13.5 dBFS (-16.5 after Opus' stereo upmix)
        assert levels["bob"] < 0.05
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0
               for (levels,) in rec_a.named("volume_indication") for v in levels.values())

    alice.enable_volume_indication(0)
    seen_a = len(rec_a.named("volume_indication"))
    seen_b = len(rec_b.named("volume_indication"))
    await until(lambda: len(rec_b.named("volume_indication")) >= seen_b + 5,
                what="five more of bob's events")
    assert len(rec_a.named("volume_indication")) == seen_a


async def test_a_muted_talker_reads_zero(members: Callable[..., Any]) -> None:
    """Muting the talking track brings its level to 0 in its own and the listener's
    indication (a muted track sends nothing, and its level falls within a second)."""
    source = tone()
    alice, rec_a = await members("alice", source)
    bob, rec_b = await members("bob")
    alice.enable_volume_indication(100)
    bob.enable_volume_indication(100)
    await rec_b.wait("volume_indication", lambda levels: levels.get("alice", 0) > 0.5,
                     within=MEDIA_WAIT)
    await alice.set_muted(source, True)
    count_a = len(rec_a.named("volume_indication"))
    count_b = len(rec_b.named("volume_indication"))
    await rec_a.wait("volume_indication", lambda levels: len(rec_a.named(
        "volume_indication")) > count_a and levels["alice"] == 0.0)
    await rec_b.wait("volume_indication", lambda levels: len(rec_b.named(
        "volume_indication")) > count_b and levels.get("alice") == 0.0)
    # bob publishes no audio: he is not a member "with audio"
    assert "bob" not in rec_b.named("volume_indication")[-1][0]


async def test_network_quality_becomes_known_and_falls_under_loss(
        members: Callable[..., Any], impair: Impair) -> None:
    """On clean loopback every member's grades become known and EXCELLENT or GOOD on both
    clients; with 25 % of alice's datagrams lost both ways, alice's own grades and bob's
    link as alice sees it fall to FAIR or POOR, and bob sees alice's link fall too."""
    alice, rec_a = await members("alice", tone(), camera("alice"))
    _, rec_b = await members("bob", tone(), camera("bob"))
    for rec, user in ((rec_a, "alice"), (rec_a, "bob"), (rec_b, "bob"), (rec_b, "alice")):
        await rec.wait("network_quality_changed", graded(user, GOOD_GRADES),
                       within=MEDIA_WAIT)
    assert alice.network_quality("bob").uplink in GOOD_GRADES
    assert alice.network_quality("carol") == NetworkQuality()  # not in the room
    first = rec_a.named("network_quality_changed")[0]
    assert first[1].known  # emitted the first time it became known, never as UNKNOWN

    await impair(alice, "bob", Impairment(loss=0.25, seed=7))
    for rec, user in ((rec_a, "alice"), (rec_a, "bob"), (rec_b, "alice")):
        await rec.wait("network_quality_changed", graded(user, BAD_GRADES),
                       within=MEDIA_WAIT)
    assert alice.network_quality("alice").uplink in BAD_GRADES
    assert alice.network_quality("alice").downlink in BAD_GRADES


async def test_stats_match_what_was_sent(members: Callable[..., Any]) -> None:
    """get_stats() on both ends: alice's 320x240 video at 15 frames/s arrives and is sent at
    about that rate and that size, every track has a bitrate, RTT and jitter, the tone's
    level is high, and track ids, tags and publishers match the publications. (Bob sends
    audio too: a connection's RTT is measured by what it sends.)"""
    alice, _ = await members("alice", tone(), camera("alice"))
    bob, rec_b = await members("bob", silence())
    await rec_b.wait("track_subscribed", lambda u, t: t.kind == "video", within=MEDIA_WAIT)
    video_id = next(p.track_id for p in alice.published_tracks if p.kind == "video")

    async def steady() -> bool:
        stats = await bob.get_stats()
        return (any(t.kind == "video" and (t.frame_rate or 0) > FPS * 0.7 for t in stats.remote)
                and all(t.rtt_ms is not None for t in stats.tracks))

    await until(steady, within=MEDIA_WAIT, what="video at its frame rate, RTT measured")
    sent, received = await asyncio.gather(alice.get_stats(), bob.get_stats())
    assert sent.interval >= 1.0 and received.interval >= 1.0
    out_video = one(sent, local=True, kind="video", user_id="alice")
    in_video = one(received, local=False, kind="video", user_id="alice")
    for video in (out_video, in_video):
        assert video.track_id == video_id and video.tag == "camera"
        assert (video.width, video.height) == (320, 240)  # the top rung: the source's size
        assert video.frame_rate is not None and FPS * 0.7 < video.frame_rate < FPS * 1.3
        assert video.bitrate > 20_000
    assert out_video.peer_id == "bob" and in_video.peer_id == "alice"
    out_audio = one(sent, local=True, kind="audio", user_id="alice")
    in_audio = one(received, local=False, kind="audio", user_id="alice")
    for audio in (out_audio, in_audio):
        assert audio.bitrate > 8_000 and audio.frame_rate is None and audio.width is None
        assert audio.level is not None and audio.level > 0.5
        assert audio.rtt_ms is not None and 0 < audio.rtt_ms < 200
        assert audio.jitter_ms is not None and audio.jitter_ms < 50
        assert audio.concealed is None  # no playout attached
    assert in_audio.packets > 50
    assert received.quality.keys() <= {"alice", "bob"}
    assert await RTCClient("ws://127.0.0.1:9").get_stats() == CallStats()


async def test_stats_count_packets_lost_under_loss(
        members: Callable[..., Any], impair: Impair) -> None:
    """With 20 % of bob's datagrams lost both ways, bob's stats of alice's tracks count lost
    packets and a loss share near the induced one, and alice's stats carry bob's receiver
    reports of loss."""
    alice, _ = await members("alice", tone(), camera("alice"))
    bob, rec_b = await members("bob")
    await rec_b.wait("track_subscribed", lambda u, t: t.kind == "audio", within=MEDIA_WAIT)
    await impair(bob, "alice", Impairment(loss=0.2, seed=3))

    async def lossy() -> bool:
        stats = await bob.get_stats()
        audio = [t for t in stats.remote if t.kind == "audio"]
        return bool(audio) and audio[0].packets_lost > 10 and (audio[0].loss or 0) > 0.1

    await until(lossy, within=MEDIA_WAIT, what="loss counted at bob")
    in_audio = one(await bob.get_stats(), local=False, kind="audio", user_id="alice")
    assert in_audio.loss is not None and 0.1 < in_audio.loss < 0.35

    async def reported() -> bool:
        stats = await alice.get_stats()
        return all(t.packets_lost > 0 for t in stats.local) and len(stats.local) == 2

    await until(reported, within=MEDIA_WAIT, what="loss reported to alice")


async def test_stats_show_the_rung_a_capped_member_gets(
        members: Callable[..., Any], impair: Impair) -> None:
    """With alice's uplink to bob capped at 250 kbit/s, her 640x480 camera reaches bob on a
    lower ladder rung: her stats of that stream and bob's of the track he receives both give
    that rung's size, at about the source's frame rate, within the cap."""
    alice, _ = await members("alice", CameraLikeVideoTrack("alice", fps=FPS))
    bob, rec_b = await members("bob", silence())
    await rec_b.wait("track_subscribed", lambda u, t: t.kind == "video", within=MEDIA_WAIT)
    await impair(alice, "bob", Impairment(rate=250_000))
    lower = {LADDER[1].size_for(640, 480), LADDER[2].size_for(640, 480)}

    async def on_a_lower_rung() -> bool:
        sent, received = await asyncio.gather(alice.get_stats(), bob.get_stats())
        out = [t for t in sent.local if t.kind == "video"]
        got = [t for t in received.remote if t.kind == "video"]
        return (len(out) == 1 and len(got) == 1 and (out[0].width, out[0].height) in lower
                and (got[0].width, got[0].height) == (out[0].width, out[0].height)
                and FPS * 0.6 < (got[0].frame_rate or 0) < FPS * 1.3)

    await until(on_a_lower_rung, within=MEDIA_WAIT, what="a lower rung at both ends")
    out_video = one(await alice.get_stats(), local=True, kind="video", user_id="alice")
    assert 0 < out_video.bitrate < 250_000


async def test_an_attached_playout_gives_levels_and_concealment(
        members: Callable[..., Any], impair: Impair) -> None:
    """Bob plays alice's tone through a real AudioPlayout (mixed in real time even without
    a sound card) attached to his client: his volume indication and stats read alice's level
    from what is played, and with 20 % of his datagrams lost the stats show the share of
    alice's audio the jitter buffer concealed."""
    await members("alice", tone())
    bob, rec_b = await members("bob")
    playout = AudioPlayout()
    bob.attach_playout(playout)
    bob.enable_volume_indication(100)
    _, track = await rec_b.wait("track_subscribed", lambda u, t: t.kind == "audio",
                                within=MEDIA_WAIT)
    playout.add_track("alice", track)
    await playout.start()
    try:
        await rec_b.wait("volume_indication", lambda levels: levels.get("alice", 0) > 0.5,
                         within=MEDIA_WAIT)
        assert playout.levels()["alice"] > 0.5  # what bob read is what is played
        await impair(bob, "alice", Impairment(loss=0.2, seed=5))

        async def concealing() -> bool:
            stats = await bob.get_stats()
            audio = [t for t in stats.remote if t.kind == "audio"]
            return bool(audio) and (audio[0].concealed or 0.0) > 0.0

        await until(concealing, within=MEDIA_WAIT, what="concealment under loss")
        in_audio = one(await bob.get_stats(), local=False, kind="audio", user_id="alice")
        assert in_audio.concealed == pytest.approx(playout.stats("alice").concealed_share,
                                                   abs=0.05)
        bob.attach_playout(None)
        detached = one(await bob.get_stats(), local=False, kind="audio", user_id="alice")
        assert detached.concealed is None
    finally:
        await playout.stop()


async def test_a_link_that_goes_dead_reads_poor_then_recovers(
        members: Callable[..., Any], impair: Impair) -> None:
    """When everything between alice and bob is dropped for 7 s, alice grades bob's uplink
    and her own downlink POOR (nothing arrives, though no receiver can count the gap), and
    once the pair's fresh connection carries media again both grades come back."""
    alice, rec_a = await members("alice", tone())
    await members("bob", tone())
    for user in ("alice", "bob"):
        await rec_a.wait("network_quality_changed", graded(user, GOOD_GRADES),
                         within=MEDIA_WAIT)
    now = time.monotonic()
    await impair(alice, "bob", Impairment(outages=[(now, now + scaled(7.0))]))
    start = len(rec_a.events)

    def since(first: int, user: str, way: str, grades: tuple[NetworkGrade, ...]
              ) -> Callable[[], bool]:
        """Whether a network_quality_changed after event ``first`` put ``user``'s ``way``
        in ``grades``."""
        return lambda: any(name == "network_quality_changed" and args[0] == user
                           and getattr(args[1], way) in grades
                           for name, args in rec_a.events[first:])

    await until(since(start, "bob", "uplink", (NetworkGrade.POOR,)), within=MEDIA_WAIT,
                what="bob's uplink POOR")
    await until(since(start, "alice", "downlink", (NetworkGrade.POOR,)), within=MEDIA_WAIT,
                what="alice's downlink POOR")
    dead = len(rec_a.events)
    await until(since(dead, "bob", "uplink", GOOD_GRADES), within=scaled(30.0),
                what="bob's uplink back")
    assert alice.network_quality("alice").downlink in GOOD_GRADES
