"""SQLite storage: papers, daily listings, full-text search, fetch state, versioned migrations.

`Store` is synchronous and confined to the thread that opened it; `AsyncStore` owns one thread
running a Store and is what asyncio code uses (`await db.run(lambda s: s.latest_day())`).
"""

from bot.store.async_store import AsyncStore
from bot.store.database import Store
from bot.store.errors import SchemaTooNewError, StoreError
from bot.store.migrations import Migration, MigrationRegistry, migration
from bot.store.papers import FetchState, SaveSummary

__all__ = [
    "AsyncStore",
    "FetchState",
    "Migration",
    "MigrationRegistry",
    "SaveSummary",
    "SchemaTooNewError",
    "Store",
    "StoreError",
    "migration",
]
