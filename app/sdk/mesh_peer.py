"""One remote member of the mesh: its RTCPeerConnection and what each m-line carries."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping

from aiortc import RTCPeerConnection, RTCRtpSender, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamTrack

from app.media.encoder import TrackEncoder
from app.media.keyframe import route_keyframe_requests


def pin_codecs(transceiver: RTCRtpTransceiver) -> None:
    """Offer only VP8 (+ RTX) or Opus: the shared encoder's packets must match the m-line."""
    wanted = ("video/vp8", "video/rtx") if transceiver.kind == "video" else ("audio/opus",)
    codecs = RTCRtpSender.getCapabilities(transceiver.kind).codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType.lower() in wanted])


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
        self.remote_media: dict[str, str] = {}
        """Offerer only: the answerer's tracks (media_id -> kind) from its last request."""
        self.reset(pc)

    def reset(self, pc: RTCPeerConnection) -> None:
        """Start over on a fresh connection ``pc`` (a new ``pc_id``, nothing negotiated)."""
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
        """Another offer is due once the outstanding one is answered."""

    def sync_offerer(self, encoders: Mapping[str, TrackEncoder]) -> None:
        """Offerer: an m-line for every local and every announced remote track; retire the rest."""
        for media_id, encoder in encoders.items():
            if media_id not in self.sending:
                transceiver = self.pc.addTransceiver(encoder.subscribe(), direction="sendonly")
                pin_codecs(transceiver)
                route_keyframe_requests(transceiver.sender, encoder.request_keyframe)
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

    def fill_slots(self, slots: Mapping[str, str], encoders: Mapping[str, TrackEncoder]) -> None:
        """Answerer: after applying an offer, send each local track on the mid named for it."""
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
            transceiver.sender.replaceTrack(encoder.subscribe())
            transceiver.direction = "sendonly"
            route_keyframe_requests(transceiver.sender, encoder.request_keyframe)
            self.sending[media_id] = transceiver

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
