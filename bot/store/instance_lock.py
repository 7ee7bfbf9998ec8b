"""One `paperbot run` per database: an exclusive lock on `<database>.lock` for the process's life.

`flock` locks belong to the open file, so the kernel lets go of them when the process ends in any
way (exit, crash, SIGKILL): a stale lock file never blocks the next start. The file keeps the
holder's pid only to make the refusal message useful.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from pathlib import Path

from bot.store.errors import StoreError

log = logging.getLogger(__name__)

# A filesystem that has no file locks (some network and FUSE mounts) answers with these.
_NO_LOCKS = {errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP}


class InstanceLock:
    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, database: Path) -> "InstanceLock":
        """Take the lock for `database`, or raise StoreError (reason `in_use`) naming who holds it."""
        path = lock_path(database)
        try:
            if not path.parent.exists():
                os.makedirs(path.parent, mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError("opening the database", f"cannot create the lock file {path}: "
                             f"{exc.strerror or exc}", reason="cannot_open") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise StoreError(
                "opening the database",
                f"another paperbot is already running on {database} ({who} holds {path}); "
                "stop it first, or give this one its own storage.path",
                reason="in_use",
            ) from None
        except OSError as exc:
            os.close(fd)
            if exc.errno in _NO_LOCKS:
                # Refusing to start would make such a mount unusable; say what is lost instead.
                log.warning("cannot lock %s (%s): a second paperbot run on this database would "
                            "not be refused", path, exc.strerror or exc)
                return cls(path, None)
            raise StoreError("opening the database", f"cannot lock {path}: {exc.strerror or exc}",
                             reason="cannot_open") from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Let go (again is harmless). The file stays: removing it could let two processes lock
        two different files of the same name."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:  # a read-only or vanished file: the lock still goes with the close
            pass
        os.close(fd)


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
