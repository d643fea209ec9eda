"""Mesh: real aiortc peer connections between in-process members over an in-memory relay."""

from __future__ import annotations

import asyncio
import gc
import re
import socket
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import av
import pytest
from aiortc import RTCIceServer
from aiortc.mediastreams import MediaStreamTrack

from roomcall.media.drain import TrackDrain
from roomcall.media.encoder import TrackEncoder
from roomcall.media.synthetic import (
    PatternInfo,
    SyntheticAudioTrack,
    SyntheticVideoTrack,
    decode_pattern,
    dominant_frequency,
    identity_code,
)
from roomcall.sdk import PeerState
from roomcall.sdk.compat import close_connection, stop_ice_abruptly
from roomcall.sdk.mesh import DEFAULT_RECOVERY, MAX_INACTIVE_MLINES, Mesh
from roomcall.sdk.pair_state import RecoveryPolicy
from roomcall.sdk.peer_config import new_connection
from tests.waiting import WAIT, scaled, until

WIDTH, HEIGHT = 320, 240  # small frames keep three members cheap on a shared machine
TIMEOUT = scaled(15.0)
TONES = {"alice": 440.0, "bob": 660.0, "carol": 880.0}


class TickingVideoTrack(SyntheticVideoTrack):
    """The synthetic camera, waking the room's waiters on every frame it produces."""

    def __init__(self, room: Room, label: str) -> None:
        super().__init__(label, width=WIDTH, height=HEIGHT)
        self.room = room

    async def recv(self) -> av.VideoFrame:
        frame = await super().recv()
        self.room.tick.set()
        return frame


class Member:
    """One Mesh plus everything it received, drained continuously."""

    def __init__(self, room: Room, user_id: str,
                 recovery: RecoveryPolicy = DEFAULT_RECOVERY,
                 ice_servers: Sequence[RTCIceServer] = ()) -> None:
        self.room = room
        self.user_id = user_id
        self.mesh = Mesh(user_id, self._send, recovery=recovery, ice_servers=ice_servers)
        self.mesh.on_track = self._on_track
        self.mesh.on_track_ended = self._on_track_ended
        self.mesh.on_peer_state = self._on_peer_state
        self.peer_states: dict[str, list[PeerState]] = defaultdict(list)
        self.rewrite: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        """Applied to every relay this member sends (a broken network path)."""
        self.inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.tracks: dict[str, MediaStreamTrack] = {}
        self.track_owner: dict[str, str] = {}
        self.drains: list[TrackDrain] = []
        self.video: dict[str, list[PatternInfo]] = defaultdict(list)
        self.audio: dict[str, list[float]] = defaultdict(list)
        self.ended: list[tuple[str, str]] = []
        self.sent: list[dict[str, Any]] = []
        self.cut: set[str] = set()
        """Peers whose relays are lost on the way, as the server drops them for an away member."""
        self.pump = asyncio.create_task(self._pump())

    async def _send(self, peer: str, data: dict[str, Any]) -> None:
        if self.rewrite is not None:
            data = self.rewrite(data)
        self.sent.append(data)
        target = self.room.members.get(peer)
        if target is not None and peer not in self.cut:
            target.inbox.put_nowait((self.user_id, data))

    async def _pump(self) -> None:
        # Relays are handled one at a time in arrival order, as the SDK's receive loop does.
        while True:
            sender, data = await self.inbox.get()
            await self.mesh.handle_relay(sender, data)

    def _on_track(self, user_id: str, track: MediaStreamTrack) -> None:
        self.tracks[track.id] = track
        self.track_owner[track.id] = user_id

        def on_frame(frame: av.VideoFrame | av.AudioFrame) -> None:
            if isinstance(frame, av.VideoFrame):
                info = decode_pattern(frame)
                if info is not None:
                    self.video[user_id].append(info)
            else:
                self.audio[user_id].append(dominant_frequency(frame))
            self.room.tick.set()

        drain = TrackDrain(track, keep=1, on_frame=on_frame)
        drain.start()
        self.drains.append(drain)
        self.room.tick.set()

    def _on_peer_state(self, user_id: str, state: PeerState) -> None:
        self.peer_states[user_id].append(state)
        self.room.tick.set()

    def _on_track_ended(self, user_id: str, media_id: str) -> None:
        self.ended.append((user_id, media_id))
        self.room.tick.set()

    def frames_from(self, user_id: str) -> int:
        return len(self.video[user_id])

    def tones_from(self, user_id: str) -> int:
        return sum(abs(f - TONES[user_id]) < 20 for f in self.audio[user_id])

    def last_counter(self, user_id: str) -> int:
        return self.video[user_id][-1].counter if self.video[user_id] else -1

    async def publish(self, *, audio: bool = True) -> dict[str, str]:
        """Add a synthetic camera (and tone); returns kind -> media_id."""
        ids = {"video": await self.mesh.add_local_track(TickingVideoTrack(self.room, self.user_id))}
        if audio:
            ids["audio"] = await self.mesh.add_local_track(
                SyntheticAudioTrack(frequency=TONES[self.user_id]))
        return ids

    async def close(self) -> None:
        await self.mesh.close()
        for drain in self.drains:
            await drain.stop()
        self.pump.cancel()
        await asyncio.gather(self.pump, return_exceptions=True)


