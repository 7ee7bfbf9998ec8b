"""One announcement day, from stored papers to one Digest per destination; shared by the scheduler
and the one-shot `paperbot digest`.

The order matters: every subscription is matched in ONE matcher pass; then the matched papers
(and only those) are enriched from the arXiv API and stored; only then are digests built, from a
lookup of the (enriched) papers. Matches are never rebuilt: a Match names its paper, and a
digest shows the lookup's record of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from bot import metrics
from bot.arxiv.client import ArxivClient
from bot.collector import collector_paused
from bot.destinations import RELEVANCE, Destination
from bot.digest.model import Digest, digest_from_table
from bot.ingest import enrich_and_store
from bot.matching import CompiledMatcher as Matcher, Subscription, compile_subscriptions
from bot.matching.table import MatchTable
from bot.models import Match, Paper
from bot.ranking import Ranker
from bot.store import AsyncStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayMatches:
    """One matcher pass over a day: the matches as a compact table (per subscription the papers
    and scores; hits and Match records only on request), and the matched papers by id as digests
    should show them (enriched when the API answered)."""

    day: date
    table: MatchTable = field(default_factory=MatchTable.empty)
    papers: Mapping[str, Paper] = field(default_factory=dict)

    def get(self, subscription_id: str, default: Sequence[Match] = ()) -> Sequence[Match]:
        """One subscription's matches as Match records (made now; a digest does not need them)."""
        return self.table.matches(subscription_id) or default


async def match_day(store: AsyncStore, day: date, subscriptions: Sequence[Subscription], *,
                    arxiv: ArxivClient | None = None, matcher: Matcher | None = None) -> DayMatches:
    """Every subscription against the day's papers in ONE matcher pass; then the matched papers
    enriched (one API request per 100 of them) and stored, when an arXiv client is given.

    `matcher`: `subscriptions` already compiled (the scheduler keeps it across passes and days
    while the subscriptions stay the same). Compiling and matching run in a worker thread: at
    100k subscriptions they take seconds the event loop must not lose."""
    papers = await store.read(lambda s: s.papers.for_day(day), operation="reading a listing")

    def match_all() -> tuple[MatchTable, dict[str, Paper]]:
        with collector_paused():  # see bot.collector: no multi-100 ms collection in here
            compiled = matcher if matcher is not None else compile_subscriptions(subscriptions)
            table = compiled.match_day(papers)
            listed = table.papers
            return table, {listed[index].id: listed[index] for index in table.matched_indices()}

    table, matched = await asyncio.to_thread(match_all)
    if arxiv is not None and matched:
        matched.update((p.id, p) for p in await enrich_and_store(arxiv, store, list(matched.values())))
    metrics.PAPERS_MATCHED.inc(len(matched))
    log.info("matched %s: %d of %d papers for %d subscriptions", day, len(matched), len(papers),
             len(subscriptions))
    return DayMatches(day, table, matched)


def digest_for(destination: Destination, day: date, day_matches: DayMatches | None,
               order: Mapping[str, float] | None = None) -> Digest:
    """The destination's digest: the matches of its subscriptions, merged and ordered, plus the
    personal matches of the people who asked to be mentioned there (from the same pass). Built
    from the day's table: no Match record per match, hits only for the items shown.

    `order`: the destination's learned relevance per paper id (`bot.ranking`), applied before
    `max_papers` cuts the list; None keeps the match order."""
    day_matches = day_matches or DayMatches(day)
    papers = day_matches.papers
    table = day_matches.table
    digest = digest_from_table(destination.key, destination.title, day, table,
                               destination.subscription_ids,
                               subscriptions_text=destination.subscriptions_text,
                               max_items=destination.max_papers, papers=papers, order=order)
    if not destination.mention_subscriptions:
        return digest
    mentions: dict[str, tuple[str, ...]] = {}
    personal: list[str] = []
    for user, subscription_ids in sorted(destination.mention_subscriptions.items()):
        if not any(table.rows(sid) for sid in subscription_ids):
            continue
        # The person's papers in their own order (score, then id), each once.
        mentions[user] = digest_from_table(destination.key, user, day, table, subscription_ids,
                                           papers=papers).paper_ids
        personal += subscription_ids
    if not mentions:
        return digest
    mention_items = digest_from_table(destination.key, destination.title, day, table, personal,
                                      papers=papers).items
    return dataclasses.replace(digest, mentions=mentions, mention_items=mention_items)


# -- the learned order (bot.ranking): one step before the digests are built --------------------


def destination_papers(destination: Destination, day_matches: DayMatches) -> list[Paper]:
    """The destination's matched papers (its subscriptions', each once), as its digest shows them."""
    papers: dict[str, Paper] = {}
    listed = day_matches.table.papers
    for sid in destination.subscription_ids:
        for chunk in day_matches.table.rows(sid):   # the table's rows: no Match records
            for index in chunk:
                paper = listed[index]
                papers.setdefault(paper.id, day_matches.papers.get(paper.id, paper))
    return list(papers.values())


async def relevance_orders(ranker: Ranker, destinations: Sequence[Destination],
                           day_matches: DayMatches) -> dict[str, dict[str, float]]:
    """The learned relevance of each destination's papers (`digest_for`'s `order`), for the
    destinations that rank by relevance and have enough votes; the others keep the match order.
    Runs off the event loop (see `Ranker`). A ranking failure costs the order, never the day."""
    ranked = [d for d in destinations if d.paper_order == RELEVANCE]
    if not ranked or not day_matches.papers:
        return {}

    def requests_by_model() -> dict[str, list[Paper]]:
        # One request per model: a topic ranked by a channel's votes (`votes_from`) asks the
        # channel's model, together with the channel's own papers.
        requests: dict[str, dict[str, Paper]] = {}
        for d in ranked:
            wanted = requests.setdefault(d.ranking_key, {})
            wanted.update((p.id, p) for p in destination_papers(d, day_matches))
        return {key: list(papers.values()) for key, papers in requests.items()}

    try:
        scores = await ranker.scores_for(await asyncio.to_thread(requests_by_model))
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("ranking %d destination(s) failed; their papers keep the match order", len(ranked))
        return {}
    return {d.key: scores[d.ranking_key] for d in ranked if scores.get(d.ranking_key)}
