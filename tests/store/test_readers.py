"""Reader connections (`AsyncStore.read`): reads that never queue behind the writer's thread,
refuse to write, and stop at their time budget."""

from __future__ import annotations

import asyncio
import threading
from datetime import date
from pathlib import Path

import pytest

from bot.store import AsyncStore, Store, StoreError

from .conftest import make_paper

MONDAY = date(2025, 4, 21)


async def test_a_read_sees_what_the_writer_committed(db_path: Path):
    async with await AsyncStore.open(db_path) as db:
        await db.run(lambda s: s.papers.save_listing(MONDAY, [make_paper("2504.00001")]))
        assert await db.read(lambda r: r.papers.latest_day()) == MONDAY
        assert [p.id for p in await db.read(lambda r: r.papers.for_day(MONDAY))] == ["2504.00001"]


async def test_reads_are_answered_while_the_writer_thread_is_busy(db_path: Path):
    async with await AsyncStore.open(db_path) as db:
        await db.run(lambda s: s.papers.save_listing(MONDAY, [make_paper("2504.00001")]))
        release = threading.Event()

        def hold_the_writer(store: Store) -> None:
            # A long write transaction: the write lock and the writer's thread are both taken.
            with store.transaction():
                store.papers.save_listing(date(2025, 4, 22), [make_paper("2504.00002")])
                release.wait(timeout=30)

        writing = asyncio.ensure_future(db.run(hold_the_writer))
        try:
            # Answered from the last committed state, without waiting for the writer.
            assert await asyncio.wait_for(db.read(lambda r: r.papers.latest_day()), timeout=10) == MONDAY
            assert not writing.done()
        finally:
            release.set()
        await writing
        assert await db.read(lambda r: r.papers.latest_day()) == date(2025, 4, 22)


async def test_a_reader_refuses_to_write(db_path: Path):
    async with await AsyncStore.open(db_path) as db:
        with pytest.raises(StoreError) as caught:
            await db.read(lambda r: r.papers.save_listing(MONDAY, [make_paper("2504.00001")]))
        assert caught.value.reason == "read_only"
        assert await db.run(lambda s: s.papers.latest_day()) is None


async def test_a_read_past_its_budget_is_interrupted_and_the_reader_stays_usable(db_path: Path):
    endless = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
               "SELECT count(*) FROM n")
    async with await AsyncStore.open(db_path, readers=1) as db:
        with pytest.raises(StoreError) as caught:
            await db.read(lambda r: r.db.execute(endless).fetchone(), budget=0.05)
        assert caught.value.reason == "interrupted"
        # The same (only) reader connection answers the next read, without a budget left over.
        assert await db.read(lambda r: r.db.execute("SELECT 42").fetchone()[0]) == 42


async def test_closing_waits_for_reads_and_then_refuses_them(db_path: Path):
    db = await AsyncStore.open(db_path)
    assert await db.read(lambda r: r.papers.latest_day()) is None
    await db.close()
    with pytest.raises(StoreError) as caught:
        await db.read(lambda r: r.papers.latest_day())
    assert caught.value.reason == "closed"
