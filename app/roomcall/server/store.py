"""The app store: apps (Qiniu's appId and room settings) and the server's access / secret keys,
kept in SQLite in the server's data folder so they survive a restart.

The folder is readable only by its owner (0700; a folder found wider open is tightened, and
that is logged) and the database file likewise (0600): it holds the secret key. The server holds
the folder's lock (:mod:`roomcall.server.folder_lock`) while the store is open, so a second
server on the same folder refuses to start; ``read_only`` opens (``roomcall token``) take no
lock and write nothing. Keys are generated only with a new database: a database that lost its
key rows is refused, because new keys would invalidate every token already issued. The schema
carries its version in ``PRAGMA user_version`` and is migrated forward step by step on open; a
database written by a newer roomcall is refused rather than guessed at.

Example::

    store = AppStore.open(Path("~/.local/share/roomcall").expanduser())
    access_key, secret_key = store.keys()
    app = store.create_app(title="team", max_users=8)
    assert store.get_app(app.app_id) == app
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import stat
import string
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from roomcall.server.folder_lock import FolderInUse, FolderLock

log = logging.getLogger(__name__)

DB_FILENAME = "roomcall.db"
"""Name of the SQLite file inside the data folder."""

SCHEMA_VERSION = 2
"""``PRAGMA user_version`` of the schema this module writes."""

MAX_TEXT_LENGTH = 256
"""Longest ``hub`` or ``title`` accepted (Qiniu publishes no limit; this keeps rows small)."""

MAX_USERS_LIMIT = 100_000
"""Largest ``maxUsers`` accepted; 0 means no limit, as in Qiniu."""

DEFAULT_SFU_THRESHOLD = 4
"""Members at which a room moves from the mesh to the SFU, unless the app says otherwise."""
MAX_SFU_THRESHOLD = 100_000

DEFAULT_APP_TITLE = "default"

APP_ID_LENGTH = 9
"""Qiniu's app ids look like ``dgd330nc2``: nine lowercase letters and digits."""

_APP_ID_FIRST = string.ascii_lowercase
_APP_ID_REST = string.ascii_lowercase + string.digits
_KEY_BYTES = 30
"""Random bytes per generated key: 40 URL-safe characters, the length of Qiniu's keys."""

# One entry per schema version: _MIGRATIONS[n] takes a database from version n to n + 1.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE apps (
        app_id            TEXT PRIMARY KEY,
        hub               TEXT NOT NULL DEFAULT '',
        title             TEXT NOT NULL DEFAULT '',
        max_users         INTEGER NOT NULL DEFAULT 0 CHECK (max_users >= 0),
        no_auto_kick_user INTEGER NOT NULL DEFAULT 0 CHECK (no_auto_kick_user IN (0, 1)),
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL
    );
    """,
    # 1 -> 2: the SFU threshold (members at which a room moves to Janus; 0 never)
    f"""
    ALTER TABLE apps ADD COLUMN sfu_threshold INTEGER NOT NULL DEFAULT {DEFAULT_SFU_THRESHOLD}
        CHECK (sfu_threshold >= 0);
    """,
)
assert len(_MIGRATIONS) == SCHEMA_VERSION

_APP_COLUMNS = ("app_id, hub, title, max_users, no_auto_kick_user, created_at, updated_at, "
                "sfu_threshold")
_UPDATABLE = frozenset({"hub", "title", "max_users", "no_auto_kick_user", "sfu_threshold"})


class StoreError(Exception):
    """The data folder or database cannot be used (unwritable, corrupt, from a newer roomcall,
    without its keys, or in use by another server)."""


class StorageFull(StoreError):
    """A write failed because the database cannot grow (SQLite's SQLITE_FULL: the disk, or a
    quota, is full). Nothing was changed; reads still work. The store logs the first one, and
    again only after a write has succeeded in between."""


@dataclass(frozen=True)
class AppInfo:
    """One app: its id and the settings every room created in it gets."""

    app_id: str
    hub: str
    """Qiniu's live-streaming hub name; stored and returned, not used by roomcall."""
    title: str
    """A label for people; not unique."""
    max_users: int
    """Members allowed per room; 0 means no limit."""
    no_auto_kick_user: bool
    """False: a second join with the same user id replaces the first; True: it is refused."""
    created_at: int
    """Unix seconds."""
    updated_at: int
    """Unix seconds."""
    sfu_threshold: int = DEFAULT_SFU_THRESHOLD
    """Members at which a room of this app moves from the mesh to the SFU (when the server
    has Janus instances); 0 never. roomcall's own setting (``sfuThreshold``), not Qiniu's."""

    def to_json(self) -> dict[str, Any]:
        """The app as Qiniu's v3 API answers it. Times are RFC 3339 strings, because Qiniu's Go
        SDK decodes ``createdAt`` / ``updatedAt`` into ``time.Time``."""
        return {
            "appId": self.app_id,
            "hub": self.hub,
            "title": self.title,
            "maxUsers": self.max_users,
            "noAutoKickUser": self.no_auto_kick_user,
            "createdAt": format_time(self.created_at),
            "updatedAt": format_time(self.updated_at),
            "sfuThreshold": self.sfu_threshold,
        }


