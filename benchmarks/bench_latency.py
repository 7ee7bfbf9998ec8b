"""Latency of the early edition: minutes from arXiv's 20:00 ET announcement to the last matched paper
of the day posted, through the real scheduler on a simulated clock.

A local fake arXiv serves, per configured category, listing pages in arXiv's markup that switch to
the new day `--page-lag` seconds after 20:00 ET, a robots.txt with arXiv's `Crawl-delay: 15`, and
the feed rebuilt at midnight. The bot (EarlyEditionScheduler, ArxivClient with the 3 s pacing of the
terms of use, listing-page fetcher with the crawl delay, all waits on the simulated clock) posts to
`--channels` chat threads (in memory) and a Markdown topic, over `--days` consecutive announcement
evenings. `--page-misses K` drops K matching papers from the pages, so the feed must add them at
midnight (reconciliation; X then measures the feed).

The same run is repeated with a single channel: requests per day must not depend on the channels.

    .venv/bin/python benchmarks/bench_latency.py [--channels 50] [--days 3] [--page-lag 30]

Last line: JSON {"bench": "latency", "minutes_after_announcement": X, "duplicates": 0, "missed": 0,
"requests": N} with X the worst day and N the HTTP requests to arXiv per announcement day.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.arxiv.calendar import AnnouncementCalendar  # noqa: E402
from bot.arxiv.client import ArxivClient  # noqa: E402
from bot.arxiv.feeds import parse_listing  # noqa: E402
from bot.arxiv.page_fetcher import ListingPageFetcher  # noqa: E402
from bot.config import Settings, TopicSettings  # noqa: E402
from bot.destinations import Directory
from bot.destinations.topics import ConfiguredTopics  # noqa: E402
from bot.destinations import Destination  # noqa: E402
from bot.early_edition import EarlyEditionScheduler  # noqa: E402
from bot.platforms.markdown import MarkdownSink  # noqa: E402
from bot.store import AsyncStore  # noqa: E402
from tests.fakes.arxiv_pages import ListingSite  # noqa: E402
from tests.fakes.arxiv_server import FakeArxiv, atom_listing  # noqa: E402
from tests.fakes.clock import FakeClock  # noqa: E402
from tests.fakes.thread_sink import MemoryChat, MemoryThreadSink  # noqa: E402

EASTERN = ZoneInfo("America/New_York")
CATEGORIES = ["cs.CV", "cs.CL"]
FIRST_EVENING = datetime(2026, 11, 30, 19, 0, tzinfo=EASTERN)  # Monday: Tuesday's announcement at 20:00


def day_entries(day: date, papers: int, matching: int) -> list[dict]:
    stem = f"{day:%y%m}.{day.day:02d}"
    entries = []
    for i in range(papers):
        primary = CATEGORIES[i % len(CATEGORIES)]
        cross = CATEGORIES[(i + 1) % len(CATEGORIES)]
        vlm = i < matching
        entries.append({
            "id": f"{stem}{i:03d}v1",
            "title": (f"A VLM for task {i}" if vlm else f"Parsing study {i}"),
            "abstract": f"We study {'vision-language models' if vlm else 'syntax'} in setting {i}.",
            "authors": ["Ann Author", "Bo Writer"],
            "categories": [primary, cross] if i % 3 == 0 else [primary],
            "announce_type": "new" if i % 7 else "replace",
        })
    return entries


class Channels:
    """The configured topic plus `n` chat channels receiving its subscriptions."""

    def __init__(self, settings: Settings, n: int) -> None:
        self.topics = ConfiguredTopics(settings)
        self.n = n

    async def load(self) -> Directory:
        loaded = await self.topics.load()
        ids = tuple(s.id for s in loaded.subscriptions)
        channels = tuple(Destination(key=f"memory:C{i}", platform="memory", address=f"C{i}", title="VLMs",
                                     subscription_ids=ids) for i in range(self.n))
        return Directory(loaded.destinations + channels, loaded.subscriptions)


async def run(channels: int, days: int, papers: int, matching: int, page_lag: float, page_misses: int) -> dict:
    calendar = AnnouncementCalendar([])
    async with FakeArxiv() as fake:
        site = ListingSite(fake)
        clock = FakeClock(FIRST_EVENING)
        chat = MemoryChat()
        posted_at: list[tuple[datetime, tuple[str, ...]]] = []
        sink = MemoryThreadSink(chat, per_message=10,
                                after_post=lambda kind, ids: posted_at.append((clock.now(), tuple(ids))))
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                arxiv=fake.settings(categories=CATEGORIES, enrich=False, min_interval_seconds=3,
                                    listing_pages_url=site.base_url, early_edition=True, holidays=[]),
                topics={"VLMs": TopicSettings(keywords=["VLM"], markdown=str(Path(tmp) / "digests"))},
            )
            store = await AsyncStore.open(Path(tmp) / "p.db", clock=clock)
            monotonic = lambda: clock.now().timestamp()  # noqa: E731 - the simulated clock for the pacers
            arxiv = ArxivClient(settings.arxiv, clock=monotonic, sleep=clock.sleep)
            fetcher = ListingPageFetcher(arxiv, clock=monotonic, sleep=clock.sleep)
            scheduler = EarlyEditionScheduler(
                arxiv_settings=settings.arxiv, store=store, arxiv=arxiv, fetcher=fetcher,
                directories=[Channels(settings, channels)], sinks={"markdown": MarkdownSink(), "memory": sink},
                clock=clock)

            # arXiv's state over time: day D's pages from 20:00 ET (+lag) the evening before, its feed at midnight.
            first_day = calendar.next_feed_day(FIRST_EVENING.date())
            feed_days = [first_day]
            while len(feed_days) < days:
                feed_days.append(calendar.next_feed_day(feed_days[-1]))
            content = {d: day_entries(d, papers, matching) for d in feed_days}
            previous = calendar.previous_feed_day(first_day)
            content[previous] = day_entries(previous, papers, matching)
            joined = "+".join(CATEGORIES)

            def feed_body(d: date) -> bytes:
                return atom_listing(content[d], title=f"{joined} updates on arXiv.org", day=d.isoformat())

            def publish_pages(d: date, at: datetime) -> None:
                listed = parse_listing(feed_body(d)).papers
                dropped = {e["id"].split("v")[0] for e in content[d][:page_misses]}
                for category in CATEGORIES:
                    site.publish(category, [p for p in listed if p.id not in dropped], d, at=at)

            fake.serve_listing(CATEGORIES, feed_body(previous), etag=f'"{previous}"')
            publish_pages(previous, calendar.announcement_time(previous))
            # The evening before starts with the previous day stored, as a running bot would have it.
            await store.run(lambda s: s.papers.save_listing(previous, parse_listing(feed_body(previous)).papers))
            await store.run(lambda s: s.ledger.record_announcement_day(previous, "announced", papers, clock.now()))

            end = calendar.rebuild_time(feed_days[-1]) + timedelta(hours=2)
            pages_published: set[date] = set()
            feeds_published: set[date] = set()
            passes = 0
            try:
                while clock.now() < end:
                    now = clock.now()
                    for d in feed_days:
                        if d not in pages_published and now >= calendar.announcement_time(d) + timedelta(seconds=page_lag):
                            publish_pages(d, now)
                            pages_published.add(d)
                        if d not in feeds_published and now >= calendar.rebuild_time(d):
                            fake.serve_listing(CATEGORIES, feed_body(d), etag=f'"{d}"')
                            feeds_published.add(d)
                    report = await scheduler.run_once()
                    passes += 1
                    # Only the scheduler decides when to look again; arXiv's timing is unknown to it.
                    clock.set(max(report.next_wake, clock.now() + timedelta(seconds=1)))
            finally:
                await arxiv.close()
                await store.close()

        # What the topic must deliver: the matching papers of the types it follows (new, cross).
        matching_ids = {d: {e["id"].split("v")[0] for e in content[d][:matching] if e["announce_type"] != "replace"}
                        for d in feed_days}
        latencies = []
        for d in feed_days:
            times = [t for t, ids in posted_at for pid in ids if pid in matching_ids[d]]
            latencies.append((max(times) - calendar.announcement_time(d)).total_seconds() / 60 if times else None)
        duplicates = 0
        missed = 0
        for i in range(channels):
            posted = Counter(chat.papers_in(f"C{i}"))
            duplicates += sum(n - 1 for n in posted.values() if n > 1)
            for d in feed_days:
                missed += len(matching_ids[d] - set(posted))
        return {"latencies": latencies, "duplicates": duplicates, "missed": missed,
                "requests": len(fake.requests), "page_requests": len(site.page_requests()),
                "requests_per_day": len(fake.requests) / days, "passes": passes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=50, help="chat channels receiving the topic")
    parser.add_argument("--days", type=int, default=3, help="announcement evenings to simulate")
    parser.add_argument("--papers", type=int, default=300, help="papers per announcement")
    parser.add_argument("--matching", type=int, default=30, help="of which match the topic")
    parser.add_argument("--page-lag", type=float, default=30.0, help="seconds after 20:00 ET the pages switch")
    parser.add_argument("--page-misses", type=int, default=0, help="matching papers the pages leave out")
    args = parser.parse_args()

    many = asyncio.run(run(args.channels, args.days, args.papers, args.matching, args.page_lag, args.page_misses))
    one = asyncio.run(run(1, args.days, args.papers, args.matching, args.page_lag, args.page_misses))
    for label, result in ((f"{args.channels} channels", many), ("1 channel", one)):
        latencies = ", ".join(f"{x:.1f}" if x is not None else "none" for x in result["latencies"])
        print(f"{label:>12}: minutes after 20:00 ET per day [{latencies}]; duplicates {result['duplicates']}, "
              f"missed {result['missed']}; arXiv requests {result['requests']} "
              f"({result['page_requests']} listing pages, {result['requests_per_day']:.1f}/day), "
              f"{result['passes']} scheduler passes")
    known = [x for x in many["latencies"] if x is not None]
    worst = max(known) if len(known) == len(many["latencies"]) else None
    print(f"requests per day independent of channels: {many['requests'] == one['requests']}")
    print(json.dumps({"bench": "latency", "minutes_after_announcement": round(worst, 2) if worst is not None else None,
                      "duplicates": many["duplicates"], "missed": many["missed"],
                      "requests": round(many["requests_per_day"], 1), "channels": args.channels,
                      "requests_1_channel": round(one["requests_per_day"], 1), "page_lag_seconds": args.page_lag,
                      "page_misses": args.page_misses}))


if __name__ == "__main__":
    main()
