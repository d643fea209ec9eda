"""How long tests wait, and waiting for state that no event announces (the server's rooms, a
peer connection's state).

Every wait bound in the tests is a multiple of :data:`TIME_FACTOR`, read once from
``ROOMCALL_TEST_TIME_FACTOR`` (default 1): on a slow or loaded machine,
``ROOMCALL_TEST_TIME_FACTOR=3`` gives every wait three times as long, without touching a test.
Durations a test configures on purpose (a server's shortened timeouts) are not waits and are
not scaled.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any


def _time_factor(env: str | None) -> float:
    try:
        factor = float(env) if env and env.strip() else 1.0
    except ValueError:
        raise ValueError(f"ROOMCALL_TEST_TIME_FACTOR must be a number, not {env!r}") from None
    if factor <= 0:
        raise ValueError(f"ROOMCALL_TEST_TIME_FACTOR must be positive, not {env!r}")
    return factor


TIME_FACTOR = _time_factor(os.environ.get("ROOMCALL_TEST_TIME_FACTOR"))
"""How much longer than normal every test wait may take (``ROOMCALL_TEST_TIME_FACTOR``)."""


def scaled(seconds: float) -> float:
    """``seconds`` of waiting, times :data:`TIME_FACTOR`."""
    return seconds * TIME_FACTOR


def scaled_ms(seconds: float) -> int:
    """``seconds`` of waiting, times :data:`TIME_FACTOR`, in milliseconds (pytest-qt's unit)."""
    return round(scaled(seconds) * 1000)


WAIT = scaled(5.0)
"""Longest wait for a condition or an event, in seconds."""


async def until(condition: Callable[[], bool | Awaitable[bool]], within: float = WAIT,
                what: str = "", interval: float = 0.005) -> None:
    """Return once ``condition()`` (a plain or a coroutine function) holds, checking every
    ``interval`` seconds; fail the test after ``within`` seconds, naming ``what`` it awaited."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what or 'condition'} not met within {within} s")
        await asyncio.sleep(interval)


async def ended_within(task: asyncio.Task[Any], seconds: float = WAIT) -> bool:
    """Whether ``task`` ended within ``seconds``; uses asyncio.wait, which (unlike wait_for)
    never waits past the limit for a cancelled task that refuses to end."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    return task in done
