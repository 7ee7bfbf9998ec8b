"""Learned-ranking benchmark (issue 17): does a channel's order learned from 20 votes put the
papers its people want on top, and what does ranking cost a real-size day?

Quality. Real arXiv papers (the recorded corpus, ../shared/fixtures/corpus; without it a
synthetic corpus from tests/synthetic_corpus.py, whose invented text has no real subjects, so
its figures say little) are split in id order into announcement days and stored in a real SQLite
file. Each simulated channel subscribes to a broad query (`cat:astro-ph`, `quantum`, ...),
matched by the real matcher, but its people care about a finer, hidden interest: one cluster of
the papers that query matches (k-means over TF-IDF/LSA vectors of title and abstract: a subject,
not a category). On the first days a person of the channel reads the digest in the listing
order and votes: 👍 on the first 10 papers of their interest, 👎 on 10 others they saw, each vote
wrong with probability 0.1. On the later days the real `Ranker` (trained from those votes in the
store) orders each channel's digest (`build_digest(order=...)`), and precision@10 (the share of
the first 10 papers in the channel's interest) is compared with the listing order. `p_at_10_best`
is the most any order could reach (a day with fewer than 10 papers of interest caps it).

Load. The real Scheduler pass of bench_pass.py (1,000 channels, a 1,500-paper synthetic day),
once with 20 votes per channel on the previous day's papers (so the pass trains and applies
1,000 models) and once without; a 10 ms ticker measures the longest event-loop stall of each.
Then the work of a day on which no vote changed: the stored models read back and applied.

`--likes-only`: people only click 👍 (LIKES each, on papers of their interest, 10% on others),
never 👎; the threads of the vote days are recorded in the ledger as delivered, and the Ranker
learns from the papers shown and not voted on (weak negatives).

    .venv/bin/python benchmarks/bench_ranking.py [--days 4] [--vote-days 2] [--load-channels 1000] [--likes-only]

Last line: JSON {"bench":"ranking","channels":N,"votes":20,"p_at_10_listing":x,
"p_at_10_learned":y,...}. Targets: y >= 2x and y >= 0.5; load stall <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "benchmarks"))

from sklearn.cluster import KMeans  # noqa: E402
from sklearn.decomposition import TruncatedSVD  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402

from bot.digest.model import build_digest  # noqa: E402
from bot.matching import Subscription, compile_subscriptions, parse_query  # noqa: E402
from bot.models import Match, Paper  # noqa: E402
from bot.ranking import Ranker  # noqa: E402
from bot.store import AsyncStore  # noqa: E402
from bot.store.personal import PersonRef  # noqa: E402
from bot.store.votes import DOWN, UP  # noqa: E402

CORPUS = Path(os.environ.get("PAPERBOT_SHARED", PROJECT.parent / "shared")) / "fixtures" / "corpus"
SEED = 17
VOTES = 20
LIKES = 10   # --likes-only: 👍 only, no 👎
NOISE = 0.1
TOP = 10
CLUSTERS_PER_QUERY = 4
# An interest is a cluster holding this share of a broad query's papers: a finer subject, not
# the whole query, and not a handful of papers.
INTEREST_SHARE = (0.15, 0.45)
BROAD_QUERIES = [
    "cat:cond-mat", "cat:math", "cat:astro-ph", "cat:hep-th OR cat:hep-ph OR cat:gr-qc OR cat:hep-ex",
    "quantum", "field OR fields", "model", "energy", "theory", "cat:physics OR cat:nlin OR cat:q-bio",
]
# The synthetic corpus's invented text: its own broad words and categories.
SYNTHETIC_QUERIES = ["cat:cs.LG OR cat:stat.ML", "cat:cs.CV OR cat:cs.RO OR cat:cs.AI", "model", "network OR graph",
                     "learning", "data OR dataset", "cat:math OR cat:quant-ph OR cat:physics"]
FIRST_DAY = date(2007, 4, 2)
ALL_TYPES = frozenset({"new", "cross", "replace", "replace-cross"})


# --- data ---------------------------------------------------------------------------------------


def corpus_papers() -> tuple[list[Paper], str]:
    if CORPUS.is_dir():
        from bench_match import load_corpus
        return sorted(load_corpus(), key=lambda p: p.id), "recorded arXiv corpus"
    from tests.synthetic_corpus import synthetic_corpus
    return synthetic_corpus(1200, seed=SEED), "SYNTHETIC corpus (../shared absent): figures are not meaningful"


def split_days(papers: list[Paper], days: int) -> list[tuple[date, list[Paper]]]:
    size = -(-len(papers) // days)
    result = []
    for index in range(days):
        day = FIRST_DAY + timedelta(days=index)
        result.append((day, [dataclasses.replace(p, announced=day) for p in papers[index * size:(index + 1) * size]]))
    return result


@dataclasses.dataclass
class Channel:
    key: str
    query: str
    subscription: str
    interest: set[str]
    share: float


def hidden_interests(broad: dict[str, list[Paper]], queries: list[str]) -> list[Channel]:
    """One channel per cluster of a broad query's papers whose share is in INTEREST_SHARE."""
    channels = []
    for sid, papers in broad.items():
        if len(papers) < 40:
            continue
        texts = [f"{p.title} {p.abstract}" for p in papers]
        vectors = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2).fit_transform(texts)
        reduced = normalize(TruncatedSVD(50, random_state=SEED).fit_transform(vectors))
        labels = KMeans(CLUSTERS_PER_QUERY, n_init=10, random_state=SEED).fit_predict(reduced)
        for cluster in range(CLUSTERS_PER_QUERY):
            interest = {p.id for p, label in zip(papers, labels) if label == cluster}
            share = len(interest) / len(papers)
            if INTEREST_SHARE[0] <= share <= INTEREST_SHARE[1]:
                n = len(channels)
                channels.append(Channel(f"bench:W1:C{n:03d}", queries[int(sid)], sid, interest, share))
    return channels


