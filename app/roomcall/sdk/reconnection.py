"""Resuming a lost session: attempts paced by a backoff, bounded by the reconnect window.

The policy lives here, the I/O in the caller's ``attempt``: an attempt that fails for want of a
link (11013, 21001) is retried after the next delay; any other refusal from the server (21003:
the window passed, the session was kicked or replaced, the server restarted) is final. Past the
window the attempts stop with 21003 and :data:`GAVE_UP_MESSAGE`. (A session kicked or closed
while away is answered with ``closed``, which the client handles as it arrives, ending the
attempts with the reason it carries.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import Joined
from roomcall.sdk.backoff import exponential_backoff
from roomcall.sdk.state import RTCError

log = logging.getLogger(__name__)

GAVE_UP_MESSAGE = "server unreachable for the whole reconnect window: join again"
"""``error_message`` of 21003 when the client stopped trying by itself (the server's own
refusal carries the server's message)."""

RETRYABLE = frozenset({ErrorCode.SIGNALLING_TIMEOUT, ErrorCode.AUTH_FAILED})
"""Codes meaning "no link", not "no": the next attempt may succeed."""

Delays = Iterable[float] | Callable[[], Iterable[float]] | None
"""What ``RTCClient(reconnect_delays=...)`` accepts: an iterable of seconds, a callable
returning a fresh one for each loss, or None for :func:`exponential_backoff`."""

Attempt = Callable[[float], Awaitable[Joined]]
"""One resume attempt, given the seconds left; returns the answer or raises RTCError."""


def delays_for(delays: Delays) -> Iterator[float]:
    """The delays to use for one loss."""
    if delays is None:
        return exponential_backoff()
    if callable(delays):
        return iter(delays())
    return iter(delays)


async def resume_within(window: float, delays: Delays, attempt: Attempt) -> Joined:
    """Call ``attempt`` after each delay until it succeeds, the server refuses for good, or
    ``window`` seconds have passed; raises RTCError with the final code."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + window
    for delay in delays_for(delays):
        if loop.time() + delay >= deadline:
            break
        await asyncio.sleep(delay)
        try:
            return await attempt(deadline - loop.time())
        except RTCError as exc:
            if exc.code not in RETRYABLE:
                raise
            log.info("resume attempt failed (%s); retrying", exc)
    raise RTCError(ErrorCode.RECONNECT_FAILED, GAVE_UP_MESSAGE)
