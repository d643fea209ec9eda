"""One peer's view of a shared encoder: a track whose ``recv()`` yields encoded packets.

aiortc's ``RTCRtpSender`` accepts an ``av.Packet`` from ``track.recv()`` and then only
packetises it (``Encoder.pack``) instead of encoding (the path ``MediaPlayer(decode=False)``
uses). A :class:`PacketTrack` per peer per local track therefore lets one encoder feed every
peer's sender.

A video track also holds what adapts its peer's stream: the peer's bandwidth estimate and
retransmission budget (:mod:`roomcall.media.bandwidth`, fed from its sender's RTCP through
``on_remb`` / ``on_report`` / ``may_retransmit``) and the ladder rung it takes.

Each track has a small bounded queue so that a slow peer never holds up the others: video that
overflows is dropped up to the next keyframe (which the track asks for), audio drops its oldest
packet (every Opus packet decodes on its own).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final, Protocol

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from roomcall.media.bandwidth import BandwidthEstimator, Pacer, RetransmitBudget
from roomcall.media.ladder import LADDER, Rung, RungSelector

logger = logging.getLogger(__name__)

VIDEO_QUEUE_PACKETS: Final = 10
"""Video packets (one per frame) a peer may lag behind before it skips to a keyframe: 333 ms."""
AUDIO_QUEUE_PACKETS: Final = 10
"""Audio packets (20 ms each) a peer may lag behind before the oldest is dropped: 200 ms."""
ASK_WAIT: Final = 1.0
"""Seconds a held video track waits for its receiver's first keyframe request before sending."""


class PacketSource(Protocol):
    """What a :class:`PacketTrack` needs from the encoder that feeds it."""

    def output_started(self, track: PacketTrack) -> None:
        """The track's sender began reading: it needs a keyframe now."""

    def request_keyframe(self, track: PacketTrack, *, urgent: bool = False) -> None:
        """``track``'s receiver lost pictures (PLI / FIR) or it skipped ahead: next frame is key.

        ``urgent``: serve it at once rather than after the minimum interval between keyframes.
        """

    def detach(self, track: PacketTrack) -> None:
        """The track ended: stop feeding it."""


