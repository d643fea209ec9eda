"""A full disk under the data folder: the management API says so (507) and logs it once."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from .test_management_api import Api

ROOT = Path(__file__).resolve().parents[2]

TMPFS_SIZE = "384k"
"""Room for a 64 KiB filler file, the new database, its WAL and shared-memory file, and a few
dozen commits."""


def _mount_namespace_works(where: Path) -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "mount", "-t", "tmpfs", "-o",
         "size=64k", "tmpfs", str(where)], capture_output=True)
    return probe.returncode == 0


def _serve_on_small_disk(mount: Path) -> subprocess.Popen[str]:
    """``roomcall serve`` in its own mount namespace, its data folder on a small tmpfs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMCALL_")}
    # a filler file the test deletes (through /proc/<pid>/root) to free space again
    script = 'mount -t tmpfs -o size="$1" tmpfs "$2" && head -c 65536 /dev/zero > "$2/filler" ' \
             '&& exec "$3" -m roomcall serve --port 0 --data-dir "$2/data"'
    return subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
         TMPFS_SIZE, str(mount), sys.executable],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _banner(proc: subprocess.Popen[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
        if line.startswith("Press Ctrl+C"):
            return fields
    raise AssertionError(f"no banner; exit {proc.wait(timeout=10)}: {proc.stderr}")


async def test_full_disk_gives_507_logged_once(tmp_path: Path) -> None:
    """Creating apps until the disk is full ends in 507 "server storage is full"; reads still
    work, the server logs the condition once, not once per request, and writes work again
    once there is space."""
    mount = tmp_path / "small"
    mount.mkdir()
    if not _mount_namespace_works(mount):
        pytest.skip("needs unshare --mount and tmpfs (root on Linux)")
    proc = _serve_on_small_disk(mount)
    try:
        banner = _banner(proc)
        async with aiohttp.ClientSession() as session:
            api = Api(session, banner["Management API"], banner["Access key"],
                      banner["Secret key"])
            statuses = []
            for _ in range(2000):
                reply = await api.call("POST", "/v3/apps", json_body={"title": "t" * 256})
                statuses.append(reply.status)
                if reply.status != 200:
                    break
            assert statuses[0] == 200 and (reply.status, reply.body) == (
                507, {"error": "server storage is full"}), statuses[-3:]
            again = []
            for _ in range(3):  # reads in between do not count as the disk recovering
                listed = await api.call("GET", "/v3/apps")
                assert listed.status == 200 and len(listed.body) == statuses.count(200) + 1
                again.append(await api.call("POST", "/v3/apps", json_body={"title": "x"}))
            assert [r.status for r in again] == [507, 507, 507]
            # the server's mount namespace is reachable through its root link
            (Path(f"/proc/{proc.pid}/root") / mount.relative_to("/") / "filler").unlink()
            freed = await api.call("POST", "/v3/apps", json_body={"title": "x"})
            assert freed.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=20)
    assert proc.returncode == 0, stderr
    full_lines = [line for line in stderr.splitlines() if "database or disk is full" in line]
    assert len(full_lines) == 1, stderr
    assert "writes succeed again" in stderr
