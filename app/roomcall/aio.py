"""asyncio helpers shared by every part of the app (stdlib only, imports nothing of ours).

:class:`TaskSet` keeps background tasks alive until they end and logs the ones that fail.
:func:`cancel_and_wait` stops a background task safely. The usual idiom::

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
import logging
from collections.abc import Awaitable, Iterator
from typing import Any, TypeVar

__all__ = ["TaskSet", "cancel_and_wait"]

T = TypeVar("T")


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


class TaskSet:
    """Background tasks, each kept until it ends; a task that fails is logged, never lost.

    The event loop holds only weak references to tasks, so a task nobody keeps may be collected
    half way through; and an exception nobody retrieves is reported only at collection, if at
    all. ``spawn`` does both jobs::

        self._tasks = TaskSet(log, "cleanup")
        self._tasks.spawn(conn.close())
        ...
        self._tasks.cancel()
        await self._tasks.wait()
    """

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self._tasks: set[asyncio.Future[Any]] = set()
        self._log = logger
        self._what = what

    def spawn(self, awaitable: Awaitable[T], *, name: str | None = None) -> asyncio.Future[T]:
        """Run ``awaitable`` as a task of this set on the running loop; returns the task."""
        task = asyncio.ensure_future(awaitable)
        if name is not None and isinstance(task, asyncio.Task):
            task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[asyncio.Future[Any]]:
        return iter(list(self._tasks))

    def cancel(self) -> None:
        """Ask every task of the set to cancel (all but the calling task itself)."""
        for task in self._others():
            task.cancel()

    async def wait(self) -> None:
        """Return once every task of the set has ended, including tasks spawned meanwhile
        (the calling task itself excepted). Their outcomes are not raised here."""
        while others := self._others():
            await asyncio.wait(others)

    def _others(self) -> list[asyncio.Future[Any]]:
        current = asyncio.current_task()
        return [task for task in self._tasks if task is not current]

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            name = task.get_name() if isinstance(task, asyncio.Task) else ""
            self._log.error("%s task %s failed", self._what, name, exc_info=error)
