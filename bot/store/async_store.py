"""The asyncio face of the store: one dedicated thread owns the Store; coroutines hand it work."""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from bot.store.database import DEFAULT_BUSY_TIMEOUT_SECONDS, NowFunction, ReadStore, Store, utc_now
from bot.store.errors import StoreError, store_error_from
from bot.store.migrations import MIGRATIONS, Migration

T = TypeVar("T")
P = ParamSpec("P")

THREAD_NAME = "paperbot-db"
READER_THREAD_NAME = "paperbot-db-read"
# Reader threads: enough that one slow read (a search at its time budget) leaves another free for
# commands; more buy little on two cores, and each holds a connection and its page cache.
DEFAULT_READERS = 3


class AsyncStore:
    """Runs every store call that may write on one thread, in submission order; reads that need
    no write may go to a small pool of reader threads instead, each with its own read-only
    connection (`read`), so they never queue behind ledger writes.

        db = await AsyncStore.open("data/paperbot.db")
        day = await db.read(lambda s: s.papers.latest_day())
        await db.run(lambda s: s.ledger.pause_destination("slack:T1:C2", "gone"))
        await db.close()

    A call already running on the DB thread finishes even if the awaiting task is cancelled
    (SQLite cannot be interrupted halfway through a transaction from here).
    """

    def __init__(self, executor: ThreadPoolExecutor, store: Store, *, readers: int = DEFAULT_READERS,
                 busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS, clock: NowFunction | Any = utc_now) -> None:
        self._executor = executor
        self._store = store  # touched only on the DB thread
        self._closed = False
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._reader_local = threading.local()
        self._readers: list[ReadStore] = []
        self._readers_lock = threading.Lock()
        self._read_executor = ThreadPoolExecutor(max_workers=max(1, readers),
                                                 thread_name_prefix=READER_THREAD_NAME)

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
        clock: NowFunction | Any = utc_now,
        migrations: Sequence[Migration] = MIGRATIONS,
        single_instance: bool = False,
        readers: int = DEFAULT_READERS,
    ) -> "AsyncStore":
        """Start the DB thread and open the Store on it (options as for `Store`)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME)

        def open_on_db_thread() -> Store:
            return Store(path, busy_timeout=busy_timeout, clock=clock, migrations=migrations,
                         single_instance=single_instance)

        opening = executor.submit(open_on_db_thread)
        try:
            store = await asyncio.wrap_future(opening)
        except BaseException:
            # Failed, or cancelled while opening: close what may still get opened, on its own
            # thread and after the open job (one worker, FIFO), then let the thread end.
            executor.submit(_close_if_opened, opening)
            executor.shutdown(wait=False)
            raise
        return cls(executor, store, readers=readers, busy_timeout=busy_timeout, clock=clock)

    @property
    def path(self) -> Path:
        return self._store.path

    async def run(
        self, fn: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`fn(store, *args, **kwargs)` on the DB thread; its result, or its exception unchanged."""
        self._check_open(getattr(fn, "__name__", "store call"))
        call = functools.partial(fn, self._store, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def run_operation(
        self,
        operation: str,
        fn: Callable[Concatenate[Store, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like `run`, but a raw sqlite3 error escaping `fn` (locked, disk full...) becomes a
        StoreError naming `operation`, for code that queries `store.db` itself. (The
        repositories already report StoreError, naming their own operation.)"""
        self._check_open(operation)

        def translated() -> T:
            try:
                return fn(self._store, *args, **kwargs)
            except sqlite3.Error as exc:
                raise store_error_from(operation, exc) from exc

        return await asyncio.get_running_loop().run_in_executor(self._executor, translated)

    @property
    def directory_version(self) -> int:
        """Changes so far to who receives what (channel subscriptions and settings, personal
        keywords and delivery), counted by the store's writes: read it before loading the
        directory, and load again when it has moved."""
        return self._store.directory_version

    async def read(
        self,
        fn: Callable[Concatenate[ReadStore, P], T],
        *args: P.args,
        budget: float | None = None,
        operation: str = "reading the database",
        **kwargs: P.kwargs,
    ) -> T:
        """`fn(reader, *args, **kwargs)` on a reader thread, with the same repositories as `run`
        but on a read-only connection of that thread (a write raises StoreError). With `budget`
        (seconds), SQLite interrupts the statements once it is spent: StoreError, reason
        `interrupted`. A raw sqlite3 error becomes a StoreError naming `operation`."""
        self._check_open(operation)

        def on_reader_thread() -> T:
            reader = self._reader()
            try:
                with reader.budget(budget):
                    return fn(reader, *args, **kwargs)
            except sqlite3.Error as exc:
                raise store_error_from(operation, exc) from exc

        return await asyncio.get_running_loop().run_in_executor(self._read_executor, on_reader_thread)

    def _reader(self) -> ReadStore:
        """This reader thread's connection, opened on first use."""
        reader = getattr(self._reader_local, "store", None)
        if reader is None:
            try:
                reader = ReadStore(self.path, busy_timeout=self._busy_timeout, clock=self._clock)
            except sqlite3.Error as exc:
                raise store_error_from("opening a reader connection", exc) from exc
            self._reader_local.store = reader
            with self._readers_lock:
                self._readers.append(reader)
        return reader

    def _check_open(self, operation: str) -> None:
        if self._closed:
            raise StoreError(operation, f"the store at {self.path} is closed", reason="closed")

    async def close(self) -> None:
        """Finish the calls already submitted, close the database, stop the thread."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        try:
            # Readers first: let queued reads finish, then close their connections (their threads
            # are idle now, so closing from here races with nothing).
            await loop.run_in_executor(None, self._read_executor.shutdown, True)
            with self._readers_lock:
                for reader in self._readers:
                    reader.close()
                self._readers.clear()
            await loop.run_in_executor(self._executor, self._store.close)
        finally:
            # The queue is empty now (FIFO, one worker), so this only joins an idle thread.
            self._executor.shutdown(wait=True)
            self._read_executor.shutdown(wait=False)

    async def __aenter__(self) -> "AsyncStore":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _close_if_opened(opening: Future[Store]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()
