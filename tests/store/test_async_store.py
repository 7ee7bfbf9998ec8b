"""The asyncio facade: one DB thread, serialised calls, errors passed through unchanged."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import date
from pathlib import Path

import pytest

from bot.store import AsyncStore, SchemaTooNewError, Store, StoreError
from bot.store.migrations import LATEST_VERSION, MIGRATIONS, Migration

from .conftest import make_paper

MONDAY = date(2025, 4, 21)


async def test_everything_runs_on_one_thread_that_is_not_the_loops(db_path: Path):
    db = await AsyncStore.open(db_path)
    loop_thread = threading.get_ident()
    seen: set[int] = set()

    def note_thread(store: Store, paper_id: str) -> None:
        seen.add(threading.get_ident())
        store.papers.save_listing(MONDAY, [make_paper(paper_id)])

    for n in range(5):
        await db.run(note_thread, f"2504.{n:05d}")
    seen.add(await db.run(lambda s: threading.get_ident()))
    assert len(seen) == 1
    assert seen != {loop_thread}
    assert await db.run(lambda s: s.papers.latest_day()) == MONDAY
    assert [p.id for p in await db.run((lambda s, *a: s.papers.for_day(*a)), MONDAY)] == [
        f"2504.{n:05d}" for n in range(5)
    ]
    await db.close()


async def test_concurrent_runs_from_many_tasks_are_serialised(db_path: Path):
    db = await AsyncStore.open(db_path)
    inside = 0
    most_inside = 0
    guard = threading.Lock()

    def save_one(store: Store, n: int) -> int:
        nonlocal inside, most_inside
        with guard:
            inside += 1
            most_inside = max(most_inside, inside)
        try:
            day = date(2025, 4, 1 + n % 20)
            return store.papers.save_listing(day, [make_paper(f"2504.{n:05d}")]).listings_added
        finally:
            with guard:
                inside -= 1

    results = await asyncio.gather(*(db.run(save_one, n) for n in range(200)))
    assert results == [1] * 200
    assert most_inside == 1
    listings = await db.run(lambda s: s.db.execute("SELECT count(*) FROM listings").fetchone()[0])
    assert listings == 200
    assert len(await db.run(lambda s: s.papers.listing_days())) == 20
    await db.close()


async def test_errors_reach_the_awaiting_caller_unchanged(db_path: Path):
    class Oops(Exception):
        pass

    def fail(store: Store) -> None:
        raise Oops("from the DB thread")

    async with await AsyncStore.open(db_path) as db:
        with pytest.raises(Oops, match="from the DB thread"):
            await db.run(fail)
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await db.run(lambda s: s.db.execute("SELECT * FROM nowhere"))
        with pytest.raises(StoreError) as caught:
            await db.run((lambda s, *a: s.papers.for_day(*a)), MONDAY, ["bogus"])
        assert caught.value.reason == "invalid"
        # The thread survives a failure.
        assert await db.run(lambda s: s.papers.latest_day()) is None


async def test_run_operation_names_raw_sqlite_failures(db_path: Path):
    db = await AsyncStore.open(db_path, busy_timeout=0.05)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError) as caught:
            await db.run_operation(
                "recording a delivery",
                lambda s: s.db.execute("CREATE TABLE scratch_notes (id INTEGER PRIMARY KEY)"),
            )
        assert caught.value.operation == "recording a delivery"
        assert caught.value.reason == "locked"
        assert str(caught.value).startswith("recording a delivery: the database is locked")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert await db.run_operation("counting", lambda s: s.schema_version()) == LATEST_VERSION
    await db.close()


async def test_open_failures_propagate_and_leave_no_thread(db_path: Path):
    newer = [*MIGRATIONS, Migration(LATEST_VERSION + 1, "notes", lambda db: db.execute("CREATE TABLE n (x)"))]
    Store(db_path, migrations=newer).close()
    before = {t.ident for t in threading.enumerate()}
    with pytest.raises(SchemaTooNewError):
        await AsyncStore.open(db_path)
    assert await _threads_ended_besides(before)


async def test_cancelling_open_closes_the_store_and_ends_the_thread(db_path: Path):
    before = {t.ident for t in threading.enumerate()}
    db_path.parent.mkdir()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # the open waits on the busy timeout...
    opening = asyncio.ensure_future(AsyncStore.open(db_path, busy_timeout=2.0))
    await asyncio.sleep(0.05)
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    holder.execute("ROLLBACK")  # ...and succeeds in the background once the lock is gone
    holder.close()
    assert await _threads_ended_besides(before)
    # SQLite removes the -wal file when the last connection closes: the store was closed.
    assert Path(f"{db_path}-wal").exists() is False
    with Store(db_path) as store:
        assert store.schema_version() == LATEST_VERSION


async def _threads_ended_besides(before: set[int | None], within: float = 2.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if not [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]:
            return True
        await asyncio.sleep(0.01)
    return False


async def test_close_finishes_pending_work_then_refuses_more(db_path: Path):
    db = await AsyncStore.open(db_path)
    pending = [
        asyncio.ensure_future(db.run(lambda s, n=n: s.papers.save_listing(MONDAY, [make_paper(f"2504.{n:05d}")])))
        for n in range(10)
    ]
    await asyncio.sleep(0)
    await db.close()
    assert all(task.result().listings_added == 1 for task in pending)
    with pytest.raises(StoreError, match="is closed") as caught:
        await db.run(lambda s: s.papers.latest_day())
    assert caught.value.reason == "closed"
    await db.close()  # harmless
    with Store(db_path) as store:
        assert len(store.papers.for_day(MONDAY)) == 10


async def test_store_options_and_bot_clock_style_objects_are_accepted(db_path: Path):
    from datetime import datetime, timezone

    class FixedClock:
        def now(self) -> datetime:
            return datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    async with await AsyncStore.open(db_path, clock=FixedClock()) as db:
        await db.run(lambda s: s.papers.save_fetch_state("https://example.org/feed", None, None, 200))
        state = await db.run(lambda s: s.papers.get_fetch_state("https://example.org/feed"))
        assert state is not None and state.fetched_at.year == 2030