class Room:
    """Members whose meshes relay to each other in memory, in order."""

    def __init__(self) -> None:
        self.members: dict[str, Member] = {}
        self.tick = asyncio.Event()

    def join(self, user_id: str, recovery: RecoveryPolicy = DEFAULT_RECOVERY,
             ice_servers: Sequence[RTCIceServer] = ()) -> Member:
        member = Member(self, user_id, recovery, ice_servers)
        self.members[user_id] = member
        return member

    async def connect(self, *members: Member) -> None:
        """Tell every member about every other, as the server's presence does."""
        for a in members:
            for b in members:
                if a is not b:
                    await a.mesh.add_peer(b.user_id)

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()`` holds, re-checking whenever media or events arrive."""
        async with asyncio.timeout(TIMEOUT):
            while not condition():
                self.tick.clear()
                await self.tick.wait()


@pytest.fixture
async def room() -> AsyncIterator[Room]:
    """A room torn down fully after the test."""
    room = Room()
    yield room
    for member in list(room.members.values()):
        await member.close()


def _video_encoder(member: Member) -> TrackEncoder:
    return next(e for e in member.mesh.encoders.values() if e.kind == "video")


async def test_three_members_receive_each_others_video_and_audio(room: Room) -> None:
    """Each of three members gets both others' pattern (right sender, rising counters) and tone."""
    members = [room.join(name) for name in ("alice", "bob", "carol")]
    published = {m.user_id: await m.publish() for m in members}
    await room.connect(*members)

    def all_flowing() -> bool:
        return all(
            m.frames_from(o.user_id) >= 10
            and sum(abs(f - TONES[o.user_id]) < 20 for f in m.audio[o.user_id]) >= 10
            for m in members for o in members if o is not m
        )

    await room.wait_until(all_flowing)
    for m in members:
        for other in members:
            if other is m:
                continue
            infos = m.video[other.user_id]
            assert {i.identity for i in infos} == {identity_code(other.user_id)}
            counters = [i.counter for i in infos]
            assert counters == sorted(counters) and counters[-1] > counters[0]
            # The receiving track's id is the sender's media_id (SDP msid).
            assert set(published[other.user_id].values()) <= set(m.tracks)
        assert m.mesh.peers == {o.user_id for o in members} - {m.user_id}


async def test_each_track_is_encoded_once_for_all_peers(room: Room) -> None:
    """A member sending to two peers runs one encoder per track, one encode per frame."""
    alice, bob, carol = (room.join(n) for n in ("alice", "bob", "carol"))
    await alice.publish()
    await room.connect(alice, bob, carol)
    await room.wait_until(
        lambda: bob.frames_from("alice") >= 20 and carol.frames_from("alice") >= 20
    )

    assert len(alice.mesh.encoders) == 2
    video = _video_encoder(alice)
    assert len(video.outputs) == 2
    assert all(out.packets_sent > 0 for out in video.outputs)
    # One encoder invocation per source frame, not one per peer.
    assert 0 < video.frames_encoded <= video.frames_read


