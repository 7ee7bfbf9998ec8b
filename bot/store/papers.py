"""Papers, daily listings, full-text search and fetch state: the schema (migration 1, and the
authors' affiliations added by `add_paper_affiliations`) and the `Papers` repository
(`store.papers`)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlite_utils

from bot.models import ANNOUNCE_TYPES, Paper
from bot.store.errors import StoreError
from bot.store.repository import Repository, operation

SEARCH_COLUMNS = ("title", "abstract", "authors")
# bm25 weights, in SEARCH_COLUMNS order: a word in the title says more than one in the abstract.
SEARCH_WEIGHTS = (3.0, 1.0, 2.0)
# Porter stemming so "models" finds "model"; accents folded so "Kastner" finds "Kästner".
SEARCH_TOKENIZER = "porter unicode61 remove_diacritics 2"

# SQLite's default limit on bound parameters is 32766 nowadays, but older builds allow 999.
_IDS_PER_QUERY = 500
_VERSIONED_ID = re.compile(r"v\d+$")


def create_paper_tables(db: sqlite_utils.Database) -> None:
    types = ", ".join(f"'{t}'" for t in ANNOUNCE_TYPES)
    db.executescript(
        f"""
        CREATE TABLE papers (
            id TEXT PRIMARY KEY,          -- versionless: 2504.13365, hep-th/9901001
            version INTEGER,
            title TEXT NOT NULL,
            abstract TEXT NOT NULL,
            authors TEXT NOT NULL,        -- JSON list
            categories TEXT NOT NULL,     -- JSON list, primary first
            comment TEXT,
            journal_ref TEXT,
            doi TEXT,
            first_seen TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE listings (
            day TEXT NOT NULL,            -- ISO date of the announcement
            paper_id TEXT NOT NULL REFERENCES papers(id),
            announce_type TEXT NOT NULL CHECK (announce_type IN ({types})),
            version INTEGER,
            position INTEGER NOT NULL,    -- order in the feed, across split requests
            PRIMARY KEY (day, paper_id)
        );
        CREATE INDEX listings_day_position ON listings (day, position);
        CREATE INDEX listings_paper_day ON listings (paper_id, day);
        CREATE TABLE fetch_state (
            url TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            fetched_at TEXT NOT NULL,
            last_status INTEGER
        );
        """
    )
    # External-content FTS5 keyed on papers' rowid, with triggers so every insert, update and
    # delete re-indexes. (A VACUUM may renumber implicit rowids: run rebuild_search_index after.)
    db["papers"].enable_fts(SEARCH_COLUMNS, create_triggers=True, tokenize=SEARCH_TOKENIZER)


def add_paper_affiliations(db: sqlite_utils.Database) -> None:
    """Keep each author's affiliation beside the names (issue 15): the feeds write "Jane Doe
    (University of X)", the name alone is the author (matched by `au:`), the affiliation is kept
    for later use. A JSON list parallel to `authors` ("" for an author without one), NULL when
    the source gave none. Not in the full-text index: searching names must not find countries."""
    db.execute("ALTER TABLE papers ADD COLUMN affiliations TEXT")


@dataclass(frozen=True, slots=True)
class SaveSummary:
    """What `save_listing` changed: all zero when the day was already saved."""

    new_papers: int = 0
    updated_papers: int = 0
    listings_added: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FetchState:
    """The validators of the last fetch of a URL, for a conditional GET next time."""

    url: str
    etag: str | None
    last_modified: str | None
    fetched_at: datetime
    last_status: int | None


class Papers(Repository):
    """`store.papers`: arXiv papers, each day's listing, full-text search, feed fetch state."""

    # -- writing ---------------------------------------------------------------------------

    @operation("saving a listing")
    def save_listing(self, day: date, papers: Sequence[Paper]) -> SaveSummary:
        """Upsert the papers and record them as `day`'s listing, in one transaction."""
        unique = _first_of_each_id(papers)
        for paper in unique:
            _check_paper(paper)
        now = self._stamp()
        db = self._db
        day_text = day.isoformat()
        ids = [p.id for p in unique]
        with self._transaction():
            stored = {row["id"]: row for row in _select_paper_rows(db, ids)}
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            for paper in unique:
                row = stored.get(paper.id)
                if row is None:
                    inserts.append(_new_row(paper, now))
                    continue
                merged = _merge(row, paper)
                if merged != row:
                    merged["updated_at"] = now
                    updates.append(merged)
            if inserts:
                db.conn.executemany(
                    "INSERT INTO papers (id, version, title, abstract, authors, affiliations,"
                    " categories, comment, journal_ref, doi, first_seen, updated_at) VALUES (:id,"
                    " :version, :title, :abstract, :authors, :affiliations, :categories, :comment,"
                    " :journal_ref, :doi, :first_seen, :updated_at)",
                    inserts,
                )
            if updates:
                db.conn.executemany(
                    "UPDATE papers SET version = :version, title = :title, abstract = :abstract,"
                    " authors = :authors, affiliations = :affiliations, categories = :categories,"
                    " comment = :comment,"
                    " journal_ref = :journal_ref, doi = :doi, updated_at = :updated_at"
                    " WHERE id = :id",
                    updates,
                )
            listed = set(_listed_ids(db, day_text, ids))
            last_position = db.execute(
                "SELECT coalesce(max(position), -1) FROM listings WHERE day = ?", [day_text]
            ).fetchone()[0]
            fresh = [p for p in unique if p.id not in listed]
            db.conn.executemany(
                "INSERT INTO listings (day, paper_id, announce_type, version, position)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (day_text, p.id, p.announce_type, p.version, last_position + 1 + offset)
                    for offset, p in enumerate(fresh)
                ],
            )
        by_type = Counter(p.announce_type for p in fresh)
        return SaveSummary(
            new_papers=len(inserts),
            updated_papers=len(updates),
            listings_added=len(fresh),
            by_type={t: by_type[t] for t in ANNOUNCE_TYPES if by_type[t]},
        )

    @operation("saving enrichment")
    def save_enrichment(
        self,
        paper_id: str,
        *,
        comment: str | None,
        journal_ref: str | None,
        doi: str | None,
        categories: Sequence[str] | None = None,
    ) -> None:
        """Record what the arXiv API says about a stored paper (it is authoritative: None clears)."""
        assignments = "comment = ?, journal_ref = ?, doi = ?, updated_at = ?"
        values: list[Any] = [comment, journal_ref, doi, self._stamp()]
        if categories is not None:
            if not categories:
                raise StoreError("saving enrichment", f"{paper_id}: categories must not be empty",
                                 reason="invalid")
            assignments += ", categories = ?"
            values.append(_json(categories))
        cursor = self._db.execute(f"UPDATE papers SET {assignments} WHERE id = ?", [*values, paper_id])
        if cursor.rowcount == 0:
            raise StoreError("saving enrichment", f"no paper {paper_id!r} in the store",
                             reason="unknown_paper")

    @operation("saving fetch state")
    def save_fetch_state(
        self, url: str, etag: str | None, last_modified: str | None, status: int | None
    ) -> None:
        self._db.execute(
            "INSERT INTO fetch_state (url, etag, last_modified, fetched_at, last_status)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,"
            " last_modified = excluded.last_modified, fetched_at = excluded.fetched_at,"
            " last_status = excluded.last_status",
            [url, etag, last_modified, self._stamp(), status],
        )

    @operation("rebuilding the search index")
    def rebuild_search_index(self) -> None:
        """Re-create the full-text index from the papers table (needed after a VACUUM, which may
        renumber the rowids the index refers to)."""
        self._db["papers"].rebuild_fts()

    # -- reading ---------------------------------------------------------------------------

    @operation("reading a listing")
    def for_day(self, day: date, types: Collection[str] | None = None) -> list[Paper]:
        """The day's listing in feed order, optionally only some announce types."""
        sql = (
            f"SELECT {_PAPER_COLUMNS} FROM listings l JOIN papers p ON p.id = l.paper_id"
            " WHERE l.day = ?"
        )
        params: list[Any] = [day.isoformat()]
        if types is not None:
            wanted = _check_types(types)
            if not wanted:
                return []
            sql += f" AND l.announce_type IN ({', '.join('?' for _ in wanted)})"
            params.extend(wanted)
        sql += " ORDER BY l.position"
        return [_paper(row) for row in self._db.query(sql, params)]

    @operation("listing announcement days")
    def listing_days(self, limit: int | None = None) -> list[date]:
        sql = "SELECT DISTINCT day FROM listings ORDER BY day DESC"
        params: list[Any] = []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(limit, 0))
        return [date.fromisoformat(row[0]) for row in self._db.execute(sql, params).fetchall()]

    @operation("finding the latest announcement day")
    def latest_day(self) -> date | None:
        value = self._db.execute("SELECT max(day) FROM listings").fetchone()[0]
        return date.fromisoformat(value) if value else None

    @operation("finding the latest announcement day")
    def latest_day_version(self) -> tuple[date | None, int, str | None]:
        """(latest day, papers listed that day, newest change to one of them): a cheap value
        that changes whenever that day's listing or one of its papers does (a new day, a
        re-saved listing, enrichment), for caches of the latest day."""
        day = self.latest_day()
        if day is None:
            return None, 0, None
        count, newest = self._db.execute(
            "SELECT count(*), max(p.updated_at) FROM listings l JOIN papers p ON p.id = l.paper_id"
            " WHERE l.day = ?", [day.isoformat()]).fetchone()
        return day, count, newest

    @operation("reading papers")
    def get_many(self, ids: Iterable[str]) -> dict[str, Paper]:
        """The stored papers among `ids` (in that order), each with its latest listing."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Paper] = {}
        for chunk in _chunks(wanted):
            sql = (
                f"SELECT {_PAPER_COLUMNS} FROM papers p {_LATEST_LISTING}"
                f" WHERE p.id IN ({', '.join('?' for _ in chunk)})"
            )
            for row in self._db.query(sql, chunk):
                found[row["id"]] = _paper(row)
        return {paper_id: found[paper_id] for paper_id in wanted if paper_id in found}

    @operation("searching papers")
    def search(self, text: str, limit: int = 20, day: date | None = None) -> list[Paper]:
        """Papers whose title, abstract or authors hold every word of `text`, best first (bm25)."""
        expression = fts_query(text)
        if expression is None or limit <= 0:
            return []
        weights = ", ".join(str(w) for w in SEARCH_WEIGHTS)
        params: list[Any] = []
        if day is None:
            listing = _LATEST_LISTING
        else:
            listing = "JOIN listings l ON l.paper_id = p.id AND l.day = ?"
            params.append(day.isoformat())
        sql = (
            f"SELECT {_PAPER_COLUMNS} FROM papers_fts JOIN papers p ON p.rowid = papers_fts.rowid"
            f" {listing} WHERE papers_fts MATCH ?"
            f" ORDER BY bm25(papers_fts, {weights}), p.id LIMIT ?"
        )
        params.extend([expression, limit])
        return [_paper(row) for row in self._db.query(sql, params)]

    @operation("reading fetch state")
    def get_fetch_state(self, url: str) -> FetchState | None:
        row = self._db.execute(
            "SELECT url, etag, last_modified, fetched_at, last_status FROM fetch_state WHERE url = ?",
            [url],
        ).fetchone()
        if row is None:
            return None
        return FetchState(
            url=row[0],
            etag=row[1],
            last_modified=row[2],
            fetched_at=datetime.fromisoformat(row[3]),
            last_status=row[4],
        )


_PAPER_COLUMNS = (
    "p.id, p.title, p.abstract, p.authors, p.affiliations, p.categories, p.comment,"
    " p.journal_ref, p.doi,"
    " coalesce(l.version, p.version) AS version, l.day, l.announce_type"
)
# The paper's most recent listing, when the caller has no particular day in mind.
_LATEST_LISTING = (
    "LEFT JOIN listings l ON l.rowid = (SELECT rowid FROM listings"
    " WHERE paper_id = p.id ORDER BY day DESC LIMIT 1)"
)


def fts_query(text: str) -> str | None:
    """User text as an FTS5 expression that cannot be a syntax error: every whitespace-separated
    word becomes a quoted phrase (all must match), so `NEAR(`, `col:x`, `-x`, `*` are just words.
    None when nothing searchable is left."""
    # Each word once: all must match anyway, and a word repeated 100 times made SQLite do the
    # same (slow, for a common word) work 100 times.
    phrases = dict.fromkeys(
        '"' + word.replace('"', '""') + '"'
        for word in text.split()
        if any(ch.isalnum() for ch in word)
    )
    return " ".join(phrases) if phrases else None


# ---------------------------------------------------------------------------------------------
# Rows <-> records


def _json(values: Iterable[str]) -> str:
    # ensure_ascii=False keeps "Kästner" a word for the FTS tokenizer (not "K\u00e4stner").
    return json.dumps(list(values), ensure_ascii=False)


def _affiliations_json(paper: Paper) -> str | None:
    """The affiliations as stored: one per author, or NULL when the source gave none (or they
    do not line up with the authors, which a well-formed Paper never has)."""
    if not any(paper.affiliations) or len(paper.affiliations) != len(paper.authors):
        return None
    return _json(paper.affiliations)


def _new_row(paper: Paper, now: str) -> dict[str, Any]:
    return {
        "id": paper.id,
        "version": paper.version,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": _json(paper.authors),
        "affiliations": _affiliations_json(paper),
        "categories": _json(paper.categories),
        "comment": paper.comment,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "first_seen": now,
        "updated_at": now,
    }


def _merge(row: dict[str, Any], paper: Paper) -> dict[str, Any]:
    """The stored row after seeing `paper` again: a strictly newer version replaces the content;
    enrichment fields are kept unless the new record has them."""
    merged = dict(row)
    stored_version = row["version"]
    if stored_version is None or (paper.version is not None and paper.version > stored_version):
        merged.update(
            version=paper.version if paper.version is not None else stored_version,
            title=paper.title,
            abstract=paper.abstract,
            authors=_json(paper.authors),
            affiliations=_affiliations_json(paper),
            categories=_json(paper.categories),
        )
    elif merged["affiliations"] is None and paper.affiliations:
        # the same version again, from a source that gives affiliations
        merged["affiliations"] = _affiliations_json(paper)
    for name in ("comment", "journal_ref", "doi"):
        value = getattr(paper, name)
        if value is not None:
            merged[name] = value
    return merged


def _paper(row: dict[str, Any]) -> Paper:
    day = row["day"]
    return Paper(
        id=row["id"],
        title=row["title"],
        abstract=row["abstract"],
        authors=tuple(json.loads(row["authors"])),
        affiliations=tuple(json.loads(row["affiliations"])) if row["affiliations"] else (),
        categories=tuple(json.loads(row["categories"])),
        announce_type=row["announce_type"] or "new",
        version=row["version"],
        announced=date.fromisoformat(day) if day else None,
        comment=row["comment"],
        journal_ref=row["journal_ref"],
        doi=row["doi"],
    )


def _select_paper_rows(db: sqlite_utils.Database, ids: Sequence[str]) -> Iterator[dict]:
    for chunk in _chunks(ids):
        placeholders = ", ".join("?" for _ in chunk)
        yield from db.query(
            "SELECT id, version, title, abstract, authors, affiliations, categories, comment,"
            f" journal_ref, doi, first_seen, updated_at FROM papers WHERE id IN ({placeholders})",
            chunk,
        )


def _listed_ids(db: sqlite_utils.Database, day_text: str, ids: Sequence[str]) -> Iterator[str]:
    for chunk in _chunks(ids):
        placeholders = ", ".join("?" for _ in chunk)
        for row in db.execute(
            f"SELECT paper_id FROM listings WHERE day = ? AND paper_id IN ({placeholders})",
            [day_text, *chunk],
        ):
            yield row[0]


def _chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _IDS_PER_QUERY):
        yield list(items[start : start + _IDS_PER_QUERY])


def _first_of_each_id(papers: Sequence[Paper]) -> list[Paper]:
    # Split feed requests can repeat a paper; the first occurrence keeps its place and type.
    seen: dict[str, Paper] = {}
    for paper in papers:
        seen.setdefault(paper.id, paper)
    return list(seen.values())


def _check_types(types: Collection[str]) -> list[str]:
    if isinstance(types, str):
        types = [types]
    unknown = sorted(set(types) - set(ANNOUNCE_TYPES))
    if unknown:
        raise StoreError(
            "reading a listing",
            f"unknown announce type(s) {', '.join(unknown)}; known: {', '.join(ANNOUNCE_TYPES)}",
            reason="invalid",
        )
    return [t for t in ANNOUNCE_TYPES if t in set(types)]


def _check_paper(paper: Paper) -> None:
    problem = None
    if not paper.id or paper.id != paper.id.strip():
        problem = f"paper id {paper.id!r} is empty or has surrounding spaces"
    elif _VERSIONED_ID.search(paper.id):
        problem = f"paper id {paper.id!r} carries a version; store ids without it"
    elif paper.announce_type not in ANNOUNCE_TYPES:
        problem = (
            f"paper {paper.id}: unknown announce type {paper.announce_type!r}; "
            f"known: {', '.join(ANNOUNCE_TYPES)}"
        )
    elif paper.version is not None and paper.version < 1:
        problem = f"paper {paper.id}: version {paper.version} is not a positive number"
    if problem:
        raise StoreError("saving a listing", problem, reason="invalid")
