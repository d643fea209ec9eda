"""The data folder lock: one roomcall server per data folder.

Two servers on one folder would each keep their own view of the apps (an app deleted through
one would still admit joins on the other), so the server holds an exclusive lock on
``roomcall.lock`` in the folder for as long as it runs: ``fcntl.flock`` on POSIX, ``msvcrt``
on Windows. The operating system drops the lock when the process ends, however it ends (kill -9
included), so a stale lock file never blocks a restart. The file holds the owner's process id,
for the message a second server prints. Readers of the keys (``roomcall token``) take no lock.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

LOCK_FILENAME = "roomcall.lock"
"""Name of the lock file inside the data folder."""

# msvcrt locks byte ranges and a locked range cannot be read by others: lock a byte past the
# process id, so a second server can still read who holds the folder.
_WINDOWS_LOCK_OFFSET = 1024


class FolderInUse(Exception):
    """Another process holds the data folder's lock."""


class FolderLock:
    """An exclusive lock on a data folder, held until :meth:`release` or process exit."""

    def __init__(self, fd: int, path: Path) -> None:
        """Use :meth:`acquire`."""
        self._fd: int | None = fd
        self.path = path
        """The lock file."""

    @classmethod
    def acquire(cls, data_dir: Path) -> FolderLock:
        """Lock ``data_dir`` (which must exist) and write our process id into the lock file.

        Raises :class:`FolderInUse` (its message names the folder and the holder's process id)
        or ``OSError`` if the lock file cannot be opened.
        """
        path = Path(data_dir) / LOCK_FILENAME
        # no O_TRUNC: the holder's pid must stay readable until we hold the lock ourselves
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not _try_lock(fd):
                holder = _read_pid(fd)
                who = f" (pid {holder})" if holder else ""
                raise FolderInUse(f"data folder {data_dir} is in use by another roomcall "
                                  f"server{who}")
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path)

    def release(self) -> None:
        """Drop the lock (the file stays; its content no longer matters). Idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            _unlock(fd)
            os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        # Windows releases a closed file's locks only "eventually": unlock first
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        pass  # closing the descriptor releases the flock
