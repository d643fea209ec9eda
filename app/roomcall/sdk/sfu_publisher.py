"""This member's one VideoRoom publisher: a sendonly RTCPeerConnection to Janus carrying every
local track, each encoded once (the shared encoders of the media session).

aiortc cannot send simulcast, so a camera goes out twice from its one ladder: the top rung
(the full picture) and the 320x240 rung at :data:`LOW_LAYER_BITRATE`, each a pinned per-peer
track of the same :class:`~roomcall.media.encoder.TrackEncoder`. Audio and a screen (tag
``"screen"``) go once. Every stream's ``description`` names its roomcall track and layer
(:mod:`roomcall.sdk.sfu_feeds`), so subscribers map Janus's streams back to track ids.

We always offer (``publish`` first, ``configure`` with a new offer after a change), Janus
answers. An m-line is used for one stream only: a track that goes turns its m-lines
``inactive`` (Janus then marks those streams disabled for the subscribers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

from aiortc import RTCIceServer, RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription

from roomcall.media.encoder import TrackEncoder
from roomcall.media.profile import SCREEN_TAG
from roomcall.protocol.janus import JanusHandle
from roomcall.sdk.compat import close_connection, set_local_description
from roomcall.sdk.peer_config import new_connection, pin_codecs, wire_sender
from roomcall.sdk.sfu_feeds import FULL, LOW, describe

logger = logging.getLogger(__name__)

LOW_RUNG: Final = 1
"""The ladder rung of the low layer (320x240, see :data:`roomcall.media.ladder.LADDER`)."""
LOW_LAYER_BITRATE: Final = 200_000
"""Ceiling in bit/s of the low layer: enough for a small tile, cheap for every subscriber."""
SINGLE_LAYER_TAGS: Final = frozenset({SCREEN_TAG})
"""Video published once, at full size (text must stay sharp; nobody shows it small)."""


@dataclass(frozen=True)
class Local:
    """A local track to publish: its encoder and the publication's tag."""

    encoder: TrackEncoder
    tag: str

    def layers(self) -> tuple[str, ...]:
        """The layers this track is published as."""
        if self.encoder.kind == "video" and self.tag not in SINGLE_LAYER_TAGS:
            return FULL, LOW
        return (FULL,)


class Publisher:
    """The publisher side of one member in one VideoRoom (joined already on ``handle``)."""

    def __init__(self, handle: JanusHandle, ice_servers: list[RTCIceServer]) -> None:
        self.handle = handle
        self.pc: RTCPeerConnection = new_connection(ice_servers)
        self._sending: dict[tuple[str, str], RTCRtpTransceiver] = {}
        """(media_id, layer) -> its transceiver."""
        self._published = False

    @property
    def media_ids(self) -> set[str]:
        """The local tracks being sent."""
        return {media_id for media_id, _ in self._sending}

    async def sync(self, locals_: dict[str, Local]) -> None:
        """Send exactly ``locals_`` (by media_id): add m-lines for new tracks, retire those of
        tracks gone, and renegotiate if anything changed."""
        changed = False
        for (media_id, layer), transceiver in list(self._sending.items()):
            if media_id not in locals_:
                self._retire(transceiver)
                del self._sending[(media_id, layer)]
                changed = True
        for media_id, local in locals_.items():
            for layer in local.layers():
                if (media_id, layer) in self._sending:
                    continue
                low = layer == LOW
                track = local.encoder.subscribe(rung=LOW_RUNG if low else 0,
                                                max_bitrate=LOW_LAYER_BITRATE if low else None)
                transceiver = self.pc.addTransceiver(track, direction="sendonly")
                pin_codecs(transceiver)
                wire_sender(transceiver.sender, track)
                self._sending[(media_id, layer)] = transceiver
                changed = True
        if changed:
            await self._negotiate()

    async def close(self) -> None:
        """Stop every per-peer track and close the connection (the handle is left alone)."""
        for transceiver in self._sending.values():
            self._retire(transceiver)
        self._sending.clear()
        await close_connection(self.pc)

    async def _negotiate(self) -> None:
        if not self.pc.getTransceivers():
            return
        await set_local_description(self.pc, await self.pc.createOffer())
        descriptions = [{"mid": t.mid, "description": describe(media_id, layer)}
                        for (media_id, layer), t in self._sending.items() if t.mid is not None]
        body: dict[str, Any] = {"request": "configure" if self._published else "publish",
                                "descriptions": descriptions}
        offer = self.pc.localDescription
        _, answer = await self.handle.message(body, jsep={"type": offer.type, "sdp": offer.sdp})
        if answer is None:
            raise RuntimeError("Janus answered a publish without SDP")
        await self.pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        self._published = True
        logger.info("publishing %d streams through Janus", len(descriptions))

    @staticmethod
    def _retire(transceiver: RTCRtpTransceiver) -> None:
        transceiver.direction = "inactive"
        if transceiver.sender.track is not None:
            transceiver.sender.track.stop()
