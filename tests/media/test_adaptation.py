"""Bandwidth adaptation over real aiortc connections: RTCP reaches each peer's estimate, a
capped peer moves down the ladder while an uncapped one keeps the top rung, resends are bounded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import av
import pytest
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtp import RTCP_RTPFB_NACK, RtcpRtpfbPacket, RtpPacket

from roomcall.media.bandwidth import RETRANSMIT_MIN_GAP
from roomcall.media.drain import TrackDrain
from roomcall.media.encoder import TrackEncoder
from roomcall.media.ladder import LADDER
from roomcall.media.packet_track import PacketTrack
from roomcall.media.synthetic import CameraLikeVideoTrack, decode_pattern, identity_code
from roomcall.sdk.mesh import Mesh
from tests.media.impair import ImpairedLink, Impairment
from tests.waiting import until

TIMEOUT = 40.0
HOLD = 0.1
"""Seconds the pacer is made to hold each packet in the send-time test."""
ALICE = identity_code("alice")


class Call:
    """Alice sends a camera-like 640x480 source to the other members, in-memory relays."""

    def __init__(self, *receivers: str) -> None:
        self.meshes = {uid: Mesh(uid, self._relay(uid)) for uid in ("alice", *receivers)}
        self.inboxes: dict[str, asyncio.Queue[tuple[str, dict[str, Any]]]] = {
            uid: asyncio.Queue() for uid in self.meshes}
        self.pumps = [asyncio.create_task(self._pump(uid)) for uid in self.meshes]
        self.frames: dict[str, list[tuple[int, bool]]] = {uid: [] for uid in receivers}
        """Per receiver: (width, whether the code names alice) of each decoded frame."""
        self.drains: list[TrackDrain] = []
        for uid in receivers:
            self.meshes[uid].on_track = self._on_track(uid)

    def _relay(self, uid: str) -> Any:
        async def send(peer: str, data: dict[str, Any]) -> None:
            self.inboxes[peer].put_nowait((uid, data))
        return send

    async def _pump(self, uid: str) -> None:
        while True:
            sender, data = await self.inboxes[uid].get()
            await self.meshes[uid].handle_relay(sender, data)

    def _on_track(self, uid: str) -> Any:
        def on_track(_user: str, track: MediaStreamTrack) -> None:
            def on_frame(frame: av.VideoFrame) -> None:
                info = decode_pattern(frame)
                self.frames[uid].append((frame.width, info is not None and info.identity == ALICE))

            drain = TrackDrain(track, on_frame=on_frame)
            drain.start()
            self.drains.append(drain)
        return on_track

    @property
    def encoder(self) -> TrackEncoder:
        return next(iter(self.meshes["alice"].encoders.values()))

    def track_to(self, uid: str) -> PacketTrack:
        """Alice's packet track for ``uid``'s sender."""
        pc = self.meshes["alice"].connection(uid)
        assert pc is not None
        track = pc.getTransceivers()[0].sender.track
        assert isinstance(track, PacketTrack)
        return track

    def good(self, uid: str, *, width: int, last: int = 30) -> bool:
        """Whether ``uid``'s last ``last`` frames are mostly alice's code at ``width``."""
        recent = self.frames[uid][-last:]
        return len(recent) == last and sum(w == width and ok for w, ok in recent) >= last * 0.8

    async def close(self) -> None:
        for pump in self.pumps:
            pump.cancel()
        await asyncio.gather(*self.pumps, return_exceptions=True)
        await asyncio.gather(*(m.close() for m in self.meshes.values()))
        for drain in self.drains:
            await drain.stop()


async def _start(call: Call, impaired: dict[str, Impairment]) -> dict[str, ImpairedLink]:
    alice = call.meshes["alice"]
    await alice.add_local_track(CameraLikeVideoTrack("alice"))
    links = {}
    for uid in call.frames:
        await alice.add_peer(uid)  # alice offers: her connection exists, with its sockets
        if uid in impaired:
            pc = alice.connection(uid)
            assert pc is not None
            links[uid] = ImpairedLink(impaired[uid])
            await links[uid].attach(pc)
        await call.meshes[uid].add_peer("alice")
    return links


@pytest.fixture
async def pair() -> AsyncIterator[Call]:
    """Alice and bob on a clean link."""
    call = Call("bob")
    await _start(call, {})
    yield call
    await call.close()


async def test_remb_and_receiver_reports_reach_the_peers_estimate(pair: Call) -> None:
    """aiortc drops REMB on the packet path; through the tap bob's REMB and receiver reports
    land in alice's estimate for bob, with an RTT."""
    await until(lambda: bool(pair.meshes["alice"].encoders) and pair.good("bob", width=640),
                within=TIMEOUT)
    estimator = pair.track_to("bob").estimator
    await until(lambda: estimator._remb is not None and estimator.reports >= 2, within=TIMEOUT)
    assert estimator.round_trip_time is not None and 0 < estimator.round_trip_time < 1
    assert estimator.fraction_lost < 0.02


