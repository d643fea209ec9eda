"""asyncio helpers shared by every part of the app (stdlib only, imports nothing of ours).

The one thing here is stopping a background task safely. The usual idiom::

    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

is wrong whenever the coroutine running it can itself be cancelled: ``await task`` raises
``CancelledError`` both when ``task`` ended cancelled and when the *awaiting* task is
cancelled, and ``suppress`` cannot tell the two apart. A cancel sent to the awaiting task is
then lost: a ``stop()`` running inside a worker swallows the worker's own cancellation, the
worker carries on, and whoever cancelled it and awaits it waits forever.
:func:`cancel_and_wait` waits with :func:`asyncio.wait`, which never raises the awaited task's
outcome, so a ``CancelledError`` coming out of it is always the caller's own.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["cancel_and_wait"]


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait until it has ended.

    - ``task`` ending cancelled is the expected outcome and is not an error.
    - If ``task`` ended with an exception (before or while being cancelled), that exception
      is raised here, as ``await task`` would raise it: a failed background task is reported
      by whoever stops it, never silently dropped.
    - If the *calling* task is cancelled while waiting, ``CancelledError`` propagates to the
      caller as usual (``task`` has been asked to cancel but is not waited for any more).

    To bound the wait for a task that ignores its cancellation, wrap the call:
    ``async with asyncio.timeout(2): await cancel_and_wait(task)`` raises TimeoutError then
    (this works because the wait here honours the caller's own cancellation).

    Raises:
        RuntimeError: ``task`` is the task calling this (it would wait for itself forever).
    """
    if task is asyncio.current_task():
        raise RuntimeError("a task cannot cancel and wait for itself")
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled():
        task.result()  # raises the task's own exception, if it had one
