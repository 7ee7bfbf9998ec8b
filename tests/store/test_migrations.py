"""Opening a database: file safety, pragmas, versioned migrations and refusing newer schemas."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
import sqlite_utils

from bot.store import MIGRATIONS, Migration, SchemaTooNewError, Store, StoreError
from bot.store.migrations import LATEST_VERSION

from .conftest import SteppingClock

LATEST = LATEST_VERSION
NEXT = LATEST + 1


def with_next(apply) -> list[Migration]:
    """The shipped list plus one migration NEXT (as a later paperbot would have it)."""
    return [*MIGRATIONS, Migration(NEXT, "notes", apply)]


def add_notes_table(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")


def test_new_database_gets_schema_and_records_migration(db_path: Path, clock: SteppingClock):
    with Store(db_path, clock=clock) as store:
        assert store.schema_version() == LATEST
        rows = store.db.execute("SELECT version, name, applied_at FROM migrations").fetchall()
        assert rows[0] == (1, "papers, listings, full-text search, fetch state", "2025-04-21T00:05:00+00:00")
        assert [r[0] for r in rows] == list(range(1, LATEST + 1))
        tables = set(store.db.table_names())
        assert {"papers", "listings", "papers_fts", "fetch_state", "migrations"} <= tables
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_reopening_applies_nothing_and_keeps_the_record(db_path: Path, clock: SteppingClock):
    Store(db_path, clock=clock).close()
    clock.advance(days=1)
    with Store(db_path, clock=clock) as again:
        assert again.applied_migrations == []
        assert again.schema_version() == LATEST
        rows = again.db.execute("SELECT version, applied_at FROM migrations").fetchall()
        assert rows[0] == (1, "2025-04-21T00:05:00+00:00") and len(rows) == LATEST


def test_a_migration_added_later_is_applied_once(db_path: Path, clock: SteppingClock):
    Store(db_path, clock=clock).close()
    extended = with_next(add_notes_table)
    with Store(db_path, clock=clock, migrations=extended) as store:
        assert [m.version for m in store.applied_migrations] == [NEXT]
        assert store.schema_version() == NEXT
        assert "notes" in store.db.table_names()
    with Store(db_path, clock=clock, migrations=extended) as store:
        assert store.applied_migrations == []
        versions = [r[0] for r in store.db.execute("SELECT version FROM migrations ORDER BY 1")]
        assert versions == list(range(1, NEXT + 1))


def test_refuses_a_database_newer_than_the_code(db_path: Path, clock: SteppingClock):
    extended = with_next(add_notes_table)
    Store(db_path, clock=clock, migrations=extended).close()
    with pytest.raises(SchemaTooNewError) as caught:
        Store(db_path, clock=clock)
    error = caught.value
    assert (error.database_version, error.known_version) == (NEXT, LATEST)
    assert error.reason == "schema_too_new"
    assert f"schema version {NEXT}" in str(error) and f"up to {LATEST}" in str(error)
    assert str(db_path) in str(error)
    # Refusing wrote nothing: the newer code still finds its own schema intact.
    with Store(db_path, clock=clock, migrations=extended) as store:
        assert store.schema_version() == NEXT


def test_a_failing_migration_is_rolled_back_and_retried_next_time(
    db_path: Path, clock: SteppingClock
):
    def half_done(db: sqlite_utils.Database) -> None:
        add_notes_table(db)
        raise RuntimeError("column missing in the plan")

    broken = with_next(half_done)
    with pytest.raises(StoreError) as caught:
        Store(db_path, clock=clock, migrations=broken)
    assert caught.value.reason == "migration"
    assert f"migration {NEXT} ('notes') failed and was rolled back" in str(caught.value)
    assert "column missing in the plan" in str(caught.value)

    with Store(db_path, clock=clock) as store:
        assert store.schema_version() == LATEST
        assert "notes" not in store.db.table_names()
    fixed = with_next(add_notes_table)
    with Store(db_path, clock=clock, migrations=fixed) as store:
        assert store.schema_version() == NEXT


def test_a_gap_in_versions_is_reported(db_path: Path, clock: SteppingClock):
    gappy = [*MIGRATIONS, Migration(NEXT + 1, "notes", add_notes_table)]
    with pytest.raises(StoreError, match=rf"migration version\(s\) \[{NEXT}\] are missing"):
        Store(db_path, clock=clock, migrations=gappy)


def test_out_of_order_versions_are_reported(db_path: Path, clock: SteppingClock):
    swapped = [MIGRATIONS[1], MIGRATIONS[0], *MIGRATIONS[2:]]
    with pytest.raises(StoreError, match="versions are out of order"):
        Store(db_path, clock=clock, migrations=swapped)
    assert not db_path.exists() or "papers" not in sqlite_utils.Database(db_path).table_names()


def test_the_list_starts_with_the_papers_migration_and_numbers_from_one():
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1))
    assert MIGRATIONS[0].name.startswith("papers")


def schema_of(path: Path) -> list[tuple[str, str, str | None]]:
    db = sqlite3.connect(path)
    try:
        return sorted(db.execute("SELECT type, name, sql FROM sqlite_master").fetchall(),
                      key=lambda row: (row[0], row[1]))
    finally:
        db.close()


@pytest.mark.parametrize("created_at", range(1, LATEST))
def test_a_database_created_at_an_older_version_upgrades_to_the_same_schema(
    tmp_path: Path, clock: SteppingClock, created_at: int
):
    fresh = tmp_path / "fresh.db"
    Store(fresh, clock=clock).close()
    old = tmp_path / "old.db"
    with Store(old, clock=clock, migrations=MIGRATIONS[:created_at]) as store:
        assert store.schema_version() == created_at
        store.db.execute("INSERT INTO fetch_state (url, fetched_at) VALUES ('u', 'then')")
    with Store(old, clock=clock) as store:
        assert [m.version for m in store.applied_migrations] == list(range(created_at + 1, LATEST + 1))
        assert store.db.execute("SELECT url, fetched_at FROM fetch_state").fetchall() == [("u", "then")]
    assert schema_of(old) == schema_of(fresh)


def test_file_is_private_and_folder_created_private(db_path: Path, clock: SteppingClock):
    old_umask = os.umask(0o022)
    try:
        with Store(db_path, clock=clock) as store:
            store.db.execute("CREATE TABLE scratch (x)")  # makes SQLite create the -wal file
            wal = Path(str(db_path) + "-wal")
            assert wal.exists()
            assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700


def test_existing_folder_and_file_permissions_are_left_alone(tmp_path: Path, clock: SteppingClock):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    path = folder / "bot.db"
    sqlite3.connect(path).close()
    path.chmod(0o640)
    Store(path, clock=clock).close()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert caught.value.reason == "corrupt"
    assert caught.value.operation == "opening the database"
    assert "not an SQLite database" in str(caught.value)


def test_a_folder_that_cannot_be_created_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError) as caught:
        Store(blocker / "sub" / "bot.db")
    assert caught.value.reason == "cannot_open"
    assert "cannot create" in str(caught.value)


def test_two_processes_opening_a_new_file_at_once_apply_migrations_once(db_path: Path):
    start = threading.Barrier(4)
    outcomes: list[object] = []

    def open_and_close() -> None:
        start.wait()
        try:
            with Store(db_path) as store:
                outcomes.append(store.schema_version())
        except Exception as exc:  # collected, asserted below
            outcomes.append(exc)

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == [LATEST] * 4
    with Store(db_path) as store:
        assert store.db.execute("SELECT count(*) FROM migrations").fetchone()[0] == LATEST
