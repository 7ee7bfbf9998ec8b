"""Fetch the day's listing (conditionally) and store it: shared by `paperbot fetch`, `digest`, `run`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.arxiv.client import ArxivClient
from bot.arxiv.errors import FutureDatedFeed
from bot.arxiv.feeds import Listing, parse_listing
from bot.models import Paper
from bot.store import AsyncStore, SaveSummary

log = logging.getLogger(__name__)

ANNOUNCED, EMPTY, NOT_MODIFIED = "announced", "empty", "not_modified"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """`status`: `announced` (papers stored for `day`), `empty` (arXiv made no announcement: a
    weekend or holiday feed) or `not_modified` (304: nothing new since the last fetch)."""

    status: str
    day: date | None
    summary: SaveSummary | None = None
    papers: int = 0
    requests: int = 0
    truncated: tuple[str, ...] = ()


async def store_listing(store: AsyncStore, listing: Listing, *, fallback_day: date | None = None) -> IngestResult:
    day = listing.feed_date or fallback_day
    if listing.is_empty or not listing.papers:
        return IngestResult(EMPTY, day)
    if day is None:
        raise ValueError("the listing carries no date; pass the announcement day explicitly")
    papers = listing.papers
    summary = await store.run(lambda s: s.papers.save_listing(day, papers))
    return IngestResult(ANNOUNCED, day, summary, len(papers))


async def fetch_and_store(arxiv: ArxivClient, store: AsyncStore, categories: Sequence[str], *,
                          conditional: bool = True, not_after: date | None = None) -> IngestResult:
    """One listing fetch for all `categories`; the papers stored under the feed's date.

    `not_after` (today, US Eastern): a feed dated later is refused with `FutureDatedFeed`,
    nothing stored and no validators saved, so the next poll fetches it afresh.

    Conditional GET validators are kept per URL in the store, so a 304 costs arXiv nothing and
    stores nothing new. Raises the arXiv client's errors (FeedError, MalformedFeed, FetchFailed).
    """
    url = arxiv.listing_url(list(categories))
    state = await store.run(lambda s: s.papers.get_fetch_state(url)) if conditional else None
    fetch = await arxiv.fetch_listing(
        categories,
        etag=state.etag if state else None,
        last_modified=state.last_modified if state else None,
    )
    if fetch.not_modified:
        return IngestResult(NOT_MODIFIED, None, requests=fetch.requests)
    assert fetch.listing is not None
    feed_date = fetch.listing.feed_date
    if not_after is not None and feed_date is not None and feed_date > not_after:
        raise FutureDatedFeed(feed_date, not_after, url=url)
    result = await store_listing(store, fetch.listing)
    # Validators are saved only once the listing is stored: a crash in between re-fetches.
    await store.run(lambda s: s.papers.save_fetch_state(url, fetch.etag, fetch.last_modified, 200))
    if fetch.truncated:
        log.warning("arXiv's 2000-item cap truncated the feed of %s; some papers are missing",
                    ", ".join(fetch.truncated))
    return IngestResult(result.status, result.day, result.summary, result.papers,
                        fetch.requests, fetch.truncated)


async def ingest_file(store: AsyncStore, path: Path) -> IngestResult:
    """Store a saved listing file (Atom or RSS), no network."""
    body = path.read_bytes()
    listing = await asyncio.to_thread(parse_listing, body)
    return await store_listing(store, listing)


async def enrich_and_store(arxiv: ArxivClient, store: AsyncStore, papers: Sequence[Paper]) -> list[Paper]:
    """Ask the API about `papers` (venue comment, journal ref, DOI, true primary category) and keep
    the answers. Enrichment is optional: on failure the papers come back as they were."""
    if not papers or not arxiv.settings.enrich:
        return list(papers)
    try:
        enriched = await arxiv.enrich(papers)
    except Exception as exc:  # noqa: BLE001 - a failed enrichment must not stop the digest
        log.warning("enrichment of %d papers failed, posting them without venue details: %s", len(papers), exc)
        return list(papers)

    def save(s) -> None:
        with s.transaction():
            for paper in enriched:
                s.papers.save_enrichment(paper.id, comment=paper.comment, journal_ref=paper.journal_ref,
                                  doi=paper.doi, categories=list(paper.categories))

    await store.run(save)
    return enriched
