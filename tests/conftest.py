"""Shared test helpers: where the recorded data lives, and a skip when it is absent."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PAPERBOT_SHARED", PROJECT_ROOT.parent / "shared"))
FIXTURES = SHARED / "fixtures"
SEEDS = SHARED / "seeds"


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


# The seed digest's announcement day, and its listing (../shared/fixtures/arxiv-listing).
SEED_DAY = date(2025, 4, 21)


@pytest.fixture(scope="session")
def seed_listing():
    from bot.arxiv.feeds import parse_listing

    body = shared_path("fixtures", "arxiv-listing", "seed-mllm-2025-04-21.atom.xml").read_bytes()
    listing = parse_listing(body)
    assert listing.feed_date == SEED_DAY and listing.papers
    return listing
