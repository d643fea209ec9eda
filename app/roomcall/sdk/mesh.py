"""The peer-connection mesh: one RTCPeerConnection per remote member, encoding each track once.

Negotiation runs over the room server's relay (``send_relay(peer, data)`` out,
:meth:`Mesh.handle_relay` in). The member with the lexicographically smaller user id is the
*offerer* of a pair and owns every m-line, so offers never cross (no glare):

- its own tracks get ``sendonly`` m-lines;
- the other member (the *answerer*) cannot add m-lines to an answer, so it lists its tracks in a
  ``renegotiate`` request and the offerer adds one ``recvonly`` m-line per track, naming in the
  offer's ``slots`` which mid carries which of the answerer's tracks;
- an m-line is used for one track only, ever: when a track goes it turns ``inactive`` and the far
  side's track ends. Re-using it would keep the far side's old track object and id (aiortc only
  makes a new ``RemoteStreamTrack`` for a transceiver that has none).

The relay payloads are described in :mod:`roomcall.sdk.negotiation`.

While the transport of an earlier exchange is still being set up, each side holds the next one
(:meth:`~roomcall.sdk.mesh_peer.MeshPeer.setting_up`). When a member comes back
(:meth:`Mesh.add_peer`) what we last sent it may be lost: the offerer offers again, the answerer
resends its answer.

``pc`` ids name one RTCPeerConnection: a member that restarted (new process, lost state) shows up
with a new id and the pair starts a fresh connection instead of feeding new SDP to a dead one.

Recovery: a connection that fails or closes by itself (or never connects) while both members
are in the room is replaced by a fresh one, negotiated as above: the offerer offers on its new
connection, the answerer asks for an offer naming its new connection. aiortc 1.16 cannot
restart ICE on a live connection (aiortc/aiortc#211), so a fresh RTCPeerConnection is the way.
The rule for RECOVERING and FAILED is in :mod:`roomcall.sdk.pair_state`.

An attempt begun while the network is down cannot succeed, and must not hold up the one that
can: a replaced connection is closed in the background (closing waits on the network too:
each TURN allocation's deletion, up to ``compat.TURN_DELETE_TIMEOUT``), and when the signalling
says a member whose pair is down is back (:meth:`Mesh.add_peer`), the step the current attempt is
waiting on (ICE gathering, 5 s when no server answers) is abandoned at once
(:meth:`~roomcall.sdk.mesh_peer.MeshPeer.abandon`) and a fresh connection negotiated.

A remote track's ``id`` is the publisher's ``media_id``: aiortc writes ``a=msid:<stream>
<sender._track_id>`` and ``_track_id`` is the id of the sender's track, here the per-peer
:class:`~roomcall.media.packet_track.PacketTrack` whose id is the ``media_id``; the receiving
``RemoteStreamTrack`` takes the second msid field as its id.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiortc import RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from roomcall.aio import TaskSet
from roomcall.media.encoder import TrackEncoder
from roomcall.media.profile import give_screen_priority, profile_for_tag
from roomcall.protocol.messages import MAX_RELAY_BYTES
from roomcall.sdk.compat import close_connection, packets_received, set_local_description
from roomcall.sdk.mesh_peer import Abandoned, MeshPeer
from roomcall.sdk.negotiation import (
    Answer,
    Offer,
    RelayError,
    Renegotiate,
    TrackSpec,
    encode_payload,
    parse_payload,
)
from roomcall.sdk.pair_state import PairState, RecoveryPolicy
from roomcall.sdk.pair_watch import BACK_SILENT_CHECKS, watch_connected, watch_connecting
from roomcall.sdk.peer_config import new_connection
from roomcall.sdk.state import PeerState
from roomcall.sdk.topology import TrackProfile

logger = logging.getLogger(__name__)

ANSWER_TIMEOUT = 10.0
"""Seconds after which an unanswered offer no longer holds back the next one."""
MAX_INACTIVE_MLINES = 16
"""Retired m-lines a connection may collect before the offerer starts a fresh one.

