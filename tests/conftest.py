"""Shared test helpers: the project's own synthetic data (tests/data/), where the recorded data
lives, and a skip when it is absent."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

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
