"""``roomcall token`` and ``roomcall serve`` as a user runs them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from roomcall.cli import main
from roomcall.protocol.messages import Closed
from roomcall.protocol.token import verify_room_token
from roomcall.server.store import AppStore
from tests.server.signal_client import joined_client
from tests.waiting import WAIT

ROOT = Path(__file__).resolve().parents[1]


def test_token_from_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The token is signed with the data folder's keys and carries the arguments."""
    monkeypatch.delenv("ROOMCALL_ACCESS_KEY", raising=False)
    monkeypatch.delenv("ROOMCALL_SECRET_KEY", raising=False)
    store = AppStore.open(tmp_path)
    app = store.ensure_default_app()
    ak, sk = store.keys()
    store.close()
    code = main(["token", "--app", app.app_id, "--room", "room_1", "--user", "alice", "--admin",
                 "--ttl", "60", "--data-dir", str(tmp_path)])
    assert code == 0
    token = capsys.readouterr().out.strip()
    access = verify_room_token(token, {ak: sk}.get, now=time.time())
    assert (access.app_id, access.room_name, access.user_id, access.permission) == (
        app.app_id, "room_1", "alice", "admin")
    assert time.time() + 50 < access.expire_at <= time.time() + 61


def test_token_from_environment_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """ROOMCALL_ACCESS_KEY / ROOMCALL_SECRET_KEY sign the token without any data folder."""
    monkeypatch.setenv("ROOMCALL_ACCESS_KEY", "ENV_AK")
    monkeypatch.setenv("ROOMCALL_SECRET_KEY", "ENV_SK")
    assert main(["token", "--app", "app1", "--room", "room_1", "--user", "bob",
                 "--data-dir", str(tmp_path / "none")]) == 0
    token = capsys.readouterr().out.strip()
    access = verify_room_token(token, {"ENV_AK": "ENV_SK"}.get, now=time.time())
    assert access.permission == "user"
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("argv, status, needle", [
    (["--room", "no", "--user", "alice"], 2, "room names"),
    (["--room", "room_1", "--user", "a b"], 2, "user ids"),
    (["--room", "room_1", "--user", "alice", "--ttl", "0"], 2, "--ttl"),
    (["--room", "room_1", "--user", "alice", "--ttl", "-5"], 2, "--ttl must be 1-315360000"),
    (["--room", "room_1", "--user", "alice", "--ttl", str(10**20)], 2,
     "--ttl must be 1-315360000 seconds (up to ten years)"),
    (["--room", "room_1", "--user", "alice"], 1, "roomcall serve"),
])
def test_token_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch, argv: list[str], status: int,
                        needle: str) -> None:
    """Bad names, a bad ttl and a folder without keys are refused with a clear message."""
    monkeypatch.delenv("ROOMCALL_ACCESS_KEY", raising=False)
    monkeypatch.delenv("ROOMCALL_SECRET_KEY", raising=False)
    code = main(["token", "--app", "app1", *argv, "--data-dir", str(tmp_path / "empty")])
    assert code == status
    assert needle in capsys.readouterr().err


@contextlib.contextmanager
def _serving(data_dir: Path, stop: signal.Signals = signal.SIGINT
             ) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """Run ``python -m roomcall serve`` on port 0; yield the process and its banner lines; then
    stop it with ``stop`` (unless it ended already) and check that it exits 0 (its pipes
    closed, whatever happened)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMCALL_")}
    with subprocess.Popen(
        [sys.executable, "-m", "roomcall", "serve", "--port", "0", "--data-dir", str(data_dir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as proc:
        try:
            lines: list[str] = []
            assert proc.stdout is not None
            for line in proc.stdout:  # the banner ends with the Ctrl+C hint
                lines.append(line.rstrip())
                if line.startswith("Press Ctrl+C"):
                    break
            assert lines and lines[-1].startswith("Press Ctrl+C"), (lines, proc.poll())
            yield proc, lines
        finally:
            proc.send_signal(stop)  # a no-op once the process has ended
            try:
                status = proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
        assert status == 0, proc.stderr.read() if proc.stderr else status


def _field(lines: list[str], name: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith(name))


def test_serve_first_run_then_second_run(tmp_path: Path) -> None:
    """The first run creates keys and shows them once; both runs print URLs, serve joins, and
    stop cleanly on SIGINT (and on SIGTERM)."""
    data_dir = tmp_path / "data"
    with _serving(data_dir) as (_, lines):
        assert any("Secret key" in line for line in lines)
        url = _field(lines, "Signalling")
        assert url.startswith("ws://127.0.0.1:")
        assert _field(lines, "Management API").startswith("http://127.0.0.1:")
        app_id = _field(lines, "Default app id")
        ak = _field(lines, "  Access key")
        sk = _field(lines, "  Secret key")
        assert (data_dir / "roomcall.db").stat().st_mode & 0o077 == 0

        async def join() -> str:
            from roomcall.protocol.token import RoomAccess, sign_room_token

            token = sign_room_token(ak, sk, RoomAccess(app_id, "room_1", "alice",
                                                       int(time.time()) + 60, "user"))
            client = await joined_client(url, token)
            await client.close()
            return client.joined.room if client.joined else ""

        assert asyncio.run(join()) == "room_1"
    with _serving(data_dir, signal.SIGTERM) as (_, lines):
        assert not any("Secret key" in line for line in lines)
        assert _field(lines, "Default app id") == app_id


def test_token_ttl_that_is_not_a_whole_number_exits_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``--ttl 1e20`` is refused by the argument parser (exit 2), printing no token."""
    with pytest.raises(SystemExit) as exited:
        main(["token", "--app", "app1", "--room", "room_1", "--user", "alice", "--ttl", "1e20"])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "--ttl" in err


