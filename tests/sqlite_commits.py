"""Counting a store's COMMITs through SQLite's trace callback (used by the ledger-batching tests
and by benchmarks/bench_fanout.py; works on any version of the code, since it reads SQLite)."""

from __future__ import annotations

from bot.store import AsyncStore


async def count_commits(store: AsyncStore) -> list[int]:
    """A one-element list that counts the writer connection's COMMITs from now on."""
    commits = [0]

    def trace(statement: str) -> None:
        if statement.lstrip().upper().startswith("COMMIT"):
            commits[0] += 1

    await store.run(lambda s: s.db.conn.set_trace_callback(trace))
    return commits
