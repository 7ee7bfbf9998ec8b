"""SQLite storage: papers and listings, channels, people, the delivery ledger, migrations.

One style for every table: a `Store` owns one connection and exposes a repository per group of
tables; callers never pass a connection around and never write SQL of their own.

    store.papers     Papers          listings, papers, full-text search, feed fetch state
    store.channels   Channels        channel subscriptions and per-channel settings
    store.people     People          personal subscriptions and delivery choices
    store.ledger     DeliveryLedger  deliveries, delivered papers, announcement days, pauses
    store.votes      Votes           👍/👎 per destination and paper, learned relevance models

Every repository method checks it runs on the store's thread and reports SQLite failures as a
`StoreError` naming what it was doing; every write takes the write lock at its start (`BEGIN
IMMEDIATE`), so a busy database is waited for, not failed. `store.transaction()` groups several
calls into one transaction. Methods that stamp a time take an optional `now` (default: the
store's clock).

`Store` is synchronous and confined to the thread that opened it; `AsyncStore` owns one thread
running a Store and is what asyncio code uses:

    day = await db.read(lambda s: s.papers.latest_day())     # a reader connection
    await db.run(lambda s: s.ledger.pause_destination(key, reason))   # the writer's thread

Reads that need no write go through `read` (a small pool of read-only connections, one per
reader thread; WAL lets them run beside the writer), optionally with a time budget after which
SQLite is interrupted. The database runs WAL with `synchronous=NORMAL` (see `database._open`).

The schema's history is the ordered list `bot.store.migrations.MIGRATIONS`.
"""

from bot.store.async_store import AsyncStore
from bot.store.database import ReadStore, Store, storage_path_problem
from bot.store.errors import SchemaTooNewError, StoreError
from bot.store.ledger import DeliveryLedger
from bot.store.migrations import MIGRATIONS, Migration
from bot.store.papers import FetchState, Papers, SaveSummary
from bot.store.personal import People
from bot.store.subscriptions import Channels
from bot.store.votes import Votes

__all__ = [
    "MIGRATIONS",
    "AsyncStore",
    "Channels",
    "DeliveryLedger",
    "FetchState",
    "Migration",
    "Papers",
    "ReadStore",
    "People",
    "SaveSummary",
    "SchemaTooNewError",
    "Store",
    "StoreError",
    "Votes",
    "storage_path_problem",
]