def test_serve_with_a_bad_setting_exits_2(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """An unusable config value stops ``roomcall serve`` with exit 2 and a message naming the
    setting and the file, before anything listens or is written."""
    config = tmp_path / "roomcall.toml"
    config.write_text("silent_user_timeout = nan\n")
    code = main(["serve", "--config", str(config), "--data-dir", str(tmp_path / "data")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("roomcall serve: silent_user_timeout = nan: must be a finite number")
    assert f"silent_user_timeout from {config}" in err
    assert not (tmp_path / "data").exists()


def test_serve_with_only_one_key_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An access key without its secret key is a configuration error too: exit 2."""
    monkeypatch.setenv("ROOMCALL_ACCESS_KEY", "ONLY_AK")
    monkeypatch.delenv("ROOMCALL_SECRET_KEY", raising=False)
    assert main(["serve", "--port", "0", "--data-dir", str(tmp_path / "data")]) == 2
    assert "set both access_key and secret_key" in capsys.readouterr().err


def test_second_server_on_a_folder_refuses_while_token_works(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """While one server runs on a data folder a second one exits 1 naming the folder and the
    first one's pid; ``roomcall token`` still reads the keys; after SIGTERM the folder is
    free again."""
    monkeypatch.delenv("ROOMCALL_ACCESS_KEY", raising=False)
    monkeypatch.delenv("ROOMCALL_SECRET_KEY", raising=False)
    data_dir = tmp_path / "data"
    with _serving(data_dir, signal.SIGTERM) as (proc, lines):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMCALL_")}
        second = subprocess.run(
            [sys.executable, "-m", "roomcall", "serve", "--port", "0", "--data-dir",
             str(data_dir)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert second.stderr.strip() == (f"roomcall serve: data folder {data_dir} is in use by "
                                         f"another roomcall server (pid {proc.pid})")
        app_id = _field(lines, "Default app id")
        assert main(["token", "--app", app_id, "--room", "room_1", "--user", "alice",
                     "--data-dir", str(data_dir)]) == 0
        token = capsys.readouterr().out.strip()
        keys = {_field(lines, "  Access key"): _field(lines, "  Secret key")}
        assert verify_room_token(token, keys.get, now=time.time()).app_id == app_id
    AppStore.open(data_dir).close()  # the lock went with the process


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_serve_closes_rooms_on_sigterm_and_sighup(tmp_path: Path, sig: signal.Signals) -> None:
    """SIGTERM and SIGHUP stop ``roomcall serve`` like Ctrl+C: members are told ROOM_CLOSED
    "the server is shutting down" before it exits 0."""
    with _serving(tmp_path / "data", sig) as (proc, lines):
        url = _field(lines, "Signalling")
        ak, sk = _field(lines, "  Access key"), _field(lines, "  Secret key")  # first run

        async def told() -> Closed:
            from roomcall.protocol.token import RoomAccess, sign_room_token

            token = sign_room_token(ak, sk, RoomAccess(_field(lines, "Default app id"), "room_1",
                                                       "alice", int(time.time()) + 60, "user"))
            client = await joined_client(url, token)
            try:
                proc.send_signal(sig)
                return await client.expect(Closed)
            finally:
                await client.close()

        closed = asyncio.run(told())
        assert (closed.reason, closed.message, closed.cause) == (
            "ROOM_CLOSED", "the server is shutting down", "shutdown")
        assert proc.wait(timeout=WAIT) == 0
