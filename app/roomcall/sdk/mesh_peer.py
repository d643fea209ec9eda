"""One remote member of the mesh: its RTCPeerConnection and what each m-line carries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    sdp,
)
from aiortc.mediastreams import MediaStreamTrack

from roomcall.aio import cancel_and_wait
from roomcall.media.encoder import TrackEncoder
from roomcall.media.keyframe import route_keyframe_requests
from roomcall.media.packet_track import PacketTrack
from roomcall.sdk.compat import (
    bound_video_gaps,
    gather_from_every_ice_server,
    tap_sender_feedback,
)
from roomcall.sdk.negotiation import Answer, Offer

logger = logging.getLogger(__name__)

# aiortc alone gathers from the first STUN and the first TURN URL only (see compat).
gather_from_every_ice_server()

SETUP_TIMEOUT = 8.0
"""Seconds a held exchange waits for the transport to connect before going ahead anyway.

Below the offerer's answer timeout, so an answerer holding an offer still answers it in time.
"""


def new_connection(ice_servers: Iterable[RTCIceServer]) -> RTCPeerConnection:
    """A fresh RTCPeerConnection configured for the mesh."""
    bound_video_gaps()
    # Explicit ICE servers always: aiortc's default asks Google's STUN server, which stalls
    # setLocalDescription for 5 s where it is unreachable.
    # max-bundle: every m-line rides the first one's transport from the start. Under aiortc
    # 1.16's default (balanced) the second m-line of a kind new to the connection reuses the
    # first one's fresh transport and is flagged bundled, so applying the BUNDLE answer leaves
    # it on that transport, which is then discarded: its track never flows.
    return RTCPeerConnection(RTCConfiguration(
        iceServers=list(ice_servers), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


ICE_SETTLE_TIMEOUT = 2.0
"""Seconds :func:`close_connection` waits for an ICE ``connect()`` in flight to return."""


async def close_connection(pc: RTCPeerConnection) -> None:
    """Close ``pc`` and leave no ICE task of it running.

    aioice 0.13 (``Connection.connect``): when the check list completes just before
    ``close()``, ``connect()`` has the result queued but resumes only after ``close()`` ran,
    and then starts its RFC 7675 consent checks (``query_consent``) on the closed connection.
    ``close()`` had nothing to cancel yet, and the task outlives the connection (its
    nominated pairs were cleared, so it never fails and ends: it wakes every ~5 s for ever).
    So: close, let any ``connect()`` in flight return, then cancel a consent task it started.
    """
    transports = _ice_transports(pc)
    await pc.close()
    for ice in transports:
        # aiortc's RTCIceTransport.start() sets this event once aioice's connect() returned.
        started: asyncio.Event | None = getattr(ice, "_RTCIceTransport__start", None)
        if started is not None and not started.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(started.wait(), ICE_SETTLE_TIMEOUT)
        connection = getattr(ice, "_connection", None)
        consent: asyncio.Task[None] | None = getattr(connection, "_query_consent_task", None)
        if consent is not None and not consent.done():
            await cancel_and_wait(consent)


def _ice_transports(pc: RTCPeerConnection) -> list[object]:
    """The RTCIceTransports under ``pc``'s transceivers and data channel, each once."""
    found: dict[int, object] = {}
    dtls = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        dtls.append(pc.sctp.transport)
    for transport in dtls:
        ice = getattr(transport, "transport", None)
        if ice is not None:
            found[id(ice)] = ice
    return list(found.values())


def pin_codecs(transceiver: RTCRtpTransceiver) -> None:
    """Offer only VP8 (+ RTX) or Opus: the shared encoder's packets must match the m-line."""
    wanted = ("video/vp8", "video/rtx") if transceiver.kind == "video" else ("audio/opus",)
    codecs = RTCRtpSender.getCapabilities(transceiver.kind).codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType.lower() in wanted])


def _wire_sender(sender: RTCRtpSender, track: PacketTrack) -> None:
    """Route ``sender``'s RTCP to the peer's track: keyframe requests, and for video the REMB
    and receiver reports its bandwidth estimate follows (retransmissions bounded by it)."""
    route_keyframe_requests(sender, track.picture_lost)
    if track.kind == "video":
        tap_sender_feedback(sender, track)


def _carries_shared_codec(transceiver: RTCRtpTransceiver) -> bool:
    """Whether the m-line's first negotiated codec is the one our shared encoders produce.

    The sender packs with ``codecs[0]``; an offer from elsewhere preferring, say, H.264 would
    otherwise get VP8 bytes packed as H.264. aiortc keeps the negotiated list in ``_codecs``.
    """
    codecs = getattr(transceiver, "_codecs", [])
    wanted = "video/vp8" if transceiver.kind == "video" else "audio/opus"
    return bool(codecs) and str(codecs[0].mimeType).lower() == wanted


