"""Shared test helpers: the project's own synthetic data (tests/data/), where the recorded data
lives, and a skip when it is absent."""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PAPERBOT_SHARED", PROJECT_ROOT.parent / "shared"))
FIXTURES = SHARED / "fixtures"
SEEDS = SHARED / "seeds"
# Synthetic data written for the tests (tests/data/README.md): always present, even in a fresh
# clone without ../shared.
DATA = Path(__file__).resolve().parent / "data"


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test with the reason when shared/ is not beside us."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"recorded data not available: {path} (shared/ is not beside the project)")
    return path


@pytest.fixture
def fixtures_dir() -> Path:
    return shared_path("fixtures")


@pytest.fixture
def seeds_dir() -> Path:
    return shared_path("seeds")


# The seed digest's announcement day, and its listing (../shared/fixtures/arxiv-listing). The
# synthetic listing is dated on the same day, so SEED_DAY is the day of both.
SEED_DAY = date(2025, 4, 21)
SYNTHETIC_LISTING = DATA / "listing-2025-04-21.atom.xml"


@pytest.fixture(scope="session")
def seed_listing():
    from bot.arxiv.feeds import parse_listing

    body = shared_path("fixtures", "arxiv-listing", "seed-mllm-2025-04-21.atom.xml").read_bytes()
    listing = parse_listing(body)
    assert listing.feed_date == SEED_DAY and listing.papers
    return listing


@pytest.fixture(scope="session")
def synthetic_listing():
    """The synthetic 2025-04-21 listing (tests/data/listing-2025-04-21.atom.xml): 20 invented papers
    in arXiv's Atom shape, for tests that need a realistic day but not the recorded one."""
    from bot.arxiv.feeds import parse_listing

    listing = parse_listing(SYNTHETIC_LISTING.read_bytes())
    assert listing.feed_date == SEED_DAY and len(listing.papers) == 20 and not listing.skipped
    return listing


# A deadline, not a wait: a loaded machine may take this long, an idle one returns at once.
EVENTUALLY_TIMEOUT = 60.0


async def eventually(condition: Callable[[], Any], *, what: str,
                     timeout: float = EVENTUALLY_TIMEOUT) -> Any:
    """Poll `condition` (a function, or a coroutine function) until it returns something truthy,
    and return that. Wait on the very thing the test then asserts, never on a sign that usually
    comes before it: the poll only fails the test when `what` has not happened by the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)
