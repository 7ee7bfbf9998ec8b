"""The synchronous store: one SQLite file, used only from the thread that opened it."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.store.errors import StoreError, describe_sqlite_error, store_error_from
from bot.store.instance_lock import InstanceLock
from bot.store.ledger import DeliveryLedger
from bot.store.migrations import MIGRATIONS, Migration, apply_migrations, schema_version
from bot.store.papers import Papers
from bot.store.votes import Votes
from bot.store.personal import People
from bot.store.repository import write_transaction
from bot.store.subscriptions import Channels

DEFAULT_BUSY_TIMEOUT_SECONDS = 5.0
# How many problems `integrity_problems` reports at most (PRAGMA quick_check(N)).
INTEGRITY_PROBLEMS_SHOWN = 10

# What the store stamps rows with: a zero-argument callable returning an aware datetime. A
# bot.clock.Clock may be handed over as is; its `now` is taken.
NowFunction = Callable[[], datetime]

OPENING = "opening the database"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Store:
    """One SQLite file: `papers`, `channels`, `people` and `ledger` repositories on one connection.

    Thread-confined: every call must come from the thread that opened it (AsyncStore arranges
    that). Opening creates the folder (0700) and file (0600) if needed, turns on WAL, foreign keys
    and a busy timeout, and applies pending migrations. With `single_instance`, opening first takes
    an exclusive lock on `<path>.lock`, held until `close` (or the process ends, crash included),
    so a second `paperbot run` on the same database refuses to start.
    """

    papers: Papers
    votes: Votes
    channels: Channels
    people: People
    ledger: DeliveryLedger

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        clock: NowFunction | Any = utc_now,
        migrations: Sequence[Migration] = MIGRATIONS,
        single_instance: bool = False,
    ) -> None:
        self.path = Path(path)
        self._clock: NowFunction = clock.now if hasattr(clock, "now") else clock
        self._thread_id = threading.get_ident()
        self._db: sqlite_utils.Database | None = None
        self._instance_lock: InstanceLock | None = None
        # Bumped by every write to the directory's tables (channels, people): in-process caches
        # of the directory compare it to know when to reload. Only this thread writes it.
        self.directory_version = 0
        _refuse_unusable_path(self.path)
        if single_instance:
            self._instance_lock = InstanceLock.acquire(self.path)
        try:
            self._db = _open(self.path, busy_timeout)
            self.applied_migrations: list[Migration] = apply_migrations(
                self._db, migrations, now=self._clock, path=str(self.path)
            )
        except BaseException as exc:
            self._release()
            if isinstance(exc, sqlite3.Error):
                raise _opening_error(self.path, exc) from exc
            raise
        _attach_repositories(self)

    # -- plumbing ---------------------------------------------------------------------------

    def _check_usable(self, operation: str) -> None:
        if self._db is None:
            raise StoreError(operation, f"the store at {self.path} is closed", reason="closed")
        if threading.get_ident() != self._thread_id:
            raise StoreError(
                operation,
                "the store was opened on another thread; SQLite objects must stay on the thread "
                "that opened them (go through AsyncStore.run)",
                reason="wrong_thread",
            )

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils database, for the repositories (and tests that look at raw rows)."""
        self._check_usable("using the database")
        assert self._db is not None
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """Repository calls inside commit together or not at all (nests as a savepoint); the
        write lock is taken at the start, so the busy timeout applies."""
        with write_transaction(self.db) as db:
            yield db

    def now(self) -> datetime:
        return self._clock()

    def note_directory_change(self) -> None:
        self.directory_version += 1

    def close(self) -> None:
        """Close the connection and let go of the instance lock (again is harmless)."""
        if self._db is None:
            return
        self._check_usable("closing the database")  # refuses another thread
        self._release()

    def _release(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._instance_lock is not None:
            self._instance_lock.release()
            self._instance_lock = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- schema and health ------------------------------------------------------------------

    def schema_version(self) -> int:
        self._check_usable("reading the schema version")
        try:
            return schema_version(self.db)
        except sqlite3.Error as exc:
            raise store_error_from("reading the schema version", exc) from exc

    def check_writable(self) -> None:
        """Take SQLite's write lock and let it go: raises StoreError when the file is read-only,
        locked past the busy timeout, or otherwise unwritable."""
        self._check_usable("checking the database is writable")
        try:
            with write_transaction(self.db):
                pass
        except sqlite3.Error as exc:
            raise store_error_from("checking the database is writable", exc) from exc

    def integrity_problems(self) -> list[str]:
        """What SQLite's quick check finds wrong with the file (empty: intact). Reads every page,
        so it takes a moment on a large database; run it at start, not per request."""
        self._check_usable("checking the database")
        try:
            rows = self.db.execute(f"PRAGMA quick_check({INTEGRITY_PROBLEMS_SHOWN})").fetchall()
        except sqlite3.DatabaseError as exc:
            reason, explanation = describe_sqlite_error(exc)
            if reason in ("corrupt", "error"):
                return [explanation]
            raise store_error_from("checking the database", exc) from exc
        problems = [str(row[0]) for row in rows]
        return [] if problems == ["ok"] else problems


class ReadStore:
    """A read-only view of the Store's file: the same repositories on a connection of its own
    that refuses writes (`PRAGMA query_only`). Under WAL a reader never waits for the writer nor
    blocks it, so a slow search or a queue of ledger writes never holds up a command.

    Confined to one thread like the Store: the first thread that uses it owns it (AsyncStore keeps
    one per reader thread). `budget(seconds)` bounds the statements run inside it: SQLite is
    interrupted (a StoreError with reason `interrupted`) once the time is spent.
    """

    papers: Papers
    votes: Votes
    channels: Channels
    people: People
    ledger: DeliveryLedger

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
                 clock: NowFunction | Any = utc_now) -> None:
        self.path = Path(path)
        self._clock: NowFunction = clock.now if hasattr(clock, "now") else clock
        self._thread_id: int | None = None
        # check_same_thread off: the pool that owns this reader opens and closes it from its own
        # thread; `_check_usable` confines every use to the thread that first used it.
        conn = sqlite3.connect(self.path, timeout=busy_timeout, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            conn.execute("PRAGMA query_only = ON")
        except BaseException:
            conn.close()
            raise
        self._db: sqlite_utils.Database | None = sqlite_utils.Database(conn, execute_plugins=False)
        _attach_repositories(self)

    def _check_usable(self, operation: str) -> None:
        if self._db is None:
            raise StoreError(operation, f"the store at {self.path} is closed", reason="closed")
        me = threading.get_ident()
        if self._thread_id is None:
            self._thread_id = me
        elif me != self._thread_id:
            raise StoreError(operation, "a reader connection must stay on its own thread",
                             reason="wrong_thread")

    @property
    def db(self) -> sqlite_utils.Database:
        self._check_usable("reading the database")
        assert self._db is not None
        return self._db

    def now(self) -> datetime:
        return self._clock()

    def note_directory_change(self) -> None:
        """Nothing to count: a reader cannot write."""

    @contextmanager
    def budget(self, seconds: float | None) -> Iterator["ReadStore"]:
        """Statements inside are interrupted once `seconds` have passed (None: no limit)."""
        if seconds is None:
            yield self
            return
        deadline = time.monotonic() + seconds
        conn = self.db.conn
        # Called every N virtual-machine instructions; a true answer interrupts the statement.
        conn.set_progress_handler(lambda: time.monotonic() > deadline, 1_000)
        try:
            yield self
        finally:
            conn.set_progress_handler(None, 0)

    def close(self) -> None:
        """Close the connection (from any thread, once its work is done; again is harmless)."""
        if self._db is not None:
            self._db.close()
            self._db = None


def _attach_repositories(owner: "Store | ReadStore") -> None:
    """The same five repositories on the writer and on every reader connection."""
    owner.papers = Papers(owner)
    owner.channels = Channels(owner)
    owner.people = People(owner)
    owner.ledger = DeliveryLedger(owner)
    owner.votes = Votes(owner)


SQLITE_HEADER = b"SQLite format 3\x00"


def storage_path_problem(path: str | os.PathLike[str]) -> str | None:
    """What would stop a Store from opening `path`, found without creating or changing anything
    (for `paperbot check-config`); None when it looks usable."""
    path = Path(path)
    if path.is_dir():
        return _folder_message(path)
    if path.exists():
        try:
            with open(path, "rb") as file:
                header = file.read(len(SQLITE_HEADER))
        except OSError as exc:
            return f"cannot read {path}: {exc.strerror or exc}"
        if header and header != SQLITE_HEADER:
            return f"{path}: the file is not an SQLite database"
        if not os.access(path, os.W_OK):
            return f"{path} is read-only"
        return None
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"cannot create {path}: {ancestor} is a file, not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot create {path}: {ancestor} is not writable"
    return None


def _folder_message(path: Path) -> str:
    return (f"{path} is a folder; storage.path must name a database file "
            f"(for example {path / 'paperbot.db'})")


def _refuse_unusable_path(path: Path) -> None:
    """Name the path in the two mistakes SQLite reports least clearly."""
    if path.is_dir():
        raise StoreError(OPENING, _folder_message(path), reason="cannot_open")
    if not path.exists() and path.parent.exists() and not path.parent.is_dir():
        raise StoreError(OPENING, f"cannot create {path}: {path.parent} is a file, not a folder",
                         reason="cannot_open")


def _open(path: Path, busy_timeout: float) -> sqlite_utils.Database:
    try:
        _create_private_file(path)
    except OSError as exc:
        raise StoreError(OPENING, f"cannot create {path}: {exc.strerror or exc}",
                         reason="cannot_open") from exc
    conn = sqlite3.connect(path, timeout=busy_timeout)
    try:
        db = sqlite_utils.Database(conn, execute_plugins=False)
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        db.execute("PRAGMA foreign_keys = ON")
        _enable_wal(db, busy_timeout)
        # Under WAL, NORMAL syncs the WAL at checkpoints, not at every commit (FULL: ~2 ms per
        # commit, ~5 commits per channel-day). A commit still survives any crash of the
        # application (SIGKILL included: the WAL sits in the OS's page cache); only a power loss
        # or OS crash can roll back the last commits, and never corrupts the file. What such a
        # rollback forgets of the ledger is found again on the platform (`posted_markers`), so
        # even then a day is resumed, not re-posted.
        db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return db


def _opening_error(path: Path, exc: sqlite3.Error) -> StoreError:
    reason, explanation = describe_sqlite_error(exc)
    return StoreError(OPENING, f"{path}: {explanation}", reason=reason)


def _enable_wal(db: sqlite_utils.Database, busy_timeout: float) -> None:
    """Switch to WAL, retrying while other connections touch a brand-new file: SQLite answers
    SQLITE_BUSY to a journal-mode change at once, without waiting on the busy handler."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            if describe_sqlite_error(exc)[0] != "locked" or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _create_private_file(path: Path) -> None:
    """Create the folder (0700) and an empty database file (0600) unless they exist.

    Creating the file ourselves, before SQLite does, means it is never readable by others even
    for a moment; SQLite gives the -wal and -shm files the same permissions as the database.
    """
    parent = path.parent
    if not parent.exists():
        os.makedirs(parent, mode=0o700, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    # The umask may have removed owner bits (it cannot add any); make it exactly 0600.
    os.chmod(path, 0o600)
