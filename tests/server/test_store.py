"""The app store on a real SQLite file: keys, apps, persistence and file modes."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from roomcall.server.store import DB_FILENAME, SCHEMA_VERSION, AppInfo, AppStore, StoreError


class FakeClock:
    """Unix seconds that move only when told."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[AppStore]:
    store = AppStore.open(tmp_path / "data", clock=clock)
    yield store
    store.close()


def test_first_open_creates_keys_and_reopen_keeps_them(tmp_path: Path) -> None:
    """Keys are generated on the first open only and are the same after reopening."""
    first = AppStore.open(tmp_path / "data")
    keys = first.keys()
    assert first.keys_created
    first.close()
    second = AppStore.open(tmp_path / "data")
    assert second.keys() == keys
    assert not second.keys_created
    second.close()
    access_key, secret_key = keys
    assert len(access_key) >= 32 and len(secret_key) >= 32
    assert access_key != secret_key
    assert ":" not in access_key  # the token format splits on ':'


def test_two_stores_get_different_keys(tmp_path: Path) -> None:
    """Keys are random per data folder."""
    a = AppStore.open(tmp_path / "a")
    b = AppStore.open(tmp_path / "b")
    assert a.keys()[0] != b.keys()[0] and a.keys()[1] != b.keys()[1]
    a.close()
    b.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_data_folder_and_database_are_private(tmp_path: Path) -> None:
    """The data folder is 0700 and the database (and its WAL files) 0600."""
    data_dir = tmp_path / "nested" / "data"
    store = AppStore.open(data_dir)
    store.create_app(title="x")  # makes SQLite write its -wal file
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / DB_FILENAME).stat().st_mode) == 0o600
    wal = data_dir / (DB_FILENAME + "-wal")
    assert wal.exists()
    assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    store.close()


def test_schema_is_versioned_and_uses_wal(store: AppStore) -> None:
    """The database carries the schema version and runs in WAL mode."""
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database from a newer roomcall is refused with a clear error, not misread."""
    AppStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer roomcall"):
        AppStore.open(tmp_path)


def test_garbage_database_is_a_store_error(tmp_path: Path) -> None:
    """A file that is not a database gives StoreError."""
    (tmp_path / DB_FILENAME).write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError):
        AppStore.open(tmp_path)


def test_data_dir_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    """A data folder path naming a file gives StoreError."""
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(StoreError):
        AppStore.open(target)


def test_create_app_defaults_and_shape(store: AppStore, clock: FakeClock) -> None:
    """A new app has Qiniu's defaults and a nine-character lowercase id."""
    app = store.create_app()
    assert app == AppInfo(app.app_id, "", "", 0, False, int(clock.now), int(clock.now))
    assert len(app.app_id) == 9
    assert app.app_id.isascii() and app.app_id.isalnum() and app.app_id.islower()
    assert app.app_id[0].isalpha()


def test_to_json_has_qiniu_shape(store: AppStore) -> None:
    """to_json gives Qiniu's field names and RFC 3339 times, and roomcall's sfuThreshold."""
    app = store.create_app(hub="h", title="t", max_users=3, no_auto_kick_user=True)
    assert app.to_json() == {
        "appId": app.app_id, "hub": "h", "title": "t", "maxUsers": 3,
        "noAutoKickUser": True, "createdAt": "2027-01-15T08:00:00Z",
        "updatedAt": "2027-01-15T08:00:00Z", "sfuThreshold": 4,
    }


def test_sfu_threshold_is_stored_updated_and_checked(store: AppStore, tmp_path: Path) -> None:
    """The SFU threshold defaults to 4, is kept across a reopen, can be updated (0: never),
    and a negative or non-integer value is refused without changing anything."""
    app = store.create_app(sfu_threshold=6)
    assert store.update_app(app.app_id, sfu_threshold=0).sfu_threshold == 0  # type: ignore[union-attr]
    for bad in (-1, 2.5, True, "4"):
        with pytest.raises(ValueError, match="sfuThreshold"):
            store.update_app(app.app_id, sfu_threshold=bad)
    assert store.create_app().sfu_threshold == 4
    store.close()
    reopened = AppStore.open(tmp_path / "data")
    try:
        assert reopened.get_app(app.app_id).sfu_threshold == 0  # type: ignore[union-attr]
    finally:
        reopened.close()