def votes_of_a_person(channel: Channel, seen: list[Paper], rng: random.Random) -> list[tuple[str, int]]:
    """👍 on the first VOTES/2 papers of interest they read, 👎 on others they read, each vote
    wrong with probability NOISE."""
    liked = [p.id for p in seen if p.id in channel.interest][:VOTES // 2]
    others = [p.id for p in seen if p.id not in channel.interest]
    disliked = rng.sample(others, min(len(others), VOTES - len(liked)))
    votes = []
    for paper_id in liked + disliked:
        value = UP if paper_id in channel.interest else DOWN
        if rng.random() < NOISE:
            value = -value
        votes.append((paper_id, value))
    return votes


def likes_of_a_person(channel: Channel, seen: list[Paper], rng: random.Random) -> list[tuple[str, int]]:
    """Only 👍 (`--likes-only`): on the first LIKES papers of interest they read, each one with
    probability NOISE a 👍 on a paper outside their interest instead; the rest of what they saw
    gets no vote (the Ranker then learns from what was shown and passed over)."""
    liked = [p.id for p in seen if p.id in channel.interest][:LIKES]
    others = [p.id for p in seen if p.id not in channel.interest]
    votes = []
    for paper_id in liked:
        if others and rng.random() < NOISE:
            paper_id = rng.choice(others)
        votes.append((paper_id, UP))
    return list(dict(votes).items())


def precision(ids: tuple[str, ...], interest: set[str]) -> float:
    return sum(paper_id in interest for paper_id in ids[:TOP]) / TOP


# --- quality ------------------------------------------------------------------------------------


async def quality(days: int, vote_days: int, likes_only: bool = False) -> dict:
    rng = random.Random(SEED)
    papers, source = corpus_papers()
    queries = BROAD_QUERIES if CORPUS.is_dir() else SYNTHETIC_QUERIES
    by_day = split_days(papers, days)
    subscriptions = [Subscription(id=str(i), query=parse_query(q), types=ALL_TYPES)
                     for i, q in enumerate(queries)]
    matcher = compile_subscriptions(subscriptions)
    matches: dict[date, dict[str, list[Match]]] = {}
    broad: dict[str, list[Paper]] = defaultdict(list)
    for day, listing in by_day:
        matches[day] = defaultdict(list)
        for match in matcher.match(listing):
            matches[day][match.subscription_id].append(match)
            broad[match.subscription_id].append(match.paper)
    channels = hidden_interests(broad, queries)

    with tempfile.TemporaryDirectory() as tmp:
        store = await AsyncStore.open(Path(tmp) / "ranking.db")
        try:
            for day, listing in by_day:
                await store.run(lambda s, day=day, listing=listing: s.papers.save_listing(day, listing))
            for n, channel in enumerate(channels):
                threads = {day: build_digest(channel.key, "c", day, matches[day][channel.subscription]).paper_ids
                           for day, _ in by_day[:vote_days]}
                papers_by_id = {p.id: p for _, listing in by_day[:vote_days] for p in listing}
                seen = [papers_by_id[pid] for ids in threads.values() for pid in ids]
                votes = (likes_of_a_person if likes_only else votes_of_a_person)(channel, seen, rng)
                person = PersonRef("bench", "W1", f"U{n:03d}")

                def record(s, key=channel.key, votes=votes, person=person, threads=threads):
                    # The threads as delivered (the ledger): what the channel was shown.
                    for day, ids in threads.items():
                        s.ledger.record_papers(key, day, ids, f"thread-{day}")
                    for paper_id, value in votes:
                        s.votes.cast(key, paper_id, person, value)
                await store.run(record)

            ranker = Ranker(store)
            listing_p, learned_p, best_p = [], [], []
            trained = []
            for day, _ in by_day[vote_days:]:
                requests = {c.key: [m.paper for m in matches[day][c.subscription]] for c in channels}
                started = time.perf_counter()
                scores = await ranker.scores_for(requests)
                if ranker.last_training:
                    trained = ranker.last_training
                    train_wall = time.perf_counter() - started
                for channel in channels:
                    day_matches = matches[day][channel.subscription]
                    listing = build_digest(channel.key, "c", day, day_matches).paper_ids
                    learned = build_digest(channel.key, "c", day, day_matches, order=scores[channel.key]).paper_ids
                    listing_p.append(precision(listing, channel.interest))
                    learned_p.append(precision(learned, channel.interest))
                    best_p.append(min(TOP, sum(pid in channel.interest for pid in listing)) / TOP)
        finally:
            await store.close()
    models = [t for t in trained if t.blob is not None]
    return {
        "source": source, "channels": len(channels), "days": days, "vote_days": vote_days,
        "votes_kind": "likes-only" if likes_only else "likes-and-dislikes",
        "papers": len(papers), "ranked_channels": len(models),
        "p_at_10_listing": round(statistics.mean(listing_p), 3),
        "p_at_10_learned": round(statistics.mean(learned_p), 3),
        "p_at_10_best": round(statistics.mean(best_p), 3),
        "train_ms_median": round(statistics.median(t.seconds for t in models) * 1000, 1) if models else None,
        "train_ms_max": round(max(t.seconds for t in models) * 1000, 1) if models else None,
        "train_all_seconds": round(train_wall, 2) if models else None,
        "model_bytes_median": int(statistics.median(len(t.blob) for t in models)) if models else None,
        "model_bytes_max": max(len(t.blob) for t in models) if models else None,
        "interest_share_median": round(statistics.median(c.share for c in channels), 2),
    }


# --- load ---------------------------------------------------------------------------------------


async def load(channels: int, papers: int, subscriptions: int, with_votes: bool) -> dict:
    """One real scheduler pass (bench_pass.py's), optionally with VOTES votes per channel."""
    from bench_pass import FixedClock, NoArxiv, NOW, synthetic_day, synthetic_queries, timed_pass
    from bot.arxiv.calendar import AnnouncementCalendar
    from bot.config import ArxivSettings
    from bot.daily import relevance_orders
    from bot.destinations.channels import ChannelSubscriptions
    from bot.scheduler import Scheduler
    from bot.store.subscriptions import ChannelRef
    from tests.fakes.thread_sink import MemoryChat, MemoryThreadSink

    rng = random.Random(12)
    calendar = AnnouncementCalendar(())
    day = calendar.latest_feed_day(NOW)
    previous = calendar.previous_feed_day(day)
    with tempfile.TemporaryDirectory() as tmp:
        store = await AsyncStore.open(Path(tmp) / "pass.db")
        listing = synthetic_day(papers, rng, day)
        earlier = [dataclasses.replace(p, id=f"2610.{i:05d}", announced=previous)
                   for i, p in enumerate(synthetic_day(papers, rng, previous))]
        queries = synthetic_queries(subscriptions, rng)
        vote_rng = random.Random(5)

        def seed(s) -> None:
            s.papers.save_listing(previous, earlier)
            s.papers.save_listing(day, listing)
            with s.transaction():
                for i, query in enumerate(queries):
                    s.channels.add_subscription(ChannelRef("memory", "W1", f"C{i % channels:05d}"), query, now=NOW)
            s.ledger.record_announcement_day(day, "announced", len(listing), NOW)
            if with_votes:
                for c in range(channels):
                    person = PersonRef("memory", "W1", f"U{c:05d}")
                    for n, paper in enumerate(vote_rng.sample(earlier, VOTES)):
                        s.votes.cast(f"memory:W1:C{c:05d}", paper.id, person, UP if n % 2 else DOWN, now=NOW)

        await store.run(seed)
        scheduler = Scheduler(arxiv_settings=ArxivSettings(), store=store, arxiv=NoArxiv(),
                              directories=[ChannelSubscriptions(store, "memory")],
                              sinks={"memory": MemoryThreadSink(MemoryChat(), per_message=10)}, clock=FixedClock())
        seconds, stall, report = await timed_pass(scheduler)
        models = await store.read(lambda s: s.db.execute("SELECT count(*) FROM relevance_models").fetchone()[0])
        # The next day's work when no vote changed: stored models read back and applied, no training.
        directory = await scheduler._directory()
        matches = await scheduler.day_matches(day, directory.subscriptions)
        started = time.perf_counter()
        await relevance_orders(Ranker(store), directory.destinations, matches)
        rescoring = time.perf_counter() - started
        await store.close()
    return {"seconds": round(seconds, 2), "stall_ms": round(stall, 1), "models": models,
            "delivered": len(report.deliveries), "rescoring_seconds": round(rescoring, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--vote-days", type=int, default=2)
    parser.add_argument("--load-channels", type=int, default=1000, help="0 skips the load part")
    parser.add_argument("--load-papers", type=int, default=1500)
    parser.add_argument("--load-subscriptions", type=int, default=10_000)
    parser.add_argument("--likes-only", action="store_true",
                        help=f"people vote only 👍 ({LIKES} each, no 👎); the papers shown and not voted "
                             "on are the model's weak negatives")
    args = parser.parse_args()

    result = {"bench": "ranking"}
    q = asyncio.run(quality(args.days, args.vote_days, args.likes_only))
    votes = LIKES if args.likes_only else VOTES
    print(f"quality: {q['source']}, {q['papers']} papers in {q['days']} days; votes on the first "
          f"{q['vote_days']}, measured on the others")
    kind = "👍 only" if args.likes_only else "👍 and 👎"
    print(f"  {q['channels']} channels ({q['ranked_channels']} with a model), {votes} votes each ({kind}, "
          f"{int(NOISE * 100)}% wrong), interests of median share {q['interest_share_median']}")
    print(f"  precision@{TOP}: listing {q['p_at_10_listing']:.3f}, learned {q['p_at_10_learned']:.3f}, "
          f"best possible {q['p_at_10_best']:.3f}")
    print(f"  training: median {q['train_ms_median']} ms, max {q['train_ms_max']} ms per channel "
          f"({q['train_all_seconds']} s for all, with scoring); model size median {q['model_bytes_median']} "
          f"bytes, max {q['model_bytes_max']} bytes")
    result.update(channels=q["channels"], votes=votes, p_at_10_listing=q["p_at_10_listing"],
                  p_at_10_learned=q["p_at_10_learned"])
    result.update({k: v for k, v in q.items() if k not in result and k != "source"})

    if args.load_channels:
        base = asyncio.run(load(args.load_channels, args.load_papers, args.load_subscriptions, False))
        ranked = asyncio.run(load(args.load_channels, args.load_papers, args.load_subscriptions, True))
        print(f"load: scheduler pass, {args.load_channels} channels, {args.load_papers}-paper day, "
              f"{args.load_subscriptions} subscriptions")
        print(f"  without votes {base['seconds']} s (longest loop stall {base['stall_ms']} ms); with "
              f"{VOTES} votes per channel {ranked['seconds']} s, {ranked['models']} models trained and applied "
              f"(longest loop stall {ranked['stall_ms']} ms)")
        print(f"  the next day, no vote changed: {ranked['rescoring_seconds']} s to read back and apply "
              f"{ranked['models']} models (fresh ranker, no training)")
        result.update(load_channels=args.load_channels, load_papers=args.load_papers,
                      load_pass_seconds=ranked["seconds"], load_pass_seconds_without_votes=base["seconds"],
                      load_models=ranked["models"], load_rescoring_seconds=ranked["rescoring_seconds"], max_loop_stall_ms=max(ranked["stall_ms"], base["stall_ms"]),
                      load_stall_ms=ranked["stall_ms"], load_stall_ms_without_votes=base["stall_ms"])
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
