"""Writes wait for another connection's write lock (BEGIN IMMEDIATE) instead of failing."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date
from pathlib import Path

from bot.store import Store
from bot.store.subscriptions import ChannelRef

from .conftest import make_paper

MONDAY = date(2025, 4, 21)
LAB = ChannelRef("slack", "T1", "C1")
WRITES = ("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE")


def run_while_another_connection_writes(db_path: Path, operation) -> list[object]:
    """Open a Store on a worker thread and start `operation(store)`; as soon as it reaches its
    first write statement, another connection (holding the write lock all along) commits a
    change. Returns what the operation returned or raised."""
    Store(db_path).close()  # schema in place before the other connection takes the lock
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO fetch_state (url, fetched_at) VALUES ('https://elsewhere', '2025-04-21T00:00:00+00:00')")
    writing = threading.Event()
    outcome: list[object] = []

    def worker() -> None:
        try:
            with Store(db_path, busy_timeout=30.0) as store:
                store.db.conn.set_trace_callback(
                    lambda sql: writing.set() if sql.lstrip().upper().startswith(WRITES) else None)
                outcome.append(operation(store))
        except Exception as exc:  # collected, asserted by the caller
            outcome.append(exc)
        finally:
            writing.set()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert writing.wait(30), "the operation never reached a write"
        other.execute("COMMIT")  # the other writer's change lands while the operation waits
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        thread.join(30)
        other.close()
    assert not thread.is_alive()
    return outcome


def test_a_read_then_write_listing_save_waits_for_the_lock_and_succeeds(db_path: Path):
    def save_a_day(store: Store) -> int:
        return store.papers.save_listing(MONDAY, [make_paper("2504.00001")]).listings_added

    assert run_while_another_connection_writes(db_path, save_a_day) == [1]
    with Store(db_path) as store:
        assert [p.id for p in store.papers.for_day(MONDAY)] == ["2504.00001"]
        assert store.papers.get_fetch_state("https://elsewhere") is not None


def test_a_counted_subscribe_waits_for_the_lock_and_succeeds(db_path: Path):
    def subscribe(store: Store) -> str:
        return store.channels.add_subscription(LAB, "VLM", limit=3).query

    assert run_while_another_connection_writes(db_path, subscribe) == ["VLM"]


def test_store_transaction_groups_calls_and_rolls_back_together(db_path: Path):
    with Store(db_path) as store:
        try:
            with store.transaction():
                store.channels.add_subscription(LAB, "VLM")
                store.ledger.pause_destination("slack:T1:C1", "lost")
                raise RuntimeError("something failed halfway")
        except RuntimeError:
            pass
        assert store.channels.list_subscriptions(LAB) == []
        assert store.ledger.paused_reason("slack:T1:C1") is None
        with store.transaction():
            store.channels.add_subscription(LAB, "VLM")
            store.ledger.pause_destination("slack:T1:C1", "lost")
        assert [r.query for r in store.channels.list_subscriptions(LAB)] == ["VLM"]