async def test_picture_loss_from_a_peer_makes_the_encoder_emit_a_keyframe(room: Room) -> None:
    """A PLI sent by a receiver over RTCP makes the one shared encoder produce a keyframe."""
    alice, bob = room.join("alice"), room.join("bob")
    media_id = (await alice.publish(audio=False))["video"]
    await room.connect(alice, bob)
    await room.wait_until(lambda: bob.frames_from("alice") >= 5)
    encoder = _video_encoder(alice)
    before = encoder.keyframes

    bob_pc, alice_pc = bob.mesh.connection("alice"), alice.mesh.connection("bob")
    assert bob_pc is not None and alice_pc is not None
    receiver = next(t.receiver for t in bob_pc.getTransceivers()
                    if t.receiver.track is not None and t.receiver.track.id == media_id)
    sender = next(t.sender for t in alice_pc.getTransceivers()
                  if t.sender.track is not None and t.sender.track.id == media_id)
    await receiver._send_rtcp_pli(sender._ssrc)

    await room.wait_until(lambda: encoder.keyframes > before)


async def test_tracks_added_after_connecting_and_a_late_joiner_get_everything(room: Room) -> None:
    """Tracks published after connecting reach peers, and a late joiner gets all of them."""
    alice, bob = room.join("alice"), room.join("bob")
    await room.connect(alice, bob)
    await alice.publish(audio=False)  # the offerer of the pair
    await bob.publish(audio=False)  # the answerer: asks alice to offer again
    await room.wait_until(lambda: alice.frames_from("bob") >= 5 and bob.frames_from("alice") >= 5)

    carol = room.join("carol")
    await room.connect(alice, bob, carol)
    await room.wait_until(
        lambda: carol.frames_from("alice") >= 5 and carol.frames_from("bob") >= 5
    )
    assert {carol.track_owner[t] for t in carol.tracks} == {"alice", "bob"}


@pytest.mark.parametrize("publisher", ["alice", "bob"])
async def test_removing_a_local_track_ends_it_on_the_far_side(room: Room, publisher: str) -> None:
    """remove_local_track ends the far side's track, for the offerer and for the answerer."""
    alice, bob = room.join("alice"), room.join("bob")
    sender = room.members[publisher]
    receiver = bob if sender is alice else alice
    media_id = (await sender.publish(audio=False))["video"]
    await room.connect(alice, bob)
    await room.wait_until(lambda: receiver.frames_from(publisher) >= 5)

    await sender.mesh.remove_local_track(media_id)
    await room.wait_until(lambda: (publisher, media_id) in receiver.ended)
    drain = next(d for d in receiver.drains if d.track.id == media_id)
    await asyncio.wait_for(drain.wait_ended(), TIMEOUT)
    assert sender.mesh.encoders == {}


async def test_remove_peer_closes_its_connection_at_once(room: Room) -> None:
    """remove_peer closes that member's connection and ends its tracks within a second."""
    alice, bob = room.join("alice"), room.join("bob")
    await alice.publish()
    await room.connect(alice, bob)
    await room.wait_until(lambda: bob.frames_from("alice") >= 3)
    pc = bob.mesh.connection("alice")
    assert pc is not None

    started = time.monotonic()
    await bob.mesh.remove_peer("alice")
    assert time.monotonic() - started < 1.0
    assert pc.connectionState == "closed"
    assert bob.mesh.peers == frozenset()
    assert {media for _, media in bob.ended} == set(bob.tracks)


async def test_mute_stops_frames_and_unmute_resumes_them(room: Room) -> None:
    """While muted no frame reaches the peer; after unmuting frames flow again."""
    alice, bob = room.join("alice"), room.join("bob")
    media_id = (await alice.publish(audio=False))["video"]
    await room.connect(alice, bob)
    await room.wait_until(lambda: bob.frames_from("alice") >= 5)
    encoder = _video_encoder(alice)

    alice.mesh.set_muted(media_id, True)
    encoded_at_mute = encoder.frames_encoded
    read_at_mute = encoder.frames_read
    # Let the source move on by a second of frames; what was in flight has arrived by then.
    await room.wait_until(lambda: encoder.frames_read >= read_at_mute + 30)
    received = bob.frames_from("alice")
    await room.wait_until(lambda: encoder.frames_read >= read_at_mute + 45)
    assert bob.frames_from("alice") == received
    assert encoder.frames_encoded == encoded_at_mute

    alice.mesh.set_muted(media_id, False)
    await room.wait_until(lambda: bob.frames_from("alice") >= received + 5)
    assert bob.last_counter("alice") > read_at_mute + 30


