"""The synchronous store: one SQLite file, used only from the thread that opened it."""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import sqlite_utils

from bot.models import Paper
from bot.store import papers as paper_queries
from bot.store.errors import StoreError, describe_sqlite_error, store_error_from
from bot.store.migrations import (
    REGISTRY,
    Migration,
    MigrationRegistry,
    apply_migrations,
    load_migration_modules,
    schema_version,
)
from bot.store.papers import FetchState, SaveSummary

DEFAULT_BUSY_TIMEOUT_SECONDS = 5.0

# A zero-argument callable returning an aware datetime, or any object with such a `now()` method
# (bot.clock's Clock), so the scheduler's clock can be handed over as is.
Clock = Callable[[], datetime]
P = ParamSpec("P")
R = TypeVar("R")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _operation(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Check the calling thread, and report SQLite failures as a StoreError naming `name`."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            store = args[0]
            assert isinstance(store, Store)
            store._check_usable(name)
            try:
                return method(*args, **kwargs)
            except sqlite3.Error as exc:
                raise store_error_from(name, exc) from exc

        return wrapper

    return decorate


class Store:
    """Papers, listings, search and fetch state in one SQLite file.

    Thread-confined: every call must come from the thread that opened it (AsyncStore arranges
    that). Opening creates the folder (0700) and file (0600) if needed, turns on WAL, foreign keys
    and a busy timeout, and applies pending migrations.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        clock: Clock | Any = utc_now,
        registry: MigrationRegistry = REGISTRY,
    ) -> None:
        self.path = Path(path)
        self._clock: Clock = clock.now if hasattr(clock, "now") else clock
        self._thread_id = threading.get_ident()
        self._db: sqlite_utils.Database | None = None
        operation = "opening the database"
        try:
            _create_private_file(self.path)
            conn = sqlite3.connect(self.path, timeout=busy_timeout)
        except OSError as exc:
            raise StoreError(operation, f"cannot create {self.path}: {exc}",
                             reason="cannot_open") from exc
        except sqlite3.Error as exc:
            raise store_error_from(operation, exc) from exc
        try:
            db = sqlite_utils.Database(conn, execute_plugins=False)
            db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            db.execute("PRAGMA foreign_keys = ON")
            _enable_wal(db, busy_timeout)
            load_migration_modules()
            self.applied_migrations: list[Migration] = apply_migrations(
                db, registry, now=self._clock, path=str(self.path)
            )
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise store_error_from(operation, exc) from exc
            raise
        self._db = db

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
        """The sqlite-utils database, for queries of modules that own other tables."""
        self._check_usable("using the database")
        assert self._db is not None
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """All writes inside commit together or not at all (nests as a savepoint)."""
        with self.db.atomic() as db:
            yield db

    def now(self) -> datetime:
        return self._clock()

    def _timestamp(self) -> str:
        return self._clock().isoformat(timespec="seconds")

    @property
    def is_closed(self) -> bool:
        return self._db is None

    def close(self) -> None:
        """Close the connection (again is harmless)."""
        if self._db is None:
            return
        self._check_usable("closing the database")  # refuses another thread
        self._db.close()
        self._db = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- schema -----------------------------------------------------------------------------

    @_operation("reading the schema version")
    def schema_version(self) -> int:
        return schema_version(self.db)

    # -- papers and listings ----------------------------------------------------------------

    @_operation("saving a listing")
    def save_listing(self, day: date, papers: Sequence[Paper]) -> SaveSummary:
        return paper_queries.save_listing(self.db, day, papers, now=self._timestamp())

    @_operation("reading a listing")
    def papers_for_day(self, day: date, types: Collection[str] | None = None) -> list[Paper]:
        return paper_queries.papers_for_day(self.db, day, types)

    @_operation("listing announcement days")
    def listing_days(self, limit: int | None = None) -> list[date]:
        return paper_queries.listing_days(self.db, limit)

    @_operation("finding the latest announcement day")
    def latest_day(self) -> date | None:
        return paper_queries.latest_day(self.db)

    @_operation("reading papers")
    def get_papers(self, ids: Iterable[str]) -> dict[str, Paper]:
        return paper_queries.get_papers(self.db, ids)

    @_operation("saving enrichment")
    def save_enrichment(
        self,
        paper_id: str,
        *,
        comment: str | None,
        journal_ref: str | None,
        doi: str | None,
        categories: Sequence[str] | None = None,
    ) -> None:
        paper_queries.save_enrichment(
            self.db,
            paper_id,
            comment=comment,
            journal_ref=journal_ref,
            doi=doi,
            categories=categories,
            now=self._timestamp(),
        )

    @_operation("searching papers")
    def search(self, text: str, limit: int = 20, day: date | None = None) -> list[Paper]:
        return paper_queries.search(self.db, text, limit, day)

    @_operation("rebuilding the search index")
    def rebuild_search_index(self) -> None:
        """Re-create the full-text index from the papers table (needed after a VACUUM, which may
        renumber the rowids the index refers to)."""
        self.db["papers"].rebuild_fts()

    # -- fetch state ------------------------------------------------------------------------

    @_operation("reading fetch state")
    def get_fetch_state(self, url: str) -> FetchState | None:
        return paper_queries.get_fetch_state(self.db, url)

    @_operation("saving fetch state")
    def save_fetch_state(
        self, url: str, etag: str | None, last_modified: str | None, status: int | None
    ) -> None:
        paper_queries.save_fetch_state(
            self.db, url, etag, last_modified, status, now=self._timestamp()
        )


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
