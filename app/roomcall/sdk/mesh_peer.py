"""One remote member of the mesh: its RTCPeerConnection, what each m-line carries, and the
pair's state (:mod:`roomcall.sdk.pair_state`)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TypeVar

from aiortc import RTCPeerConnection, RTCRtpTransceiver, sdp
from aiortc.mediastreams import MediaStreamTrack

from roomcall.media.encoder import TrackEncoder
from roomcall.sdk.compat import end_remote_track, flush_receiver, request_keyframe
from roomcall.sdk.negotiation import Answer, Offer
from roomcall.sdk.pair_state import TRANSITIONS, PairState
from roomcall.sdk.peer_config import carries_shared_codec, pin_codecs, wire_sender
from roomcall.sdk.setup_hold import SetupHold

logger = logging.getLogger(__name__)

T = TypeVar("T")

OnState = Callable[[str, PairState], None]
"""``on_state(user_id, state)``: called on every real change of a pair's state."""


class Abandoned(Exception):
    """The pair's connection was given up (:meth:`MeshPeer.abandon`) while a step of it was
    waiting on the network; the step is cancelled and its result never used."""


class MeshPeer:
    """Bookkeeping of one pair: which transceiver sends or receives which media_id.

    An m-line carries one track only, ever: a retired one turns ``inactive`` and stays so.
    """

    def __init__(self, user_id: str, offerer: bool, pc: RTCPeerConnection,
                 on_state: OnState | None = None) -> None:
        self.user_id = user_id
        self.offerer = offerer
        """True when we make the offers for this pair (our user id is the smaller)."""
        self.lock = asyncio.Lock()
        """Held while one negotiation step (offer, answer, restart) runs."""
        self._state = PairState.CONNECTING
        self._on_state = on_state
        self.failures = 0
        """Connections of the pair that failed in a row (see RecoveryPolicy)."""
        self.counted: RTCPeerConnection | None = None
        """The connection whose failure was counted last (each is counted once)."""
        self.remote_media: dict[str, str] = {}
        """Offerer only: the answerer's tracks (media_id -> kind) from its last request."""
        self.setup = SetupHold(user_id, pc)
        self.reset(pc)

    @property
    def state(self) -> PairState:
        """Where the pair's media path stands."""
        return self._state

    @property
    def closed(self) -> bool:
        """True once the member left or the mesh closed (final)."""
        return self._state is PairState.CLOSED

    def set_state(self, new: PairState) -> None:
        """Move to ``new``: checked against the table, logged, reported on a real change."""
        old = self._state
        if new is old:
            return
        if new not in TRANSITIONS[old]:
            raise RuntimeError(f"invalid pair state change {old.name} -> {new.name}")
        self._state = new
        logger.info("pair with %s: %s -> %s", self.user_id, old.name, new.name)
        if self._on_state is not None:
            try:
                self._on_state(self.user_id, new)
            except Exception:
                logger.exception("pair state handler failed")

    def hold(self, resume: Callable[[], Awaitable[None]]) -> bool:
        """True if the next exchange must wait for the transport; ``resume()`` runs then."""
        return self.setup.hold(resume)

    def cancel_waiting(self) -> None:
        """Drop a pending resume (the peer is closing or starting over)."""
        self.setup.cancel()

    def abandon(self) -> None:
        """Give up the current connection: a :meth:`step` of it in flight (ICE gathering
        that waits out servers unreachable during an outage) is cancelled at once and raises
        :class:`Abandoned`, and so do later steps, until :meth:`reset` starts a fresh one.

        For a pair whose media path is down when the signalling says the network works again:
        the attempt begun meanwhile cannot succeed and would hold :attr:`lock` for seconds."""
        self._abandoned.set()

    async def step(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``, a step of the current connection that may wait on the network
        (``setLocalDescription`` gathers ICE candidates, 5 s when no server answers);
        :class:`Abandoned` if the connection is abandoned before it ends."""
        abandoned = self._abandoned
        task = asyncio.ensure_future(awaitable)
        waiter = asyncio.ensure_future(abandoned.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            if not task.done():  # abandoned, or the caller is cancelled: stop the step too
                task.cancel()
                await asyncio.wait({task})
        if task.cancelled() and abandoned.is_set():
            raise Abandoned(f"connection to {self.user_id} abandoned")
        return task.result()

    def reset(self, pc: RTCPeerConnection) -> None:
        """Start over on a fresh connection ``pc`` (a new ``pc_id``, nothing negotiated)."""
        self.cancel_waiting()
        self.setup = SetupHold(self.user_id, pc)
        self._abandoned = asyncio.Event()
        self.pc = pc
        self.silent_checks = 0
        """Checks in a row (``pair_watch``) in which ``pc``, connected, received nothing from
        a far side that sends."""
        self.gathered_offline = False
        """``pc`` gathered its candidates while none of the ICE servers answered (set by the
        mesh when it has servers): see ``RecoveryPolicy.offline_connect_timeout``."""
        self.back_from_gap: int | None = None
        """Packets ``pc`` had received when the signalling said its member is back from a
        gap (None: no gap pending). Until more arrive, silence fails ``pc`` sooner
        (``pair_watch.BACK_SILENT_CHECKS``): the gap may have broken the path."""
        self.pc_id = uuid.uuid4().hex
        self.remote_pc: str | None = None
        """The far side's connection id, bound by the first completed exchange."""
        self.sending: dict[str, RTCRtpTransceiver] = {}
        """Our media_id -> the transceiver sending it."""
        self.slots: dict[str, RTCRtpTransceiver] = {}
        """Offerer only: answerer's media_id -> the recvonly transceiver made for it."""
        self.retired: set[str] = set()
        """Offerer only: answerer media ids whose m-line went inactive."""
        self.receiving: dict[str, MediaStreamTrack] = {}
        """Remote media_id -> the received track handed to ``on_track``."""
        self.seq = 0
        """Number of the last offer made on this connection."""
        self.awaiting: float | None = None
        """Loop time the outstanding offer was sent, None when stable."""
        self.pending = False
        """Offerer: another offer is due once the outstanding one is answered and set up."""
        self.held_offer: Offer | None = None
        """Answerer: the newest offer, kept until the connection has finished setting up."""
        self.answered = -1
        """Answerer: ``seq`` of the last offer applied on this connection."""
        self.last_answer: Answer | None = None
        """Answerer: the last answer sent, sent again when the offerer may have missed it."""

    def sync_offerer(self, encoders: Mapping[str, TrackEncoder]) -> None:
        """Offerer: an m-line for every local and every announced remote track; retire the rest."""
        for media_id, encoder in encoders.items():
            if media_id not in self.sending:
                track = encoder.subscribe()
                transceiver = self.pc.addTransceiver(track, direction="sendonly")
                pin_codecs(transceiver)
                wire_sender(transceiver.sender, track)
                self.sending[media_id] = transceiver
        for media_id in list(self.sending):
            if media_id not in encoders:
                self.retire_sending(media_id)
        for media_id, kind in self.remote_media.items():
            if media_id not in self.slots and media_id not in self.retired:
                transceiver = self.pc.addTransceiver(kind, direction="recvonly")
                pin_codecs(transceiver)
                self.slots[media_id] = transceiver
        for media_id in list(self.slots):
            if media_id not in self.remote_media:
                self.slots.pop(media_id).direction = "inactive"
                self.retired.add(media_id)

    def fill_slots(
        self, slots: Mapping[str, str], encoders: Mapping[str, TrackEncoder], *, held: bool
    ) -> None:
        """Answerer: after applying an offer, send each local track on the mid named for it.

        ``held``: the transport is already connected, so our senders start as soon as we answer,
        before the offerer can receive: new video waits to be asked (``ask_keyframes``).
        """
        by_mid = {t.mid: t for t in self.pc.getTransceivers()}
        for mid, media_id in slots.items():
            encoder = encoders.get(media_id)
            transceiver = by_mid.get(mid)
            if (
                encoder is None
                or transceiver is None
                or transceiver.kind != encoder.kind
                or media_id in self.sending
                or transceiver.sender.track is not None
                or not carries_shared_codec(transceiver)
            ):
                continue
            # Sets the sender's _track_id, and so the answer's msid, to the media_id.
            track = encoder.subscribe(held=held)
            transceiver.sender.replaceTrack(track)
            transceiver.direction = "sendonly"
            wire_sender(transceiver.sender, track)
            self.sending[media_id] = transceiver

    async def ask_keyframes(self, media_ids: Iterable[str], *, flush: bool = False) -> None:
        """Ask for a keyframe (RTCP PLI) on the video m-lines receiving ``media_ids``.

        The offerer does it for new video: the answerer holds a new video track until asked
        (see ``PacketTrack``'s ``held``), so this tells it the answer is applied here.
        ``flush``: first drop what the receiver still holds, so that after a freeze the newest
        picture is shown rather than seconds of backlog.
        """
        wanted = set(media_ids)
        if not wanted or self.pc.connectionState != "connected":
            return  # receivers start with the transport, before the answerer can send
        media = {m.rtp.muxId: m for m in sdp.SessionDescription.parse(
            self.pc.remoteDescription.sdp).media}
        for transceiver in self.pc.getTransceivers():
            track = transceiver.receiver.track
            description = media.get(transceiver.mid or "")
            if (track is not None and track.id in wanted and transceiver.kind == "video"
                    and description is not None and description.ssrc):
                if flush:
                    flush_receiver(transceiver.receiver)
                await request_keyframe(transceiver.receiver, description.ssrc[0].ssrc)

    def retire_sending(self, media_id: str) -> None:
        """Stop sending ``media_id`` to this peer; its m-line goes inactive at the next exchange."""
        transceiver = self.sending.pop(media_id, None)
        if transceiver is None:
            return
        transceiver.direction = "inactive"
        if transceiver.sender.track is not None:
            transceiver.sender.track.stop()

    def stop_sending(self) -> None:
        """End every per-peer packet track (the encoders carry on for the other peers)."""
        for transceiver in self.sending.values():
            if transceiver.sender.track is not None:
                transceiver.sender.track.stop()

    def ended_tracks(self) -> list[str]:
        """Received media ids whose m-line no longer receives after the last exchange."""
        ended = []
        for transceiver in self.pc.getTransceivers():
            track = transceiver.receiver.track
            if (
                track is not None
                and self.receiving.get(track.id) is track
                and transceiver.currentDirection not in ("recvonly", "sendrecv")
            ):
                ended.append(track.id)
        return ended

    def end_received(self, media_ids: Iterable[str]) -> list[str]:
        """Stop the received tracks ``media_ids`` (waking their readers); returns those ended."""
        ended = []
        for media_id in media_ids:
            track = self.receiving.pop(media_id, None)
            if track is None:
                continue
            end_remote_track(track)
            ended.append(media_id)
        return ended

