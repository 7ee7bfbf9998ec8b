"""Real arXiv records through the store, and how long a full-size listing takes to save."""

from __future__ import annotations

import json
import random
import re
import time
from datetime import date
from pathlib import Path

from bot.models import Paper
from bot.store import Store
from tests.conftest import shared_path

from .conftest import make_paper

MONDAY = date(2025, 4, 21)
LISTING_SIZE = 2000  # arXiv's cap for one listing response


def paper_from_snapshot(record: dict) -> Paper:
    """A Kaggle-snapshot record as a Paper (a loose conversion, just for storage tests)."""
    authors = re.split(r",\s*|\s+and\s+", " ".join(record["authors"].split()))
    return Paper(
        id=record["id"],
        title=" ".join(record["title"].split()),
        abstract=" ".join(record["abstract"].split()),
        authors=tuple(a for a in authors if a),
        categories=tuple(record["categories"].split()),
        version=int(record["versions"][-1]["version"].lstrip("v")),
        comment=record.get("comments"),
        journal_ref=record.get("journal-ref"),
        doi=record.get("doi"),
    )


def test_real_records_round_trip_and_are_searchable(store: Store):
    corpus = shared_path("fixtures", "corpus", "arxiv-0704-derived.jsonl")
    records = [json.loads(line) for line in corpus.read_text("utf-8").splitlines()]
    # The corpus holds one id twice; a listing holds each paper once, the first occurrence.
    first_of_each: dict[str, Paper] = {}
    for record in records:
        first_of_each.setdefault(record["id"], paper_from_snapshot(record))
    papers = list(first_of_each.values())
    assert any("/" in p.id for p in papers)  # old-style ids are part of it
    summary = store.papers.save_listing(MONDAY, papers)
    assert summary.new_papers == summary.listings_added == len(papers)

    assert store.papers.for_day(MONDAY) == [p.with_changes(announced=MONDAY) for p in papers]
    sample = papers[len(papers) // 2]
    rarest_title_word = max(re.findall(r"[A-Za-z]{6,}", sample.title), key=len)
    assert sample.id in [p.id for p in store.papers.search(rarest_title_word, limit=50)]


def synthetic_listing(size: int, seed: int = 7) -> list[Paper]:
    rng = random.Random(seed)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 11)))
        for _ in range(5000)
    ]
    kinds = ["new"] * 6 + ["cross"] * 2 + ["replace", "replace-cross"]
    return [
        make_paper(
            f"2504.{n:05d}",
            title=" ".join(rng.choices(words, k=rng.randint(6, 16))).capitalize(),
            abstract=" ".join(rng.choices(words, k=rng.randint(120, 250))) + ".",
            authors=tuple(
                f"{rng.choice(words).title()} {rng.choice(words).title()}"
                for _ in range(rng.randint(1, 12))
            ),
            categories=tuple(rng.sample(["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO"], 3)),
            announce_type=rng.choice(kinds),
            version=rng.randint(1, 3),
        )
        for n in range(size)
    ]


def test_saving_a_full_listing_stores_it_once_and_reports_the_time(db_path: Path, capsys):
    papers = synthetic_listing(LISTING_SIZE)
    with Store(db_path) as store:
        started = time.perf_counter()
        summary = store.papers.save_listing(MONDAY, papers)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = store.papers.save_listing(MONDAY, papers)
        second = time.perf_counter() - started
        started = time.perf_counter()
        read = store.papers.for_day(MONDAY)
        reading = time.perf_counter() - started
    assert summary.listings_added == LISTING_SIZE and again.listings_added == 0
    assert len(read) == LISTING_SIZE
    with capsys.disabled():
        print(
            f"\n[store ingest] {LISTING_SIZE} papers: save {first:.3f} s, "
            f"re-save {second:.3f} s, read {reading:.3f} s"
        )
    # The design budget (3 s for parsing and storing together) is measured by
    # benchmarks/bench_ingest.py, not asserted here: a timer in a test fails on a busy machine.
