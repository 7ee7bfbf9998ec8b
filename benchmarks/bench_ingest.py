"""Ingest benchmark (DESIGN.md §9): a 2,000-entry listing parsed and stored in <= 3 s.

The listing is a synthetic rss.arxiv.org Atom document (`tests.fakes.arxiv_server.atom_listing`)
built from the recorded corpus (Kaggle-schema JSON lines under ../shared/fixtures/corpus): real
titles and author lists, real categories, and abstracts of 150-250 words (the corpus's 2007-era
abstracts are shorter than today's, so sentences of other corpus abstracts are appended), with a
mix of announce types as a real day has. Everything is drawn with a fixed seed.

Measured in one process run, best of three runs each (all runs printed):
  parse    `parse_listing(body)`
  store    `Store(path).save_listing(day, papers)` into a fresh SQLite file (opening the file and
           running the migrations is timed apart: it happens once per process, not per listing)
  total    parse + store of the same run, against the 3 s target
  naive    the same rows through plain sqlite3, one paper at a time with a commit each (papers
           row, FTS5 row, listings row), on the same journal mode, as the baseline the single
           transaction of save_listing is compared with
  re-save  save_listing of the same day again on the filled store (must change nothing)

    .venv/bin/python benchmarks/bench_ingest.py [--entries N] [--quick] [--runs R]

Prints a table, then a last line of JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.arxiv.feeds import parse_listing  # noqa: E402
from bot.models import Paper  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.papers import SEARCH_COLUMNS, SEARCH_TOKENIZER  # noqa: E402
from tests.fakes.arxiv_server import atom_listing  # noqa: E402

CORPUS = PROJECT.parent / "shared" / "fixtures" / "corpus"
SEED = 20250428
DAY = date(2025, 4, 28)
TARGET_SECONDS = 3.0
FULL_ENTRIES = 2000  # arXiv's cap for one listing response
QUICK_ENTRIES = 200
# Roughly the share of each type in a busy cs listing.
ANNOUNCE_MIX = (("new", 0.55), ("cross", 0.20), ("replace", 0.15), ("replace-cross", 0.10))
ABSTRACT_WORDS = (150, 250)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

T = TypeVar("T")


# --- the listing ------------------------------------------------------------------------------


def load_corpus() -> list[dict[str, Any]]:
    """Corpus records with one-line title and abstract, a list of authors and of categories."""
    records: dict[str, dict[str, Any]] = {}
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            raw = json.loads(line)
            # Commas inside parentheses are affiliations, not separators (feeds.split_authors
            # reads them the same way), so only split outside them.
            authors = [a.strip() for a in _split_outside_parentheses(raw["authors"]) if a.strip()]
            records.setdefault(raw["id"], {
                "title": " ".join(raw["title"].split()),
                "abstract": " ".join(raw["abstract"].split()),
                "authors": authors or ["Anonymous"],
                "categories": raw["categories"].split(),
            })
    return [r for r in records.values() if r["title"] and r["abstract"] and r["categories"]]


def _split_outside_parentheses(text: str) -> list[str]:
    names, depth, start = [], 0, 0
    for match in re.finditer(r"[()]|,\s*|\s+and\s+", text):
        token = match.group()
        if token == "(":
            depth += 1
        elif token == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            names.append(text[start:match.start()])
            start = match.end()
    names.append(text[start:])
    return names


def lengthen(abstract: str, others: Sequence[dict[str, Any]], rng: random.Random) -> str:
    """The abstract grown by whole sentences of other abstracts to at least a length drawn from
    ABSTRACT_WORDS, then capped at its upper bound."""
    target = rng.randint(*ABSTRACT_WORDS)
    sentences = _SENTENCE_END.split(abstract)
    words = sum(len(s.split()) for s in sentences)
    while words < target:
        extra = _SENTENCE_END.split(rng.choice(others)["abstract"])
        sentence = rng.choice(extra)
        sentences.append(sentence)
        words += len(sentence.split())
    text = " ".join(sentences).split()
    return " ".join(text[:ABSTRACT_WORDS[1]])


def listing_entries(corpus: list[dict[str, Any]], count: int, rng: random.Random) -> list[dict[str, Any]]:
    types = [t for t, _ in ANNOUNCE_MIX]
    weights = [w for _, w in ANNOUNCE_MIX]
    entries = []
    for number in range(1, count + 1):
        record = corpus[(number - 1) % len(corpus)]
        announce_type = rng.choices(types, weights)[0]
        version = 1 if announce_type in ("new", "cross") else rng.randint(2, 4)
        categories = list(record["categories"])
        if announce_type in ("cross", "replace-cross"):
            # A cross-list's primary is another archive; the feed's own category comes after it.
            if "cs.LG" not in categories:
                categories.append("cs.LG")
        entries.append({
            "id": f"2504.{number:05d}v{version}",
            "title": record["title"],
            "abstract": lengthen(record["abstract"], corpus, rng),
            "authors": record["authors"],
            "categories": categories,
            "announce_type": announce_type,
        })
    return entries


# --- the baseline -------------------------------------------------------------------------------


NAIVE_SCHEMA = f"""
CREATE TABLE papers (
    id TEXT PRIMARY KEY, version INTEGER, title TEXT NOT NULL, abstract TEXT NOT NULL,
    authors TEXT NOT NULL, categories TEXT NOT NULL, comment TEXT, journal_ref TEXT, doi TEXT,
    first_seen TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE listings (
    day TEXT NOT NULL, paper_id TEXT NOT NULL REFERENCES papers(id), announce_type TEXT NOT NULL,
    version INTEGER, position INTEGER NOT NULL, PRIMARY KEY (day, paper_id)
);
CREATE INDEX listings_day_position ON listings (day, position);
CREATE INDEX listings_paper_day ON listings (paper_id, day);
CREATE VIRTUAL TABLE papers_fts USING fts5 (
    {", ".join(SEARCH_COLUMNS)}, content=[papers], tokenize='{SEARCH_TOKENIZER}'
);
"""


def naive_store(path: Path, day: date, papers: Sequence[Paper]) -> None:
    """Each paper in its own transaction: the way a loop of `table.insert(row)` would store it."""
    conn = sqlite3.connect(path)
    try:
        # Same journal mode and foreign keys as Store, so only the transactions differ.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executescript(NAIVE_SCHEMA)
        now = "2025-04-28T04:00:00+00:00"
        day_text = day.isoformat()
        for position, paper in enumerate(papers):
            authors = json.dumps(list(paper.authors), ensure_ascii=False)
            cursor = conn.execute(
                "INSERT INTO papers (id, version, title, abstract, authors, categories, comment,"
                " journal_ref, doi, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (paper.id, paper.version, paper.title, paper.abstract, authors,
                 json.dumps(list(paper.categories), ensure_ascii=False),
                 paper.comment, paper.journal_ref, paper.doi, now, now),
            )
            conn.execute(
                "INSERT INTO papers_fts (rowid, title, abstract, authors) VALUES (?, ?, ?, ?)",
                (cursor.lastrowid, paper.title, paper.abstract, authors),
            )
            conn.execute(
                "INSERT INTO listings (day, paper_id, announce_type, version, position)"
                " VALUES (?, ?, ?, ?, ?)",
                (day_text, paper.id, paper.announce_type, paper.version, position),
            )
            conn.commit()
        stored = conn.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'the'").fetchone()
        assert stored[0] > 0, "the naive baseline indexed nothing"
    finally:
        conn.close()


# --- measuring ----------------------------------------------------------------------------------


def timed(action: Callable[[], T]) -> tuple[float, T]:
    gc.collect()
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def run_once(body: bytes, entries: int, folder: Path, run: int) -> dict[str, float]:
    parse_seconds, listing = timed(lambda: parse_listing(body))
    if len(listing.papers) != entries or listing.skipped:
        raise SystemExit(f"parse_listing read {len(listing.papers)} of {entries} entries "
                         f"(skipped: {listing.skipped[:3]})")
    if listing.feed_date != DAY:
        raise SystemExit(f"parse_listing dated the feed {listing.feed_date}, expected {DAY}")
    papers = listing.papers

    open_seconds, store = timed(lambda: Store(folder / f"run{run}.db"))
    with store:
        store_seconds, summary = timed(lambda: store.papers.save_listing(DAY, papers))
        if summary.new_papers != entries or summary.listings_added != entries:
            raise SystemExit(f"save_listing stored {summary}, expected {entries} new papers")
        resave_seconds, again = timed(lambda: store.papers.save_listing(DAY, papers))
        if again.new_papers or again.updated_papers or again.listings_added:
            raise SystemExit(f"re-saving the same day changed something: {again}")
        if len(store.papers.for_day(DAY)) != entries:
            raise SystemExit("the stored listing does not hold every paper")

    naive_seconds, _ = timed(lambda: naive_store(folder / f"naive{run}.db", DAY, papers))
    return {
        "parse": parse_seconds,
        "open": open_seconds,
        "store": store_seconds,
        "total": parse_seconds + store_seconds,
        "resave": resave_seconds,
        "naive": naive_seconds,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=FULL_ENTRIES,
                        help=f"entries in the listing (default {FULL_ENTRIES}, arXiv's cap)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ENTRIES} entries (a smoke run, not the target)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the best counts")
    parser.add_argument("--dir", type=Path, default=None,
                        help="folder for the SQLite files (default: a fresh temporary folder)")
    args = parser.parse_args(argv)
    entries = QUICK_ENTRIES if args.quick else args.entries
    if entries < 1 or args.runs < 1:
        parser.error("--entries and --runs must be at least 1")

    if not CORPUS.is_dir() or not any(CORPUS.glob("*.jsonl")):
        print(f"skipped: corpus not found at {CORPUS} (shared/fixtures must sit beside the project)",
              file=sys.stderr)
        return 0

    rng = random.Random(SEED)
    corpus = load_corpus()
    listing = listing_entries(corpus, entries, rng)
    body = atom_listing(listing, title="cs.AI+cs.CL+cs.CV+cs.LG updates on arXiv.org", day=DAY.isoformat())
    words = [len(e["abstract"].split()) for e in listing]
    types = Counter(e["announce_type"] for e in listing)
    categories = {c for e in listing for c in e["categories"]}
    print(f"listing: {entries} entries from {len(corpus)} corpus records, {len(body) / 1e6:.2f} MB; "
          f"abstracts {min(words)}-{max(words)} words (mean {sum(words) / len(words):.0f}); "
          f"{len(categories)} categories; " + ", ".join(f"{t} {types[t]}" for t, _ in ANNOUNCE_MIX))

    with tempfile.TemporaryDirectory(prefix="bench_ingest_", dir=args.dir) as folder:
        print(f"SQLite files in {folder}")
        runs = [run_once(body, entries, Path(folder), run) for run in range(1, args.runs + 1)]

    labels = {
        "parse": "parse_listing",
        "store": "save_listing (one transaction)",
        "total": "parse + store",
        "naive": "naive store (commit per paper)",
        "resave": "re-save same day",
        "open": "open + migrate (once per process)",
    }
    best = {key: min(run[key] for run in runs) for key in labels}
    header = f"{'figure':<36}" + "".join(f"{'run ' + str(i):>10}" for i in range(1, len(runs) + 1))
    print()
    print(header + f"{'best':>10}")
    print("-" * (len(header) + 10))
    for key, label in labels.items():
        print(f"{label:<36}" + "".join(f"{run[key]:>10.3f}" for run in runs) + f"{best[key]:>10.3f}")
    ratio = best["naive"] / best["store"]
    verdict = "meets" if best["total"] <= TARGET_SECONDS else "MISSES"
    scale = "" if entries == FULL_ENTRIES else f" (at {entries} entries, not the {FULL_ENTRIES} of the target)"
    print()
    print(f"parse + store {best['total']:.3f} s {verdict} the {TARGET_SECONDS:.0f} s target{scale}; "
          f"one transaction is {ratio:.1f}x faster than a commit per paper; "
          f"{entries / best['total']:.0f} entries/s")
    print(json.dumps({
        "bench": "ingest",
        "entries": entries,
        "parse_seconds": round(best["parse"], 4),
        "store_seconds": round(best["store"], 4),
        "seconds": round(best["total"], 4),
        "naive_store_seconds": round(best["naive"], 4),
        "ratio": round(ratio, 1),
        "resave_seconds": round(best["resave"], 4),
        "target_seconds": TARGET_SECONDS,
    }, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