class MeshPeer:
    """Bookkeeping of one pair: which transceiver sends or receives which media_id.

    An m-line carries one track only, ever: a retired one turns ``inactive`` and stays so.
    """

    def __init__(self, user_id: str, offerer: bool, pc: RTCPeerConnection) -> None:
        self.user_id = user_id
        self.offerer = offerer
        """True when we make the offers for this pair (our user id is the smaller)."""
        self.lock = asyncio.Lock()
        """Held while one negotiation step (offer, answer, restart) runs."""
        self.closed = False
        self.state_changed = asyncio.Event()
        """Set on every connection state change of the current connection."""
        self._resumer: asyncio.Task[None] | None = None
        self.remote_media: dict[str, str] = {}
        """Offerer only: the answerer's tracks (media_id -> kind) from its last request."""
        self.reset(pc)

    def reset(self, pc: RTCPeerConnection) -> None:
        """Start over on a fresh connection ``pc`` (a new ``pc_id``, nothing negotiated)."""
        self.cancel_waiting()
        self.pc = pc
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
        self.hold_expired = False
        """The transport never finished setting up within SETUP_TIMEOUT: stop holding."""

    def setting_up(self) -> bool:
        """Whether the transport of an exchange already made is still being set up.

        aiortc 1.16 starts a transceiver's RTP sender and receiver only in
        ``RTCPeerConnection.__connect``, a task that ``setLocalDescription`` and
        ``setRemoteDescription`` each launch. While the (bundled) DTLS transport is
        "connecting" a new ``__connect`` starts nothing, and the one that is running the
        handshake walks the transceiver list once the handshake is done, so an m-line added by
        an exchange made meanwhile never starts (its track never flows), or that walk reaches
        it while ``setRemoteDescription`` is part way through and fails with ``IndexError``
        reading the old remote description. Exchanges are therefore held while this is true.
        """
        pc = self.pc
        if self.hold_expired or pc.connectionState in ("failed", "closed"):
            return False
        if pc.localDescription is None or pc.remoteDescription is None:
            return False  # no exchange made yet: nothing is being set up
        return any(
            t.currentDirection is not None and t.receiver.transport.state in ("new", "connecting")
            for t in pc.getTransceivers()
        )

    def hold(self, resume: Callable[[], Awaitable[None]]) -> bool:
        """True if the next exchange must wait; ``resume()`` then runs once the transport is set up.

        One waiter per connection; a restart (new connection) leaves the old one without effect.
        """
        if not self.setting_up():
            return False
        if self._resumer is None or self._resumer.done():
            self._resumer = asyncio.ensure_future(self._resume_when_set_up(self.pc, resume))
        return True

    async def _resume_when_set_up(
        self, pc: RTCPeerConnection, resume: Callable[[], Awaitable[None]]
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETUP_TIMEOUT
        while self.pc is pc and not self.closed and self.setting_up():
            self.state_changed.clear()
            try:
                async with asyncio.timeout_at(deadline):
                    await self.state_changed.wait()
            except TimeoutError:
                logger.warning("connection to %s not set up after %.0f s, negotiating anyway",
                               self.user_id, SETUP_TIMEOUT)
                self.hold_expired = True
        if self.pc is pc and not self.closed:
            # A new waiter may be needed by what resume() does, so this one counts as done.
            self._resumer = None
            await resume()

    def cancel_waiting(self) -> None:
        """Drop a pending resume (the peer is closing or starting over)."""
        if self._resumer is not None:
            self._resumer.cancel()
            self._resumer = None

    def sync_offerer(self, encoders: Mapping[str, TrackEncoder]) -> None:
        """Offerer: an m-line for every local and every announced remote track; retire the rest."""
        for media_id, encoder in encoders.items():
            if media_id not in self.sending:
                track = encoder.subscribe()
                transceiver = self.pc.addTransceiver(track, direction="sendonly")
                pin_codecs(transceiver)
                _wire_sender(transceiver.sender, track)
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
                or not _carries_shared_codec(transceiver)
            ):
                continue
            # Sets the sender's _track_id, and so the answer's msid, to the media_id.
            track = encoder.subscribe(held=held)
            transceiver.sender.replaceTrack(track)
            transceiver.direction = "sendonly"
            _wire_sender(transceiver.sender, track)
            self.sending[media_id] = transceiver

    async def ask_keyframes(self, media_ids: Iterable[str]) -> None:
        """Offerer: ask for a keyframe (RTCP PLI) on the video m-lines receiving ``media_ids``.

        The answerer holds a new video track until asked (see ``PacketTrack``'s ``held``): this
        tells it the answer is applied here, so what it sends from now on is received.
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
                await transceiver.receiver._send_rtcp_pli(description.ssrc[0].ssrc)

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
            track.stop()
            queue = getattr(track, "_queue", None)
            if isinstance(queue, asyncio.Queue):
                # aiortc ends a RemoteStreamTrack by queueing None (what RTCRtpReceiver.stop
                # does); an m-line turned inactive never does it, so wake the reader ourselves.
                queue.put_nowait(None)
            ended.append(media_id)
        return ended
