"""Early edition (issue 16): the day's papers from arXiv's listing pages minutes after the 20:00 ET
announcement, reconciled with the midnight feed.

`EarlyEditionScheduler` is the announcement cycle of `bot.scheduler.Scheduler` with three changes:

- Its calendar says a feed day becomes available at its announcement (20:00 ET the evening
  before) rather than at the feed rebuild (midnight). So the day is targeted, polled for and
  delivered from 20:00, and destinations with a `post_time` still post at their local time.
- Before the feed rebuild, a poll reads the listing pages (`ListingPageFetcher`, one round of
  pages per `EARLY_POLL_INTERVAL`, each request at least the robots.txt crawl delay apart) until
  they show the new announcement date. A page that cannot be read or looks changed gives one log
  line and a metric, and the feed stays the source that day; a failed request is retried at the
  next round. After the rebuild, polls use the feed as before.
- After the rebuild, a day delivered from the pages is reconciled with the feed once: the feed's
  papers are stored for the day (the store upserts: the feed's text wins), and when that adds
  papers the pages missed (or changes a stored paper), the day's deliveries are reopened: a thread
  gets only the papers it does not hold yet (the delivery ledger), a Markdown file is rewritten
  from the whole day, so it ends up as the feed alone would have written it.

Which source delivered each day, and when, is kept in the store (`fetch_state` rows under
`early-edition:<day>`, so a restart between the pages and the feed still reconciles) and shown by
`listing_status()` (for /healthz) and the `paperbot_listing_source_*` metrics.

Hook: `bot.service` builds `EarlyEditionScheduler` instead of `Scheduler` when
`arxiv.early_edition` is on; nothing in `bot.scheduler` refers to this module.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from prometheus_client import Counter, Gauge

from bot import metrics
from bot.arxiv.calendar import AnnouncementCalendar
from bot.arxiv.errors import ArxivError, FetchFailed
from bot.arxiv.page_fetcher import ListingPageFetcher, ListingPagesMidUpdate, Validators
from bot.delivery.sink import ThreadSink
from bot.ingest import ANNOUNCED, EMPTY, NOT_MODIFIED, fetch_and_store, store_listing
from bot.scheduler import PassReport, Scheduler
from bot.store import ledger

log = logging.getLogger(__name__)

EARLY_POLL_INTERVAL = timedelta(minutes=2)  # one round of pages; the crawl delay spaces the requests
PAGES, FEED = "pages", "feed"
_MARK = "early-edition:{day}"
_FROM_PAGES, _RECONCILED = 1, 2  # fetch_state.last_status of a day's mark
_PAGE_MISSING = frozenset({400, 403, 404, 410})  # answers that another round would only repeat

LISTING_SOURCE = Counter("paperbot_listing_source_days", "announcement days, by the source that delivered them first",
                         ["source"], registry=metrics.REGISTRY)
LISTING_AVAILABLE = Gauge("paperbot_listing_source_timestamp_seconds",
                          "when each source last gave a new announcement day (feed: also reconciliation)", ["source"],
                          registry=metrics.REGISTRY)
PAGE_FAILURES = Counter("paperbot_listing_page_failures", "listing-page polls that failed, by kind",
                        ["kind"], registry=metrics.REGISTRY)
RECONCILED_PAPERS = Counter("paperbot_reconciled_papers",
                            "papers the midnight feed added to a day delivered from the listing pages",
                            registry=metrics.REGISTRY)


def _iso(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)


class EarlyCalendar(AnnouncementCalendar):
    """The announcement calendar as seen by the early edition: a feed day's listing is available
    at its announcement (20:00 ET the evening before), not at the feed rebuild."""

    def rebuild_time(self, day: date) -> datetime:
        return self.announcement_time(day)

    def feed_rebuild_time(self, day: date) -> datetime:
        return AnnouncementCalendar.rebuild_time(self, day)

    def latest_feed_day(self, now: datetime) -> date:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("latest_feed_day needs an aware datetime (with a time zone)")
        # The feed day whose announcement `now` has passed: tomorrow's from 20:00 ET.
        shifted = now.astimezone(ZoneInfo("America/New_York")) + timedelta(hours=24 - 20)
        return AnnouncementCalendar.latest_feed_day(self, shifted)


class EarlyEditionScheduler(Scheduler):
    """`Scheduler` reading the listing pages from 20:00 ET; same constructor plus `fetcher`."""

    def __init__(self, *, fetcher: ListingPageFetcher | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.calendar = EarlyCalendar(self.settings.holidays)
        self.fetcher = fetcher or ListingPageFetcher(self.arxiv)
        self._pages_given_up: set[date] = set()
        self.page_requests = 0
        self._listing_status: dict = {"day": None, "source": None}

    # -- which source, when --------------------------------------------------------------------

    async def _mark(self, day: date) -> int | None:
        state = await self.store.run(lambda s: s.papers.get_fetch_state(_MARK.format(day=day)))
        return state.last_status if state else None

    async def _set_mark(self, day: date, value: int) -> None:
        await self.store.run(lambda s: s.papers.save_fetch_state(_MARK.format(day=day), None, None, value))

    async def listing_status(self) -> dict:
        """For /healthz: the latest stored day, the source that delivered it, and when. Held in
        memory and refreshed after every pass, so /healthz never waits for the database."""
        return dict(self._listing_status)

    async def _refresh_listing_status(self) -> None:
        finished = await self.store.run(lambda s: s.ledger.latest_announcement_day())
        if finished is None:
            self._listing_status = {"day": None, "source": None}
            return
        day = finished[0]
        mark = await self._mark(day)
        state = await self.store.run(lambda s: s.papers.get_fetch_state(_MARK.format(day=day)))
        self._listing_status = {"day": day.isoformat(), "status": finished[1],
                "source": PAGES if mark in (_FROM_PAGES, _RECONCILED) else FEED,
                "reconciled_with_feed": mark == _RECONCILED,
                "recorded_at": _iso(state.fetched_at) if state else None}

    # -- the cycle -----------------------------------------------------------------------------

    async def run_once(self) -> PassReport:
        report = await super().run_once()
        now = self.clock.now()
        wakes = [report.next_wake]
        day = report.target_day
        feed_due = self.calendar.feed_rebuild_time(day)
        finished = await self.store.run(lambda s: s.ledger.latest_announcement_day())
        if finished is not None and finished[0] >= day:
            if await self._mark(day) == _FROM_PAGES:
                if now < feed_due:
                    wakes.append(feed_due)
                elif await self._reconcile(day):
                    # Post what the feed added, or rewrite the files, in this same pass.
                    deliveries, later = await self._deliver_due(day, ANNOUNCED)
                    report = dataclasses.replace(report, deliveries=report.deliveries + deliveries)
                    wakes += later
                elif await self._mark(day) == _FROM_PAGES:
                    wakes.append(now + timedelta(minutes=self.settings.poll_interval_minutes))
        elif now < feed_due and day not in self._pages_given_up:
            wakes.append(now + EARLY_POLL_INTERVAL)  # waiting for the pages: another round soon
        await self._refresh_listing_status()
        return dataclasses.replace(report, next_wake=min(wakes))

    async def _poll(self, target: date) -> tuple[date, str] | None:
        now = self.clock.now()
        if now >= self.calendar.feed_rebuild_time(target) or target in self._pages_given_up:
            found = await super()._poll(target)
            if found is not None:
                LISTING_SOURCE.labels(FEED).inc()
                LISTING_AVAILABLE.labels(FEED).set(self.clock.now().timestamp())
            return found
        try:
            return await self._poll_pages(target)
        except (FetchFailed, ListingPagesMidUpdate) as exc:
            if isinstance(exc, FetchFailed) and exc.last_status in _PAGE_MISSING:
                self._give_up_pages(target, exc)  # no such page: asking again will not help
                return None
            PAGE_FAILURES.labels("request").inc()
            log.warning("listing pages for %s not read, retrying at the next round: %s", target, exc)
        except ArxivError as exc:  # a page that looks changed, robots.txt disallows, ...
            self._give_up_pages(target, exc)
        return None

    def _give_up_pages(self, target: date, exc: Exception) -> None:
        PAGE_FAILURES.labels("unreadable").inc()
        self._pages_given_up.add(target)
        log.error("early edition off for %s, the midnight feed will deliver it: %s", target, exc)

    async def _poll_pages(self, target: date) -> tuple[date, str] | None:
        contexts = list(self.settings.categories)
        urls = [self.fetcher.page_url(c) for c in contexts]
        states = await self.store.run(lambda s: {u: s.papers.get_fetch_state(u) for u in urls})
        validators = {u: Validators(st.etag, st.last_modified) for u, st in states.items() if st}
        fetch = await self._unless_stopped(self.fetcher.fetch(contexts, validators, expect=target))
        if fetch is None:
            return None
        self.page_requests += fetch.requests
        self.last_successful_poll = self.clock.now()
        metrics.LAST_SUCCESSFUL_POLL.set(self.last_successful_poll.timestamp())

        async def keep_validators() -> None:
            def save(s) -> None:
                for url, kept in fetch.validators.items():
                    s.papers.save_fetch_state(url, kept.etag, kept.last_modified, 200)
            await self.store.run(save)

        if fetch.not_modified:
            metrics.POLLS.labels("not_modified").inc()
            log.info("listing pages for %s unchanged (304)", target)
            return None
        assert fetch.announced is not None
        if fetch.announced < target:
            await keep_validators()
            metrics.POLLS.labels("stale").inc()
            log.info("listing pages still show %s; waiting for %s", fetch.announced, target)
            return None
        day = fetch.announced
        assert fetch.listing is not None
        # Stored as the feed would not contradict: no version (the store lets the feed's record,
        # which has one, replace the page's text at reconciliation: TeX accents, long author lists
        # cut by the page), and no comment or journal ref (the API enrichment adds them as for feed
        # papers). So the digests end up the same whichever source delivered first. (The price: a
        # replacement posted from the pages is labelled "updated", without its version number.)
        listing = dataclasses.replace(fetch.listing, papers=[
            p.with_changes(version=None, comment=None, journal_ref=None) for p in fetch.listing.papers])
        result = await store_listing(self.store, listing, fallback_day=day)
        status = ANNOUNCED if result.status == ANNOUNCED else EMPTY
        metrics.POLLS.labels(status).inc()
        now = self.clock.now()
        await self.store.run(lambda s: s.ledger.record_announcement_day(day, status, result.papers, now))
        await self._set_mark(day, _FROM_PAGES)
        # Validators last: a crash before this point reads the pages again rather than getting a 304.
        await keep_validators()
        LISTING_SOURCE.labels(PAGES).inc()
        LISTING_AVAILABLE.labels(PAGES).set(now.timestamp())
        announced_at = self.calendar.announcement_time(day)
        log.info("stored %s from the listing pages: %d papers, %.1f min after the announcement (%d requests)",
                 day, result.papers, (now - announced_at).total_seconds() / 60, fetch.requests)
        return day, status

    async def _reconcile(self, day: date) -> bool:
        """Fetch the feed for a day delivered from the pages; store its papers and reopen the day's
        deliveries when it adds or changes any. Returns True when the deliveries were reopened.
        The day is marked reconciled once the feed carrying it has been stored."""
        try:
            result = await self._unless_stopped(fetch_and_store(self.arxiv, self.store, self.settings.categories))
        except ArxivError as exc:
            log.warning("reconciling %s with the feed failed, retrying at the next poll: %s", day, exc)
            return False
        if result is None or result.status == NOT_MODIFIED or (result.day or day) < day:
            log.info("feed for %s not rebuilt yet; reconciling later", day)
            return False
        if result.day and result.day > day:
            log.warning("the feed already shows %s; %s stays as the listing pages gave it", result.day, day)
            await self._set_mark(day, _RECONCILED)
            return False
        summary = result.summary
        added = summary.listings_added if summary else 0
        changed = summary.updated_papers if summary else 0
        await self._set_mark(day, _RECONCILED)
        LISTING_AVAILABLE.labels(FEED).set(self.clock.now().timestamp())
        log.info("reconciled %s with the feed: %d papers the pages missed, %d changed", day, added, changed)
        if not added and not changed:
            return False
        RECONCILED_PAPERS.inc(added)
        self._matches = None  # the day's papers changed: match again
        await self._reopen(day, threads=bool(added))
        return True

    async def _reopen(self, day: date, *, threads: bool) -> None:
        """Deliveries of `day` that are done become pending again: documents always (rewritten from
        the whole day), threads only when papers were added (they post only what they lack)."""
        directory = await self._directory()
        keys = [d.key for d in directory.destinations
                if d.platform in self.sinks and (threads or not isinstance(self.sinks[d.platform], ThreadSink))]
        now = self.clock.now()

        def reopen(s) -> None:
            for key in keys:
                record = s.ledger.get_delivery(key, day)
                if record is not None and record.state == ledger.DONE:
                    s.ledger.finish(key, day, ledger.PENDING, now)
        await self.store.run(reopen)
