"""cancel_and_wait: the task's own cancellation is swallowed, the caller's never is, and a
task's failure is raised to whoever stops it. TaskSet: tasks kept until they end, failures
logged, cancel and wait that spare the calling task."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

import pytest

from roomcall.aio import TaskSet, cancel_and_wait
from tests.waiting import WAIT, ended_within


async def _forever() -> None:
    await asyncio.Event().wait()


async def _slow_to_stop(stopping: asyncio.Event, release: asyncio.Event) -> None:
    """Runs until cancelled, then takes until ``release`` to finish (like a peer closing)."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        stopping.set()
        await release.wait()
        raise


async def test_the_tasks_cancellation_is_swallowed() -> None:
    """Stopping a running task returns normally and leaves the task cancelled."""
    task = asyncio.create_task(_forever())
    await asyncio.sleep(0)  # let it start
    await cancel_and_wait(task)
    assert task.cancelled()


async def test_a_task_that_already_finished_is_fine() -> None:
    """A task that already returned is left as it is and nothing is raised."""
    task = asyncio.create_task(asyncio.sleep(0, result=7))
    await task
    await cancel_and_wait(task)
    assert task.result() == 7


async def test_the_callers_cancellation_propagates() -> None:
    """Cancelling the caller while it waits ends the caller cancelled, instead of the cancel
    being taken for the task's own and lost (the old suppress(CancelledError) idiom)."""
    stopping, release = asyncio.Event(), asyncio.Event()
    inner = asyncio.create_task(_slow_to_stop(stopping, release))
    await asyncio.sleep(0)
    outer = asyncio.create_task(cancel_and_wait(inner))
    await asyncio.wait_for(stopping.wait(), WAIT)
    outer.cancel()
    assert await ended_within(outer)
    assert outer.cancelled()
    release.set()
    assert await ended_within(inner)
    assert inner.cancelled()


async def test_the_old_idiom_loses_the_callers_cancellation() -> None:
    """The idiom this replaces really does swallow a cancel aimed at the caller (why the
    helper exists); the helper, in the same spot, does not."""
    async def stop_old_way(task: asyncio.Task[None]) -> str:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return "carried on"

    stopping, release = asyncio.Event(), asyncio.Event()
    inner = asyncio.create_task(_slow_to_stop(stopping, release))
    await asyncio.sleep(0)
    outer = asyncio.create_task(stop_old_way(inner))
    await asyncio.wait_for(stopping.wait(), WAIT)
    outer.cancel()
    release.set()
    assert await ended_within(outer)
    assert not outer.cancelled() and outer.result() == "carried on"


async def test_a_worker_cancelled_inside_an_operation_ends() -> None:
    """A queue worker whose current operation stops a subtask ends when it is cancelled, so
    the owner awaiting the worker returns (the shape of the media session's leave hang)."""
    queue: asyncio.Queue[asyncio.Event] = asyncio.Queue()
    stopping, release = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        while True:
            await queue.get()
            sub = asyncio.create_task(_slow_to_stop(stopping, release))
            await asyncio.sleep(0)  # let it start
            await cancel_and_wait(sub)

    async def op_then_cancel() -> None:
        worker = asyncio.create_task(work())
        queue.put_nowait(asyncio.Event())
        await asyncio.wait_for(stopping.wait(), WAIT)
        closing = asyncio.create_task(cancel_and_wait(worker))
        release.set()
        assert await ended_within(closing)
        closing.result()
        assert worker.cancelled()

    await asyncio.wait_for(op_then_cancel(), WAIT)


async def test_the_tasks_failure_is_raised() -> None:
    """A task that failed (before or while being cancelled) has its exception raised."""
    async def fail_on_cancel() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise ValueError("cleanup failed") from None

    task = asyncio.create_task(fail_on_cancel())
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match="cleanup failed"):
        await cancel_and_wait(task)

    async def fail() -> None:
        raise KeyError("early")

    failed = asyncio.create_task(fail())
    await asyncio.wait({failed})
    with pytest.raises(KeyError):
        await cancel_and_wait(failed)


async def test_a_task_ignoring_cancellation_can_be_bounded() -> None:
    """Wrapped in asyncio.timeout, waiting for a task that ignores its cancel raises
    TimeoutError instead of hanging."""
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await release.wait()

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await cancel_and_wait(task)
    assert not task.done()
    release.set()
    assert await ended_within(task)


async def test_waiting_for_itself_is_refused() -> None:
    """A task asked to cancel and wait for itself gets RuntimeError, not a deadlock."""
    current = asyncio.current_task()
    assert current is not None
    with pytest.raises(RuntimeError):
        await cancel_and_wait(current)


log = logging.getLogger("tests.taskset")


async def test_task_set_keeps_a_task_nobody_else_holds() -> None:
    """A spawned task survives garbage collection and runs to its end."""
    tasks = TaskSet(log, "test")
    finished = asyncio.Event()
    release = asyncio.Event()

    async def work() -> None:
        await release.wait()
        finished.set()

    tasks.spawn(work())
    gc.collect()
    release.set()
    async with asyncio.timeout(WAIT):
        await finished.wait()
        await tasks.wait()
    assert len(tasks) == 0


async def test_task_set_logs_a_failure_once(caplog: pytest.LogCaptureFixture) -> None:
    """A failing task is logged with its exception and leaves the set."""
    tasks = TaskSet(log, "cleanup")

    async def fail() -> None:
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR, logger="tests.taskset"):
        tasks.spawn(fail(), name="failing")
        async with asyncio.timeout(WAIT):
            await tasks.wait()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "cleanup task failing failed" in errors[0].getMessage()
    assert errors[0].exc_info is not None and isinstance(errors[0].exc_info[1], ValueError)
    assert len(tasks) == 0


async def test_task_set_cancel_spares_the_calling_task() -> None:
    """cancel() and wait() from inside one of the set's tasks stop the others, not itself."""
    tasks = TaskSet(log, "test")
    others = [tasks.spawn(_forever()) for _ in range(3)]

    async def shutdown() -> str:
        tasks.cancel()
        await tasks.wait()
        return "done"

    closer = tasks.spawn(shutdown())
    async with asyncio.timeout(WAIT):
        assert await closer == "done"
    assert all(task.cancelled() for task in others)


async def test_task_set_wait_includes_tasks_spawned_meanwhile() -> None:
    """wait() returns only after tasks started by the set's own tasks have ended too."""
    tasks = TaskSet(log, "test")
    order: list[str] = []

    async def child() -> None:
        await asyncio.sleep(0)
        order.append("child")

    async def parent() -> None:
        tasks.spawn(child())
        order.append("parent")

    tasks.spawn(parent())
    async with asyncio.timeout(WAIT):
        await tasks.wait()
    assert order == ["parent", "child"]