class PacketTrack(MediaStreamTrack):
    """Encoded packets of one local track for one peer's ``RTCRtpSender``.

    ``id`` is the ``media_id`` of the local track, so the remote side's track (whose id comes
    from the SDP msid, i.e. ``RTCRtpSender._track_id``) carries the same id.
    """

    def __init__(
        self, source: PacketSource, kind: str, media_id: str, *, held: bool = False,
        ladder: tuple[Rung, ...] = LADDER, rung: int | None = None,
        max_bitrate: int | None = None,
    ) -> None:
        """``rung`` (video): always this rung of the ladder instead of the one the peer's
        estimate allows (an SFU's layers); ``max_bitrate``: a ceiling in bit/s on what the
        estimate asks of the rung's encoder for this track.

        ``held`` (video only): send nothing until the receiver asks for a keyframe.

        For an m-line the far side may not receive on yet when our sender starts: an answerer's
        sender starts as soon as it answers, while the offerer's aiortc drops the packets of an
        m-line until the answer is applied there and its receiver started, so the keyframe made
        at start would be lost and the offerer would get undecodable frames until the next one.
        The offerer asks (RTCP PLI) once its receiver is up; after ``ASK_WAIT`` we send anyway.

        ``ladder``: the encoder's rungs, which this peer's estimate chooses among.
        """
        super().__init__()
        self.kind = kind
        self._id = media_id
        self._source = source
        limit = VIDEO_QUEUE_PACKETS if kind == "video" else AUDIO_QUEUE_PACKETS
        self._queue: asyncio.Queue[av.Packet[Any] | None] = asyncio.Queue(maxsize=limit)
        self._started = False
        self._awaiting_keyframe = kind == "video"
        self._first_loss_report = True
        self._held = held and kind == "video"
        self._release_timer: asyncio.TimerHandle | None = None
        self.packets_sent = 0
        """Packets handed to the sender."""
        self.packets_dropped = 0
        """Packets dropped because this peer fell behind or waited for a keyframe."""
        self.estimator = BandwidthEstimator()
        """What this peer's downlink takes (video), from its sender's RTCP feedback."""
        self.retransmits = RetransmitBudget()
        """Bounds what this peer's sender resends for NACKs."""
        self._pacer = Pacer()
        self._selector = RungSelector(ladder)
        self.pinned = rung
        """The rung this track always takes, None: the one its estimate allows."""
        self.max_bitrate = max_bitrate
        self.rung = rung or 0
        """Index of the ladder rung whose packets this peer gets (0: the best)."""
        self.next_rung: int | None = None
        """The rung it moves to at that rung's next keyframe, if any."""

    @property
    def target_rung(self) -> int:
        """The rung this peer is on or moving to."""
        return self.rung if self.next_rung is None else self.next_rung

    def select_rung(self, estimate: int, now: float) -> int:
        """The rung this peer's estimate allows now (with hysteresis), or the pinned one."""
        if self.pinned is not None:
            return self.pinned
        return self._selector.update(estimate, now)

    # --- feedback from this peer's RTCP (see roomcall.sdk.compat.tap_sender_feedback) ----

    def on_remb(self, bitrate: int) -> None:
        """The receiver's REMB, in bit/s."""
        self.estimator.on_remb(bitrate, time.monotonic())

    def on_report(self, fraction_lost: float, rtt: float | None) -> None:
        """A receiver report: loss since the previous one (0..1) and the RTT in seconds."""
        self.estimator.on_report(fraction_lost, time.monotonic(), rtt)

    def may_retransmit(self, seq: int, size: int, age: float) -> bool:
        """Whether NACKed packet ``seq`` of ``size`` bytes, ``age`` seconds old, may be resent."""
        now = time.monotonic()
        estimate = self.estimator.estimate(now)
        return self.retransmits.allow(seq, size, age, estimate, now,
                                      self.estimator.round_trip_time)

    def pace(self, size: int, *, wait: bool) -> float:
        """Seconds to hold an outgoing RTP packet of ``size`` bytes (0 when ``wait`` is False)."""
        now = time.monotonic()
        self.estimator.on_sent(size, now)
        return self._pacer.delay(size, self.estimator.estimate(now), now, wait=wait)

    @property
    def started(self) -> bool:
        """Whether the sender has begun reading (packets are only queued from then on)."""
        return self._started

    def push(self, packet: av.Packet[Any], keyframe: bool) -> None:
        """Queue ``packet`` for this peer without ever blocking the encoder."""
        if not self._started or self._held or self.readyState != "live":
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
                    self._source.request_keyframe(self)
                    return
            else:
                self._queue.get_nowait()
                self.packets_dropped += 1
        self._queue.put_nowait(packet)

    def picture_lost(self) -> None:
        """This peer's receiver reported lost pictures (RTCP PLI / FIR): ask for a keyframe.

        A held track starts sending. Otherwise the first report is served at once, not after the
        keyframe interval: the keyframe made at start may have been lost the same way.
        """
        if self._held:
            self._release()
            return
        urgent, self._first_loss_report = self._first_loss_report, False
        self._source.request_keyframe(self, urgent=urgent)

    def _release(self) -> None:
        """Stop holding: start sending, from a fresh keyframe."""
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        if self._held and self.readyState == "live":
            self._held = False
            self._first_loss_report = False  # this request is served by the start keyframe
            if self._started:
                self._source.output_started(self)

    async def recv(self) -> av.Packet[Any]:
        """The next encoded packet for this peer; raises ``MediaStreamError`` once ended."""
        if self.readyState != "live":
            raise MediaStreamError
        if not self._started:
            # The sender only starts reading once DTLS is up: begin here, with a keyframe, so
            # the peer's first picture is current instead of a queue of stale frames.
            self._started = True
            if not self._held:
                self._source.output_started(self)
            elif self._release_timer is None:
                self._release_timer = asyncio.get_running_loop().call_later(
                    ASK_WAIT, self._release)
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
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
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
