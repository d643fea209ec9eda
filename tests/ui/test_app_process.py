"""The real ``python -m roomcall`` process: starts, hosts a room, closes and exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from roomcall.sdk import RTCClient
from roomcall.server import RoomServer, ServerConfig
from roomcall.ui.invite import format_invite
from tests.waiting import scaled

REPO = Path(__file__).resolve().parents[2]


def test_app_hosts_a_room_and_exits_zero(tmp_path: Path) -> None:
    """With ROOMCALL_UI_SMOKE the app hosts a room on its embedded server, then closes its
    window, leaves and exits with status 0."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ROOMCALL_UI_SMOKE": "1",
           "ROOMCALL_UI_PORT": "0", "ROOMCALL_SYNTHETIC_MEDIA": "1", "ROOMCALL_NAME": "Smoke",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = subprocess.run(
        [sys.executable, "-m", "roomcall", "--data-dir", str(tmp_path / "data"), "--lang", "en"],
        env=env, capture_output=True, text=True, timeout=scaled(60),
        cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "roomcall: hosting smoke-test at ws://127.0.0.1:" in result.stdout
    assert (tmp_path / "data").is_dir()


async def test_join_link_from_the_command_line(tmp_path: Path) -> None:
    """``roomcall --join LINK`` joins the room of the link and still exits 0 when closed."""
    server = RoomServer(ServerConfig(port=0, data_dir=tmp_path / "server"))
    await server.start()
    try:
        link = format_invite("127.0.0.1", server.port, "standup",
                             server.token("standup", "guest-1"))
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ROOMCALL_UI_SMOKE": "1",
               "ROOMCALL_SYNTHETIC_MEDIA": "1", "ROOMCALL_NAME": "Guest",
               "XDG_CONFIG_HOME": str(tmp_path / "config")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "roomcall", "--join", link, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=REPO)
        out, err = await asyncio.wait_for(proc.communicate(), scaled(60))
    finally:
        await server.stop()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "roomcall: joined standup at ws://127.0.0.1:" in out.decode()
    assert "as guest-1" in out.decode()


async def test_join_opens_the_prejoin_screen_and_sigterm_exits_zero(tmp_path: Path) -> None:
    """``roomcall --join ROOM_LINK`` opens the pre-join screen (it does not join as the login
    name); SIGTERM then closes the app cleanly with status 0, not 143."""
    server = RoomServer(ServerConfig(port=0, data_dir=tmp_path / "server"))
    await server.start()
    try:
        host = RTCClient(server.url)
        await host.join(server.token("standup", "host", admin=True), "Host")
        invite = await host.create_invite()
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ROOMCALL_SYNTHETIC_MEDIA": "1",
               "ROOMCALL_LOG": "INFO", "XDG_CONFIG_HOME": str(tmp_path / "config")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "roomcall", "--join", invite.link(), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=REPO)
        assert proc.stderr is not None
        seen: list[str] = []

        async def read_until(text: str) -> None:
            while not any(text in line for line in seen):
                line = await proc.stderr.readline()  # type: ignore[union-attr]
                assert line, "the app ended early: " + "".join(seen)[-2000:]
                seen.append(line.decode())

        await asyncio.wait_for(read_until("SIGTERM and SIGHUP leave the room"), 60)
        await asyncio.wait_for(read_until("pre-join screen for a link"), 30)
        assert [u.user_id for u in host.remote_users] == []  # nobody joined by itself
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
        await host.leave()
    finally:
        await server.stop()
    assert proc.returncode == 0, "".join(seen)[-2000:]
