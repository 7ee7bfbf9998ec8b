"""Versioned schema migrations: one ordered list, recorded in the database's `migrations` table.

To change the schema, write a function that takes the `sqlite_utils.Database` (beside the tables
it concerns, like `create_paper_tables` in papers.py) and append it to `MIGRATIONS` below with
the next version. Never edit or reorder a migration that has shipped: databases in the field
recorded it as applied. Each migration runs in its own write transaction together with its row in
`migrations`, so a failing one leaves no trace and is retried at the next open.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from bot.store import ledger, papers, personal, subscriptions, votes
from bot.store.errors import (
    SchemaTooNewError,
    StoreError,
    describe_sqlite_error,
    store_error_from,
)
from bot.store.repository import write_transaction

MigrationFunction = Callable[[sqlite_utils.Database], None]

MIGRATIONS_TABLE = "migrations"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    apply: MigrationFunction


# The schema's whole history, oldest first: version n is MIGRATIONS[n - 1].
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "papers, listings, full-text search, fetch state", papers.create_paper_tables),
    Migration(2, "delivery ledger and announcement days", ledger.create_delivery_ledger),
    Migration(3, "channel subscriptions and settings", subscriptions.create_channel_tables),
    Migration(4, "personal subscriptions and delivery", personal.create_personal_tables),
    Migration(5, "votes, relevance models, order and weekly settings", votes.create_vote_tables),
    Migration(6, "authors' affiliations beside their names", papers.add_paper_affiliations),
)

LATEST_VERSION = len(MIGRATIONS)


def check_sequence(migrations: Sequence[Migration]) -> None:
    """Versions must be 1, 2, 3... in order, with no gap and no repeat."""
    versions = [item.version for item in migrations]
    expected = list(range(1, len(versions) + 1))
    if versions != expected:
        missing = sorted(set(range(1, max(versions, default=0) + 1)) - set(versions))
        detail = f"version(s) {missing} are missing" if missing else "versions are out of order"
        raise StoreError(
            "checking migrations",
            f"migration {detail}; listed: {versions}",
            reason="migration",
        )


def ensure_migrations_table(db: sqlite_utils.Database) -> None:
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
        " version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )


def schema_version(db: sqlite_utils.Database) -> int:
    """Highest applied migration version (0 for a new database)."""
    if not db[MIGRATIONS_TABLE].exists():
        return 0
    row = db.execute(f"SELECT max(version) FROM {MIGRATIONS_TABLE}").fetchone()
    return row[0] or 0


def schema_has_version(db: sqlite_utils.Database, version: int) -> bool:
    query = f"SELECT 1 FROM {MIGRATIONS_TABLE} WHERE version = ?"
    return db.execute(query, [version]).fetchone() is not None


def apply_migrations(
    db: sqlite_utils.Database,
    migrations: Sequence[Migration] = MIGRATIONS,
    *,
    now: Callable[[], datetime],
    path: str = "the database",
) -> list[Migration]:
    """Apply pending migrations in version order; returns the ones applied (none if up to date).

    Refuses (SchemaTooNewError) a database that has a version this code does not know.
    """
    check_sequence(migrations)
    known = len(migrations)
    ensure_migrations_table(db)
    applied = {
        row[0] for row in db.execute(f"SELECT version FROM {MIGRATIONS_TABLE}").fetchall()
    }
    newest_applied = max(applied, default=0)
    if newest_applied > known:
        raise SchemaTooNewError(path, newest_applied, known)
    done: list[Migration] = []
    for item in migrations:
        if item.version in applied:
            continue
        try:
            # The write lock at once, so two processes opening the same new file cannot both
            # run a migration.
            with write_transaction(db):
                # Another process may have applied it since we looked; the write lock settles it.
                if schema_has_version(db, item.version):
                    continue
                item.apply(db)
                db.execute(
                    f"INSERT INTO {MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
                    [item.version, item.name, now().isoformat(timespec="seconds")],
                )
        except StoreError:
            raise
        except Exception as exc:
            if isinstance(exc, sqlite3.Error) and describe_sqlite_error(exc)[0] != "error":
                # Locked, full, read-only: the migration is fine, the environment is not.
                operation = f"applying migration {item.version} ({item.name})"
                raise store_error_from(operation, exc) from exc
            raise StoreError(
                "applying migrations",
                f"migration {item.version} ({item.name!r}) failed and was rolled back: {exc}",
                reason="migration",
            ) from exc
        done.append(item)
    return done
