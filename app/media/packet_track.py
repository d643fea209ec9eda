"""One peer's view of a shared encoder: a track whose ``recv()`` yields encoded packets.

aiortc's ``RTCRtpSender`` accepts an ``av.Packet`` from ``track.recv()`` and then only
packetises it (``Encoder.pack``) instead of encoding (the path ``MediaPlayer(decode=False)``
uses). A :class:`PacketTrack` per peer per local track therefore lets one encoder feed every
peer's sender.

Each track has a small bounded queue so that a slow peer never holds up the others: video that
overflows is dropped up to the next keyframe (which the track asks for), audio drops its oldest
packet (every Opus packet decodes on its own).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final, Protocol

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

logger = logging.getLogger(__name__)

VIDEO_QUEUE_PACKETS: Final = 10
"""Video packets (one per frame) a peer may lag behind before it skips to a keyframe: 333 ms."""
AUDIO_QUEUE_PACKETS: Final = 10
"""Audio packets (20 ms each) a peer may lag behind before the oldest is dropped: 200 ms."""


class PacketSource(Protocol):
    """What a :class:`PacketTrack` needs from the encoder that feeds it."""

    def output_started(self, track: PacketTrack) -> None:
        """The track's sender began reading: it needs a keyframe now."""

    def request_keyframe(self) -> None:
        """A receiver lost pictures (PLI / FIR) or the track skipped ahead: next frame is key."""

    def detach(self, track: PacketTrack) -> None:
        """The track ended: stop feeding it."""


class PacketTrack(MediaStreamTrack):
    """Encoded packets of one local track for one peer's ``RTCRtpSender``.

    ``id`` is the ``media_id`` of the local track, so the remote side's track (whose id comes
    from the SDP msid, i.e. ``RTCRtpSender._track_id``) carries the same id.
    """

    def __init__(self, source: PacketSource, kind: str, media_id: str) -> None:
        super().__init__()
        self.kind = kind
        self._id = media_id
        self._source = source
        limit = VIDEO_QUEUE_PACKETS if kind == "video" else AUDIO_QUEUE_PACKETS
        self._queue: asyncio.Queue[av.Packet[Any] | None] = asyncio.Queue(maxsize=limit)
        self._started = False
        self._awaiting_keyframe = kind == "video"
        self.packets_sent = 0
        """Packets handed to the sender."""
        self.packets_dropped = 0
        """Packets dropped because this peer fell behind or waited for a keyframe."""

    @property
    def started(self) -> bool:
        """Whether the sender has begun reading (packets are only queued from then on)."""
        return self._started

    def push(self, packet: av.Packet[Any], keyframe: bool) -> None:
        """Queue ``packet`` for this peer without ever blocking the encoder."""
        if not self._started or self.readyState != "live":
            return
        if self._awaiting_keyframe:
            if not keyframe:
                self.packets_dropped += 1
                return
            self._awaiting_keyframe = False
        if self._queue.full():
            if self.kind == "video":
                self.packets_dropped += self._clear()
                if not keyframe:
                    # A delta frame after a gap cannot be decoded: wait for a fresh keyframe.
                    self._awaiting_keyframe = True
                    self.packets_dropped += 1
                    self._source.request_keyframe()
                    return
            else:
                self._queue.get_nowait()
                self.packets_dropped += 1
        self._queue.put_nowait(packet)

    async def recv(self) -> av.Packet[Any]:
        """The next encoded packet for this peer; raises ``MediaStreamError`` once ended."""
        if self.readyState != "live":
            raise MediaStreamError
        if not self._started:
            # The sender only starts reading once DTLS is up: begin here, with a keyframe, so
            # the peer's first picture is current instead of a queue of stale frames.
            self._started = True
            self._source.output_started(self)
        packet = await self._queue.get()
        if packet is None:
            raise MediaStreamError
        self.packets_sent += 1
        return packet

    def stop(self) -> None:
        """End this peer's feed (the encoder and the other peers carry on)."""
        if self.readyState == "ended":
            return
        super().stop()
        self._source.detach(self)
        self._clear()
        # Wake a pending recv(): the sender's RTP loop ends on MediaStreamError.
        self._queue.put_nowait(None)

    def _clear(self) -> int:
        dropped = 0
        while not self._queue.empty():
            self._queue.get_nowait()
            dropped += 1
        return dropped
