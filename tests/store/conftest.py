"""Helpers for the store tests: a real SQLite file in tmp_path, a settable clock, paper records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.models import Paper
from bot.store import Store


class SteppingClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = datetime(2025, 4, 21, 0, 5, tzinfo=timezone.utc)):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def make_paper(paper_id: str, **fields) -> Paper:
    defaults = dict(
        title=f"Title of {paper_id}",
        abstract=f"Abstract of {paper_id}.",
        authors=("Ada Lovelace", "Alan Turing"),
        categories=("cs.CV", "cs.AI"),
        announce_type="new",
        version=1,
    )
    defaults.update(fields)
    return Paper(id=paper_id, **defaults)


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "paperbot.db"


@pytest.fixture
def store(db_path: Path, clock: SteppingClock):
    opened = Store(db_path, clock=clock)
    yield opened
    opened.close()
