"""`paperbot digest`: fetch (or read a saved feed), match every topic, write Markdown. One shot.

A drop-in for the seed system's cron job: no scheduler, no ledger (rewriting a day's files is
idempotent), the same matching and rendering as `paperbot run`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.arxiv.client import ArxivClient
from bot.arxiv.errors import ArxivError
from bot.config import Settings
from bot.daily import digest_for, match_day, relevance_orders
from bot.destinations.topics import topic_destination, topic_subscription
from bot.ingest import ANNOUNCED, fetch_and_store, ingest_file
from bot.matching import QueryLimits
from bot.platforms.markdown import MarkdownSink
from bot.ranking import Ranker
from bot.store import AsyncStore

log = logging.getLogger(__name__)

DEFAULT_OUT_DIR = "digests"


@dataclass(frozen=True)
class DigestRequest:
    day: date | None = None
    topics: tuple[str, ...] = ()
    out_dir: str | None = None
    feed_file: str | None = None
    categories: tuple[str, ...] = ()


async def make_digests(settings: Settings, request: DigestRequest) -> int:
    unknown = [t for t in request.topics if t not in settings.topics]
    if unknown:
        raise ValueError(f"unknown topic(s) {', '.join(unknown)}; configured: {', '.join(settings.topics) or 'none'}")
    topics = {name: settings.topics[name] for name in (request.topics or settings.topics)}
    if not topics:
        raise ValueError("the configuration has no topics to render")

    async with await AsyncStore.open(settings.storage.path) as store:
        async with ArxivClient(settings.arxiv) as arxiv:
            day = await _resolve_day(settings, request, store, arxiv)
            if day is NO_ANNOUNCEMENT:
                return 0  # a weekend or holiday is not a failure (as `paperbot fetch` says too)
            if day is None:
                return 1
            limits = QueryLimits.from_settings(settings.limits)
            subscriptions = [topic_subscription(name, topic, limits) for name, topic in topics.items()]
            # A saved feed means "no network": no enrichment either.
            day_matches = await match_day(store, day, subscriptions,
                                              arxiv=None if request.feed_file else arxiv)
        destinations = {name: topic_destination(name, topic, settings,
                                                out_dir=request.out_dir or topic.markdown or DEFAULT_OUT_DIR)
                        for name, topic in topics.items()}
        # Topics that asked for `order: relevance` (and have votes to learn from).
        orders = await relevance_orders(Ranker(store), list(destinations.values()), day_matches)
    sink = MarkdownSink()
    for name, destination in destinations.items():
        digest = digest_for(destination, day, day_matches, orders.get(destination.key))
        path = await sink.publish(destination, digest)
        print(f"{name}: {digest.total} papers for {day} -> {path}")
    return 0


# `_resolve_day`'s answer for an empty feed (no announcement): exit 0, like `paperbot fetch`.
NO_ANNOUNCEMENT = date.min


async def _resolve_day(settings: Settings, request: DigestRequest, store: AsyncStore,
                       arxiv: ArxivClient) -> date | None:
    """The stored day to render: from --feed, --date, or a fresh fetch."""
    if request.feed_file:
        path = Path(request.feed_file)
        if not path.is_file():
            raise ValueError(f"feed file not found: {path}")
        try:
            result = await ingest_file(store, path)
        except ArxivError as exc:
            raise ValueError(f"cannot read {path}: {exc}") from None
        if result.status != ANNOUNCED:
            print(f"{path}: the feed holds no announcement (empty feed); nothing to render")
            return NO_ANNOUNCEMENT
        return result.day
    if request.day is not None:
        stored = await store.run(lambda s: s.papers.listing_days())
        if request.day in stored:
            return request.day
    categories = list(request.categories) or settings.arxiv.categories
    try:
        result = await fetch_and_store(arxiv, store, categories, conditional=False)
    except ArxivError as exc:
        print(f"digest: fetching arXiv failed: {exc}")
        return None
    if result.status != ANNOUNCED:
        print(f"no announcement in today's feed ({result.day or 'undated'}): a weekend or holiday")
        return NO_ANNOUNCEMENT
    if request.day is not None and result.day != request.day:
        raise ValueError(f"{request.day} is not stored and arXiv's feed holds only its latest day ({result.day})")
    return result.day
