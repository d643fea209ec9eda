"""`roomcall --self-test` from source: every check passes, and failures are reported."""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from roomcall import selftest
from roomcall.selftest import CHECKS, run_self_test
from tests.waiting import scaled

ROOT = Path(__file__).resolve().parents[2]


def test_self_test_passes_from_source() -> None:
    """`python -m app --self-test` exits 0 with a PASS line for every check."""
    result = subprocess.run(
        [sys.executable, "-m", "roomcall", "--self-test"],
        cwd=ROOT, capture_output=True, text=True, timeout=scaled(90),
    )
    lines = result.stdout.splitlines()
    for name in CHECKS:
        assert any(line.startswith(f"PASS {name}: ") for line in lines), (
            f"no PASS line for {name!r}:\n{result.stdout}\n{result.stderr}")
    assert not [line for line in lines if line.startswith("FAIL")], result.stdout
    assert lines[-1].startswith(f"self-test passed: {len(CHECKS)} of {len(CHECKS)} checks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_self_test_reports_failures_and_exits_1() -> None:
    """With no time left every check is reported as failed and the exit status is 1."""
    out = io.StringIO()
    status = run_self_test(budget=0.0, out=out)
    lines = out.getvalue().splitlines()
    assert status == 1
    assert lines[0].startswith("FAIL server: timed out")
    assert [line.split(":")[0] for line in lines[:-1]] == [f"FAIL {name}" for name in CHECKS]
    assert lines[-1].startswith(f"self-test FAILED: {len(CHECKS)} of {len(CHECKS)} checks failed")


async def _stubborn(started: asyncio.Event) -> None:
    """Sleeps forever and swallows the first cancellation, like a buggy teardown."""
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        await asyncio.Event().wait()


def test_close_loop_is_bounded_when_a_task_ignores_cancellation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing the self-test's loop returns although a task swallows its cancellation."""
    monkeypatch.setattr(selftest, "_CLEANUP_TIMEOUT", 0.2)
    loop = asyncio.new_event_loop()
    executor = concurrent.futures.ThreadPoolExecutor(1)
    started = asyncio.Event()
    task = loop.create_task(_stubborn(started))
    loop.run_until_complete(started.wait())
    begun = time.monotonic()
    selftest._close_loop(loop, executor)
    assert time.monotonic() - begun < 2.0
    assert loop.is_closed()
    assert not task.done()  # it never ended, and the close did not wait for it
    task._log_destroy_pending = False  # expected here: do not warn at garbage collection


async def test_wait_times_out_when_the_operation_ignores_cancellation() -> None:
    """A check's wait fails on time even if what it waits for swallows the cancellation."""
    run = selftest._Run(io.StringIO(), budget=5.0)
    started = asyncio.Event()
    begun = time.monotonic()
    with pytest.raises(selftest.CheckFailed, match=r"timed out after 0\.2 s waiting for nothing"):
        await run.wait(_stubborn(started), "nothing", cap=0.2)
    assert started.is_set()
    assert time.monotonic() - begun < 2.0