async def test_garbage_relay_data_is_ignored(room: Room) -> None:
    """Malformed or unsolicited relay payloads neither raise nor spoil a later call."""
    alice, bob = room.join("alice"), room.join("bob")
    junk: list[Any] = [
        None, [], "offer", {}, {"type": 7}, {"type": "offer"},
        {"type": "offer", "sdp": "v=0 nonsense", "pc": "x", "seq": 1},
        {"type": "offer", "sdp": "x", "pc": "x", "seq": -1},
        {"type": "offer", "sdp": "x", "pc": "x", "seq": 1, "slots": {"0": 5}},
        {"type": "answer", "sdp": "x", "pc": "x", "to": "y", "seq": 1},
        {"type": "renegotiate", "pc": "x", "tracks": "all"},
        {"type": "renegotiate", "pc": "x", "tracks": [{"id": "v", "kind": "smell"}]},
        {"type": "offer", "sdp": "x" * 100_000, "pc": "x" * 10_000, "seq": 1},
    ]
    for data in junk:
        await alice.mesh.handle_relay("mallory", data)
        await bob.mesh.handle_relay("alice", data)
    assert alice.mesh.peers == frozenset() and bob.mesh.peers == frozenset()

    await alice.publish(audio=False)
    await room.connect(alice, bob)
    await room.wait_until(lambda: bob.frames_from("alice") >= 5)


async def test_close_ends_every_task_and_connection(room: Room) -> None:
    """close() closes all connections and leaves no encoder or other task running."""
    before = asyncio.all_tasks()
    alice, bob = room.join("alice"), room.join("bob")
    await alice.publish()
    await bob.publish()
    await room.connect(alice, bob)
    await room.wait_until(lambda: alice.frames_from("bob") >= 3 and bob.frames_from("alice") >= 3)
    pcs = [alice.mesh.connection("bob"), bob.mesh.connection("alice")]

    for member in list(room.members.values()):
        await member.close()
    room.members.clear()
    assert all(pc is not None and pc.connectionState == "closed" for pc in pcs)

    def leftovers() -> set[asyncio.Task[Any]]:
        return {t for t in asyncio.all_tasks() - before if t is not asyncio.current_task()}

    # aiortc's own tasks finish a few loop turns after close: give them a moment to, no more.
    _, pending = await asyncio.wait(leftovers(), timeout=WAIT) if leftovers() else (set(), set())
    assert not pending
    assert not leftovers()


@pytest.mark.parametrize("restarting", ["alice", "bob"])
async def test_a_member_that_restarts_gets_a_fresh_connection(room: Room, restarting: str) -> None:
    """A member that comes back with a new mesh (lost state) is reconnected from scratch."""
    alice, bob = room.join("alice"), room.join("bob")
    await alice.publish(audio=False)
    await bob.publish(audio=False)
    await room.connect(alice, bob)
    await room.wait_until(lambda: alice.frames_from("bob") >= 3 and bob.frames_from("alice") >= 3)
    stayer = bob if restarting == "alice" else alice
    old_pc = stayer.mesh.connection(restarting)

    await room.members[restarting].close()
    back = room.join(restarting)
    await back.publish(audio=False)
    stayer.video.clear()
    await room.connect(room.members["alice"], room.members["bob"])
    await room.wait_until(
        lambda: stayer.frames_from(restarting) >= 3 and back.frames_from(stayer.user_id) >= 3
    )
    assert stayer.mesh.connection(restarting) is not old_pc


async def test_offers_carry_only_vp8_and_opus(room: Room) -> None:
    """Every offered m-line lists only the codecs the shared encoders produce (VP8 + RTX, Opus)."""
    alice, bob = room.join("alice"), room.join("bob")
    await alice.publish()
    await bob.publish()
    await room.connect(alice, bob)
    await room.wait_until(lambda: alice.frames_from("bob") >= 1 and bob.frames_from("alice") >= 1)
    offers = [d["sdp"] for d in alice.sent if d.get("type") == "offer"]
    assert offers
    rtpmaps = {line.split(" ", 1)[1].split("/")[0].lower()
               for sdp in offers for line in sdp.splitlines() if line.startswith("a=rtpmap:")}
    assert rtpmaps == {"vp8", "rtx", "opus"}


