"""Route a sender's keyframe requests (RTCP PLI / FIR) to the shared encoder."""

from __future__ import annotations

from collections.abc import Callable

from aiortc import RTCRtpSender


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
