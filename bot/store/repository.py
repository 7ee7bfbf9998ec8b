"""What every repository of the store shares: the thread check, error translation and write
transactions that take SQLite's write lock at once."""

from __future__ import annotations

import functools
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Concatenate, ParamSpec, Protocol, TypeVar

import sqlite_utils

from bot.store.errors import store_error_from

P = ParamSpec("P")
R = TypeVar("R")
RepositoryT = TypeVar("RepositoryT", bound="Repository")


class StoreHandle(Protocol):
    """What a repository needs of the Store that owns it (bot.store.database.Store); a Protocol
    rather than an import, because the Store builds its repositories."""

    @property
    def db(self) -> sqlite_utils.Database: ...

    def now(self) -> datetime: ...

    def _check_usable(self, operation: str) -> None: ...

    def note_directory_change(self) -> None: ...


class Repository:
    """One group of tables (papers, channels, people, the delivery ledger), reached through the
    Store that owns the connection: `store.papers`, `store.channels`, `store.people`,
    `store.ledger`. Confined to the Store's thread like the Store itself."""

    def __init__(self, store: StoreHandle) -> None:
        self._store = store

    @property
    def _db(self) -> sqlite_utils.Database:
        return self._store.db

    def _now(self, now: datetime | None) -> datetime:
        return self._store.now() if now is None else now

    def _stamp(self, now: datetime | None = None) -> str:
        return self._now(now).isoformat(timespec="seconds")

    def _transaction(self):
        return write_transaction(self._db)


class DirectoryRepository(Repository):
    """A repository whose tables say who receives what (channel subscriptions and settings,
    personal keywords and delivery): every write transaction counts as a change of the directory
    (`Store.directory_version`), so caches of the directory know to reload."""

    @contextmanager
    def _transaction(self):
        try:
            with write_transaction(self._db) as db:
                yield db
        finally:
            # Counted even when rolled back: a needless reload is harmless, a missed one is not.
            self._store.note_directory_change()


def operation(
    name: str,
) -> Callable[[Callable[Concatenate[RepositoryT, P], R]], Callable[Concatenate[RepositoryT, P], R]]:
    """Check the calling thread, and report SQLite failures as a StoreError naming `name`."""

    def decorate(
        method: Callable[Concatenate[RepositoryT, P], R],
    ) -> Callable[Concatenate[RepositoryT, P], R]:
        @functools.wraps(method)
        def wrapper(self: RepositoryT, *args: P.args, **kwargs: P.kwargs) -> R:
            self._store._check_usable(name)
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise store_error_from(name, exc) from exc

        return wrapper

    return decorate


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """All writes inside commit together or not at all; nested, it is a savepoint.

    The outermost level is `BEGIN IMMEDIATE`: the write lock is taken before the first read. A
    plain (deferred) `BEGIN` that reads and then writes cannot wait for another connection's
    write lock: SQLite answers SQLITE_BUSY at once (the snapshot it read may be stale), so the
    busy timeout never applies. Waiting at BEGIN IMMEDIATE does apply it.
    """
    conn = db.conn
    if conn.in_transaction:
        savepoint = f"paperbot_{secrets.token_hex(8)}"
        conn.execute(f"SAVEPOINT {savepoint}")
        try:
            yield db
        except BaseException:
            # An error may already have ended the whole transaction (savepoint included).
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
                conn.execute(f"RELEASE SAVEPOINT {savepoint}")
            raise
        else:
            conn.execute(f"RELEASE SAVEPOINT {savepoint}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