Each m-line adds about 1 KiB to every offer and relays are capped at ``MAX_RELAY_BYTES``
(48 KiB): without this a long call with many publish / unpublish cycles would outgrow it.
"""

DEFAULT_RECOVERY = RecoveryPolicy()

SendRelay = Callable[[str, dict[str, Any]], Awaitable[None]]


def _mline_count(sdp: str) -> int:
    return sdp.count("\nm=") + sdp.startswith("m=")


class Mesh:
    """One RTCPeerConnection per remote member, negotiated over the room server's relay (a
    :class:`~roomcall.sdk.topology.Topology`).

    Attributes:
        on_track: called as ``on_track(user_id, track)`` for each received track; ``track.id``
            is the publisher's ``media_id``. Drain the track continuously.
        on_track_ended: called as ``on_track_ended(user_id, media_id)`` when a received track
            stops for good (unpublished, peer removed or closed); its ``recv()`` then raises
            ``MediaStreamError``.
        on_peer_state: called as ``on_peer_state(user_id, state)`` on every real change of a
            pair's :class:`~roomcall.sdk.state.PeerState`.
    """

    def __init__(
        self,
        local_user_id: str,
        send_relay: SendRelay,
        *,
        ice_servers: Sequence[RTCIceServer] = (),
        recovery: RecoveryPolicy = DEFAULT_RECOVERY,
    ) -> None:
        self.local_user_id = local_user_id
        self._send_relay = send_relay
        self._ice_servers = list(ice_servers)
        self._recovery = recovery
        self.on_track: Callable[[str, MediaStreamTrack], None] | None = None
        self.on_track_ended: Callable[[str, str], None] | None = None
        self.on_peer_state: Callable[[str, PeerState], None] | None = None
        self._tasks = TaskSet(logger, "mesh recovery")
        self._closing = TaskSet(logger, "replaced connection close")
        """Replaced connections being closed: never cancelled, awaited by :meth:`close`."""
        self._peers: dict[str, MeshPeer] = {}
        self._removed: set[str] = set()
        self._encoders: dict[str, TrackEncoder] = {}
        self._owned: set[str] = set()
        """Media ids of the encoders made by :meth:`add_local_track` (the others are lent)."""
        self._closed = False

    # --- public API ------------------------------------------------------------------------

    @property
    def peers(self) -> frozenset[str]:
        """User ids of the members we hold a live connection with."""
        return frozenset(uid for uid, peer in self._peers.items() if not peer.closed)

    @property
    def encoders(self) -> dict[str, TrackEncoder]:
        """The one encoder per local track, by media_id (read-only view for stats)."""
        return dict(self._encoders)

    def peer_state(self, user_id: str) -> PeerState | None:
        """The media path to ``user_id`` (None if no pair is open with it)."""
        peer = self._peers.get(user_id)
        return peer.state.peer_state if peer is not None else None

    def connection(self, user_id: str) -> RTCPeerConnection | None:
        """The RTCPeerConnection to ``user_id``, if any (for stats and tests)."""
        peer = self._peers.get(user_id)
        return peer.pc if peer is not None else None

    async def add_peer(self, user_id: str) -> None:
        """A member is present: connect to it (or re-check the connection if already known).

        Called again when a member comes back after its signalling dropped: what we last sent it
        may have been lost, so an outstanding offer is replaced at once and the last answer is
        sent again.
        """
        if self._closed or user_id == self.local_user_id:
            return
        self._removed.discard(user_id)
        peer = self._peers.get(user_id)
        if peer is None:
            peer = self._new_peer(user_id)
        elif peer.state in (PairState.RECOVERING, PairState.FAILED) or (
                peer.state is PairState.CONNECTED
                and peer.silent_checks >= BACK_SILENT_CHECKS):
            # Back after a signalling gap while the media path was down (an outage, a new
            # address; or still "connected" but silent since, which the gap explains): the
            # network works again now, so start the fresh connection at once instead of at
            # the next retry, up to a connect timeout away. An attempt begun while the
            # network was down may be gathering, holding the lock: give it up.
            peer.abandon()
            async with peer.lock:
                if not peer.closed:
                    self._restart(peer)
            # ``again``: an offer sent while the network was down was lost with it.
            await self._negotiate(peer, again=True)
            return
        elif peer.state is PairState.CONNECTED:
            # Back after a signalling gap: what the receivers queued meanwhile is stale, and
            # if the gap broke the path too (a new address), silence says so sooner now.
            peer.back_from_gap = packets_received(peer.pc)
            await peer.ask_keyframes(list(peer.receiving), flush=True)
        await self._negotiate(peer, again=True)

    async def remove_peer(self, user_id: str) -> None:
        """The server said the member left: close its connection now."""
        self._removed.add(user_id)
        peer = self._peers.pop(user_id, None)
        if peer is not None:
            await self._close_peer(peer)

    async def handle_relay(self, from_user: str, data: dict[str, Any]) -> None:
        """Apply a relayed negotiation payload; bad or stale input is logged and ignored."""
        if self._closed or from_user == self.local_user_id:
            return
        known = from_user in self._peers
        try:
            payload = parse_payload(data)
            if isinstance(payload, Offer):
                await self._on_offer(from_user, payload)
            elif isinstance(payload, Answer):
                await self._on_answer(from_user, payload)
            else:
                await self._on_renegotiate(from_user, payload)
        except RelayError as exc:
            logger.warning("ignored relay from %s: %s", from_user, exc)
        except Abandoned as exc:
            logger.info("relay from %s not applied: %s", from_user, exc)
            return
        except Exception:
            logger.warning("relay from %s failed", from_user, exc_info=True)
        else:
            return
        # A connection opened for this payload alone must not outlive its failure.
        peer = self._peers.get(from_user)
        if not known and peer is not None and peer.remote_pc is None:
            del self._peers[from_user]
            await self._close_peer(peer)

    async def add_local_track(self, track: MediaStreamTrack, *, tag: str = "") -> str:
        """Send ``track`` to every current and future peer, encoded once; returns its media_id.

        ``tag`` is the publication's: ``"screen"`` encodes with the screen profile. The mesh
        owns the encoder it makes here (stopped on removal and on close).
        """
        if self._closed:
            raise RuntimeError("mesh is closed")
        encoder = TrackEncoder(track, uuid.uuid4().hex, profile_for_tag(tag))
        encoder.start()
        self._owned.add(encoder.media_id)
        await self.add_encoder(encoder, tag)
        return encoder.media_id

    async def remove_local_track(self, media_id: str) -> None:
        """Stop sending ``media_id`` to everyone and renegotiate (its source is left running)."""
        encoder = self._encoders.get(media_id)
        if encoder is None:
            logger.warning("remove_local_track: unknown media id %s", media_id)
            return
        if media_id in self._owned:
            self._owned.discard(media_id)
            await encoder.stop()
        await self.drop_encoder(media_id)

    async def add_encoder(self, encoder: TrackEncoder, tag: str = "") -> None:
        """Send ``encoder``'s packets to every current and future peer (whoever made the
        encoder starts and stops it; the media session shares one with every topology).
        The encoder's profile already follows ``tag``."""
        if self._closed:
            raise RuntimeError("mesh is closed")
        self._encoders[encoder.media_id] = encoder
        give_screen_priority(self._encoders.values())
        for peer in list(self._peers.values()):
            await self._negotiate(peer)

    async def drop_encoder(self, media_id: str) -> None:
        """Stop sending ``media_id`` to everyone and renegotiate."""
        if self._encoders.pop(media_id, None) is None:
            return
        give_screen_priority(self._encoders.values())
        for peer in list(self._peers.values()):
            if not peer.offerer:
                peer.retire_sending(media_id)
            await self._negotiate(peer)

    async def set_profile(self, user_id: str, media_id: str, profile: TrackProfile) -> None:
        """Nothing to choose in the mesh: each sender gives each peer the best rung of its
        ladder that the peer's bandwidth estimate allows."""

    def set_muted(self, media_id: str, muted: bool) -> None:
        """Muted: no frame of ``media_id`` is encoded or sent; the m-lines stay as they are."""
        encoder = self._encoders.get(media_id)
        if encoder is None:
            raise KeyError(f"no local track {media_id!r}")
        encoder.muted = muted

    async def close(self) -> None:
        """Close every connection and stop every encoder the mesh made."""
        self._closed = True
        self._tasks.cancel()
        peers = list(self._peers.values())
        self._peers.clear()
        await asyncio.gather(*(self._close_peer(p) for p in peers))
        encoders = [e for m, e in self._encoders.items() if m in self._owned]
        self._encoders.clear()
        self._owned.clear()
        await asyncio.gather(*(e.stop() for e in encoders))
        await self._tasks.wait()
        await self._closing.wait()

    # --- peers -----------------------------------------------------------------------------

    def _new_peer(self, user_id: str) -> MeshPeer:
        peer = MeshPeer(user_id, self.local_user_id < user_id, self._new_pc(),
                        on_state=self._pair_state_changed)
        self._peers[user_id] = peer
        self._attach(peer)
        self._pair_state_changed(user_id, peer.state)  # CONNECTING
        return peer

    def _pair_state_changed(self, user_id: str, state: PairState) -> None:
        reported = state.peer_state
        if reported is not None and self.on_peer_state is not None and not self._closed:
            try:
                self.on_peer_state(user_id, reported)
            except Exception:
                logger.exception("on_peer_state handler failed")

    def _new_pc(self) -> RTCPeerConnection:
        return new_connection(self._ice_servers)

    def _attach(self, peer: MeshPeer) -> None:
        """Listen to ``peer.pc``'s events (only while it is the peer's current connection),
        and give it ``connect_timeout`` to connect."""
        pc = peer.pc
        failed = functools.partial(self._failed, peer, pc)
        self._tasks.spawn(watch_connecting(peer, pc, self._recovery.connect_timeout, failed,
                                           self._recovery.offline_connect_timeout),
                          name=f"mesh-watch-{peer.user_id}")
        self._tasks.spawn(watch_connected(peer, pc, failed), name=f"mesh-monitor-{peer.user_id}")

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if peer.pc is not pc:
                return
            peer.receiving[track.id] = track
            if self.on_track is not None:
                try:
                    self.on_track(peer.user_id, track)
                except Exception:
                    logger.exception("on_track handler failed")

        @pc.on("connectionstatechange")
        def on_state() -> None:
            logger.info("connection to %s: %s", peer.user_id, pc.connectionState)
            if peer.pc is not pc or peer.closed:
                return
            peer.setup.changed()
            if pc.connectionState == "connected":
                peer.failures = 0
                peer.set_state(PairState.CONNECTED)
            elif pc.connectionState in ("failed", "closed"):
                self._failed(peer, pc, pc.connectionState)

    def _failed(self, peer: MeshPeer, pc: RTCPeerConnection, why: str) -> None:
        """``pc``, the pair's current connection, failed: count it and start a fresh one."""
        self._count_failure(peer, pc, why)
        self._tasks.spawn(self._recover(peer, pc), name=f"mesh-recover-{peer.user_id}")

    def _count_failure(self, peer: MeshPeer, pc: RTCPeerConnection, why: str) -> None:
        """One more failed attempt of the pair (``pc``, counted once): RECOVERING, or FAILED
        once the attempts are used up."""
        if peer.counted is pc:
            return
        peer.counted = pc
        peer.failures += 1
        logger.info("connection to %s failed (%s), attempt %d of %d", peer.user_id, why,
                    peer.failures, self._recovery.attempts)
        if peer.failures >= self._recovery.attempts:
            peer.set_state(PairState.FAILED)  # retries go on, in case the path comes back
        elif peer.state is not PairState.FAILED:
            peer.set_state(PairState.RECOVERING)

    async def _recover(self, peer: MeshPeer, failed: RTCPeerConnection) -> None:
        async with peer.lock:
            if peer.closed or peer.pc is not failed:
                return  # closed, or already replaced (the far side restarted first)
            self._restart(peer)
        await self._negotiate(peer)

    def _restart(self, peer: MeshPeer, *, by_far_side: bool = False) -> None:
        """Replace the pair's connection with a fresh one (the far side lost its connection
        state or ``by_far_side`` started one, or ours failed); the old one is closed in the
        background, as its close may wait on a network that is down.

        A negotiated connection that never connected and that the far side gave up on is a
        failed attempt here too: whichever side's check fires first, both count it, so both
        members' windows say the same (FAILED once the attempts are used up)."""
        logger.info("restarting connection to %s", peer.user_id)
        old = peer.pc
        if (by_far_side and old.connectionState != "connected"
                and old.remoteDescription is not None):
            self._count_failure(peer, old, "the far side started a fresh one")
        if peer.state is PairState.CONNECTED:
            peer.set_state(PairState.RECOVERING)
        self._end_received(peer, list(peer.receiving))
        peer.stop_sending()
        peer.reset(self._new_pc())
        self._attach(peer)
        self._closing.spawn(close_connection(old), name=f"mesh-close-{peer.user_id}")

    def _note_gathering(self, peer: MeshPeer) -> None:
        """Mark the pair's connection as gathered offline if it has ICE servers and none
        gave a candidate (no srflx, no relay): the network was down as it gathered."""
        sdp = peer.pc.localDescription.sdp
        peer.gathered_offline = bool(self._ice_servers) and not any(
            f" typ {kind}" in sdp for kind in ("srflx", "relay"))
        if peer.gathered_offline:
            logger.info("connection to %s gathered with no ICE server answering", peer.user_id)

    async def _close_peer(self, peer: MeshPeer) -> None:
        peer.set_state(PairState.CLOSED)
        peer.cancel_waiting()
        peer.stop_sending()
        self._end_received(peer, list(peer.receiving))
        # After the negotiation step under way, if any: an offer being made on a fresh
        # connection is still gathering, and aioice opens the sockets of a gathering that
        # outlives close() and never closes them. CLOSED (set above) stops the next step.
        async with peer.lock:
            await close_connection(peer.pc)

    def _end_received(self, peer: MeshPeer, media_ids: list[str]) -> None:
        for media_id in peer.end_received(media_ids):
            if self.on_track_ended is not None:
                try:
                    self.on_track_ended(peer.user_id, media_id)
                except Exception:
                    logger.exception("on_track_ended handler failed")

    # --- negotiation -----------------------------------------------------------------------

    async def _negotiate(self, peer: MeshPeer, *, again: bool = False) -> None:
        """Offer (offerer) or ask for an offer (answerer); ``again``: resend what may be lost."""
        try:
            if peer.offerer:
                await self._offer(peer, again=again)
            else:
                if again and peer.last_answer is not None:
                    await self._send(peer, encode_payload(peer.last_answer))
                tracks = [TrackSpec(m, e.kind) for m, e in self._encoders.items()]
                await self._send(peer, encode_payload(Renegotiate(peer.pc_id, tracks)))
        except Abandoned as exc:
            logger.info("negotiation with %s given up: %s", peer.user_id, exc)
        except Exception:
            logger.warning("negotiation with %s failed", peer.user_id, exc_info=True)

    async def _offer(self, peer: MeshPeer, *, again: bool = False) -> None:
        """Offer the pair's current m-lines, unless an offer or a transport setup is under way.

        ``again``: the outstanding offer may have been lost, make a new one now.
        """
        async with peer.lock:
            if peer.closed:
                return
            now = asyncio.get_running_loop().time()
            if not again and peer.awaiting is not None and now - peer.awaiting < ANSWER_TIMEOUT:
                peer.pending = True
                return
            retired = sum(t.direction == "inactive" for t in peer.pc.getTransceivers())
            # aiortc closes a connection by itself once its DTLS transport closed (the far side
            # went away): only a fresh one can carry the next offer.
            if peer.pc.connectionState == "closed" or retired >= MAX_INACTIVE_MLINES:
                self._restart(peer)
            elif peer.hold(lambda: self._resume(peer)):
                peer.pending = True
                return
            peer.sync_offerer(self._encoders)
            if not peer.pc.getTransceivers():
                return  # nothing to send either way yet
            pc = peer.pc
            await peer.step(set_local_description(pc, await pc.createOffer()))
            self._note_gathering(peer)
            peer.seq += 1
            slots = {t.mid: m for m, t in peer.slots.items() if t.mid is not None}
            offer = Offer(peer.pc.localDescription.sdp, peer.pc_id, peer.seq, slots)
            peer.awaiting = now
            peer.pending = False
            if not await self._send(peer, encode_payload(offer)):
                peer.awaiting = None

    async def _on_offer(self, user_id: str, offer: Offer) -> None:
        if user_id in self._removed:
            return
        # A relay only comes from a room member, so an offer may arrive before add_peer.
        peer = self._peers.get(user_id) or self._new_peer(user_id)
        if peer.offerer:
            raise RelayError("offer from a member we make the offers to")
        async with peer.lock:
            if peer.closed:
                return
            if peer.remote_pc is not None and peer.remote_pc != offer.pc:
                self._restart(peer, by_far_side=True)
            elif offer.pc == peer.remote_pc and offer.seq <= peer.answered:
                logger.debug("stale offer from %s", user_id)
                return
            # An offer adding no m-line cannot hit the setup race (see setup_hold), and must
            # not wait: the offerer has dropped our answer to the one being set up as stale
            # (it re-offered, e.g. on a member's return), so that setup only ends with this.
            adds_mlines = _mline_count(offer.sdp) > _mline_count(
                peer.pc.remoteDescription.sdp if peer.pc.remoteDescription else "")
            if adds_mlines and peer.hold(lambda: self._resume(peer)):
                if peer.held_offer is None or peer.held_offer.seq < offer.seq:
                    peer.held_offer = offer  # a newer offer supersedes the held one
                return
            pc = peer.pc
            connected = pc.connectionState == "connected"
            await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
            peer.remote_pc = offer.pc
            peer.answered = offer.seq
            peer.held_offer = None
            peer.fill_slots(offer.slots, self._encoders, held=connected)
            await peer.step(set_local_description(pc, await pc.createAnswer()))
            self._note_gathering(peer)
            self._end_received(peer, peer.ended_tracks())
            answer = Answer(pc.localDescription.sdp, peer.pc_id, offer.pc, offer.seq)
            peer.last_answer = answer
            await self._send(peer, encode_payload(answer))

    async def _resume(self, peer: MeshPeer) -> None:
        """The connection finished setting up: make the exchange held meanwhile."""
        if peer.offerer and peer.pending:
            await self._negotiate(peer)
        elif not peer.offerer and peer.held_offer is not None:
            await self.handle_relay(peer.user_id, encode_payload(peer.held_offer))

    async def _on_answer(self, user_id: str, answer: Answer) -> None:
        peer = self._peers.get(user_id)
        if peer is None or not peer.offerer:
            raise RelayError("answer without an offer")
        restart = again = False
        async with peer.lock:
            if peer.closed or peer.awaiting is None:
                return
            if answer.to != peer.pc_id or answer.seq != peer.seq:
                logger.debug("stale answer from %s", user_id)
                return
            if peer.remote_pc is not None and peer.remote_pc != answer.pc:
                restart = True
            else:
                peer.remote_pc = answer.pc
                known = set(peer.receiving)
                await peer.pc.setRemoteDescription(RTCSessionDescription(answer.sdp, "answer"))
                peer.awaiting = None
                self._end_received(peer, peer.ended_tracks())
                again, peer.pending = peer.pending, False
                await peer.ask_keyframes(set(peer.receiving) - known)
        if restart:
            async with peer.lock:
                self._restart(peer, by_far_side=True)
        if restart or again:
            await self._offer(peer)

    async def _on_renegotiate(self, user_id: str, request: Renegotiate) -> None:
        if user_id in self._removed:
            return
        peer = self._peers.get(user_id) or self._new_peer(user_id)
        if not peer.offerer:
            raise RelayError("renegotiate request from the member that makes the offers")
        peer.remote_media = {t.media_id: t.kind for t in request.tracks}
        if peer.remote_pc is not None and peer.remote_pc != request.pc:
            async with peer.lock:
                self._restart(peer, by_far_side=True)
        await self._offer(peer)

    async def _send(self, peer: MeshPeer, data: dict[str, Any]) -> bool:
        size = len(json.dumps(data, separators=(",", ":")).encode())
        if size > MAX_RELAY_BYTES:
            logger.error("%s for %s is %d bytes, over the relay limit", data["type"],
                         peer.user_id, size)
            return False
        try:
            await self._send_relay(peer.user_id, data)
        except Exception:
            logger.warning("relay to %s failed", peer.user_id, exc_info=True)
            return False
        return True

    def __repr__(self) -> str:
        return f"Mesh({self.local_user_id!r}, peers={sorted(self.peers)})"

