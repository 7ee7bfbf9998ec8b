"""Ledger writes of concurrent deliveries share transactions, yet each caller gets its own outcome
only once its write is committed."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, datetime, timezone

import pytest

from bot.delivery.group_commit import GroupCommit
from bot.store import AsyncStore, StoreError
from tests.sqlite_commits import count_commits

DAY = date(2025, 4, 21)
NOW = datetime(2025, 4, 21, 12, tzinfo=timezone.utc)


@pytest.fixture
async def store(tmp_path):
    db = await AsyncStore.open(tmp_path / "p.db")
    yield db
    await db.close()



async def test_writes_queued_together_commit_together_and_each_caller_gets_its_result(store):
    writes = GroupCommit(store)
    commits = await count_commits(store)

    def start(channel: str):
        return lambda s: s.ledger.start_attempt(f"memory:{channel}", DAY, NOW).destination

    results = await asyncio.gather(*(writes.run(start(f"C{i}")) for i in range(20)))
    assert results == [f"memory:C{i}" for i in range(20)]
    # Queued while no batch was on the database thread (or while one was): they share commits.
    assert commits[0] == writes.batches <= 2 and writes.writes == 20
    stored = await store.run(lambda s: [s.ledger.get_delivery(f"memory:C{i}", DAY) for i in range(20)])
    assert all(record is not None and record.state == "posting" for record in stored)


async def test_a_failing_write_gets_its_own_error_and_the_others_are_committed(store):
    writes = GroupCommit(store)

    def broken(s):
        s.db.execute("INSERT INTO no_such_table VALUES (1)")

    def start(channel: str):
        return lambda s: s.ledger.start_attempt(f"memory:{channel}", DAY, NOW).state

    outcomes = await asyncio.gather(writes.run(start("C0")), writes.run(start("C1")), writes.run(broken),
                                    writes.run(start("C2")), return_exceptions=True)
    assert outcomes[0] == outcomes[1] == outcomes[3] == "posting"
    assert isinstance(outcomes[2], (sqlite3.Error, StoreError))
    stored = await store.run(lambda s: [s.ledger.get_delivery(f"memory:C{i}", DAY) for i in range(3)])
    assert all(record is not None for record in stored)


async def test_a_write_returns_only_once_it_is_committed(store, tmp_path):
    writes = GroupCommit(store)
    await writes.run(lambda s: s.ledger.start_attempt("memory:C1", DAY, NOW))
    # Another connection (another process after a crash) sees it as soon as the caller goes on.
    other = sqlite3.connect(tmp_path / "p.db")
    try:
        rows = other.execute("SELECT destination, state FROM deliveries").fetchall()
    finally:
        other.close()
    assert rows == [("memory:C1", "posting")]
