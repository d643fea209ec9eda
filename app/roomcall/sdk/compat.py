"""Workarounds for aiortc and aioice behaviour, in one place so that an upgrade of either is one
file to re-check. Each names what it works around upstream: the issue where one exists, else the
code path and version (aiortc 1.16.0, aioice 0.13.0). Nothing else in roomcall reads or writes a
private attribute of either library.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import queue
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import aioice
import aioice.candidate
import aioice.ice
import aiortc.clock
import aiortc.jitterbuffer
import aiortc.rtcicetransport
import aiortc.rtcrtpreceiver
from aiortc import RTCDtlsTransport, RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    RtpPacket,
    is_rtcp,
    unpack_remb_fci,
)

if TYPE_CHECKING:
    from aiortc import RTCIceServer

from roomcall.aio import TaskSet, cancel_and_wait

if TYPE_CHECKING:  # aiortc loads only for clients that use media
    from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
    from aiortc.mediastreams import MediaStreamTrack

log = logging.getLogger(__name__)

_gather_every_interface = aioice.ice.get_host_addresses


def restrict_host_addresses(addresses: Sequence[str] | None) -> None:
    """Gather ICE host candidates on ``addresses`` only, for every peer connection of this
    process; ``None`` restores aioice's default (every interface but loopback).

    aioice 0.13 offers no per-connection choice of interfaces (aiortc/aioice#2, open; the
    filter of aiortc/aioice#57 was not merged): ``Connection.gather_candidates`` calls the
    module-level ``get_host_addresses``, which lists every adapter and always skips 127.0.0.1.
    Calls that must stay on this machine (the self-test, the test suite) pass ``["127.0.0.1"]``.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _gather_every_interface
        return
    chosen = list(addresses)

    def only_chosen(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = only_chosen


class SenderFeedback(Protocol):
    """Who takes one video sender's RTCP feedback (a per-peer packet track)."""

    def on_remb(self, bitrate: int) -> None:
        """The receiver's REMB, in bit/s."""

    def on_report(self, fraction_lost: float, rtt: float | None) -> None:
        """A receiver report: loss since the previous one (0..1) and the RTT in seconds."""

    def may_retransmit(self, seq: int, size: int, age: float) -> bool:
        """Whether NACKed packet ``seq`` of ``size`` bytes, ``age`` seconds old, may be resent."""

    def pace(self, size: int, *, wait: bool) -> float:
        """Seconds to hold an outgoing RTP packet of ``size`` bytes (0 when ``wait`` is False)."""


_RTP_CLOCK = 90_000
"""Video RTP clock rate: only video senders are tapped."""
RTP_HISTORY_SIZE = 128
"""aiortc 1.16 ``rtcrtpsender.RTP_HISTORY_SIZE``: the sender keeps the last 128 packets."""
_RTP_HEADER = 12
"""Bytes of RTP header (plus extensions, roughly) a resent packet costs beyond its payload."""


def tap_sender_feedback(sender: RTCRtpSender, feedback: SenderFeedback) -> None:
    """Hand ``sender``'s REMB and receiver reports to ``feedback`` and bound its retransmissions.

    aiortc 1.16 ``RTCRtpSender._handle_rtcp_packet``:

    - applies REMB only as ``self.__encoder.target_bitrate``, i.e. to its own encoder; a track
      that yields encoded ``av.Packet`` objects has none, so the estimate is dropped;
    - turns every NACK into ``_retransmit`` for each listed sequence number, with no budget and
      no age limit (its 128-packet history): on a capped link the resends compete with the
      media for the same bandwidth and the loss only grows;
    - keeps the receiver-report loss and RTT for ``getStats()`` only.

    The RTCP router looks the handler up on the sender instance for each packet, so an instance
    attribute shadows it for this sender only (the sender is made by RTCPeerConnection, so a
    subclass cannot be slotted in). The RTT and the retransmission history are read from the
    sender's private (name-mangled) fields; re-check both on an aiortc upgrade.
    """
    original = sender._handle_rtcp_packet

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            for seq in packet.lost:
                if _may_resend(sender, seq, feedback):
                    await sender._retransmit(seq)
            return
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                pass
            else:
                if sender._ssrc in ssrcs:
                    feedback.on_remb(bitrate)
        await original(packet)
        if isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == sender._ssrc:
                    rtt: float | None = getattr(sender, "_RTCRtpSender__rtt", None)
                    feedback.on_report(report.fraction_lost / 256.0, rtt)

    setattr(sender, "_handle_rtcp_packet", handle_rtcp_packet)  # noqa: B010
    _install_pacing()
    _paced_media[sender._ssrc] = feedback
    _paced_senders[sender._ssrc] = sender
    _paced_rtx[sender._rtx_ssrc] = feedback


_paced_media: weakref.WeakValueDictionary[int, SenderFeedback] = weakref.WeakValueDictionary()
"""RTP SSRC of a tapped video sender -> its feedback; gone with the per-peer track."""
_paced_rtx: weakref.WeakValueDictionary[int, SenderFeedback] = weakref.WeakValueDictionary()
"""The same for its retransmissions (RTX SSRC): counted, never held."""
_paced_senders: weakref.WeakValueDictionary[int, RTCRtpSender] = weakref.WeakValueDictionary()
"""RTP SSRC of a tapped video sender -> the sender, whose header extensions a held packet's
send time is rewritten with."""
_send_rtp_unpaced = RTCDtlsTransport._send_rtp


def _install_pacing() -> None:
    """Pace the RTP of tapped senders (aiortc 1.16 has no pacer; every packet of a frame is
    sent at once by ``RTCRtpSender._run_rtp``).

    ``RTCDtlsTransport._send_rtp`` carries every sender of a connection, so it is wrapped once
    for the class and looks the packet's SSRC up: tapped video is held (which slows only that
    sender's own RTP loop), its retransmissions are only counted (they are sent from the RTCP
    handler, which must not block), everything else passes untouched.

    A held packet's abs-send-time is stamped again as it leaves: ``_run_rtp`` stamps it before
    calling ``_send_rtp``, so without this every hold would reach the receiver as queuing
    delay. aiortc's receiver-side estimator (``rate.RemoteBitrateEstimator``, the REMB) reads
    a growing delay as overuse and cuts to 0.85 x the incoming rate; the pacer spreads each
    640x480 keyframe over ~0.3 s, so a clean link's REMB fell below the top rung, and at the
    lower rung's rate (REMB grows to at most 1.5 x what arrives) it took tens of seconds to
    come back.
    """
    if RTCDtlsTransport._send_rtp is not _send_rtp_unpaced:
        return

    async def send_rtp(self: RTCDtlsTransport, data: bytes) -> None:
        if len(data) >= 12 and not is_rtcp(data):
            ssrc = int.from_bytes(data[8:12], "big")
            media = _paced_media.get(ssrc)
            if media is not None:
                delay = media.pace(len(data), wait=True)
                if delay > 0:
                    await asyncio.sleep(delay)
                    data = _stamp_send_time(data, _paced_senders.get(ssrc))
            else:
                rtx = _paced_rtx.get(ssrc)
                if rtx is not None:
                    rtx.pace(len(data), wait=False)
        await _send_rtp_unpaced(self, data)

    RTCDtlsTransport._send_rtp = send_rtp  # type: ignore[method-assign]


def _stamp_send_time(data: bytes, sender: RTCRtpSender | None) -> bytes:
    """``data`` (an RTP packet of ``sender``) with its abs-send-time set to now, as
    ``RTCRtpSender._run_rtp`` sets it (aiortc 1.16; the map is the sender's private field)."""
    extensions = getattr(sender, "_RTCRtpSender__rtp_header_extensions_map", None)
    if extensions is None:
        return data
    packet = RtpPacket.parse(data, extensions)
    if packet.extensions.abs_send_time is None:
        return data
    packet.extensions.abs_send_time = (aiortc.clock.current_ntp_time() >> 14) & 0x00FFFFFF
    return bytes(packet.serialize(extensions))


def _may_resend(sender: RTCRtpSender, seq: int, feedback: SenderFeedback) -> bool:
    history: dict[int, RtpPacket] = getattr(sender, "_RTCRtpSender__rtp_history", {})
    packet = history.get(seq % RTP_HISTORY_SIZE)
    if packet is None or packet.sequence_number != seq:
        return False  # no longer held: aiortc would skip it too
    latest: int = getattr(sender, "_RTCRtpSender__rtp_timestamp", packet.timestamp)
    age = ((latest - packet.timestamp) % (1 << 32)) / _RTP_CLOCK
    return feedback.may_retransmit(seq, len(packet.payload) + _RTP_HEADER, age)


VIDEO_GAP_WAIT = 0.4
"""Seconds a video receiver waits for a missing packet (its retransmission) before it skips
the incomplete frame and asks for a keyframe."""


VIDEO_BACKLOG_FRAMES = 6
"""Complete frames left buffered behind the one handed out that make a receiver ask for a
keyframe (PLI) to catch up on: 200 ms at 30 fps."""
BACKLOG_PLI_INTERVAL = 1.0
"""Seconds between two such requests."""


class _GapSkippingJitterBuffer(aiortc.jitterbuffer.JitterBuffer):
    """aiortc's video jitter buffer, made to give up on a gap and to catch up on a backlog.

    aiortc 1.16 ``JitterBuffer`` (video: 512 packets) hands out frames strictly in sequence
    order, one per packet added, and drops a missing packet only once 512 newer ones arrived.
    So a lost or refused retransmission stops a 300 kbit/s stream for ~15 s, and any wait
    leaves a backlog that never drains at one packet per frame: the picture then runs seconds
    behind (network-facts: "aiortc's receive buffer is not flushed"). Here a gap is skipped
    after ``VIDEO_GAP_WAIT`` (with a PLI); a backlog asks for a keyframe, and a keyframe's first
    packet drops everything buffered before it, since nothing before it is needed to decode.
    """

    def __init__(self, capacity: int, prefetch: int = 0, is_video: bool = False) -> None:
        super().__init__(capacity, prefetch=prefetch, is_video=is_video)
        self._last_frame = time.monotonic()
        self._last_pli = float("-inf")

    def add(self, packet: RtpPacket) -> tuple[bool, aiortc.jitterbuffer.JitterFrame | None]:
        if self._is_video and self._origin is not None and _starts_vp8_keyframe(packet):
            ahead = (packet.sequence_number - self._origin) % (1 << 16)
            if 0 < ahead < self._capacity:
                self.remove(ahead)  # the keyframe decodes without anything before it
        pli_flag, frame = super().add(packet)
        if not self._is_video:
            return pli_flag, frame
        now = time.monotonic()
        if frame is not None:
            self._last_frame = now
            if (now - self._last_pli >= BACKLOG_PLI_INTERVAL
                    and self._complete_frames() > VIDEO_BACKLOG_FRAMES):
                self._last_pli = now
                pli_flag = True
            return pli_flag, frame
        if now - self._last_frame < VIDEO_GAP_WAIT or not self._skip_gap():
            return pli_flag, frame
        self._last_frame = now
        return True, self._remove_frame(packet.sequence_number)

    def _slots(self) -> list[RtpPacket | None]:
        assert self._origin is not None
        return [self._packets[(self._origin + i) % self._capacity] for i in range(self._capacity)]

    def _complete_frames(self) -> int:
        """Frames buffered in sequence from the head (the last one may be incomplete)."""
        if self._origin is None:
            return 0
        stamps: set[int] = set()
        for slot in self._slots():
            if slot is None:
                break
            stamps.add(slot.timestamp)
        return max(0, len(stamps) - 1)

    def _skip_gap(self) -> bool:
        """Drop everything before the newest frame after the first hole; False if there is no
        hole with packets after it."""
        if self._origin is None:
            return False
        slots = self._slots()
        hole = next((i for i, p in enumerate(slots) if p is None), None)
        last = max((i for i, p in enumerate(slots) if p is not None), default=None)
        if hole is None or last is None or last < hole:
            return False
        newest = slots[last]
        assert newest is not None
        first = next(i for i in range(hole, last + 1)
                     if (p := slots[i]) is not None and p.timestamp == newest.timestamp)
        self.remove(first)
        return True


def _starts_vp8_keyframe(packet: RtpPacket) -> bool:
    """Whether ``packet`` carries the start of a VP8 keyframe (RFC 7741: descriptor S bit and
    partition 0, then the frame tag's inverse key-frame bit), as aiortc's depacketiser left it
    in ``_data``."""
    payload, data = packet.payload, getattr(packet, "_data", b"")
    return bool(payload) and bool(data) and payload[0] & 0x1F == 0x10 and data[0] & 0x01 == 0


def bound_video_gaps() -> None:
    """Give every RTCRtpReceiver made from now on a video jitter buffer that skips a gap after
    VIDEO_GAP_WAIT (see ``_GapSkippingJitterBuffer``); idempotent."""
    global _video_buffer
    _video_buffer = _GapSkippingJitterBuffer
    _install_receive_buffers()

# --- every STUN and TURN URL, not just the first of each ------------------------------------

RELAY_GRACE = 0.5
"""Seconds gathering waits for the other servers once one relayed candidate is in."""
GATHER_TIMEOUT = 5.0
"""aioice's own bound on gathering from servers (``get_component_candidates``)."""


@dataclass(frozen=True)
class _Turn:
    address: tuple[str, int]
    username: str | None
    password: str | None
    ssl: bool
    transport: str


def _every_server_kwargs(servers: list[RTCIceServer]) -> dict[str, Any]:
    """aiortc's ``connection_kwargs`` keeping every usable URL (it keeps the first STUN and
    the first TURN URL only), in list order, for :class:`_EveryServerConnection`."""
    stun: list[tuple[str, int]] = []
    turn: list[_Turn] = []
    for server in servers:
        for uri in server.urls if isinstance(server.urls, list) else [server.urls]:
            parsed = aiortc.rtcicetransport.parse_stun_turn_uri(uri)
            address = (parsed["host"], parsed["port"])
            if parsed["scheme"] == "stun":
                stun.append(address)
            elif (parsed["scheme"] in ("turn", "turns") and server.credentialType == "password"
                  and parsed["transport"] in (("tcp",) if parsed["scheme"] == "turns"
                                              else ("udp", "tcp"))):
                # The same filters as aiortc: turns only over TCP, password credentials only.
                turn.append(_Turn(address, server.username, server.credential,
                                  parsed["scheme"] == "turns", parsed["transport"]))
    return {"stun_servers": tuple(dict.fromkeys(stun)), "turn_servers": tuple(turn)}


class _EveryServerConnection(aioice.ice.Connection):
    """An aioice connection that gathers from several STUN and TURN servers at once and
    stops waiting for the unreachable ones soon after the first relayed candidate."""

    def __init__(self, *, stun_servers: tuple[tuple[str, int], ...] = (),
                 turn_servers: tuple[_Turn, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)  # no stun_server / turn_server: we gather from those
        self._stun_servers = stun_servers
        self._turn_servers = turn_servers

    async def get_component_candidates(self, component: int, addresses: list[str],
                                       timeout: int = 5  # noqa: ASYNC109 (aioice's signature)
                                       ) -> list[aioice.Candidate]:
        candidates: list[aioice.Candidate] = await super().get_component_candidates(
            component, addresses, timeout)  # host candidates only (no servers set above)
        hosts = [p for p in self._protocols
                 if p.local_candidate.component == component
                 and p.local_candidate.type == "host"
                 and ipaddress.ip_address(p.local_candidate.host).version == 4]
        tasks: list[asyncio.Task[tuple[aioice.Candidate, Any]]] = [
            asyncio.create_task(aioice.ice.server_reflexive_candidate(p, server))
            for server in self._stun_servers for p in hosts]
        for rank, turn in enumerate(self._turn_servers):
            tasks.append(asyncio.create_task(self._relayed(component, rank, turn)))
        for candidate, protocol in await _first_results(tasks, float(timeout), RELAY_GRACE):
            if any(candidate.host == c.host and candidate.port == c.port
                   and candidate.type == c.type for c in candidates):
                continue  # two STUN servers seeing the same mapping
            candidates.append(candidate)
            if protocol is not None:
                self._protocols.append(protocol)
        return candidates

    async def _relayed(self, component: int, rank: int, turn: _Turn
                       ) -> tuple[aioice.Candidate, Any]:
        candidate, protocol = await aioice.ice.relayed_candidate(
            component=component,
            hide_related_address=self._transport_policy == aioice.TransportPolicy.RELAY,
            protocol_factory=lambda: aioice.ice.StunProtocol(self),
            turn_server=turn.address, turn_username=turn.username,
            turn_password=turn.password, turn_ssl=turn.ssl, turn_transport=turn.transport)
        # One foundation per server and transport (aioice derives it from the relayed address
        # alone, which a UDP and a TCP allocation on one coturn share), and the listed order
        # as local preference: the first URL's relay is tried first.
        candidate.foundation = aioice.candidate.candidate_foundation(
            "relay", f"{turn.transport}-{rank}", candidate.host)
        candidate.priority = aioice.candidate.candidate_priority(
            component, "relay", local_pref=65535 - rank)
        return candidate, protocol


async def _first_results(tasks: list[asyncio.Task[tuple[aioice.Candidate, Any]]],
                         within: float, grace: float) -> list[tuple[aioice.Candidate, Any]]:
    """The results of ``tasks`` that succeed within ``within`` s, or within ``grace`` of the
    first relayed candidate, whichever comes first; the rest are cancelled and awaited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    pending: set[asyncio.Task[tuple[aioice.Candidate, Any]]] = set(tasks)
    results: list[tuple[aioice.Candidate, Any]] = []
    try:
        while pending and (left := deadline - loop.time()) > 0:
            done, pending = await asyncio.wait(pending, timeout=left,
                                               return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is None:
                    results.append(task.result())
                    if task.result()[0].type == "relay":
                        deadline = min(deadline, loop.time() + grace)
    finally:
        for task in pending:
            task.cancel()
        # aioice closes a cancelled allocation's socket itself (create_turn_endpoint)
        await asyncio.gather(*pending, return_exceptions=True)
    return results


_ice_transport: Any = aiortc.rtcicetransport  # its globals are replaced below
_plain_kwargs = _ice_transport.connection_kwargs
_plain_connection = _ice_transport.Connection


def gather_from_every_ice_server(enabled: bool = True) -> None:
    """Gather ICE candidates from every listed STUN and TURN URL, for every peer connection
    of this process; ``False`` restores aiortc's own gathering.

    aiortc 1.16 (``rtcicetransport.connection_kwargs``: "only a single STUN server is
    supported", "only a single TURN server is supported", since aiortc PR #23) uses the first
    STUN and the first TURN URL and silently drops the rest, because aioice 0.13's
    ``Connection`` takes one of each (aioice issue #3, "support multiple stun and turn
    servers", open since 2018; PR #113 would add ``stun_servers`` / ``turn_servers``). So a
    ``turn:...?transport=udp`` listed before a ``turn:...?transport=tcp`` fallback leaves a
    client behind a UDP-blocking firewall waiting 5 s (aioice's gathering timeout) for the
    UDP allocation, and then with host candidates only: no call.

    The workaround, in two module globals of ``aiortc.rtcicetransport`` (the only seam, as
    ``RTCIceGatherer`` builds its aioice ``Connection`` itself): keep every URL, and gather
    from all of them in parallel (one aioice allocation per TURN URL, one binding per STUN
    URL and host address). Gathering ends when every server answered, 5 s at most as before,
    or ``RELAY_GRACE`` after the first relayed candidate: one relay is enough to connect,
    reachable servers answer within a round trip, and an unreachable one would only stall
    the call. Ordering or probing URLs instead would still wait on the unreachable one and
    keep one relay per call; this way a UDP-blocked client has its TCP relay in well under a
    second and a healthy one both relays, the first listed preferred.
    """
    if enabled:
        _ice_transport.connection_kwargs = _every_server_kwargs
        _ice_transport.Connection = _EveryServerConnection
    else:
        _ice_transport.connection_kwargs = _plain_kwargs
        _ice_transport.Connection = _plain_connection


# --- closing a peer connection -------------------------------------------------------------

ICE_SETTLE_TIMEOUT = 2.0
"""Seconds :func:`close_connection` waits for an ICE ``connect()`` in flight to return."""

_closing = TaskSet(log, "peer connection close")


async def close_connection(pc: RTCPeerConnection) -> None:
    """Close ``pc`` and leave no ICE task of it running; a cancellation of the caller is
    honoured at once (the close then finishes in the background).

    Two upstream behaviours:

    - aioice 0.13 ``Connection.close`` awaits its consent task inside ``except
      asyncio.CancelledError: pass``, and aiortc 1.16's ``RTCPeerConnection.close`` awaits
      that: a cancellation of *our* task arriving meanwhile is swallowed, so a media worker
      being stopped carried on and ``leave()`` never returned. The close therefore runs as its
      own task, which the caller awaits through ``asyncio.shield``.
    - aioice 0.13 ``Connection.connect``: when the check list completes just before
      ``close()``, ``connect()`` has the result queued but resumes only after ``close()`` ran,
      and then starts its RFC 7675 consent checks (``query_consent``) on the closed
      connection, which wake every ~5 s for ever. So: close, let any ``connect()`` in flight
      return, then cancel a consent task it started.
    """
    await asyncio.shield(_closing.spawn(_close(pc), name="pc-close"))


async def _close(pc: RTCPeerConnection) -> None:
    transports = _ice_transports(pc)
    await pc.close()
    for ice in transports:
        # aiortc's RTCIceTransport.start() sets this event once aioice's connect() returned.
        started: asyncio.Event | None = getattr(ice, "_RTCIceTransport__start", None)
        if started is not None and not started.is_set():
            # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation
            # arriving as the event is set (CPython gh-86296).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ICE_SETTLE_TIMEOUT):
                    await started.wait()
        connection = getattr(ice, "_connection", None)
        consent: asyncio.Task[None] | None = getattr(connection, "_query_consent_task", None)
        if consent is not None and not consent.done():
            await cancel_and_wait(consent)


def _ice_transports(pc: RTCPeerConnection) -> list[Any]:
    """The RTCIceTransports under ``pc``'s transceivers and data channel, each once."""
    found: dict[int, Any] = {}
    dtls = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        dtls.append(pc.sctp.transport)
    for transport in dtls:
        ice = getattr(transport, "transport", None)
        if ice is not None:
            found[id(ice)] = ice
    return list(found.values())


async def stop_ice_abruptly(pc: RTCPeerConnection) -> None:
    """Stop ``pc``'s ICE transports without a DTLS goodbye, as a dead network path does.

    aiortc 1.16 then closes the peer connection by itself (its DTLS transports closed) while
    the far side learns nothing until its consent checks fail (~30 s). For tests of recovery.
    """
    for ice in _ice_transports(pc):
        await ice.stop()


def packets_received(pc: RTCPeerConnection) -> int:
    """Datagrams (DTLS, SRTP, SRTCP) ``pc`` has received so far, over all its transports.

    aiortc 1.16 counts them in ``RTCDtlsTransport._get_stats()``; the public
    ``RTCPeerConnection.getStats()`` reaches the same figure only through every sender's and
    receiver's stats, far more work for a check made every second.
    """
    transports = {id(t.receiver.transport): t.receiver.transport for t in pc.getTransceivers()}
    total = 0
    for transport in transports.values():
        for stats in transport._get_stats().values():
            if getattr(stats, "type", "") == "transport":
                total += int(getattr(stats, "packetsReceived", 0))
    return total


# --- RTP senders and receivers --------------------------------------------------------------


def route_keyframe_requests(sender: RTCRtpSender, request: Callable[[], None]) -> None:
    """Make PLI / FIR received by ``sender`` call ``request`` (the one encoder's keyframe ask).

    aiortc 1.16 ``RTCRtpSender._handle_rtcp_packet`` turns PLI and FIR into
    ``self._send_keyframe()``, which only sets a private flag that ``_next_encoded_frame``
    reads on the frame path (``force_keyframe`` for its own encoder). When the track yields
    already encoded ``av.Packet`` objects that flag is never read, so the request would be
    lost. Overriding the method on this one sender instance forwards it instead; the sender
    object is created by ``RTCPeerConnection`` itself, so a subclass cannot be slotted in.
    """
    original = sender._send_keyframe

    def send_keyframe() -> None:
        original()
        request()

    # Instance attribute shadows the method for this sender only.
    setattr(sender, "_send_keyframe", send_keyframe)  # noqa: B010


async def request_keyframe(receiver: RTCRtpReceiver, ssrc: int) -> None:
    """Send an RTCP PLI for the stream ``ssrc`` that ``receiver`` receives.

    aiortc 1.16 sends PLI only from inside ``RTCRtpReceiver`` (jitter buffer gaps, decode
    errors; aiortc/aiortc#58); there is no public call to ask for a keyframe.
    """
    await receiver._send_rtcp_pli(ssrc)


def flush_receiver(receiver: RTCRtpReceiver) -> int:
    """Drop every packet and frame ``receiver`` holds but has not handed on; returns how many.

    aiortc 1.16 keeps a 512-packet video jitter buffer that waits for a missing packet until
    512 newer ones have arrived (``JitterBuffer.add``), and an unbounded decoder queue: after
    a long gap a low-rate stream runs seconds behind. After a freeze the newest picture
    should win: flush, then ask for a keyframe (:func:`request_keyframe`).
    """
    dropped = 0
    jitter = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
    if jitter is not None and jitter._origin is not None:
        # No origin: nothing was buffered since it was made or last flushed (and aiortc's
        # ``remove`` cannot run then: it counts from the origin).
        dropped += sum(p is not None for p in jitter._packets)
        jitter.remove(jitter.capacity)
        jitter._origin = None
    decoder: queue.Queue[Any] | None = getattr(receiver, "_RTCRtpReceiver__decoder_queue", None)
    if decoder is not None:
        kept: list[None] = []
        with contextlib.suppress(queue.Empty):
            while True:
                item = decoder.get_nowait()
                if item is None:
                    kept.append(item)  # the receiver is stopping: its decoder must see this
                else:
                    dropped += 1
        for item in kept:
            decoder.put(item)
    return dropped


def stalled_at(receiver: RTCRtpReceiver) -> int | None:
    """Where ``receiver``'s jitter buffer starts (its oldest frame's first sequence number)
    while a packet is missing with newer ones queued behind it; None when nothing is missing.

    aiortc 1.16's ``JitterBuffer`` hands a frame on only once every packet before it arrived
    (or 512 newer ones did): a packet lost for good, retransmission included, holds the whole
    stream back. Seeing the same number twice a second apart means it is not coming.
    """
    jitter = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
    origin = getattr(jitter, "_origin", None)
    if jitter is None or origin is None:
        return None
    capacity = jitter.capacity
    held = [jitter._packets[(origin + i) % capacity] is not None for i in range(capacity)]
    if False not in held:
        return None
    gap = held.index(False)
    return int(origin) if any(held[gap:]) else None


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[Any]:
    """The codecs negotiated for ``transceiver``'s m-line, preferred first.

    aiortc 1.16 keeps them in ``RTCRtpTransceiver._codecs`` only (no public getter; the sender
    packs with ``codecs[0]``).
    """
    return list(getattr(transceiver, "_codecs", []))


def end_remote_track(track: MediaStreamTrack) -> None:
    """Stop a received track and wake its reader.

    aiortc 1.16 ends a ``RemoteStreamTrack`` by queueing None in its private ``_queue`` (what
    ``RTCRtpReceiver.stop`` does); an m-line turned inactive never does it, so the reader
    would wait for ever.
    """
    track.stop()
    track_queue = getattr(track, "_queue", None)
    if isinstance(track_queue, asyncio.Queue):
        track_queue.put_nowait(None)


# --- audio packets straight to the decoder ----------------------------------------------

_receiver_module: Any = aiortc.rtcrtpreceiver  # its JitterBuffer global is replaced below
_plain_jitter_buffer = aiortc.jitterbuffer.JitterBuffer
_MAX_MISORDER = 100


class _UnbufferedAudio(aiortc.jitterbuffer.JitterBuffer):
    """Hands each audio packet to the decoder as it arrives (one Opus packet is one frame),
    dropping duplicates and packets older than one already handed on."""

    def __init__(self, capacity: int, prefetch: int = 0, is_video: bool = False) -> None:
        super().__init__(capacity)
        self._last: int | None = None

    def add(self, packet: Any) -> tuple[bool, Any]:
        sequence = int(packet.sequence_number)
        if self._last is not None:
            behind = (self._last - sequence) % 0x10000
            if behind < _MAX_MISORDER:
                return False, None
        self._last = sequence
        return False, aiortc.jitterbuffer.JitterFrame(data=packet._data,
                                                      timestamp=packet.timestamp)


_video_buffer: Callable[..., Any] = _plain_jitter_buffer
_audio_buffer: Callable[..., Any] = _plain_jitter_buffer


def _jitter_buffer(capacity: int, prefetch: int = 0, is_video: bool = False) -> Any:
    make = _video_buffer if is_video else _audio_buffer
    return make(capacity, prefetch=prefetch, is_video=is_video)


def _install_receive_buffers() -> None:
    # ``RTCRtpReceiver.__init__`` looks ``JitterBuffer`` up in its module when it runs: the one
    # seam, shared by the video and the audio workaround.
    _receiver_module.JitterBuffer = _jitter_buffer


def unbuffered_audio_receivers(enabled: bool = True) -> None:
    """Pass received audio packets straight to the decoder, for every peer connection of this
    process; ``False`` restores aiortc's audio jitter buffer.

    aiortc 1.16's ``RTCRtpReceiver`` holds audio in ``JitterBuffer(capacity=16,
    prefetch=4)``: every frame waits for four more (80 ms), and after one lost packet the
    buffer stalls until 16 are queued and then stays 14 deep, adding about 280 ms for the
    rest of the call (aiortc issue #543, closed unfixed). roomcall's playout has its own
    adaptive jitter buffer with loss concealment (``roomcall.media.jitter``), so the
    receiver only needs to keep the order: the one seam is the module global the receiver
    builds its buffer from.
    """
    global _audio_buffer
    _audio_buffer = _UnbufferedAudio if enabled else _plain_jitter_buffer
    _install_receive_buffers()
