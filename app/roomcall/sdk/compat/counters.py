"""RTP counters for call stats that aiortc keeps to itself or does not keep (aiortc 1.16.0).

- ``RTCRtpReceiver.getStats()`` reports packets, loss and jitter per SSRC but no bytes (the
  inbound-rtp ``bytesReceived`` of the W3C stats is missing), so a remote track's bitrate
  cannot be read from it: :func:`count_received_bytes` counts them.
- It also lists the SSRC of the retransmission (RTX) stream beside the media's, with nothing
  to tell them apart: :func:`retransmission_ssrcs` reads the receiver's private RTX map.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # aiortc loads only for clients that use media
    from aiortc import RTCRtpReceiver

__all__ = ["count_received_bytes", "received_bytes", "retransmission_ssrcs"]

_received: weakref.WeakKeyDictionary[RTCRtpReceiver, list[int]] = weakref.WeakKeyDictionary()
"""Receiver -> [RTP payload bytes received since it was tapped]; gone with the receiver."""


def count_received_bytes(receiver: RTCRtpReceiver) -> None:
    """Count the RTP payload bytes ``receiver`` takes from now on (idempotent).

    The DTLS transport's RTP router calls ``receiver._handle_rtp_packet`` on the instance for
    every packet, so an instance attribute wraps it for this receiver only.
    """
    if receiver in _received:
        return
    count = [0]
    _received[receiver] = count
    original = receiver._handle_rtp_packet

    async def handle_rtp_packet(packet: Any, arrival_time_ms: int) -> None:
        count[0] += len(packet.payload) + packet.padding_size
        await original(packet, arrival_time_ms)

    setattr(receiver, "_handle_rtp_packet", handle_rtp_packet)  # noqa: B010


def received_bytes(receiver: RTCRtpReceiver) -> int:
    """RTP payload bytes ``receiver`` took since :func:`count_received_bytes` (0 before)."""
    count = _received.get(receiver)
    return count[0] if count is not None else 0


def retransmission_ssrcs(receiver: RTCRtpReceiver) -> set[int]:
    """The SSRCs of ``receiver``'s retransmission streams (its private ``__rtx_ssrc`` map,
    RTX SSRC -> media SSRC)."""
    rtx: dict[int, int] = getattr(receiver, "_RTCRtpReceiver__rtx_ssrc", {})
    return set(rtx)
