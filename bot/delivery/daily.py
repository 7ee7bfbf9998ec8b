"""One announcement day's matching, shared by the scheduler and the one-shot `paperbot digest`."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date

from bot import metrics
from bot.arxiv.client import ArxivClient
from bot.delivery.sink import Destination
from bot.digest.model import Digest, build_digest
from bot.ingest import enrich_and_store
from bot.matching import Subscription, compile_subscriptions
from bot.models import Match
from bot.store import AsyncStore

log = logging.getLogger(__name__)


async def match_day(store: AsyncStore, day: date, subscriptions: Sequence[Subscription], *,
                    arxiv: ArxivClient | None = None) -> dict[str, list[Match]]:
    """Every subscription against the day's papers in ONE matcher pass; matched papers enriched
    (one API request per 100 of them) when an arXiv client is given. Keyed by subscription id."""
    papers = await store.run(lambda s: s.papers_for_day(day))
    matcher = await asyncio.to_thread(compile_subscriptions, subscriptions)
    matches = await asyncio.to_thread(matcher.match, papers)
    matched = {m.paper.id: m.paper for m in matches}
    enriched: dict = {}
    if arxiv is not None:
        enriched = {p.id: p for p in await enrich_and_store(arxiv, store, list(matched.values()))}
    by_subscription: dict[str, list[Match]] = defaultdict(list)
    for m in matches:
        paper = enriched.get(m.paper.id, m.paper)
        by_subscription[m.subscription_id].append(
            m if paper is m.paper else Match(m.subscription_id, paper, m.hits, m.score))
    metrics.PAPERS_MATCHED.inc(len(matched))
    log.info("matched %s: %d of %d papers for %d subscriptions", day, len(matched), len(papers),
             len(subscriptions))
    return dict(by_subscription)


def digest_for(destination: Destination, day: date, by_subscription: Mapping[str, Sequence[Match]]) -> Digest:
    """The destination's digest: the matches of its subscriptions, merged and ordered, plus the
    personal matches of the people who asked to be mentioned there (from the same pass)."""
    matches = [m for sid in destination.subscription_ids for m in by_subscription.get(sid, ())]
    digest = build_digest(destination.key, destination.title, day, matches,
                          subscriptions_text=destination.subscriptions_text,
                          max_items=destination.max_papers)
    if not destination.mention_subscriptions:
        return digest
    mentions: dict[str, tuple[str, ...]] = {}
    personal_matches: list[Match] = []
    for user, subscription_ids in sorted(destination.mention_subscriptions.items()):
        own = [m for sid in subscription_ids for m in by_subscription.get(sid, ())]
        if not own:
            continue
        # The person's papers in their own order (score, then id), each once.
        ordered = build_digest(destination.key, user, day, own).paper_ids
        mentions[user] = ordered
        personal_matches += own
    if not mentions:
        return digest
    mention_items = build_digest(destination.key, destination.title, day, personal_matches).items
    return dataclasses.replace(digest, mentions=mentions, mention_items=mention_items)