def test_a_version_1_database_gains_the_sfu_threshold(tmp_path: Path) -> None:
    """A database written before the SFU threshold existed opens with every app at the
    default threshold, its keys and settings unchanged."""
    folder = tmp_path / "old"
    folder.mkdir(mode=0o700)
    conn = sqlite3.connect(folder / DB_FILENAME)
    conn.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE apps (app_id TEXT PRIMARY KEY, hub TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '', max_users INTEGER NOT NULL DEFAULT 0,
            no_auto_kick_user INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL);
        INSERT INTO meta VALUES ('access_key', 'AK'), ('secret_key', 'SK');
        INSERT INTO apps VALUES ('abcdefghi', '', 'old', 5, 1, 10, 20);
        PRAGMA user_version = 1;
    """)
    conn.close()
    store = AppStore.open(folder)
    try:
        assert store.keys() == ("AK", "SK")
        assert store.get_app("abcdefghi") == AppInfo("abcdefghi", "", "old", 5, True, 10, 20, 4)
    finally:
        store.close()


def test_app_ids_are_unique(store: AppStore) -> None:
    """Many apps all get distinct ids."""
    ids = {store.create_app().app_id for _ in range(200)}
    assert len(ids) == 200


def test_get_list_update_delete(store: AppStore, clock: FakeClock) -> None:
    """Apps can be read, listed oldest first, updated in part and deleted."""
    a = store.create_app(title="a")
    clock.now += 5
    b = store.create_app(title="b", max_users=2)
    assert store.get_app(a.app_id) == a
    assert store.get_app("nosuchapp") is None
    assert store.list_apps() == [a, b]

    clock.now += 5
    updated = store.update_app(b.app_id, max_users=4, no_auto_kick_user=True)
    assert updated is not None
    assert (updated.title, updated.max_users, updated.no_auto_kick_user) == ("b", 4, True)
    assert updated.created_at == b.created_at
    assert updated.updated_at == int(clock.now)
    assert store.get_app(b.app_id) == updated
    assert store.update_app("nosuchapp", title="x") is None

    assert store.delete_app(a.app_id)
    assert not store.delete_app(a.app_id)
    assert store.get_app(a.app_id) is None
    assert store.list_apps() == [updated]


@pytest.mark.parametrize(
    "fields",
    [
        {"max_users": -1},
        {"max_users": 10**9},
        {"max_users": True},
        {"max_users": "4"},
        {"no_auto_kick_user": "yes"},
        {"title": 5},
        {"title": "x" * 1000},
        {"hub": "bad\nhub"},
    ],
)
def test_invalid_values_are_refused(store: AppStore, fields: dict[str, object]) -> None:
    """Invalid settings raise ValueError on create and on update, changing nothing."""
    with pytest.raises(ValueError):
        store.create_app(**fields)  # type: ignore[arg-type]
    app = store.create_app(title="keep")
    with pytest.raises(ValueError):
        store.update_app(app.app_id, **fields)
    assert store.get_app(app.app_id) == app
    assert store.list_apps() == [app]


def test_update_refuses_unknown_fields(store: AppStore) -> None:
    """update_app names the fields it does not know."""
    app = store.create_app()
    with pytest.raises(ValueError, match="created_at"):
        store.update_app(app.app_id, created_at=0)


def test_apps_persist_across_reopen(tmp_path: Path) -> None:
    """Apps written before closing are all there after reopening."""
    first = AppStore.open(tmp_path)
    a = first.create_app(title="kept", max_users=7, no_auto_kick_user=True)
    b = first.create_app(title="gone")
    first.delete_app(b.app_id)
    first.close()
    second = AppStore.open(tmp_path)
    assert second.list_apps() == [a]
    second.close()


def test_default_app_is_created_once(tmp_path: Path) -> None:
    """ensure_default_app creates one app titled 'default' and returns it ever after."""
    store = AppStore.open(tmp_path)
    default = store.ensure_default_app()
    assert default.title == "default"
    assert store.ensure_default_app() == default
    store.close()
    store = AppStore.open(tmp_path)
    assert store.ensure_default_app() == default
    assert store.list_apps() == [default]
    store.delete_app(default.app_id)
    again = store.ensure_default_app()
    assert again.app_id != default.app_id and again.title == "default"
    store.close()


# --- one server per data folder ---------------------------------------------------------


def test_second_open_of_a_folder_is_refused_naming_the_holder(tmp_path: Path) -> None:
    """While one store holds the folder, a second open fails naming the folder and our pid;
    after close the folder can be opened again."""
    first = AppStore.open(tmp_path / "data")
    with pytest.raises(StoreError) as refused:
        AppStore.open(tmp_path / "data")
    assert str(refused.value) == (f"data folder {tmp_path / 'data'} is in use by another "
                                  f"roomcall server (pid {os.getpid()})")
    first.close()
    AppStore.open(tmp_path / "data").close()


def test_lock_is_held_against_another_process(tmp_path: Path) -> None:
    """A store held by another process blocks this one; the kernel frees the lock when that
    process dies (kill -9), so a crash never leaves the folder blocked."""
    data_dir = tmp_path / "data"
    with subprocess.Popen(
        [sys.executable, "-c", "import sys, pathlib; from roomcall.server.store import "
         "AppStore; AppStore.open(pathlib.Path(sys.argv[1])); print('held', flush=True); "
         "sys.stdin.read()", str(data_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with pytest.raises(StoreError, match=f"in use by another roomcall server "
                                                 rf"\(pid {holder.pid}\)"):
                AppStore.open(data_dir)
        finally:
            holder.kill()  # leaving the with block waits for it and closes its pipes
    AppStore.open(data_dir).close()


def test_read_only_open_needs_no_lock_and_writes_nothing(tmp_path: Path) -> None:
    """A read-only open works while a server holds the folder, reads the same keys and apps,
    and cannot write."""
    holder = AppStore.open(tmp_path)
    app = holder.create_app(title="shared")
    reader = AppStore.open(tmp_path, read_only=True)
    try:
        assert reader.keys() == holder.keys()
        assert reader.get_app(app.app_id) == app
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.create_app(title="nope")
    finally:
        reader.close()
        holder.close()
    files = sorted(tmp_path.iterdir())
    again = AppStore.open(tmp_path, read_only=True)  # with the server gone too
    assert [a.title for a in again.list_apps()] == ["shared"]
    again.close()
    assert sorted(tmp_path.iterdir()) == files  # it left no -wal / -shm of its own


def test_read_only_open_of_a_folder_without_database_fails(tmp_path: Path) -> None:
    """A read-only open creates nothing: no database there is a StoreError."""
    with pytest.raises(StoreError, match="no roomcall database"):
        AppStore.open(tmp_path / "none", read_only=True)
    assert not (tmp_path / "none").exists()


# --- keys are never silently replaced --------------------------------------------------


@pytest.mark.parametrize("read_only", [False, True])
def test_database_without_keys_is_refused(tmp_path: Path, read_only: bool) -> None:
    """A database that lost its key rows is refused instead of getting new keys (which would
    invalidate every token issued); the rows stay missing."""
    AppStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    conn.execute("DELETE FROM meta WHERE key = 'secret_key'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="no access / secret key: refusing to make new ones"):
        AppStore.open(tmp_path, read_only=read_only)
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    assert conn.execute("SELECT key FROM meta WHERE key LIKE '%_key'").fetchall() == [
        ("access_key",)]
    conn.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_open_folder_is_tightened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A data folder found 0777 is made 0700 on open, and that is logged."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="roomcall.server.store"):
        AppStore.open(data_dir).close()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert "mode 0777" in caplog.text and "tightened to 0700" in caplog.text


# --- bad text and a full disk ----------------------------------------------------------


def test_lone_surrogate_title_is_a_clean_value_error(store: AppStore) -> None:
    """Text SQLite cannot store (a lone surrogate, as JSON's "\\ud800" decodes) is refused
    with a message about the field, not the codec."""
    with pytest.raises(ValueError) as refused:
        store.create_app(title="bad\ud800")
    assert str(refused.value) == "title must be Unicode text (it has a lone surrogate)"
    assert store.list_apps() == []


_WRITER = """
import sys, pathlib
from roomcall.server.store import AppStore
store = AppStore.open(pathlib.Path(sys.argv[1]))
n = 0
while True:
    app = store.create_app(title="w" * 200, max_users=n % 50)
    store.update_app(app.app_id, title="updated", max_users=(n + 1) % 50)
    if n % 3 == 0:
        store.delete_app(app.app_id)
    n += 1
    print(len(store.list_apps()), flush=True)
"""


def test_kill_9_during_writes_leaves_a_sound_database(tmp_path: Path) -> None:
    """A server killed with SIGKILL in the middle of writing leaves a database that passes
    SQLite's integrity check, keeps every commit it reported, and a folder that opens at once
    (the lock died with the process)."""
    data_dir = tmp_path / "data"
    for _ in range(5):
        with subprocess.Popen([sys.executable, "-c", _WRITER, str(data_dir)],
                              stdout=subprocess.PIPE, text=True) as writer:
            assert writer.stdout is not None
            reported = [int(writer.stdout.readline()) for _ in range(30)]
            writer.kill()
        store = AppStore.open(data_dir)
        try:
            conn = sqlite3.connect(data_dir / DB_FILENAME)
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            conn.close()
            assert len(store.list_apps()) >= reported[-1]
        finally:
            store.close()
