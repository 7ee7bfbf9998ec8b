"""Versioned schema migrations, recorded in the database's `migrations` table.

Adding a migration from another module::

    from bot.store.migrations import migration

    @migration(2, "delivery ledger")
    def create_delivery_ledger(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE deliveries (...)")

then add the module's dotted name to `MIGRATION_MODULES` below, so the store imports it (and so
registers the migration) before applying. Versions are 1, 2, 3... with no gaps; each migration runs
in its own transaction together with its row in `migrations`, so a failing one leaves no trace and
is retried at the next open.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from bot.store.errors import (
    SchemaTooNewError,
    StoreError,
    describe_sqlite_error,
    store_error_from,
)

MigrationFunction = Callable[[sqlite_utils.Database], None]

# Modules whose import registers migrations. Append yours; order does not matter (versions do).
MIGRATION_MODULES: list[str] = [
    "bot.store.papers",
    "bot.store.ledger",
    "bot.store.subscriptions",
    "bot.store.personal",
]

MIGRATIONS_TABLE = "migrations"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    apply: MigrationFunction


class MigrationRegistry:
    """An ordered set of migrations. The store uses `REGISTRY`; tests may build their own."""

    def __init__(self, migrations: Iterable[Migration] = ()) -> None:
        self._by_version: dict[int, Migration] = {}
        for item in migrations:
            self.add(item)

    def add(self, item: Migration) -> None:
        if not isinstance(item.version, int) or item.version < 1:
            raise ValueError(f"migration version must be a positive integer, got {item.version!r}")
        existing = self._by_version.get(item.version)
        if existing is not None and existing.apply is not item.apply:
            raise ValueError(
                f"migration version {item.version} is taken by {existing.name!r}; "
                f"{item.name!r} needs the next free version ({self.latest_version + 1})"
            )
        self._by_version[item.version] = item

    def __call__(self, version: int, name: str) -> Callable[[MigrationFunction], MigrationFunction]:
        """Decorator registering `fn` as migration `version`."""

        def register(fn: MigrationFunction) -> MigrationFunction:
            self.add(Migration(version, name, fn))
            return fn

        return register

    def extended(self, *extra: Migration) -> "MigrationRegistry":
        """A copy with more migrations (the original is left alone)."""
        return MigrationRegistry([*self.ordered(), *extra])

    def ordered(self) -> list[Migration]:
        return [self._by_version[v] for v in sorted(self._by_version)]

    @property
    def latest_version(self) -> int:
        return max(self._by_version, default=0)

    def check_contiguous(self) -> None:
        expected = list(range(1, self.latest_version + 1))
        if sorted(self._by_version) != expected:
            missing = sorted(set(expected) - set(self._by_version))
            raise StoreError(
                "checking migrations",
                f"migration version(s) {missing} are missing; "
                f"registered: {sorted(self._by_version)}",
                reason="migration",
            )


REGISTRY = MigrationRegistry()
migration = REGISTRY  # `@migration(2, "delivery ledger")`


def load_migration_modules(modules: Iterable[str] = ()) -> None:
    for name in [*MIGRATION_MODULES, *modules]:
        importlib.import_module(name)


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


@contextmanager
def immediate_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """A transaction that takes the write lock at once, so two processes opening the same new
    file cannot both run a migration."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def schema_has_version(db: sqlite_utils.Database, version: int) -> bool:
    query = f"SELECT 1 FROM {MIGRATIONS_TABLE} WHERE version = ?"
    return db.execute(query, [version]).fetchone() is not None


def apply_migrations(
    db: sqlite_utils.Database,
    registry: MigrationRegistry,
    *,
    now: Callable[[], datetime],
    path: str = "the database",
) -> list[Migration]:
    """Apply pending migrations in version order; returns the ones applied (none if up to date).

    Refuses (SchemaTooNewError) a database that has a version this code does not know.
    """
    registry.check_contiguous()
    ensure_migrations_table(db)
    applied = {
        row[0] for row in db.execute(f"SELECT version FROM {MIGRATIONS_TABLE}").fetchall()
    }
    newest_applied = max(applied, default=0)
    if newest_applied > registry.latest_version:
        raise SchemaTooNewError(path, newest_applied, registry.latest_version)
    done: list[Migration] = []
    for item in registry.ordered():
        if item.version in applied:
            continue
        try:
            with immediate_transaction(db):
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
