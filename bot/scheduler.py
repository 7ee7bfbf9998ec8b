"""The announcement cycle, as one asyncio task with an injected clock.

Each pass: work out the newest feed day whose rebuild time has passed (arXiv's calendar); if it is
not stored yet, poll arXiv for it (conditional GET) until the feed carries that day; then match
all subscriptions once for the day and deliver to every destination whose local post time has
come. Only the latest day is ever delivered, so a bot that was down catches up one day, never a
backlog. Between passes it sleeps until the next thing can happen: a poll, a post time, the next
rebuild.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import metrics
from bot.arxiv.calendar import EASTERN, AnnouncementCalendar
from bot.arxiv.client import ArxivClient
from bot.arxiv.errors import ArxivError, FetchFailed, FutureDatedFeed
from bot.clock import Clock, sleep_unless_stopped
from bot.collector import collector_paused, release_in_pieces
from bot.config import ArxivSettings
from bot.delivery.runner import DONE, FAILED, INTERRUPTED, DeliveryResult, DeliveryRunner, deliver_all
from bot.delivery.sink import DocumentSink, ThreadSink
from bot.destinations import Destination, DestinationDirectory, Directory
from bot.daily import DayMatches, digest_for, match_day, relevance_orders
from bot.ingest import ANNOUNCED, EMPTY, NOT_MODIFIED, fetch_and_store
from bot.matching import CompiledMatcher as Matcher, Subscription, compile_subscriptions
from bot.ranking import Ranker
from bot.store import AsyncStore, StoreError
from bot.store.errors import store_error_from
from bot.weekly import WeeklyBestOfPoster

log = logging.getLogger(__name__)

# After this long past the rebuild time without a new feed, poll less often.
SLOW_POLL_AFTER = timedelta(hours=6)
SLOW_POLL_INTERVAL = timedelta(hours=1)
RETRY_FAILED_DELIVERY_AFTER = timedelta(minutes=5)
# arXiv's Retry-After is honoured up to this long (a hostile or broken value must not stop polling).
MAX_RETRY_AFTER = timedelta(hours=6)
# A day whose delivery was begun but not finished when the next feed day arrived is still posted
# (late, with a note in its title) when it is the previous feed day; anything older than that is
# given up as undeliverable (never a flood of old days).
LATE_NOTE = "posted late, after an outage"


def due_time(destination: Destination, day: date, calendar: AnnouncementCalendar) -> datetime:
    """When `destination` should receive the digest of feed day `day`: at its local post time
    on or after the moment the feed became available (at once when it has no post time)."""
    available = calendar.rebuild_time(day)
    if destination.post_time is None:
        return available
    zone = ZoneInfo(destination.timezone)
    local = available.astimezone(zone)
    candidate = datetime.combine(local.date(), destination.post_time, tzinfo=zone)
    if candidate < local:
        candidate = datetime.combine(local.date() + timedelta(days=1), destination.post_time, tzinfo=zone)
    return candidate


@dataclass
class _CachedDay:
    """One matcher pass over a day, shared by every destination (cached per day and subscription set)."""

    subscriptions_key: Sequence[Subscription]
    matches: DayMatches


@dataclass
class _CompiledSubscriptions:
    """The compiled matcher of a subscription set, kept across passes and days: compiling 100k
    subscriptions takes seconds. `subscriptions` (id -> Subscription) is what it was built from,
    so a change is applied as the difference (`CompiledMatcher.add/remove`)."""

    key: Sequence[Subscription]
    subscriptions: dict[str, Subscription]
    matcher: Matcher


def _updated_matcher(previous: _CompiledSubscriptions | None, key: Sequence[Subscription],
                     subscriptions: Sequence[Subscription]) -> _CompiledSubscriptions:
    """The matcher for `subscriptions`: `previous` changed by the difference when there is one,
    else compiled afresh. Runs in a worker thread."""
    with collector_paused():  # see bot.collector
        return _diff_or_compile(previous, key, subscriptions)


def _diff_or_compile(previous: _CompiledSubscriptions | None, key: Sequence[Subscription],
                     subscriptions: Sequence[Subscription]) -> _CompiledSubscriptions:
    wanted = {s.id: s for s in subscriptions}
    if previous is not None:
        try:
            matcher = previous.matcher
            for sid, old in previous.subscriptions.items():
                if wanted.get(sid) != old:
                    matcher.remove(sid)
            for sid, new in wanted.items():
                if previous.subscriptions.get(sid) != new:
                    matcher.add(new)
            return _CompiledSubscriptions(key, wanted, matcher)
        except Exception:  # noqa: BLE001 - a failed update must not cost the day: compile afresh
            log.exception("updating the compiled matcher failed; compiling it afresh")
    return _CompiledSubscriptions(key, wanted, compile_subscriptions(wanted.values()))


@dataclass(frozen=True, slots=True)
class PassReport:
    target_day: date
    day_status: str | None
    deliveries: tuple[DeliveryResult, ...]
    next_wake: datetime
    weekly: tuple[DeliveryResult, ...] = ()   # weekly best-ofs posted (or attempted) this pass


class Scheduler:
    def __init__(
        self,
        *,
        arxiv_settings: ArxivSettings,
        store: AsyncStore,
        arxiv: ArxivClient,
        directories: Sequence[DestinationDirectory],
        sinks: Mapping[str, DocumentSink | ThreadSink],
        clock: Clock,
        stop: asyncio.Event | None = None,
        weekly: WeeklyBestOfPoster | None = None,
        ranker: Ranker | None = None,
    ) -> None:
        self.settings = arxiv_settings
        self.weekly = weekly
        self.store = store
        self.arxiv = arxiv
        self.directories = list(directories)
        self.sinks = dict(sinks)
        self.clock = clock
        self.stop = stop or asyncio.Event()
        self.calendar = AnnouncementCalendar(arxiv_settings.holidays)
        self.runner = DeliveryRunner(store, clock, stop=self.stop)
        # Learned order of each destination's papers (retrained from votes when stale).
        self.ranker = ranker if ranker is not None else Ranker(store, now=clock.now)
        self._matches: _CachedDay | None = None
        self._late_matches: _CachedDay | None = None
        self._compiled: _CompiledSubscriptions | None = None
        # What the directories returned last, compared by identity: a directory that did not
        # change hands back the very same object (see ChannelSubscriptions), so an unchanged
        # subscription set is recognised without looking at 100k subscriptions.
        self._loaded: tuple[Directory, ...] = ()
        self._directory_cache: Directory | None = None
        self.last_successful_poll: datetime | None = None
        # Not before this time may arXiv be polled again (its Retry-After).
        self.poll_not_before: datetime | None = None

    async def run_forever(self) -> None:
        log.info("scheduler started; categories %s", " ".join(self.settings.categories))
        while not self.stop.is_set():
            try:
                report = await self.run_once()
                next_wake = report.next_wake
            except (StoreError, sqlite3.Error) as exc:
                # Locked, full or read-only database: an operator problem, not a bug; one clear
                # line. What was stored stays stored (every write is one transaction). Ledger
                # writes reach here as raw sqlite3 errors.
                error = exc if isinstance(exc, StoreError) else store_error_from("a scheduler pass", exc)
                log.error("database problem (%s), retrying in %s: %s", error.reason, RETRY_FAILED_DELIVERY_AFTER, error)
                next_wake = self.clock.now() + RETRY_FAILED_DELIVERY_AFTER
            except Exception:  # noqa: BLE001 - the loop must survive a bad pass and try again
                log.exception("scheduler pass failed; retrying in %s", RETRY_FAILED_DELIVERY_AFTER)
                next_wake = self.clock.now() + RETRY_FAILED_DELIVERY_AFTER
            if self.stop.is_set():
                break
            wait = max(1.0, (next_wake - self.clock.now()).total_seconds())
            log.info("next pass at %s (in %.0f s)", next_wake.isoformat(timespec="minutes"), wait)
            if await sleep_unless_stopped(self.clock, wait, self.stop):
                break
        log.info("scheduler stopped")

    async def run_once(self) -> PassReport:
        now = self.clock.now()
        target = self.calendar.latest_feed_day(now)
        finished = await self.store.run(lambda s: s.ledger.latest_announcement_day())
        polling = finished is None or finished[0] < target
        held_off = self.poll_not_before is not None and now < self.poll_not_before
        if polling and not held_off:
            finished = await self._poll(target) or finished
            polling = finished is None or finished[0] < target
        deliveries: tuple[DeliveryResult, ...] = ()
        pending_wakes: list[datetime] = []
        if finished is not None:
            late_deliveries, late_wakes = await self._deliver_superseded(finished[0])
            deliveries, pending_wakes = await self._deliver_due(*finished)
            deliveries, pending_wakes = late_deliveries + deliveries, late_wakes + pending_wakes
        weekly_results, weekly_wakes = await self._deliver_weekly()
        next_rebuild = self.calendar.rebuild_time(self.calendar.next_feed_day(target))
        wakes = [next_rebuild, *pending_wakes, *weekly_wakes]
        if polling:
            if self.poll_not_before is not None and self.poll_not_before > now:
                wakes.append(self.poll_not_before)  # arXiv said when: exactly then, not later
            else:
                late = now - self.calendar.rebuild_time(target) > SLOW_POLL_AFTER
                interval = max(timedelta(minutes=self.settings.poll_interval_minutes),
                               SLOW_POLL_INTERVAL if late else timedelta(0))
                wakes.append(now + interval)
        return PassReport(target, finished[1] if finished else None, deliveries, min(wakes),
                          tuple(weekly_results))

    # -- polling ------------------------------------------------------------------------------

    async def _poll(self, target: date) -> tuple[date, str] | None:
        """Fetch the feed once; record the day when it carries `target` (or newer)."""
        today = self.clock.now().astimezone(EASTERN).date()
        try:
            result = await self._unless_stopped(fetch_and_store(self.arxiv, self.store, self.settings.categories,
                                                                not_after=today))
        except FutureDatedFeed as exc:
            metrics.POLLS.labels("future_dated").inc()
            log.error("%s", exc)
            return None
        except ArxivError as exc:
            metrics.POLLS.labels("failed").inc()
            retry_after = exc.retry_after if isinstance(exc, FetchFailed) else None
            if retry_after:
                wait = min(timedelta(seconds=retry_after), MAX_RETRY_AFTER)
                self.poll_not_before = self.clock.now() + wait
                log.error("arXiv poll for %s failed; arXiv asked to wait, next poll at %s: %s", target,
                          self.poll_not_before.isoformat(timespec="seconds"), exc)
            else:
                log.error("arXiv poll for %s failed, will retry at the next poll: %s", target, exc)
            return None
        if result is None:
            log.info("stopping: arXiv poll for %s abandoned", target)
            return None
        self.last_successful_poll = self.clock.now()
        metrics.LAST_SUCCESSFUL_POLL.set(self.last_successful_poll.timestamp())
        if result.status == NOT_MODIFIED:
            metrics.POLLS.labels("not_modified").inc()
            log.info("feed for %s not rebuilt yet (304)", target)
            return None
        day = result.day or target
        if day < target:
            metrics.POLLS.labels("stale").inc()
            log.info("feed still dated %s; waiting for %s", day, target)
            return None
        status = ANNOUNCED if result.status == ANNOUNCED else EMPTY
        metrics.POLLS.labels(status).inc()
        now = self.clock.now()
        await self.store.run(lambda s: s.ledger.record_announcement_day(day, status, result.papers, now))
        if status == ANNOUNCED:
            summary = result.summary
            types = ", ".join(f"{k} {v}" for k, v in sorted((summary.by_type if summary else {}).items()))
            log.info("stored %s: %d papers (%s)", day, result.papers, types)
        else:
            log.info("no announcement for %s (empty feed)", day)
        return day, status

    async def _unless_stopped(self, work):
        """Run `work`, but give up on it when a stop is requested: a poll can spend minutes in
        backoff, and SIGTERM must not wait for that. Returns None when stopped. (A listing is
        saved in one transaction, so cancelling never leaves half a day stored.)"""
        task = asyncio.ensure_future(work)
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if task.done():
            return task.result()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return None

    # -- the weekly best-of (bot.weekly) -------------------------------------------------------

    async def _deliver_weekly(self) -> tuple[list[DeliveryResult], list[datetime]]:
        """Post the weekly best-ofs that are due; when to come back for the next ones. A failure
        here never costs the daily threads: it is logged and tried again shortly."""
        if self.weekly is None:
            return [], []
        try:
            directory = await self._directory()
            destinations = [d for d in directory.destinations
                            if d.weekly_day is not None and d.platform in self.sinks]
            if not destinations:
                return [], []
            return await self.weekly.deliver_due(self.clock.now(), destinations, self.sinks, self.runner)
        except (StoreError, sqlite3.Error):
            raise
        except Exception:  # noqa: BLE001 - the daily cycle goes on without this week's post
            log.exception("weekly best-of pass failed; retrying in %s", RETRY_FAILED_DELIVERY_AFTER)
            return [], [self.clock.now() + RETRY_FAILED_DELIVERY_AFTER]

    # -- matching and delivery ----------------------------------------------------------------

    async def _directory(self) -> Directory:
        loaded = tuple([await directory.load() for directory in self.directories])
        if self._directory_cache is None or not _same_objects(loaded, self._loaded):
            self._loaded = loaded
            self._directory_cache = Directory(
                tuple(d for part in loaded for d in part.destinations),
                tuple(s for part in loaded for s in part.subscriptions))
        return self._directory_cache

    async def day_matches(self, day: date, subscriptions: Sequence[Subscription]) -> DayMatches:
        """The day's matches (matched papers enriched), computed once per day and subscription
        set (passes reuse them); the compiled matcher is kept across days while the
        subscriptions stay the same, and updated by their difference when they change."""
        # The key is the subscriptions object itself, compared by identity (and held, so its id
        # cannot be reused): the directory hands back the same tuple while nothing changed; a
        # changed directory is a new tuple, even with equal contents.
        key = subscriptions
        cached = self._matches
        if cached is None or cached.matches.day != day or cached.subscriptions_key is not key:
            compiled = await self._compiled_for(subscriptions)
            matches = await match_day(self.store, day, subscriptions, arxiv=self.arxiv,
                                      matcher=compiled.matcher)
            cached = self._matches = _CachedDay(key, matches)
        return cached.matches

    async def _compiled_for(self, subscriptions: Sequence[Subscription]) -> _CompiledSubscriptions:
        compiled = self._compiled
        if compiled is None or compiled.key is not subscriptions:
            compiled = self._compiled = await asyncio.to_thread(
                _updated_matcher, compiled, subscriptions, subscriptions)
        return compiled

    async def prepare(self) -> None:
        """Load the directory and compile its subscriptions now. `paperbot run` calls this
        before the chat platforms connect: at 100k subscriptions, building the matcher's automaton
        is one native call that holds the GIL for about a second, harmless while no interaction can be
        waiting, a stalled event loop once people click. A failure here is only logged: the
        first pass loads and compiles again (and reports what fails)."""
        try:
            directory = await self._directory()
            await self._compiled_for(directory.subscriptions)
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception("preparing the subscriptions before start failed; the first pass retries")

    async def _deliver_due(self, day: date, status: str) -> tuple[tuple[DeliveryResult, ...], list[datetime]]:
        now = self.clock.now()
        directory = await self._directory()
        due: list[Destination] = []
        later: list[datetime] = []
        for destination in directory.destinations:
            if destination.platform not in self.sinks:
                continue
            if status == EMPTY and not destination.empty_note:
                continue  # no announcement: nothing to say unless the destination asked for a note
            when = due_time(destination, day, self.calendar)
            if when <= now:
                due.append(destination)
            else:
                later.append(when)
        if not due:
            return (), later
        # Skipped before any digest is built: a pass at a later post time (or a poll) must not
        # redo the day's work for every destination that already has it.
        done = await self.store.read(lambda s: s.ledger.done_destinations(day),
                                     operation="reading finished deliveries")
        already = [DeliveryResult(d.key, day, DONE, detail="already delivered") for d in due if d.key in done]
        due = [d for d in due if d.key not in done]
        if not due:
            return tuple(already), later
        matches = await self.day_matches(day, directory.subscriptions) if status == ANNOUNCED else DayMatches(day)
        orders = await relevance_orders(self.ranker, due, matches)

        # Building a thousand digests takes seconds: in a worker thread, not on the event loop.
        def build_digests() -> list:
            with collector_paused():
                return [digest_for(d, day, matches, orders.get(d.key)) for d in due]

        digests = await asyncio.to_thread(build_digests)
        jobs = [(self.sinks[d.platform], d, digest) for d, digest in zip(due, digests)]
        results = already + await deliver_all(self.runner, jobs)
        await asyncio.to_thread(release_in_pieces, jobs, digests)  # see release_in_pieces
        for result in results:
            if result.outcome != DONE or result.messages:
                log.info("delivery %s %s: %s %s", result.destination, day, result.outcome, result.detail)
        return tuple(results), later + _retry_wakes(results, now)

    async def _deliver_superseded(self, latest: date) -> tuple[tuple[DeliveryResult, ...], list[datetime]]:
        """Days whose delivery was begun (posting, failed) but is unfinished although a newer feed
        day is here: the previous feed day is still posted, late, with a note in its title (a
        Slack or Discord outage across midnight must not lose it); older ones are given up, each
        an ERROR line, a metric and a state `/papers list` shows."""
        unfinished = await self.store.run(lambda s: s.ledger.unfinished_deliveries(latest))
        if not unfinished:
            return (), []
        now = self.clock.now()
        directory = await self._directory()
        by_key = {d.key: d for d in directory.destinations if d.platform in self.sinks}
        previous = self.calendar.previous_feed_day(latest)
        jobs = []
        for record in unfinished:
            destination = by_key.get(record.destination)
            if destination is None:
                await self.runner.give_up(record.destination, record.day,
                                          f"superseded by {latest}; the destination is no longer configured")
            elif record.day < previous:
                await self.runner.give_up(record.destination, record.day,
                                          f"superseded by {latest} before the platform came back"
                                          f" (last error: {record.last_error or 'interrupted'})")
            else:
                jobs.append((record.day, destination))
        if not jobs:
            return (), []
        results = []
        for day in sorted({day for day, _ in jobs}):
            matches = await self._superseded_matches(day, directory.subscriptions)
            orders = await relevance_orders(self.ranker, [d for job_day, d in jobs if job_day == day], matches)
            day_jobs = []
            for job_day, destination in jobs:
                if job_day == day:
                    digest = digest_for(destination, day, matches, orders.get(destination.key))
                    digest = replace(digest, title=f"{digest.title} · {LATE_NOTE}")
                    day_jobs.append((self.sinks[destination.platform], destination, digest))
            log.warning("posting %s late to %d destination(s): its delivery was unfinished when %s arrived",
                        day, len(day_jobs), latest)
            results += await deliver_all(self.runner, day_jobs)
        return tuple(results), _retry_wakes(results, now)

    async def _superseded_matches(self, day: date, subscriptions: Sequence[Subscription]) -> DayMatches:
        cached = self._late_matches
        if cached is None or cached.matches.day != day:
            matches = await match_day(self.store, day, subscriptions, arxiv=self.arxiv)
            cached = self._late_matches = _CachedDay((), matches)
        return cached.matches


def _retry_wakes(results: Sequence[DeliveryResult], now: datetime) -> list[datetime]:
    """When to come back for deliveries that did not finish: at their backoff's end."""
    wakes = []
    for result in results:
        if result.retry_at is not None:
            wakes.append(max(result.retry_at, now + timedelta(seconds=1)))
        elif result.outcome in (FAILED, INTERRUPTED):
            wakes.append(now + RETRY_FAILED_DELIVERY_AFTER)
    return wakes


def _same_objects(a: Sequence[object], b: Sequence[object]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))
