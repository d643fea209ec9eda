"""Closing peer connections promptly and counting what they received (aiortc 1.16.0,
aioice 0.13.0)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import TYPE_CHECKING, Any

from roomcall.aio import TaskSet, cancel_and_wait

if TYPE_CHECKING:  # aiortc loads only for clients that use media
    from aiortc import RTCPeerConnection, RTCSessionDescription

log = logging.getLogger(__name__)


# --- closing a peer connection -------------------------------------------------------------

ICE_SETTLE_TIMEOUT = 2.0
"""Seconds :func:`close_connection` waits for an ICE ``connect()`` in flight to return."""

_closing = TaskSet(log, "peer connection close")

GATHER_SETTLE_TIMEOUT = 10.0
"""Seconds :func:`close_connection` waits for a ``setLocalDescription`` in flight (its ICE
gathering: up to 5 s where no server answers, plus the relay grace)."""

_describing: weakref.WeakKeyDictionary[RTCPeerConnection, asyncio.Task[None]] = (
    weakref.WeakKeyDictionary())
"""A peer connection -> its ``setLocalDescription`` in flight, if any."""


async def set_local_description(pc: RTCPeerConnection,
                                description: RTCSessionDescription) -> None:
    """``pc.setLocalDescription(description)``, finished even if the caller is cancelled.

    aiortc 1.16's ``setLocalDescription`` gathers ICE candidates; aioice 0.13
    ``Connection.gather_candidates`` opens each socket before it records it, so a gathering
    cancelled between the two leaves a socket nobody closes (a ResourceWarning later, in
    whatever runs next). The call therefore runs as its own task, which the caller awaits
    through ``asyncio.shield``, and :func:`close_connection` waits for it before closing.
    """
    task = asyncio.get_running_loop().create_task(pc.setLocalDescription(description),
                                                  name="set-local-description")
    _describing[pc] = task
    try:
        await asyncio.shield(task)
    finally:
        if task.done() and _describing.get(pc) is task:
            del _describing[pc]


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
    describing = _describing.pop(pc, None)
    if describing is not None and not describing.done():
        # asyncio.wait, not wait_for: a failed or timed-out description is only forgotten.
        await asyncio.wait([describing], timeout=GATHER_SETTLE_TIMEOUT)
    if describing is not None and describing.done() and not describing.cancelled():
        describing.exception()  # retrieved: its caller was cancelled, or closing anyway
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


TURN_DELETE_TIMEOUT = 1.0
"""Seconds closing a connection waits for its TURN server to confirm that an allocation is
deleted: one round trip when the server can be reached, and time for aioice's first
retransmission (at 0.5 s)."""


def bound_turn_deletion() -> None:
    """Bound the wait for a TURN allocation's deletion when a connection closes.

    aioice 0.13 ``TurnClientMixin.delete`` sends Refresh(lifetime 0) with ``request_with_retry``:
    seven transmissions from a 0.5 s timeout doubling (``stun.RETRY_MAX`` 6), about 31.5 s
    when the server cannot be reached. aiortc 1.16's ``RTCPeerConnection.close`` awaits it, so
    a ``leave()`` during an outage, or on a network that just went away, took half a minute
    for a relayed call. Past :data:`TURN_DELETE_TIMEOUT` the deletion is given up; its
    ``finally`` still closes the socket, and the server frees the allocation when it expires
    (RFC 8656 section 6), as aioice does when the deletion fails.
    """
    import aioice.turn

    mixin: Any = aioice.turn.TurnClientMixin
    original = mixin.delete
    if getattr(original, "bounded", False):
        return

    async def delete(self: Any) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(TURN_DELETE_TIMEOUT):
                await original(self)

    delete.bounded = True  # type: ignore[attr-defined]
    mixin.delete = delete


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
