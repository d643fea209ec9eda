"""Encode each local track once per rung and hand the packets to every peer.

With aiortc's normal path every ``RTCRtpSender`` runs its own encoder, so a 640x480 camera sent
to 7 peers costs 7 VP8 encodes per frame (61 % of a core measured, against 12.5 % encoding once;
see docs/benchmarks.md). A :class:`TrackEncoder` reads its source track, encodes it with PyAV,
and pushes each ``av.Packet`` to one :class:`PacketTrack` per peer; the senders then only
packetise.

Audio is one Opus encode. Video is encoded once per rung of a small ladder
(:mod:`roomcall.media.ladder`: the source size, 320x240, 160x120), each rung only while some
peer takes it; each peer takes the best rung its bandwidth estimate allows
(:mod:`roomcall.media.bandwidth`, fed by its sender's RTCP), and a rung's bitrate follows the
lowest estimate among its peers, so one slow peer moves down a rung instead of dragging the
others down.

What aiortc does for the frame path and we must do ourselves on the packet path:

- keyframes: a PLI / FIR from any peer is routed here
  (:func:`roomcall.sdk.compat.route_keyframe_requests`) and the encoder of that peer's rung
  makes the next frame a keyframe; a peer whose sender starts, or that moves to another rung,
  gets one at once;
- bitrate: aiortc applies REMB to its own encoder only, so the estimates are ours to apply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.frame import Frame

from roomcall.aio import cancel_and_wait
from roomcall.media.codecs import AudioCodec
from roomcall.media.ladder import HEADROOM, RungEncoder
from roomcall.media.packet_track import PacketTrack
from roomcall.media.profile import CAMERA, EncodingProfile

logger = logging.getLogger(__name__)

Encoded = dict[int, list["av.Packet[Any]"]]
"""Packets of one source frame, by rung index (audio: rung 0)."""


def bitrate_for_peers(peers: int) -> int:
    """Ceiling in bit/s of one video stream when a camera goes to ``peers`` peers over one uplink.

    A mesh sends every packet once per peer, so the per-stream rate falls as the room grows:
    1 Mbit/s to one peer, 800 kbit/s to up to three, 600 kbit/s beyond (4.2 Mbit/s for 7 peers).
    The peers' estimates may lower it further. (The camera profile's ceiling.)
    """
    return CAMERA.ceiling(peers)


class TrackEncoder:
    """Reads one local track, encodes it once (per rung), and fans the packets out per peer.

    Create it, :meth:`start` it, and give each peer's sender a :meth:`subscribe` track. Frames
    are only encoded while at least one peer's sender is reading and the track is not muted.
    ``profile`` says how video is encoded (:mod:`roomcall.media.profile`: camera or screen).
    """

    def __init__(self, source: MediaStreamTrack, media_id: str,
                 profile: EncodingProfile = CAMERA) -> None:
        if source.kind not in ("audio", "video"):
            raise ValueError(f"cannot encode a track of kind {source.kind!r}")
        self.source = source
        self.media_id = media_id
        self.kind: str = source.kind
        self.profile = profile
        self.ceiling_limit: int | None = None
        """A lower ceiling set by the owner, e.g. for a camera while a screen is shared
        (:func:`roomcall.media.profile.give_screen_priority`)."""
        self.rungs: tuple[RungEncoder, ...] = (
            tuple(RungEncoder(r, profile.video) for r in profile.ladder)
            if self.kind == "video" else ())
        """One encoder per rung of the ladder (video); inactive while no peer takes it."""
        self._audio = AudioCodec() if self.kind == "audio" else None
        self._outputs: list[PacketTrack] = []
        self._task: asyncio.Task[None] | None = None
        self._muted = False
        self.frames_read = 0
        """Frames taken from the source."""
        self.frames_encoded = 0
        """Source frames encoded (each once per active rung), whatever the number of peers."""
        self.keyframes = 0
        """Keyframes produced (video, all rungs)."""

    @property
    def outputs(self) -> tuple[PacketTrack, ...]:
        """The live per-peer tracks."""
        return tuple(self._outputs)

    @property
    def muted(self) -> bool:
        """While muted no frame is encoded and no packet reaches any peer."""
        return self._muted

    @muted.setter
    def muted(self, muted: bool) -> None:
        if muted == self._muted:
            return
        self._muted = muted
        if not muted:
            for rung in self.rungs:
                rung.want_keyframe(urgent=True)

    def start(self) -> None:
        """Start reading and encoding (call once, inside the running loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"encoder-{self.media_id}")

    def subscribe(self, *, held: bool = False, rung: int | None = None,
                  max_bitrate: int | None = None) -> PacketTrack:
        """A new per-peer track fed by this encoder; stopping it detaches it.

        ``held``, ``rung`` (a fixed rung: an SFU layer), ``max_bitrate``: see
        :class:`~roomcall.media.packet_track.PacketTrack`.
        """
        track = PacketTrack(self, self.kind, self.media_id, held=held,
                            ladder=self.profile.ladder, rung=rung, max_bitrate=max_bitrate)
        self._outputs.append(track)
        return track

    async def stop(self) -> None:
        """Stop encoding and end every per-peer track; the source track is left running."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        for track in list(self._outputs):
            track.stop()

    # --- PacketSource ----------------------------------------------------------------------

    def output_started(self, track: PacketTrack) -> None:
        """A peer's sender began reading: give it a keyframe without delay."""
        self.request_keyframe(track, urgent=True)

    def request_keyframe(self, track: PacketTrack, *, urgent: bool = False) -> None:
        """``track``'s peer lost pictures (PLI / FIR) or skipped ahead: a keyframe on its rung,
        after the rung's minimum interval since its last one unless ``urgent``."""
        if self.rungs:
            self.rungs[track.target_rung].want_keyframe(urgent=urgent)

    def detach(self, track: PacketTrack) -> None:
        """Stop feeding ``track``."""
        if track in self._outputs:
            self._outputs.remove(track)

    # --- internals -------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await self.source.recv()
                self.frames_read += 1
                readers = [t for t in self._outputs if t.started]
                if self._muted or not readers:
                    continue
                keyframes = self._plan(readers, time.monotonic())
                try:
                    # Encoding takes milliseconds: keep it off the event loop, as aiortc does.
                    encoded = await loop.run_in_executor(None, self._encode, frame, keyframes)
                except (av.FFmpegError, ValueError):
                    logger.exception("encoding a %s frame of %s failed", self.kind, self.media_id)
                    continue
                self.frames_encoded += 1
                self._fan_out(encoded)
        except MediaStreamError:
            logger.info("source of %s ended", self.media_id)
            for track in list(self._outputs):
                track.stop()

    def _plan(self, readers: list[PacketTrack], now: float) -> dict[int, bool]:
        """Move peers between rungs, start / stop / retarget rung encoders; the rungs to encode
        this frame, each with whether it must be a keyframe."""
        if not self.rungs:
            return {0: False}
        ceiling = self.profile.ceiling(len(readers))
        if self.ceiling_limit is not None:
            ceiling = min(ceiling, self.ceiling_limit)
        wanted: dict[int, int] = {}
        for track in readers:
            estimate = track.estimator.estimate(now)
            target = track.select_rung(estimate, now)
            if target == track.rung:
                track.next_rung = None
            elif target != track.next_rung:
                # Switch at the new rung's next keyframe, asked for now; until then the peer
                # keeps its rung (without lowering that rung's rate for the others on it).
                track.next_rung = target
                self.rungs[target].want_keyframe(urgent=True)
            rate = int(estimate * HEADROOM)
            if track.max_bitrate is not None:
                rate = min(rate, track.max_bitrate)
            wanted[target] = min(wanted.get(target, ceiling), rate)
        for track in readers:
            if track.rung not in wanted:  # only peers leaving it: keep its rate meanwhile
                wanted[track.rung] = self.rungs[track.rung].bitrate or ceiling
        plan: dict[int, bool] = {}
        for index, rung in enumerate(self.rungs):
            if index not in wanted:
                rung.deactivate()
                continue
            rung.activate(wanted[index])
            rung.retarget(wanted[index], now)
            plan[index] = rung.take_keyframe(now)
        return plan

    def _encode(
        self, frame: Frame | av.Packet[Any], keyframes: dict[int, bool]
    ) -> Encoded:
        if self._audio is not None and isinstance(frame, av.AudioFrame):
            return {0: self._audio.encode(frame, False)}
        if self.rungs and isinstance(frame, av.VideoFrame):
            return {i: self.rungs[i].encode(frame, key) for i, key in keyframes.items()}
        raise ValueError(f"{self.kind} source gave {type(frame).__name__}")

    def _fan_out(self, encoded: Encoded) -> None:
        now = time.monotonic()
        for index, packets in encoded.items():
            if self.rungs and any(p.is_keyframe for p in packets):
                self.keyframes += 1
                self.rungs[index].keyframes += 1
                self.rungs[index].last_keyframe = now
        for track in list(self._outputs):
            if (track.next_rung is not None and track.next_rung in encoded
                    and any(p.is_keyframe for p in encoded[track.next_rung])):
                # Switch on the new rung's keyframe: never a delta frame of another stream.
                track.rung, track.next_rung = track.next_rung, None
            for packet in encoded.get(track.rung, ()):
                track.push(packet, self.kind == "audio" or bool(packet.is_keyframe))
