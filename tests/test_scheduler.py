"""The announcement cycle across a simulated week: fake clock, fake arXiv, real store and files."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.arxiv.calendar import AnnouncementCalendar
from bot.arxiv.client import ArxivClient
from bot.config import Settings, TopicSettings
from bot.destinations import Destination
from bot.destinations.topics import ConfiguredTopics
from bot.platforms.markdown import MarkdownSink
from bot.scheduler import Scheduler, due_time
from bot.store import AsyncStore
from tests.conftest import eventually
from tests.fakes.arxiv_server import FakeArxiv, Reply, atom_listing
from tests.fakes.clock import FakeClock
from tests.fakes.thread_sink import MemoryChat, MemoryThreadSink
from bot.delivery.sink import TransientDeliveryError

EASTERN = ZoneInfo("America/New_York")
CATEGORY = "cs.CV"


def eastern(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=EASTERN)


def feed_for(day: str, n_matching: int = 2, n_other: int = 1) -> bytes:
    entries = [
        {"id": f"{day[2:4]}{day[5:7]}.{day[8:10]}{i:03d}v1", "title": f"A VLM for task {i} on {day}",
         "abstract": "We study vision-language models.", "authors": ["Ann Author", "Bo Writer"],
         "categories": [CATEGORY]}
        for i in range(n_matching)
    ] + [
        {"id": f"{day[2:4]}{day[5:7]}.{day[8:10]}{500 + i:03d}v1", "title": f"Graph theory note {i}",
         "abstract": "Nothing about vision.", "authors": ["C. Other"], "categories": [CATEGORY]}
        for i in range(n_other)
    ]
    return atom_listing(entries, title=f"{CATEGORY} updates on arXiv.org", day=day)


def empty_feed(day: str) -> bytes:
    return atom_listing([], title=f"{CATEGORY} updates on arXiv.org", day=day)


class Harness:
    def __init__(self, fake: FakeArxiv, tmp_path: Path, start: datetime, **topic) -> None:
        self.fake = fake
        self.out = tmp_path / "digests"
        self.db_path = tmp_path / "data" / "p.db"
        self.clock = FakeClock(start)
        self.settings = Settings(
            arxiv=fake.settings(categories=[CATEGORY], enrich=False, backoff_base_seconds=0,
                                poll_interval_minutes=15),
            topics={"VLMs": TopicSettings(keywords=["VLM", "vision language model"], markdown=str(self.out),
                                          **topic)},
        )

    async def scheduler(self) -> tuple[Scheduler, AsyncStore, ArxivClient]:
        """A fresh process: new store connection, client and scheduler over the same files."""
        store = await AsyncStore.open(self.db_path, clock=self.clock)
        arxiv = ArxivClient(self.settings.arxiv)
        scheduler = Scheduler(arxiv_settings=self.settings.arxiv, store=store, arxiv=arxiv,
                              directories=[ConfiguredTopics(self.settings)],
                              sinks={"markdown": MarkdownSink()}, clock=self.clock)
        return scheduler, store, arxiv

    def day_files(self) -> list[str]:
        folder = self.out / "VLMs"
        return sorted(p.stem for p in folder.glob("*.md")) if folder.exists() else []

    def listing_requests(self) -> int:
        return len(self.fake.requests_to(FakeArxiv.listing_path(CATEGORY)))


@pytest.fixture
async def fake():
    async with FakeArxiv() as server:
        yield server


async def test_a_week_weekend_holiday_late_feed_304_and_errors(fake, tmp_path):
    # Thanksgiving week 2026: Thursday 2026-11-26 is an arXiv holiday (no feed dated that day).
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 0, 5))
    scheduler, store, arxiv = await h.scheduler()
    try:
        fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon"')
        report = await scheduler.run_once()
        assert report.target_day == date(2026, 11, 23) and report.day_status == "announced"
        assert h.day_files() == ["2026-11-23"]
        assert "Papers-2-" in (h.out / "VLMs.md").read_text()
        assert report.next_wake == eastern(2026, 11, 24)  # the next rebuild, nothing to poll before

        # Tuesday: the feed is late. 304 (same ETag) -> keep polling every 15 minutes.
        h.clock.set(report.next_wake)
        report = await scheduler.run_once()
        assert report.day_status == "announced" and report.target_day == date(2026, 11, 24)
        assert fake.requests_to("/atom/cs.CV")[-1].header("If-None-Match") == '"mon"'
        assert report.next_wake == eastern(2026, 11, 24, 0, 15)
        assert h.day_files() == ["2026-11-23"]

        # Still Monday's content under a new ETag: stale date -> still waiting, nothing written.
        fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon-again"')
        h.clock.set(report.next_wake)
        report = await scheduler.run_once()
        assert h.day_files() == ["2026-11-23"]
        assert report.next_wake == h.clock.now() + timedelta(minutes=15)

        # The new feed appears; a 503 first is retried by the client within the same poll.
        fake.serve_listing(CATEGORY, feed_for("2026-11-24", n_matching=3), etag='"tue"')
        fake.script(Reply.unavailable())
        h.clock.set(report.next_wake)
        report = await scheduler.run_once()
        assert h.day_files() == ["2026-11-23", "2026-11-24"]
        assert "Papers-3-" in (h.out / "VLMs.md").read_text()

        # Wednesday: arXiv is down for the whole poll (every try fails): no empty digest, retry later.
        h.clock.set(eastern(2026, 11, 25, 0, 1))
        fake.script(*[Reply.unavailable()] * h.settings.arxiv.max_tries)
        report = await scheduler.run_once()
        assert h.day_files() == ["2026-11-23", "2026-11-24"]
        assert report.next_wake == h.clock.now() + timedelta(minutes=15)
        fake.serve_listing(CATEGORY, feed_for("2026-11-25"), etag='"wed"')
        h.clock.set(report.next_wake)
        report = await scheduler.run_once()
        assert h.day_files()[-1] == "2026-11-25"
        # The next feed day after Wednesday is Friday: Thursday is a holiday.
        assert report.next_wake == eastern(2026, 11, 27)

        # Thursday (holiday): a pass makes no request at all.
        before = h.listing_requests()
        h.clock.set(eastern(2026, 11, 26, 9))
        await scheduler.run_once()
        assert h.listing_requests() == before

        # Friday: arXiv made no announcement after all (empty feed): recorded, nothing written,
        # and no more polling that day.
        fake.serve_listing(CATEGORY, empty_feed("2026-11-27"), etag='"fri"')
        h.clock.set(eastern(2026, 11, 27, 0, 2))
        report = await scheduler.run_once()
        assert report.day_status == "empty"
        assert h.day_files()[-1] == "2026-11-25"
        assert report.next_wake == eastern(2026, 11, 30)  # Monday's rebuild

        # Weekend: nothing to do, no requests.
        before = h.listing_requests()
        for day in (28, 29):
            h.clock.set(eastern(2026, 11, day, 12))
            await scheduler.run_once()
        assert h.listing_requests() == before
    finally:
        await arxiv.close()
        await store.close()
    index = (h.out / "README.md").read_text()
    assert "2026-11-25" in index


async def test_downtime_catches_up_the_latest_day_only(fake, tmp_path):
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 0, 5))
    h.settings.schedule.post_time = "08:00"
    # Monday is fetched at 00:05 but due at 08:00; the bot is down from 07:00 until Tuesday 09:00.
    fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon"')
    scheduler, store, arxiv = await h.scheduler()
    report = await scheduler.run_once()
    assert report.day_status == "announced" and h.day_files() == []
    assert report.next_wake == eastern(2026, 11, 23, 8)
    await arxiv.close()
    await store.close()

    fake.serve_listing(CATEGORY, feed_for("2026-11-24"), etag='"tue"')
    h.clock.set(eastern(2026, 11, 24, 9))
    scheduler, store, arxiv = await h.scheduler()
    try:
        await scheduler.run_once()
        assert h.day_files() == ["2026-11-24"]  # Monday is never posted late
        # Another restart the same day delivers nothing twice.
        files_before = {p: p.stat().st_mtime_ns for p in (h.out / "VLMs").glob("*.md")}
        again, store2, arxiv2 = await h.scheduler()
        await again.run_once()
        await arxiv2.close()
        await store2.close()
        assert {p: p.stat().st_mtime_ns for p in (h.out / "VLMs").glob("*.md")} == files_before
    finally:
        await arxiv.close()
        await store.close()


async def test_a_day_with_no_match_still_rewrites_the_latest_file(fake, tmp_path):
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 0, 5))
    fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon"')
    scheduler, store, arxiv = await h.scheduler()
    try:
        await scheduler.run_once()
        fake.serve_listing(CATEGORY, feed_for("2026-11-24", n_matching=0, n_other=4), etag='"tue"')
        h.clock.set(eastern(2026, 11, 24, 0, 5))
        await scheduler.run_once()
    finally:
        await arxiv.close()
        await store.close()
    latest = (h.out / "VLMs.md").read_text()
    assert "2026-11-24" in latest and "Papers-0-" in latest
    assert "No matching papers" in latest


def test_due_time_in_the_destinations_time_zone():
    calendar = AnnouncementCalendar()
    base = dict(key="k", platform="markdown", address="x", title="t", subscription_ids=())
    at_once = Destination(**base)
    assert due_time(at_once, date(2026, 11, 24), calendar) == eastern(2026, 11, 24)
    berlin = Destination(**base, post_time=datetime.strptime("08:30", "%H:%M").time(), timezone="Europe/Berlin")
    assert due_time(berlin, date(2026, 11, 24), calendar) == datetime(2026, 11, 24, 8, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    # 05:00 in Berlin is before the 06:00 (Berlin) rebuild: the next morning.
    early = Destination(**base, post_time=datetime.strptime("05:00", "%H:%M").time(), timezone="Europe/Berlin")
    assert due_time(early, date(2026, 11, 24), calendar) == datetime(2026, 11, 25, 5, 0, tzinfo=ZoneInfo("Europe/Berlin"))


async def test_stop_interrupts_a_slow_poll_promptly(fake, tmp_path):
    import asyncio
    import time

    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 0, 5))
    h.settings.arxiv.timeout_seconds = 30
    fake.serve_listing(CATEGORY, feed_for("2026-11-23"))
    fake.script(Reply.slow(20))  # arXiv hangs; SIGTERM must not wait for the timeout and retries
    scheduler, store, arxiv = await h.scheduler()
    try:
        running = asyncio.ensure_future(scheduler.run_forever())
        await eventually(lambda: fake.requests, what="the poll to reach the hanging arXiv")
        started = time.monotonic()
        scheduler.stop.set()
        await asyncio.wait_for(running, 30)
        assert time.monotonic() - started < 10  # well under the 20 s hang and the 30 s timeout
        assert h.day_files() == []
    finally:
        await arxiv.close()
        await store.close()


async def test_a_locked_database_costs_a_pass_not_the_day(fake, tmp_path, caplog):
    import asyncio
    import logging
    import sqlite3

    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 0, 5))
    fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon"')
    store = await AsyncStore.open(h.db_path, clock=h.clock, busy_timeout=0.1)
    arxiv = ArxivClient(h.settings.arxiv)
    scheduler = Scheduler(arxiv_settings=h.settings.arxiv, store=store, arxiv=arxiv,
                          directories=[ConfiguredTopics(h.settings)], sinks={"markdown": MarkdownSink()},
                          clock=h.clock)
    holder = sqlite3.connect(h.db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    caplog.set_level(logging.ERROR)
    try:
        running = asyncio.ensure_future(scheduler.run_forever())
        await eventually(lambda: "database problem (locked)" in caplog.text, what="the locked-database line")
        assert "database problem (locked)" in caplog.text and "Traceback" not in caplog.text
        assert h.day_files() == []
        holder.execute("ROLLBACK")
        # The retry pass (5 minutes later on the fake clock) stores and delivers the day.
        await eventually(h.day_files, what="the retry pass to write the day")
        assert h.day_files() == ["2026-11-23"]
        scheduler.stop.set()
        await asyncio.wait_for(running, 30)
    finally:
        holder.close()
        await arxiv.close()
        await store.close()


async def test_a_future_dated_feed_is_refused_and_polling_goes_on(fake, tmp_path, caplog):
    # Formerly it became the latest announcement day and polling stopped until that date.
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 0, 5))
    fake.serve_listing(CATEGORY, feed_for("2026-11-25"), etag='"future"')
    scheduler, store, arxiv = await h.scheduler()
    try:
        report = await scheduler.run_once()
        assert report.day_status is None and h.day_files() == []
        assert await store.run(lambda s: s.ledger.latest_announcement_day()) is None
        assert await store.run(lambda s: s.papers.for_day(date(2026, 11, 25))) == []
        assert report.next_wake == h.clock.now() + timedelta(minutes=15)
        assert any(r.levelname == "ERROR" and "2026-11-25" in r.getMessage() and "after today" in r.getMessage()
                   for r in caplog.records)
        fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon"')
        h.clock.set(report.next_wake)
        report = await scheduler.run_once()
        assert report.day_status == "announced" and h.day_files() == ["2026-11-23"]
        # The refused feed's validators were not kept: this was a full, unconditional fetch.
        assert fake.requests_to("/atom/cs.CV")[-1].header("If-None-Match") is None
    finally:
        await arxiv.close()
        await store.close()


async def test_a_long_retry_after_from_arxiv_is_honoured(fake, tmp_path):
    # Formerly a Retry-After over 120 s was ignored and the next poll came after 15 minutes.
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 0, 5))
    fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon"')
    fake.script(Reply.unavailable(retry_after=3600))
    scheduler, store, arxiv = await h.scheduler()
    try:
        report = await scheduler.run_once()
        assert report.day_status is None
        assert report.next_wake == h.clock.now() + timedelta(hours=1)
        before = h.listing_requests()
        h.clock.set(h.clock.now() + timedelta(minutes=30))  # woken early (say, a post time)
        report = await scheduler.run_once()
        assert h.listing_requests() == before  # no request before arXiv's time
        assert report.next_wake == eastern(2026, 11, 23, 1, 5)
        h.clock.set(report.next_wake)
        report = await scheduler.run_once()
        assert report.day_status == "announced" and h.listing_requests() == before + 1
    finally:
        await arxiv.close()
        await store.close()


class WithChatChannel:
    """The configured topics plus one chat channel (in memory) with the same subscriptions."""

    def __init__(self, settings: Settings) -> None:
        self.topics = ConfiguredTopics(settings)

    async def load(self):
        from bot.destinations import Directory
        loaded = await self.topics.load()
        channel = Destination(key="memory:C1", platform="memory", address="C1", title="VLMs",
                              subscription_ids=tuple(s.id for s in loaded.subscriptions))
        return Directory(loaded.destinations + (channel,), loaded.subscriptions)


class RecordingSink(MemoryThreadSink):
    def __init__(self, chat, **kw) -> None:
        super().__init__(chat, **kw)
        self.titles: dict[date, str] = {}

    def compose(self, destination, digest, undelivered):
        self.titles[digest.day] = digest.title
        return super().compose(destination, digest, undelivered)


async def chat_scheduler(h: Harness, sink) -> tuple[Scheduler, AsyncStore, ArxivClient]:
    store = await AsyncStore.open(h.db_path, clock=h.clock)
    arxiv = ArxivClient(h.settings.arxiv)
    scheduler = Scheduler(arxiv_settings=h.settings.arxiv, store=store, arxiv=arxiv,
                          directories=[WithChatChannel(h.settings)],
                          sinks={"markdown": MarkdownSink(), "memory": sink}, clock=h.clock)
    return scheduler, store, arxiv


async def test_a_day_cut_off_by_an_outage_across_midnight_is_posted_late_with_a_note(fake, tmp_path):
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 23, 0))
    chat = MemoryChat()
    down = True

    def outage(kind, ids):
        if down:
            raise TransientDeliveryError("HTTP 503")

    sink = RecordingSink(chat, per_message=1, before_post=outage)
    fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon"')
    scheduler, store, arxiv = await chat_scheduler(h, sink)
    try:
        report = await scheduler.run_once()
        assert [r.outcome for r in report.deliveries if r.destination == "memory:C1"] == ["failed"]
        assert report.next_wake == h.clock.now() + timedelta(seconds=30)  # the retry's backoff
        # Tuesday's feed arrives while Slack is still down; then Slack comes back.
        fake.serve_listing(CATEGORY, feed_for("2026-11-24", n_matching=3), etag='"tue"')
        h.clock.advance((eastern(2026, 11, 24, 0, 30) - h.clock.now()).total_seconds())
        await scheduler.run_once()
        down = False
        h.clock.advance((eastern(2026, 11, 24, 1, 0) - h.clock.now()).total_seconds())
        report = await scheduler.run_once()
        outcomes = {(r.destination, r.day): r.outcome for r in report.deliveries}
        assert outcomes[("memory:C1", date(2026, 11, 23))] == "done"
        assert outcomes[("memory:C1", date(2026, 11, 24))] == "done"
        assert len(chat.papers_in("C1")) == len(set(chat.papers_in("C1"))) == 2 + 3
        assert "posted late" in sink.titles[date(2026, 11, 23)]
        assert "posted late" not in sink.titles[date(2026, 11, 24)]
    finally:
        await arxiv.close()
        await store.close()


async def test_a_day_superseded_twice_is_given_up_visibly(fake, tmp_path, caplog):
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 23, 0))
    chat = MemoryChat()
    down = True

    def outage(kind, ids):
        if down:
            raise TransientDeliveryError("HTTP 503")

    fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon"')
    scheduler, store, arxiv = await chat_scheduler(h, MemoryThreadSink(chat, before_post=outage))
    try:
        await scheduler.run_once()
        await arxiv.close()
        await store.close()
        # The bot is down until Wednesday: Monday's thread was begun, but Tuesday came and went.
        down = False
        fake.serve_listing(CATEGORY, feed_for("2026-11-25"), etag='"wed"')
        h.clock.set(eastern(2026, 11, 25, 1, 0))
        scheduler, store, arxiv = await chat_scheduler(h, MemoryThreadSink(chat))
        report = await scheduler.run_once()
        record = await store.run(lambda s: s.ledger.get_delivery("memory:C1", date(2026, 11, 23)))
        assert record.state == "undeliverable" and "superseded by 2026-11-25" in record.last_error
        assert "HTTP 503" in record.last_error
        assert any(r.levelname == "ERROR" and "undeliverable" in r.getMessage() for r in caplog.records)
        assert {r.day for r in report.deliveries if r.outcome == "done"} == {date(2026, 11, 25)}
        assert all(p.startswith("2611.25") for p in chat.papers_in("C1"))
    finally:
        await arxiv.close()
        await store.close()


def test_the_kept_matcher_updated_by_a_difference_matches_like_a_fresh_one(synthetic_listing):
    from bot.matching import QueryLimits, Subscription, compile_subscriptions, parse_query
    from bot.scheduler import _updated_matcher

    def sub(sid: str, query: str) -> Subscription:
        return Subscription(sid, parse_query(query, QueryLimits()))

    papers = synthetic_listing.papers
    before = (sub("a", "VLM"), sub("b", "robot"), sub("c", "language"))
    kept = _updated_matcher(None, before, before)
    # One removed (b), one changed (c), one added (d), one untouched (a).
    after = (sub("a", "VLM"), sub("c", "vision"), sub("d", "model"))
    updated = _updated_matcher(kept, after, after)
    assert updated.matcher is kept.matcher  # changed in place, not compiled again

    def pairs(matches):
        return sorted((m.subscription_id, m.paper.id) for m in matches)

    fresh = pairs(compile_subscriptions(after).match(papers))
    assert pairs(updated.matcher.match(papers)) == fresh
    assert {sid for sid, _ in fresh} == {"a", "c", "d"}  # every kind of change is exercised


async def test_prepare_compiles_before_the_first_pass_which_reuses_it(fake, tmp_path, monkeypatch):
    """`paperbot run` prepares before the platforms connect, so the first pass (when people can
    already click) does not build the matcher's automaton on the GIL."""
    import bot.scheduler as scheduler_module

    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 0, 5))
    fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon"')
    scheduler, store, arxiv = await h.scheduler()
    compiles: list[int] = []
    original = scheduler_module._updated_matcher

    def counted(*args):
        compiles.append(1)
        return original(*args)

    monkeypatch.setattr(scheduler_module, "_updated_matcher", counted)
    try:
        await scheduler.prepare()
        assert len(compiles) == 1
        report = await scheduler.run_once()
        assert len(compiles) == 1, "the first pass compiled again"
        assert [r.outcome for r in report.deliveries] == ["done"]
    finally:
        await arxiv.close()
        await store.close()
    assert h.day_files() == ["2026-11-23"]


async def test_prepare_failing_only_logs_and_the_pass_still_runs(fake, tmp_path, caplog):
    h = Harness(fake, tmp_path, eastern(2026, 11, 23, 0, 5))
    fake.serve_listing(CATEGORY, feed_for("2026-11-23"), etag='"mon"')
    scheduler, store, arxiv = await h.scheduler()

    class Unreadable:
        async def load(self):
            raise RuntimeError("directory unreadable")

    good = scheduler.directories
    scheduler.directories = [Unreadable()]
    try:
        await scheduler.prepare()
        assert "the first pass retries" in caplog.text
        scheduler.directories = good
        report = await scheduler.run_once()
        assert [r.outcome for r in report.deliveries] == ["done"]
    finally:
        await arxiv.close()
        await store.close()
