"""The CLI with an unusable database: one line naming the path, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.store import Store

ROOT = Path(__file__).resolve().parents[2]

# Every command that opens the database, with the arguments it needs. The arXiv URLs point at a
# closed port: the database is opened (and refused) before any request would be made.
COMMANDS = [
    ["run", "--ops-port", "1"],
    ["fetch"],
    ["search", "diffusion"],
    ["test-query", "VLM"],
    ["digest"],
]


def problem_lines(stderr: str) -> list[str]:
    """The message lines (log lines, such as `run`'s "starting", carry a timestamp first)."""
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if line.startswith("paperbot: ")]


def write_config(tmp_path: Path, storage: Path) -> Path:
    config = {
        "arxiv": {"categories": ["cs.CV"], "min_interval_seconds": 0, "enrich": False,
                  "listing_url": "http://127.0.0.1:9/atom/", "api_url": "http://127.0.0.1:9/api",
                  "user_agent": "paperbot-tests (mailto:t@example.org)"},
        "storage": {"path": str(storage)},
        "topics": {"VLMs": {"keywords": ["VLM"], "markdown": str(tmp_path / "digests")}},
    }
    path = tmp_path / "paperbot.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_folder_as_storage_path_is_one_line_in_every_command(tmp_path, capsys, command):
    folder = tmp_path / "data"
    folder.mkdir()
    config = write_config(tmp_path, folder)
    assert main(["--config", str(config), *command]) == 1
    assert problem_lines(capsys.readouterr().err) == [
        f"paperbot: opening the database: {folder} is a folder; storage.path must name "
        f"a database file (for example {folder / 'paperbot.db'})"]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_file_that_is_not_sqlite_is_one_line_in_every_command(tmp_path, capsys, command):
    stray = tmp_path / "notes.txt"
    stray.write_text("my notes, not a database\n" * 200)
    config = write_config(tmp_path, stray)
    assert main(["--config", str(config), *command]) == 1
    [line] = problem_lines(capsys.readouterr().err)
    assert line.startswith(f"paperbot: opening the database: {stray}: the file is not an SQLite database")


def test_a_second_run_on_the_same_database_refuses_to_start(tmp_path):
    """The test holds the lock as a running `paperbot run` would; a real second process starts."""
    database = tmp_path / "data" / "paperbot.db"
    config = write_config(tmp_path, database)
    with Store(database, single_instance=True):
        second = subprocess.run([sys.executable, "-m", "bot.cli", "--config", str(config), "run"],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert problem_lines(second.stderr) == [f"paperbot: opening the database: another paperbot is already running on "
                     f"{database} (process {os.getpid()} holds {database}.lock); "
                     "stop it first, or give this one its own storage.path"]


def check_config(tmp_path: Path, storage: Path, capsys) -> tuple[int, str]:
    code = main(["--config", str(write_config(tmp_path, storage)), "check-config"])
    captured = capsys.readouterr()
    return code, captured.err if code else captured.out


def test_check_config_names_an_unusable_storage_path_without_creating_anything(tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    code, err = check_config(tmp_path, folder, capsys)
    assert code == 2 and f"  - storage.path: {folder} is a folder; storage.path must name" in err

    stray = tmp_path / "notes.txt"
    stray.write_text("my notes, not a database\n")
    code, err = check_config(tmp_path, stray, capsys)
    assert code == 2 and f"  - storage.path: {stray}: the file is not an SQLite database" in err

    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, err = check_config(tmp_path, blocker / "sub" / "p.db", capsys)
    assert code == 2 and f"cannot create {blocker / 'sub' / 'p.db'}: {blocker} is a file, not a folder" in err


def test_check_config_accepts_a_new_path_and_an_existing_database(tmp_path, capsys):
    fresh = tmp_path / "new" / "deeper" / "p.db"
    code, out = check_config(tmp_path, fresh, capsys)
    assert code == 0 and "OK" in out
    assert not (tmp_path / "new").exists()  # checking created nothing
    existing = tmp_path / "p.db"
    Store(existing).close()
    code, out = check_config(tmp_path, existing, capsys)
    assert code == 0 and "OK" in out
    empty = tmp_path / "empty.db"  # what Store creates before SQLite writes the header
    empty.touch()
    assert check_config(tmp_path, empty, capsys)[0] == 0