async def test_a_nack_storm_is_resent_within_the_budget_once(pair: Call) -> None:
    """A NACK listing the sender's whole history is resent only up to the budget, and the same
    NACK again resends no more than the budget refilled meanwhile (aiortc alone resends all of
    it, every time)."""
    await until(lambda: pair.good("bob", width=640), within=TIMEOUT)
    pc = pair.meshes["alice"].connection("bob")
    assert pc is not None
    sender = pc.getTransceivers()[0].sender
    history: dict[int, RtpPacket] = sender._RTCRtpSender__rtp_history  # type: ignore[attr-defined]
    resent: list[int] = []
    original = sender._retransmit

    async def count(seq: int) -> None:
        resent.append(seq)
        await original(seq)

    sender._retransmit = count  # type: ignore[method-assign]
    listed = sorted(p.sequence_number for p in history.values())
    nack = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=1, media_ssrc=sender._ssrc, lost=listed)
    started = time.monotonic()
    await sender._handle_rtcp_packet(nack)
    first = len(resent)
    track = pair.track_to("bob")
    estimate = track.estimator.estimate(time.monotonic())
    budget_bytes = track.retransmits.share * estimate / 8 * track.retransmits.burst
    sizes = {p.sequence_number: len(p.payload) for p in history.values()}
    assert 0 < first < len(listed)
    assert sum(sizes[s] for s in resent) <= budget_bytes + max(sizes.values())
    await sender._handle_rtcp_packet(nack)
    # What came back since the first NACK (nothing, when both are handled at once; a busy
    # machine lets some time pass between them).
    elapsed = time.monotonic() - started
    refilled = track.retransmits.share * estimate / 8 * elapsed
    again = resent[first:]
    assert sum(sizes[s] for s in again) <= refilled + max(sizes.values())
    if elapsed < RETRANSMIT_MIN_GAP:  # no packet resent twice within the spacing
        assert not set(again) & set(resent[:first])


async def test_a_capped_peer_moves_down_the_ladder_and_the_other_keeps_the_top() -> None:
    """With carol's link capped at 250 kbit/s, carol's stream moves to a lower rung and still
    decodes alice's code there, while bob keeps 640x480 from the same encoder."""
    call = Call("bob", "carol")
    try:
        await _start(call, {"carol": Impairment(rate=250_000)})
        await until(lambda: call.track_to("carol").rung >= 1, within=TIMEOUT)
        await until(lambda: any(call.good("carol", width=w) for w in (320, 160)), within=TIMEOUT)
        await until(lambda: call.good("bob", width=640), within=TIMEOUT)
        assert call.track_to("bob").rung == 0
        rungs = call.encoder.rungs
        assert rungs[0].active and rungs[0].bitrate is not None
        # Carol does not drag bob's rung down to what her link takes.
        carol_estimate = call.track_to("carol").estimator.estimate(time.monotonic())
        assert rungs[0].bitrate > carol_estimate
        assert rungs[0].bitrate >= LADDER[0].min_bitrate
    finally:
        await call.close()



async def test_packets_the_pacer_held_carry_the_time_they_left(pair: Call) -> None:
    """A packet the pacer holds reaches bob with the abs-send-time of when it left, not of when
    aiortc made it (bob's REMB would take every hold for queuing delay on the link)."""
    await until(lambda: pair.good("bob", width=640), within=TIMEOUT)
    bob_pc = pair.meshes["bob"].connection("alice")
    assert bob_pc is not None
    receiver = bob_pc.getTransceivers()[0].receiver
    offsets: dict[bool, list[float]] = {False: [], True: []}
    """Arrival minus abs-send-time (s), of packets sent unheld and held."""
    holding = False
    original = receiver._handle_rtp_packet

    async def record(packet: RtpPacket, arrival_time_ms: int) -> None:
        sent = packet.extensions.abs_send_time
        if sent is not None:
            offsets[holding].append(arrival_time_ms / 1000 - sent / (1 << 18))
        await original(packet, arrival_time_ms=arrival_time_ms)

    receiver._handle_rtp_packet = record  # type: ignore[method-assign]
    await until(lambda: len(offsets[False]) >= 20, within=TIMEOUT)
    track = pair.track_to("bob")
    holding = True
    track.pace = lambda size, *, wait: HOLD if wait else 0.0  # type: ignore[method-assign]
    await until(lambda: len(offsets[True]) >= 8, within=TIMEOUT)
    # abs-send-time wraps every 64 s: each offset relative to the first, within +-32 s.
    first = offsets[False][0]
    unheld, held = ([(o - first + 32) % 64 - 32 for o in offsets[k]] for k in (False, True))
    assert max(held[2:]) - max(unheld) < HOLD / 2