async def test_many_unpublish_cycles_keep_offers_small(room: Room) -> None:
    """After many publish / unpublish cycles the pair starts afresh instead of growing the SDP."""
    alice, bob = room.join("alice"), room.join("bob")
    await room.connect(alice, bob)
    for _ in range(MAX_INACTIVE_MLINES + 2):
        media_id = await alice.mesh.add_local_track(SyntheticAudioTrack(frequency=440.0))
        await room.wait_until(lambda media_id=media_id: media_id in bob.tracks)
        await alice.mesh.remove_local_track(media_id)
        await room.wait_until(lambda media_id=media_id: ("alice", media_id) in bob.ended)
    await alice.publish(audio=False)
    await room.wait_until(lambda: bob.frames_from("alice") >= 3)
    pc = alice.mesh.connection("bob")
    assert pc is not None and len(pc.getTransceivers()) < MAX_INACTIVE_MLINES
    last_offer = next(d for d in reversed(alice.sent) if d.get("type") == "offer")
    assert len(last_offer["sdp"]) < 8 * 1024


async def test_tracks_added_while_the_first_connection_is_still_connecting_all_flow(
    room: Room,
) -> None:
    """Both members publish video then audio while their connection is still being set up;
    all four tracks flow and aiortc reports no failed task."""
    loop = asyncio.get_running_loop()
    failures: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: failures.append(context))
    try:
        alice, bob = room.join("alice"), room.join("bob")
        await room.connect(alice, bob)
        await alice.publish()
        await bob.publish()
        pc = alice.mesh.connection("bob")
        # The race this guards: later exchanges started before DTLS finished connecting.
        assert pc is not None and pc.connectionState != "connected"
        await room.wait_until(lambda: all(
            m.frames_from(o.user_id) >= 5 and m.tones_from(o.user_id) >= 5
            for m, o in ((alice, bob), (bob, alice))
        ))
        gc.collect()  # a task that failed unnoticed is reported when it is collected
    finally:
        loop.set_exception_handler(None)
    assert failures == []
    assert len(alice.tracks) == len(bob.tracks) == 2


async def test_an_offer_lost_while_the_answerer_was_away_is_sent_again_when_it_is_back(
    room: Room,
) -> None:
    """An offer dropped on the way is replaced by a fresh one as soon as the member is back."""
    alice, bob = room.join("alice"), room.join("bob")
    await room.connect(alice, bob)
    alice.cut.add("bob")
    await alice.publish(audio=False)
    lost = [d for d in alice.sent if d.get("type") == "offer"]
    assert lost

    alice.cut.clear()
    await alice.mesh.add_peer("bob")  # what the SDK does on user_reconnected
    offers = [d for d in alice.sent if d.get("type") == "offer"]
    assert len(offers) == len(lost) + 1  # at once, not after the answer timeout
    await room.wait_until(lambda: bob.frames_from("alice") >= 5)


async def test_an_answer_lost_while_the_offerer_was_away_is_sent_again_when_it_is_back(
    room: Room,
) -> None:
    """An answer dropped on the way reaches the offerer once the answerer sees it back."""
    alice, bob = room.join("alice"), room.join("bob")
    await alice.publish(audio=False)
    bob.cut.add("alice")
    await room.connect(alice, bob)
    await room.wait_until(lambda: any(d.get("type") == "answer" for d in bob.sent))

    bob.cut.clear()
    await bob.mesh.add_peer("alice")  # what the SDK does on user_reconnected
    await room.wait_until(lambda: bob.frames_from("alice") >= 5)
    answers = [d for d in bob.sent if d.get("type") == "answer"]
    assert len(answers) >= 2 and answers[1] == answers[0]  # the lost answer, sent again


