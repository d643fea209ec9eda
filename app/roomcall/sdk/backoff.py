"""Delays between reconnection attempts.

The client takes any iterable of seconds (``RTCClient(reconnect_delays=...)``), or a callable
returning a fresh one for each loss, so tests can pass ``lambda: itertools.repeat(0.01)`` and
applications their own policy. The attempts also stop when the server's reconnect window has
passed, whatever the iterable still holds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator


def exponential_backoff(
    initial: float = 0.1, factor: float = 2.0, maximum: float = 3.0, jitter: float = 0.2
) -> Iterator[float]:
    """Endless delays: 0 first (a dropped socket is usually back at once, and the server lets
    a resume take over a seat it still holds), then ``initial``, growing by ``factor`` each
    attempt up to ``maximum``, each spread by up to ``jitter`` (a fraction) so that clients
    cut off together do not retry in lockstep.

    >>> import itertools
    >>> [round(d, 2) for d in itertools.islice(exponential_backoff(jitter=0), 7)]
    [0.0, 0.1, 0.2, 0.4, 0.8, 1.6, 3.0]
    """
    yield 0.0
    delay = initial
    while True:
        yield delay * (1 + random.uniform(-jitter, jitter))
        delay = min(delay * factor, maximum)