def format_time(seconds: int) -> str:
    """``seconds`` (Unix time) as RFC 3339 in UTC, e.g. ``2026-11-27T20:23:34Z``."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AppStore:
    """Apps and keys in SQLite. Open with :meth:`open`; every method is synchronous and
    thread-safe (each one is a single short transaction)."""

    keys_created: bool
    """True if this open generated the access / secret keys (show them to the operator once)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, clock: Callable[[], float],
                 lock: FolderLock | None = None) -> None:
        """Use :meth:`open`."""
        self._conn = conn
        self._folder_lock = lock
        self._full = False  # the last write failed with SQLITE_FULL (logged once)
        self._lock = threading.Lock()
        self._clock = clock
        self.path = path
        """The database file."""
        self.keys_created = False
        # Apps by id as read here, so a join costs no query. Only this store
        # writes the database while the server runs; update and delete refresh the entry.
        self._apps: dict[str, AppInfo] = {}

    @classmethod
    def open(cls, data_dir: Path, *, clock: Callable[[], float] = time.time,
             read_only: bool = False) -> AppStore:
        """Open (creating if needed) the store in ``data_dir`` and lock the folder; generate
        keys when the database is new.

        ``read_only``: open an existing store without the lock, for reading keys and apps
        while a server may be running; nothing is created or written (writes fail).
        Raises :class:`StoreError` if the folder or database cannot be used, or if another
        server holds the folder.
        """
        data_dir = Path(data_dir)
        path = data_dir / DB_FILENAME
        if read_only:
            return cls._open_read_only(data_dir, path, clock)
        lock: FolderLock | None = None
        try:
            _make_private_dir(data_dir)
            lock = FolderLock.acquire(data_dir)
            _make_private_file(path)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except FolderInUse as exc:
            raise StoreError(str(exc)) from None
        except OSError as exc:
            if lock is not None:
                lock.release()
            raise StoreError(f"cannot use data folder {data_dir}: {exc}") from exc
        store = cls(conn, path, clock, lock)
        try:
            store._prepare()
        except (sqlite3.Error, StoreError) as exc:
            store.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot use database {path}: {exc}") from exc
        return store

    @classmethod
    def _open_read_only(cls, data_dir: Path, path: Path, clock: Callable[[], float]) -> AppStore:
        if not path.is_file():
            raise StoreError(f"no roomcall database in {data_dir}")
        # With a server running (or after a crash) the -wal and -shm files exist and must be
        # read. Without them every commit is in the database file, and immutable=1 reads it
        # without making them: a reader with other rights (root) must not leave files behind
        # that the server's own user then cannot open.
        live = any(path.with_name(path.name + end).exists() for end in ("-wal", "-shm"))
        query = "mode=ro" if live else "mode=ro&immutable=1"
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True,
                                   isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 5000")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            keys = conn.execute("SELECT COUNT(*) FROM meta WHERE key IN "
                                "('access_key', 'secret_key')").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read database {path}: {exc}") from exc
        store = cls(conn, path, clock)
        if version != SCHEMA_VERSION:
            store.close()
            raise StoreError(f"{path} has schema version {version}; this roomcall reads "
                             f"{SCHEMA_VERSION} (start `roomcall serve` on it once)")
        if keys < 2:
            store.close()
            raise StoreError(_missing_keys(path))
        return store

    def close(self) -> None:
        """Close the database and release the folder; the store cannot be used afterwards.
        Calling it twice is fine."""
        with self._lock:
            self._conn.close()
            if self._folder_lock is not None:
                self._folder_lock.release()

    # --- keys --------------------------------------------------------------------------

    def keys(self) -> tuple[str, str]:
        """The server's ``(access_key, secret_key)``, the same on every open."""
        with self._lock:
            rows = dict(self._conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('access_key', 'secret_key')"
            ).fetchall())
        return rows["access_key"], rows["secret_key"]

    # --- apps --------------------------------------------------------------------------

    def create_app(
        self,
        *,
        hub: str = "",
        title: str = "",
        max_users: int = 0,
        no_auto_kick_user: bool = False,
        sfu_threshold: int = DEFAULT_SFU_THRESHOLD,
    ) -> AppInfo:
        """A new app with a fresh random id; ``ValueError`` for an invalid setting."""
        values = _validated({"hub": hub, "title": title, "max_users": max_users,
                             "no_auto_kick_user": no_auto_kick_user,
                             "sfu_threshold": sfu_threshold})
        now = int(self._clock())
        with self._transaction() as conn:
            while True:
                app_id = _new_app_id()
                try:
                    conn.execute(
                        f"INSERT INTO apps ({_APP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (app_id, values["hub"], values["title"], values["max_users"],
                         int(values["no_auto_kick_user"]), now, now, values["sfu_threshold"]),
                    )
                except sqlite3.IntegrityError:
                    continue  # id collision: 36^8 ids per first letter, so this is rare
                break
        return AppInfo(app_id, values["hub"], values["title"], values["max_users"],
                       values["no_auto_kick_user"], now, now, values["sfu_threshold"])

    def get_app(self, app_id: str) -> AppInfo | None:
        """The app with this id, or None."""
        app = self._apps.get(app_id)
        if app is not None:
            return app
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_APP_COLUMNS} FROM apps WHERE app_id = ?", (app_id,)
            ).fetchone()
            if row is None:
                return None
            app = self._apps[app_id] = _app(row)
        return app

    def list_apps(self) -> list[AppInfo]:
        """Every app, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_APP_COLUMNS} FROM apps ORDER BY created_at, rowid"
            ).fetchall()
        return [_app(row) for row in rows]

    def update_app(self, app_id: str, **fields: Any) -> AppInfo | None:
        """Change some of ``hub``, ``title``, ``max_users``, ``no_auto_kick_user``,
        ``sfu_threshold``; the updated
        app, or None if there is none with this id. ``ValueError`` for an unknown field or an
        invalid value (nothing is changed then). Rooms already open keep their settings."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"unknown app field(s): {', '.join(sorted(unknown))}")
        values = _validated(fields)
        now = int(self._clock())
        with self._transaction() as conn:
            if values:
                assignments = ", ".join(f"{name} = ?" for name in values)
                params = [int(v) if isinstance(v, bool) else v for v in values.values()]
                conn.execute(f"UPDATE apps SET {assignments}, updated_at = ? WHERE app_id = ?",
                             (*params, now, app_id))
            row = conn.execute(
                f"SELECT {_APP_COLUMNS} FROM apps WHERE app_id = ?", (app_id,)
            ).fetchone()
            self._apps.pop(app_id, None)
        return _app(row) if row else None

    def delete_app(self, app_id: str) -> bool:
        """Delete the app; False if there was none with this id."""
        with self._transaction() as conn:
            cursor = conn.execute("DELETE FROM apps WHERE app_id = ?", (app_id,))
            self._apps.pop(app_id, None)
            return cursor.rowcount > 0

    def ensure_default_app(self) -> AppInfo:
        """The app titled ``"default"`` that this store created for a first run; it is created
        on the first call (and again only if it was deleted)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'default_app_id'").fetchone()
        if row is not None and (app := self.get_app(row[0])) is not None:
            return app
        app = self.create_app(title=DEFAULT_APP_TITLE)
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('default_app_id', ?)",
                         (app.app_id,))
        return app

    # --- internals ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    if self._conn.in_transaction:  # SQLite may have rolled back already
                        self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_FULL:
                    raise
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                full = StorageFull(f"{self.path}: {exc} (no space left for the database)")
                if not self._full:  # once per episode: until a write succeeds, all fail
                    log.error("%s", full)
                    self._full = True
                raise full from exc
            if self._full:
                log.warning("%s: writes succeed again", self.path)
                self._full = False

    def _prepare(self) -> None:
        conn = self._conn
        conn.execute("PRAGMA journal_mode = WAL")
        # WAL with synchronous=NORMAL stays consistent after a crash; it may lose the last
        # commit on power loss, which for app settings is acceptable.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA busy_timeout = 5000")
        with self._transaction():
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {version}; this roomcall reads up to "
                    f"{SCHEMA_VERSION} (it was written by a newer roomcall)")
            for step in range(version, SCHEMA_VERSION):
                for statement in _MIGRATIONS[step].split(";"):
                    if statement.strip():
                        conn.execute(statement)
            # PRAGMA takes no parameters; the value is our own integer constant
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            have = conn.execute(
                "SELECT COUNT(*) FROM meta WHERE key IN ('access_key', 'secret_key')"
            ).fetchone()[0]
            if have < 2 and version > 0:
                raise StoreError(_missing_keys(self.path))
            if have < 2:  # a new database
                conn.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [("access_key", secrets.token_urlsafe(_KEY_BYTES)),
                     ("secret_key", secrets.token_urlsafe(_KEY_BYTES))],
                )
                self.keys_created = True


def _missing_keys(path: Path) -> str:
    return (f"{path} has no access / secret key: refusing to make new ones, which would "
            "invalidate every token issued so far. Restore the database from a backup, or "
            "move the data folder aside to start afresh with new keys")


def _make_private_dir(path: Path) -> None:
    if not path.exists():
        path.mkdir(mode=0o700, parents=True)
        path.chmod(0o700)  # mkdir's mode is filtered through the umask
    elif not path.is_dir():
        raise StoreError(f"data folder {path} is not a folder")
    elif os.name == "posix" and (mode := stat.S_IMODE(path.stat().st_mode)) & 0o077:
        # others could read the database's neighbours, or replace the files in it
        path.chmod(0o700)
        log.warning("data folder %s was open to others (mode %04o): tightened to 0700",
                    path, mode)


def _make_private_file(path: Path) -> None:
    # create it 0600 before SQLite opens it (SQLite would create it 0644), so the secret key
    # is never readable by others, not even for a moment; SQLite gives its -wal and -shm
    # files the database file's mode
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    if os.name == "posix":
        path.chmod(0o600)


def _new_app_id() -> str:
    return secrets.choice(_APP_ID_FIRST) + "".join(
        secrets.choice(_APP_ID_REST) for _ in range(APP_ID_LENGTH - 1))


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name in ("hub", "title"):
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            if len(value) > MAX_TEXT_LENGTH:
                raise ValueError(f"{name} must be at most {MAX_TEXT_LENGTH} characters")
            if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
                raise ValueError(f"{name} must not contain control characters")
            if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):  # JSON's "\ud800" escapes
                raise ValueError(f"{name} must be Unicode text (it has a lone surrogate)")
        elif name == "max_users":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError("maxUsers must be an integer")
            if not 0 <= value <= MAX_USERS_LIMIT:
                raise ValueError(f"maxUsers must be between 0 (no limit) and {MAX_USERS_LIMIT}")
        elif name == "no_auto_kick_user" and not isinstance(value, bool):
            raise ValueError("noAutoKickUser must be a boolean")
        elif name == "sfu_threshold":
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError("sfuThreshold must be an integer")
            if not 0 <= value <= MAX_SFU_THRESHOLD:
                raise ValueError(f"sfuThreshold must be between 0 (never) and "
                                 f"{MAX_SFU_THRESHOLD}")
        out[name] = value
    return out


def _app(row: tuple[Any, ...]) -> AppInfo:
    app_id, hub, title, max_users, no_auto_kick_user, created_at, updated_at, sfu = row
    return AppInfo(app_id, hub, title, max_users, bool(no_auto_kick_user), created_at,
                   updated_at, sfu)