async def test_closing_while_ice_connect_finishes_leaves_no_consent_task() -> None:
    """A connection closed just as aioice's connect() completes (the result queued, connect()
    not yet resumed) ends without a consent-check task left running."""
    pc_a, pc_b = new_connection(()), new_connection(())
    pc_a.addTransceiver("audio")
    ice = pc_a.getTransceivers()[0].receiver.transport.transport
    connection = ice._connection
    closing: list[asyncio.Task[None]] = []
    held: list[int] = []

    class HoldingQueue(asyncio.Queue[int]):
        """Holds aioice's "check list done" news until close() began: the upstream race."""

        def put_nowait(self, item: int) -> None:
            if connection._closing or held:
                super().put_nowait(item)
                return
            held.append(item)
            closing.append(asyncio.ensure_future(close_connection(pc_a)))
            asyncio.get_running_loop().create_task(self._release())

        async def _release(self) -> None:
            await until(lambda: connection._closing, TIMEOUT)
            super().put_nowait(held[0])

    connection._check_list_state = HoldingQueue()
    await pc_a.setLocalDescription(await pc_a.createOffer())
    await pc_b.setRemoteDescription(pc_a.localDescription)
    await pc_b.setLocalDescription(await pc_b.createAnswer())
    await pc_a.setRemoteDescription(pc_b.localDescription)
    try:
        await until(lambda: bool(closing), TIMEOUT)
        await asyncio.wait_for(closing[0], TIMEOUT)
        assert held, "ICE never completed"
        # connect() has returned (aiortc sets this event then): any consent task is started.
        await asyncio.wait_for(ice._RTCIceTransport__start.wait(), TIMEOUT)
        await asyncio.sleep(0)
        assert connection._query_consent_task is None or connection._query_consent_task.done()
        assert not [t for t in asyncio.all_tasks()
                    if t.get_coro().__qualname__ == "Connection.query_consent"
                    and t.get_coro().cr_frame is not None
                    and t.get_coro().cr_frame.f_locals.get("self") is connection]
    finally:
        await close_connection(pc_a)
        await close_connection(pc_b)


RECOVERY_BOUND = 10.0
"""Seconds within which media must flow again once the path is usable (the SDK's promise)."""


async def video_both_ways(room: Room) -> tuple[Member, Member]:
    """Alice and bob, each publishing video, connected and receiving each other."""
    alice, bob = room.join("alice"), room.join("bob")
    await alice.publish(audio=False)
    await bob.publish(audio=False)
    await room.connect(alice, bob)
    await room.wait_until(lambda: alice.frames_from("bob") >= 3 and bob.frames_from("alice") >= 3)
    return alice, bob


@pytest.mark.parametrize("broken", ["alice", "bob"])
async def test_a_connection_lost_under_one_side_recovers(room: Room, broken: str) -> None:
    """One side's ICE transport dies without a goodbye (the far side notices nothing) while
    both stay in the room: that side reports RECOVERING then CONNECTED, and both members'
    patterns, naming the right sender, flow again within 10 s."""
    alice, bob = await video_both_ways(room)
    side = room.members[broken]
    other = bob if side is alice else alice
    assert side.peer_states[other.user_id] == [PeerState.CONNECTING, PeerState.CONNECTED]
    old_pc = side.mesh.connection(other.user_id)
    assert old_pc is not None

    await stop_ice_abruptly(old_pc)
    cut_at = time.monotonic()
    counters = {m.user_id: m.frames_from(o.user_id) for m, o in ((alice, bob), (bob, alice))}
    async with asyncio.timeout(RECOVERY_BOUND):
        await room.wait_until(lambda: all(
            m.frames_from(o.user_id) >= counters[m.user_id] + 5
            and m.mesh.connection(o.user_id) is not old_pc
            for m, o in ((alice, bob), (bob, alice))))
    assert time.monotonic() - cut_at < RECOVERY_BOUND
    states = side.peer_states[other.user_id]
    assert states[:2] == [PeerState.CONNECTING, PeerState.CONNECTED]
    assert PeerState.RECOVERING in states[2:]
    await room.wait_until(lambda: side.peer_states[other.user_id][-1] is PeerState.CONNECTED)
    assert PeerState.FAILED not in states
    for m, o in ((alice, bob), (bob, alice)):
        fresh = m.video[o.user_id][counters[m.user_id]:]
        assert {i.identity for i in fresh} == {identity_code(o.user_id)}
        assert m.mesh.peer_state(o.user_id) is PeerState.CONNECTED


