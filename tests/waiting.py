"""Waiting for state that no event announces (the server's rooms, a peer connection's state)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

WAIT = 5.0
"""Longest wait for a condition, in seconds."""


async def until(condition: Callable[[], bool | Awaitable[bool]], within: float = WAIT,
                interval: float = 0.005) -> None:
    """Return once ``condition()`` (a plain or a coroutine function) holds, checking every
    ``interval`` seconds; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(interval)
