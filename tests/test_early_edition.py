"""The early edition through the real scheduler on a simulated clock: listing pages at 20:00 ET,
the feed at midnight, a Markdown topic and a chat thread (in memory), a real store."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot import metrics
from bot.arxiv.client import ArxivClient
from bot.arxiv.feeds import parse_listing
from bot.arxiv.page_fetcher import ListingPageFetcher
from bot.config import Settings, TopicSettings
from bot.destinations import Directory
from bot.destinations.topics import ConfiguredTopics
from bot.destinations import Destination
from bot.early_edition import EarlyCalendar, EarlyEditionScheduler
from bot.platforms.markdown import MarkdownSink
from bot.scheduler import Scheduler
from bot.store import AsyncStore
from tests.conftest import eventually
from tests.fakes.arxiv_pages import ListingSite
from tests.fakes.arxiv_server import FakeArxiv, atom_listing
from tests.fakes.clock import FakeClock
from tests.fakes.thread_sink import MemoryChat, MemoryThreadSink

EASTERN = ZoneInfo("America/New_York")
CATEGORY = "cs.CV"


def eastern(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=EASTERN)


def entries_for(day: str, n_matching: int = 3, n_other: int = 2) -> list[dict]:
    stem = f"{day[2:4]}{day[5:7]}.{day[8:10]}"
    return [{"id": f"{stem}{i:03d}v1", "title": f"A VLM for task {i} on {day}",
             "abstract": f"We study vision-language models, case {i}.", "authors": ["Ann Author", "Bo Writer"],
             "categories": [CATEGORY, "cs.CL"]} for i in range(n_matching)] + \
           [{"id": f"{stem}{500 + i:03d}v1", "title": f"Graph theory note {i}", "abstract": "Nothing about vision.",
             "authors": ["C. Other"], "categories": [CATEGORY]} for i in range(n_other)]


def feed(day: str, entries: list[dict]) -> bytes:
    return atom_listing(entries, title=f"{CATEGORY} updates on arXiv.org", day=day)


class WithChatChannel:
    """The configured topics plus one chat channel receiving the same subscriptions."""

    def __init__(self, settings: Settings) -> None:
        self.topics = ConfiguredTopics(settings)

    async def load(self) -> Directory:
        loaded = await self.topics.load()
        channel = Destination(key="memory:C1", platform="memory", address="C1", title="VLMs",
                              subscription_ids=tuple(s.id for s in loaded.subscriptions))
        return Directory(loaded.destinations + (channel,), loaded.subscriptions)


class Harness:
    def __init__(self, fake: FakeArxiv, tmp_path: Path, start: datetime, *, early: bool = True) -> None:
        self.fake = fake
        self.site = ListingSite(fake)
        self.early = early
        self.out = tmp_path / "digests"
        self.db_path = tmp_path / "data" / "p.db"
        self.clock = FakeClock(start)
        self.chat = MemoryChat()
        self.settings = Settings(
            arxiv=fake.settings(categories=[CATEGORY], enrich=False, backoff_base_seconds=0,
                                listing_pages_url=self.site.base_url, early_edition=early),
            topics={"VLMs": TopicSettings(keywords=["VLM"], markdown=str(self.out))},
        )
        self.closers: list = []

    async def scheduler(self) -> Scheduler:
        store = await AsyncStore.open(self.db_path, clock=self.clock)
        arxiv = ArxivClient(self.settings.arxiv)
        self.closers += [arxiv.close, store.close]
        kwargs = dict(arxiv_settings=self.settings.arxiv, store=store, arxiv=arxiv,
                      directories=[WithChatChannel(self.settings)],
                      sinks={"markdown": MarkdownSink(), "memory": MemoryThreadSink(self.chat)}, clock=self.clock)
        if not self.early:
            return Scheduler(**kwargs)
        fetcher = ListingPageFetcher(arxiv, clock=lambda: self.clock.now().timestamp(), sleep=self.clock.sleep)
        return EarlyEditionScheduler(fetcher=fetcher, **kwargs)

    async def close(self) -> None:
        for close in reversed(self.closers):
            await close()
        self.closers.clear()

    def publish_pages(self, day: str, entries: list[dict]) -> None:
        papers = parse_listing(feed(day, entries)).papers
        self.site.publish(CATEGORY, papers, date.fromisoformat(day))

    def file(self, day: str) -> str:
        return (self.out / "VLMs" / f"{day}.md").read_text()

    def chat_papers(self) -> list[str]:
        return self.chat.papers_in("C1")


def metric(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def fake():
    async with FakeArxiv() as server:
        yield server


def test_the_early_calendar_makes_a_day_available_at_its_announcement():
    calendar = EarlyCalendar()
    assert calendar.latest_feed_day(eastern(2026, 11, 23, 19, 59)) == date(2026, 11, 23)
    assert calendar.latest_feed_day(eastern(2026, 11, 23, 20, 0)) == date(2026, 11, 24)
    assert calendar.latest_feed_day(eastern(2026, 11, 22, 20, 0)) == date(2026, 11, 23)  # Sunday evening
    assert calendar.latest_feed_day(eastern(2026, 11, 20, 21, 0)) == date(2026, 11, 20)  # no Friday announcement
    # Thanksgiving 2026-11-26 is a holiday: Wednesday evening announces nothing new.
    holidays = EarlyCalendar([date(2026, 11, 26)])
    assert holidays.latest_feed_day(eastern(2026, 11, 25, 21, 0)) == date(2026, 11, 25)
    assert calendar.rebuild_time(date(2026, 11, 24)) == eastern(2026, 11, 23, 20)
    assert calendar.feed_rebuild_time(date(2026, 11, 24)) == eastern(2026, 11, 24)


async def test_pages_deliver_minutes_after_the_announcement_and_the_feed_fills_the_gap(fake, tmp_path):
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 19, 0))
    monday, tuesday = entries_for("2026-11-23"), entries_for("2026-11-24", n_matching=4)
    fake.serve_listing(CATEGORY, feed("2026-11-23", monday), etag='"mon"')
    h.publish_pages("2026-11-23", monday)
    scheduler = await h.scheduler()
    try:
        report = await scheduler.run_once()  # Monday from the feed (the pages are not needed)
        assert report.target_day == date(2026, 11, 23) and h.site.page_requests() == []
        assert report.next_wake == eastern(2026, 11, 23, 20)  # Tuesday's announcement

        # 20:00: the pages still show Monday -> another round in 2 minutes.
        h.clock.set(report.next_wake)
        report = await scheduler.run_once()
        assert report.target_day == date(2026, 11, 24) and report.day_status == "announced"
        assert report.next_wake == eastern(2026, 11, 23, 20, 2)
        assert not (h.out / "VLMs" / "2026-11-24.md").exists()

        # arXiv publishes; the page misses one matching paper that the feed will have, and shows
        # another's TeX accent converted (arXiv's tex2utf), where the feed keeps the TeX.
        tuesday[1]["abstract"] = 'Schr\\"odinger meets a VLM.'
        on_page = [dict(e, abstract="Schrödinger meets a VLM.") if e is tuesday[1] else e
                   for e in tuesday if not e["id"].startswith("2611.24003")]
        h.publish_pages("2026-11-24", on_page)
        h.clock.set(report.next_wake)
        from_pages = metric("paperbot_listing_source_days_total", source="pages")
        report = await scheduler.run_once()
        assert metric("paperbot_listing_source_days_total", source="pages") == from_pages + 1
        assert "2611.24002" in h.file("2026-11-24") and "2611.24003" not in h.file("2026-11-24")
        assert "Schrödinger" in h.file("2026-11-24")
        assert sorted(h.chat_papers()) == ["2611.23000", "2611.23001", "2611.23002",
                                           "2611.24000", "2611.24001", "2611.24002"]
        assert report.next_wake == eastern(2026, 11, 24)  # the feed rebuild: reconcile then
        status = await scheduler.listing_status()
        assert status["source"] == "pages" and status["day"] == "2026-11-24"

        # Midnight: the feed, with the missed paper, is added to the same thread and file.
        fake.serve_listing(CATEGORY, feed("2026-11-24", tuesday), etag='"tue"')
        h.clock.set(report.next_wake)
        report = await scheduler.run_once()
        assert "2611.24003" in h.file("2026-11-24")
        assert "Schrödinger" not in h.file("2026-11-24") and 'Schr\\"odinger' in h.file("2026-11-24")
        papers = h.chat_papers()
        assert len(papers) == len(set(papers)) == 7  # nothing posted twice
        tuesday_thread = {m.thread for m in h.chat.messages if "2611.24003" in m.paper_ids}
        assert tuesday_thread == {m.thread for m in h.chat.messages if "2611.24000" in m.paper_ids}
        assert (await scheduler.listing_status())["reconciled_with_feed"] is True

        # Later passes that day do nothing more.
        before = len(fake.requests)
        h.clock.set(eastern(2026, 11, 24, 9))
        await scheduler.run_once()
        assert len(fake.requests) == before and h.chat_papers() == papers
    finally:
        await h.close()

    # The file is what the feed alone writes.
    alone = Harness(fake, tmp_path / "alone", eastern(2026, 11, 24, 0, 1), early=False)
    fake.serve_listing(CATEGORY, feed("2026-11-24", tuesday), etag='"tue-alone"')
    scheduler = await alone.scheduler()
    try:
        await scheduler.run_once()
    finally:
        await alone.close()
    assert alone.file("2026-11-24") == h.file("2026-11-24")


async def test_a_changed_page_layout_leaves_the_day_to_the_feed(fake, tmp_path, caplog):
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 20, 0))
    tuesday = entries_for("2026-11-24")
    fake.serve_listing(CATEGORY, feed("2026-11-23", entries_for("2026-11-23")), etag='"mon"')
    papers = parse_listing(feed("2026-11-24", tuesday)).papers
    h.site.publish(CATEGORY, papers, date(2026, 11, 24), layout="changed")
    scheduler = await h.scheduler()
    try:
        failures = metric("paperbot_listing_page_failures_total", kind="unreadable")
        with caplog.at_level(logging.ERROR, logger="bot.early_edition"):
            report = await scheduler.run_once()
        assert metric("paperbot_listing_page_failures_total", kind="unreadable") == failures + 1
        assert [r.getMessage() for r in caplog.records if r.name == "bot.early_edition"] == [
            caplog.records[-1].getMessage()]
        assert "early edition off for 2026-11-24" in caplog.records[-1].getMessage()
        assert "list-title" in caplog.records[-1].getMessage()
        assert report.day_status is None and not (h.out / "VLMs").exists()
        pages_read = len(h.site.page_requests())

        # The rest of the evening polls the feed only (still Monday's: nothing posted).
        h.clock.set(report.next_wake)
        report = await scheduler.run_once()
        assert len(h.site.page_requests()) == pages_read and h.chat_papers() == []

        # Midnight: the feed delivers the day.
        fake.serve_listing(CATEGORY, feed("2026-11-24", tuesday), etag='"tue"')
        h.clock.set(eastern(2026, 11, 24, 0, 0))
        from_feed = metric("paperbot_listing_source_days_total", source="feed")
        report = await scheduler.run_once()
        assert metric("paperbot_listing_source_days_total", source="feed") == from_feed + 1
        assert report.day_status == "announced"
        assert len(h.chat_papers()) == 3 and "2611.24002" in h.file("2026-11-24")
        assert (await scheduler.listing_status())["source"] == "feed"
    finally:
        await h.close()


async def test_a_restart_between_pages_and_feed_still_reconciles(fake, tmp_path):
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 20, 1))
    tuesday = entries_for("2026-11-24")
    fake.serve_listing(CATEGORY, feed("2026-11-23", entries_for("2026-11-23")), etag='"mon"')
    h.publish_pages("2026-11-24", tuesday[1:])
    scheduler = await h.scheduler()
    try:
        await scheduler.run_once()
        assert sorted(h.chat_papers()) == ["2611.24001", "2611.24002"]
    finally:
        await h.close()

    fake.serve_listing(CATEGORY, feed("2026-11-24", tuesday), etag='"tue"')
    h.clock.set(eastern(2026, 11, 24, 0, 30))
    scheduler = await h.scheduler()
    try:
        await scheduler.run_once()
        assert sorted(h.chat_papers()) == ["2611.24000", "2611.24001", "2611.24002"]
        assert "2611.24000" in h.file("2026-11-24")
    finally:
        await h.close()


async def test_polling_rounds_are_spaced_and_page_requests_keep_the_crawl_delay(fake, tmp_path):
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 20, 0))
    fake.serve_listing(CATEGORY, feed("2026-11-23", entries_for("2026-11-23")), etag='"mon"')
    h.publish_pages("2026-11-23", entries_for("2026-11-23"))
    h.settings.arxiv.listing_page_size = 2  # 5 entries: 3 pages a day
    scheduler = await h.scheduler()
    start = eastern(2026, 11, 23, 20)
    try:
        wakes = []
        for _ in range(2):  # the pages still show Monday: one probe request a round, every 2 minutes
            report = await scheduler.run_once()
            wakes.append(report.next_wake)
            h.clock.set(report.next_wake)
        assert wakes == [start + timedelta(minutes=2), start + timedelta(minutes=4)]
        assert h.clock.sleeps == []

        h.publish_pages("2026-11-24", entries_for("2026-11-24"))
        report = await scheduler.run_once()
        # The 3 pages of the new day, the last two each the crawl delay (15 s) after the one before.
        assert h.clock.sleeps == [15.0, 15.0]
        assert report.next_wake == eastern(2026, 11, 24)  # delivered; the feed at midnight next
        assert len(h.chat_papers()) == 3
        pages = h.site.page_requests()
        assert [(r.query.get("skip", "0"), r.header("If-None-Match") is not None) for r in pages] == [
            ("0", False), ("0", True), ("0", True), ("2", False), ("4", False)]
        assert scheduler.fetcher.crawl_pacer.min_interval == 15
    finally:
        await h.close()


class StandingClock(FakeClock):
    """Simulated time that stands still: the scheduler's waits end at once but no time passes, so
    `paperbot run` stays in the evening the test set up."""

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0.01)


async def test_paperbot_run_uses_the_early_edition_and_healthz_names_the_source(fake, tmp_path):
    from bot.service import run_bot
    from tests.test_ops import free_port

    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 20, 5))
    fake.serve_listing(CATEGORY, feed("2026-11-23", entries_for("2026-11-23")), etag='"mon"')
    h.publish_pages("2026-11-24", entries_for("2026-11-24"))
    port = free_port()
    settings = Settings(arxiv=h.settings.arxiv.model_copy(update={"early_edition": True}),
                        topics=h.settings.topics, storage={"path": str(h.db_path)}, ops={"port": port})
    stop = asyncio.Event()
    running = asyncio.ensure_future(run_bot(settings, clock=StandingClock(h.clock.now()), stop=stop,
                                            environ={}, handle_signals=False))
    try:
        target = h.out / "VLMs" / "2026-11-24.md"
        for _ in range(200):
            if target.exists() or running.done():
                break
            await asyncio.sleep(0.05)
        assert target.exists()
        async with aiohttp.ClientSession() as http:

            async def health_after_the_pass() -> dict | None:
                # /healthz holds the listing state refreshed at the end of a pass, which ends a
                # moment after the file is written.
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    health = await response.json()
                return health if health.get("listing", {}).get("day") == "2026-11-24" else None

            health = await eventually(health_after_the_pass, what="the listing in /healthz")
    finally:
        stop.set()
        await asyncio.wait_for(running, 10)
    assert health["status"] == "ok"
    assert health["listing"]["day"] == "2026-11-24" and health["listing"]["source"] == "pages"
    assert health["listing"]["reconciled_with_feed"] is False and health["listing"]["recorded_at"]


async def test_no_page_requests_on_the_eve_of_a_holiday_or_a_weekend(fake, tmp_path):
    # Thanksgiving: no feed dated Thursday 2026-11-26, so Wednesday evening announces nothing.
    h = Harness(fake, tmp_path, eastern(2026, 11, 25, 19, 0))
    h.settings.arxiv.holidays = [date(2026, 11, 26)]
    wednesday = entries_for("2026-11-25")
    fake.serve_listing(CATEGORY, feed("2026-11-25", wednesday), etag='"wed"')
    h.publish_pages("2026-11-25", wednesday)  # what arXiv keeps showing over the holiday
    scheduler = await h.scheduler()
    try:
        report = await scheduler.run_once()
        assert report.target_day == date(2026, 11, 25)
        assert report.next_wake == eastern(2026, 11, 26, 20)  # Friday's announcement, Thursday 20:00
        for when in (eastern(2026, 11, 25, 20, 0), eastern(2026, 11, 25, 22, 0), eastern(2026, 11, 26, 9)):
            h.clock.set(when)
            await scheduler.run_once()
        assert h.site.page_requests() == []
        # Thursday 20:00 announces Friday's papers: the pages are read again.
        h.clock.set(eastern(2026, 11, 26, 20, 0))
        report = await scheduler.run_once()
        assert report.target_day == date(2026, 11, 27) and len(h.site.page_requests()) == 1
    finally:
        await h.close()


async def test_a_failed_round_is_retried_but_a_missing_page_leaves_the_day_to_the_feed(fake, tmp_path):
    from tests.fakes.arxiv_server import Reply

    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 20, 0))
    fake.serve_listing(CATEGORY, feed("2026-11-23", entries_for("2026-11-23")), etag='"mon"')
    h.publish_pages("2026-11-24", entries_for("2026-11-24"))
    path = f"/list/{CATEGORY}/new"
    fake.script(*[Reply.unavailable()] * h.settings.arxiv.max_tries, path=path)
    scheduler = await h.scheduler()
    try:
        report = await scheduler.run_once()  # arXiv busy for the whole round: try again in 2 minutes
        assert report.next_wake == eastern(2026, 11, 23, 20, 2) and h.chat_papers() == []
        h.clock.set(report.next_wake)
        await scheduler.run_once()
        assert len(h.chat_papers()) == 3
        assert (await scheduler.listing_status())["source"] == "pages"

        # Tuesday evening the category page is gone (404): the day waits for the feed.
        h.clock.set(eastern(2026, 11, 24, 20, 0))
        del h.site.published[CATEGORY]
        before = len(h.site.page_requests())
        report = await scheduler.run_once()
        assert len(h.site.page_requests()) == before + 1
        h.clock.set(report.next_wake)
        await scheduler.run_once()
        assert len(h.site.page_requests()) == before + 1  # not asked again that evening
    finally:
        await h.close()


async def test_a_destination_with_a_post_time_still_posts_at_its_time(fake, tmp_path):
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 20, 0))
    h.settings.schedule.post_time = "07:00"
    h.settings.schedule.timezone = "Europe/Berlin"  # 01:00 US Eastern
    fake.serve_listing(CATEGORY, feed("2026-11-23", entries_for("2026-11-23")), etag='"mon"')
    h.publish_pages("2026-11-24", entries_for("2026-11-24"))
    scheduler = await h.scheduler()
    try:
        report = await scheduler.run_once()  # the pages are read at once, the file waits for 07:00 Berlin
        assert (await scheduler.listing_status())["day"] == "2026-11-24"
        assert not (h.out / "VLMs" / "2026-11-24.md").exists()
        assert len(h.chat_papers()) == 3  # the chat channel has no post time: minutes after 20:00
        wakes = []
        while not (h.out / "VLMs" / "2026-11-24.md").exists() and len(wakes) < 10:
            h.clock.set(report.next_wake)
            wakes.append(report.next_wake)
            if report.next_wake >= eastern(2026, 11, 24):
                fake.serve_listing(CATEGORY, feed("2026-11-24", entries_for("2026-11-24")), etag='"tue"')
            report = await scheduler.run_once()
        assert h.clock.now() == eastern(2026, 11, 24, 1, 0)
    finally:
        await h.close()