def candidates_to(port: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A relay rewrite that points every UDP candidate announced at ``port``."""
    def rewrite(data: dict[str, Any]) -> dict[str, Any]:
        if "sdp" not in data:
            return data
        sdp = re.sub(r"^(a=candidate:\S+ \d+ udp \d+ \S+) \d+", rf"\g<1> {port}",
                     data["sdp"], flags=re.MULTILINE)
        return {**data, "sdp": sdp}
    return rewrite


async def test_a_pair_with_no_reachable_candidate_fails_within_bounded_time(room: Room) -> None:
    """When every candidate either side announces leads to a port that swallows everything,
    the pair goes CONNECTING, RECOVERING, then FAILED after its attempts, without a crash."""
    loop = asyncio.get_running_loop()
    failures: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: failures.append(context))
    blackhole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blackhole.bind(("127.0.0.1", 0))  # receives and never answers
    port = blackhole.getsockname()[1]
    unreachable = candidates_to(port)
    policy = RecoveryPolicy(attempts=2, connect_timeout=1.0)
    try:
        alice, bob = room.join("alice", policy), room.join("bob", policy)
        alice.rewrite = bob.rewrite = unreachable
        await alice.publish(audio=False)
        await room.connect(alice, bob)
        started = time.monotonic()
        await room.wait_until(lambda: all(
            PeerState.FAILED in m.peer_states[o.user_id] for m, o in ((alice, bob), (bob, alice))))
        # Two attempts of one second each, plus the time to set each one up.
        assert time.monotonic() - started < TIMEOUT
        for m, o in ((alice, bob), (bob, alice)):
            states = m.peer_states[o.user_id]
            assert states[0] is PeerState.CONNECTING and PeerState.CONNECTED not in states
            assert PeerState.RECOVERING in states
        assert bob.frames_from("alice") == 0
        assert any("udp" in d.get("sdp", "") and str(port) in d.get("sdp", "")
                   for d in alice.sent)
    finally:
        loop.set_exception_handler(None)
        blackhole.close()
    assert failures == []


async def test_a_member_whose_check_never_fires_still_sees_the_pair_fail(room: Room) -> None:
    """Bob gives a connection 1 s to connect, alice would give it a minute: each fresh
    connection bob starts on an unreachable pair is a failed attempt for alice too, so her view
    of the pair goes RECOVERING, then FAILED, with his, and does not stay CONNECTING."""
    blackhole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blackhole.bind(("127.0.0.1", 0))  # receives and never answers
    try:
        alice = room.join("alice", RecoveryPolicy(attempts=2, connect_timeout=60.0))
        bob = room.join("bob", RecoveryPolicy(attempts=2, connect_timeout=1.0))
        alice.rewrite = bob.rewrite = candidates_to(blackhole.getsockname()[1])
        await alice.publish(audio=False)
        await room.connect(alice, bob)
        await room.wait_until(lambda: all(
            PeerState.FAILED in m.peer_states[o.user_id] for m, o in ((alice, bob), (bob, alice))))
        assert alice.peer_states["bob"] == [PeerState.CONNECTING, PeerState.RECOVERING,
                                            PeerState.FAILED]
    finally:
        blackhole.close()


async def test_a_member_back_after_a_signalling_gap_asks_for_a_fresh_keyframe(
        room: Room) -> None:
    """When presence says a connected member is back (what the SDK does on user_reconnected
    and after its own resume), the receiver drops what it still holds and asks the sender
    for a keyframe, so the picture is current at once."""
    alice, bob = room.join("alice"), room.join("bob")
    await alice.publish(audio=False)
    await room.connect(alice, bob)
    await room.wait_until(lambda: bob.frames_from("alice") >= 5)
    encoder = _video_encoder(alice)
    await room.wait_until(lambda: encoder.keyframes >= 1)
    before = encoder.keyframes
    counter = bob.last_counter("alice")

    await bob.mesh.add_peer("alice")
    await room.wait_until(lambda: encoder.keyframes > before)
    await room.wait_until(lambda: bob.last_counter("alice") > counter + 3)
    assert bob.mesh.peer_state("alice") is PeerState.CONNECTED


async def test_video_held_up_by_packets_lost_for_good_resumes_at_once(room: Room) -> None:
    """A burst of video packets that never arrives, not even retransmitted (a network gap),
    would hold aiortc's jitter buffer back until 512 newer packets came; the mesh sees the
    stream waiting, flushes it and asks for a keyframe, and frames flow again within seconds."""
    alice, bob = room.join("alice"), room.join("bob")
    media_id = (await alice.publish(audio=False))["video"]
    await room.connect(alice, bob)
    await room.wait_until(lambda: bob.frames_from("alice") >= 5)
    pc = bob.mesh.connection("alice")
    assert pc is not None
    receiver = next(t.receiver for t in pc.getTransceivers()
                    if t.receiver.track is not None and t.receiver.track.id == media_id)
    deliver = receiver._handle_rtp_packet
    lost: set[int] = set()
    media_ssrc: list[int] = []

    async def lossy(packet: Any, arrival_time_ms: int) -> None:
        if not lost:
            media_ssrc.append(packet.ssrc)
            lost.update((packet.sequence_number + i) % 65536 for i in range(1, 41))
        if packet.ssrc != media_ssrc[0] or packet.sequence_number in lost:
            return  # gone for good: retransmissions (RTX, another SSRC) are dropped too
        await deliver(packet, arrival_time_ms)

    receiver._handle_rtp_packet = lossy  # type: ignore[method-assign]
    await room.wait_until(lambda: bool(lost))
    gap_from = bob.frames_from("alice")
    encoder = _video_encoder(alice)
    keyframes = encoder.keyframes
    started = time.monotonic()
    await room.wait_until(lambda: bob.frames_from("alice") >= gap_from + 10)
    assert time.monotonic() - started < 5.0  # 512 packets at 30 fps would take over 8 s
    assert encoder.keyframes > keyframes
    fresh = bob.video["alice"][gap_from:]
    assert {i.identity for i in fresh} == {identity_code("alice")}


async def test_a_pair_with_nothing_to_send_does_not_count_as_failed(room: Room) -> None:
    """Members who publish nothing have nothing to connect: well past the connect timeout
    their pair is still CONNECTING (no RECOVERING, no FAILED), and it connects as soon as one
    of them publishes."""
    policy = RecoveryPolicy(attempts=2, connect_timeout=0.3)
    alice, bob = room.join("alice", policy), room.join("bob", policy)
    await room.connect(alice, bob)
    quiet_until = time.monotonic() + 4 * policy.connect_timeout * policy.attempts
    await until(lambda: time.monotonic() >= quiet_until, within=TIMEOUT)  # the window judged
    for m, o in ((alice, bob), (bob, alice)):
        assert m.peer_states[o.user_id] == [PeerState.CONNECTING]

    await alice.publish(audio=False)
    await room.wait_until(lambda: bob.frames_from("alice") >= 3)
    await room.wait_until(lambda: all(m.peer_states[o.user_id][-1] is PeerState.CONNECTED
                                      for m, o in ((alice, bob), (bob, alice))))
    for m, o in ((alice, bob), (bob, alice)):
        assert m.peer_states[o.user_id] == [PeerState.CONNECTING, PeerState.CONNECTED]


@pytest.mark.parametrize("deaf", ["alice", "bob"])
async def test_a_path_that_goes_silent_one_way_is_replaced(room: Room, deaf: str) -> None:
    """One side stops receiving anything over its connection while ICE consent still passes
    (aiortc would never notice): that side sees the far side silent, starts a fresh
    connection, and both members' patterns flow again within 10 s."""
    alice, bob = await video_both_ways(room)
    side = room.members[deaf]
    other = bob if side is alice else alice
    pc = side.mesh.connection(other.user_id)
    assert pc is not None
    ice = pc.getTransceivers()[0].receiver.transport.transport
    hear = ice._recv

    async def deaf_recv() -> bytes:
        while True:
            await hear()  # swallowed: the datagram never reaches DTLS

    ice._recv = deaf_recv
    cut_at = time.monotonic()
    counters = {m.user_id: m.frames_from(o.user_id) for m, o in ((alice, bob), (bob, alice))}
    await room.wait_until(lambda: all(
        m.frames_from(o.user_id) >= counters[m.user_id] + 5
        and m.mesh.connection(o.user_id) is not pc
        for m, o in ((alice, bob), (bob, alice))))
    assert time.monotonic() - cut_at < RECOVERY_BOUND
    assert PeerState.RECOVERING in side.peer_states[other.user_id]
    fresh = side.video[other.user_id][counters[side.user_id]:]
    assert {i.identity for i in fresh} == {identity_code(other.user_id)}
