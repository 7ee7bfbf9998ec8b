"""Process safety: one `run` per database, corrupt files noticed, bad paths named."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.store import AsyncStore, Store, StoreError
from bot.store.instance_lock import lock_path

from .conftest import make_paper

MONDAY = date(2025, 4, 21)
ROOT = Path(__file__).resolve().parents[2]

# A child process that opens the store as `paperbot run` does, says so, and waits to be killed.
HOLDER = """
import sys
from bot.store import Store
store = Store(sys.argv[1], single_instance=True)
print("open", flush=True)
sys.stdin.read()
"""


def test_a_second_single_instance_open_is_refused_until_the_first_closes(db_path: Path):
    first = Store(db_path, single_instance=True)
    try:
        with pytest.raises(StoreError) as caught:
            Store(db_path, single_instance=True)
        assert caught.value.reason == "in_use"
        message = str(caught.value)
        assert "another paperbot is already running" in message
        assert str(db_path) in message and f"process {os.getpid()}" in message
        assert "\n" not in message
        # Commands that only read or fetch may still share the file with the running bot.
        with Store(db_path) as reader:
            assert reader.papers.latest_day() is None
    finally:
        first.close()
    Store(db_path, single_instance=True).close()


def test_a_killed_process_does_not_leave_the_database_locked(db_path: Path):
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "open"
        with pytest.raises(StoreError, match=f"process {child.pid} holds"):
            Store(db_path, single_instance=True)
        os.kill(child.pid, signal.SIGKILL)  # a crash: no close, no cleanup
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert lock_path(db_path).exists()  # the file stays; the lock went with the process
    with Store(db_path, single_instance=True) as store:
        assert store.schema_version() > 0


async def test_async_store_passes_single_instance_through_and_releases_on_close(db_path: Path):
    running = await AsyncStore.open(db_path, single_instance=True)
    with pytest.raises(StoreError, match="already running"):
        await AsyncStore.open(db_path, single_instance=True)
    await running.close()
    again = await AsyncStore.open(db_path, single_instance=True)
    await again.close()


def test_a_folder_as_the_database_path_is_named(tmp_path: Path):
    with pytest.raises(StoreError) as caught:
        Store(tmp_path)
    assert caught.value.reason == "cannot_open"
    assert str(caught.value) == (f"opening the database: {tmp_path} is a folder; storage.path must "
                                 f"name a database file (for example {tmp_path / 'paperbot.db'})")


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError) as caught:
        Store(path, single_instance=True)
    assert caught.value.reason == "corrupt"
    assert str(caught.value).startswith(f"opening the database: {path}: the file is not an SQLite database")
    Store(tmp_path / "other.db", single_instance=True).close()
    # The failed open let go of its instance lock.
    with pytest.raises(StoreError, match="not an SQLite database"):
        Store(path, single_instance=True)


def test_quick_check_finds_a_damaged_page_and_passes_an_intact_file(db_path: Path):
    with Store(db_path) as store:
        store.papers.save_listing(MONDAY, [make_paper(f"2504.{n:05d}", abstract="word " * 200)
                                           for n in range(300)])
        assert store.integrity_problems() == []
    pages = db_path.stat().st_size // 4096
    with open(db_path, "r+b") as raw:
        raw.seek(4096 * (pages // 2))
        raw.write(b"\xff" * 64)
    with Store(db_path) as store:
        problems = store.integrity_problems()
    assert problems and "corrupt" in problems[0]


def test_a_filesystem_without_file_locks_warns_instead_of_refusing(db_path: Path, monkeypatch, caplog):
    import errno
    import fcntl

    def no_locks_here(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks_here)  # what some network mounts answer
    with Store(db_path, single_instance=True) as store:
        assert store.schema_version() > 0
    assert "a second paperbot run on this database would not be refused" in caplog.text
