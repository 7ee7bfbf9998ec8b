"""Deliver one digest to one destination, restart-safe, through any sink.

The ledger records every message before the next one goes (the parent together with the first
reply, the last reply together with the day's end; the writes of concurrent deliveries share
transactions, `group_commit.py`), so a crash costs at most the message in flight; on the next run
the parent is found again (ledger, or the platform itself via `find_parent`) and only the papers
the thread does not hold yet are posted. Per-destination pacing, the platform-wide message budget
(`budget.py`), rate-limit waits and pausing of lost destinations happen here, once for every
platform; the platform-wide health and request budget of a sink's calls are `health.py`'s.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from bot import metrics
from bot.clock import Clock, sleep_unless_stopped
from bot.delivery.budget import RequestBudget
from bot.delivery.group_commit import GroupCommit
from bot.delivery.sink import (
    MENTION_PREFIX,
    DestinationUnavailable,
    DocumentSink,
    OutgoingMessage,
    Pace,
    PlatformUnavailable,
    RateLimited,
    ThreadSink,
    TransientDeliveryError,
    Undelivered,
)
from bot.destinations import Destination
from bot.digest.model import Digest
from bot.store import AsyncStore, StoreError
from bot.store import ledger

log = logging.getLogger(__name__)

DONE, PAUSED, FAILED, SKIPPED, INTERRUPTED = "done", "paused", "failed", "skipped", "interrupted"
WAITING = "waiting"              # failed before; the next attempt waits for its backoff
UNDELIVERABLE = "undeliverable"  # superseded before it could go out; final, with the reason

# Attempt policy: a failed day is retried however long the platform stays down (until the
# scheduler supersedes the day), with exponential backoff between attempts so an outage is not
# hammered: 30 s, 1 min, 2 min, ... capped at 10 min, so a day goes out at most ~10 minutes after
# the platform is back. Attempts are counted when they fail; a crash never spends one.
RETRY_BACKOFF_BASE = timedelta(seconds=30)
RETRY_BACKOFF_MAX = timedelta(minutes=10)


def retry_backoff(failed_attempts: int) -> timedelta:
    """How long to wait after the `failed_attempts`-th failure before trying again."""
    if failed_attempts <= 0:
        return timedelta(0)
    return min(RETRY_BACKOFF_MAX, RETRY_BACKOFF_BASE * 2 ** min(failed_attempts - 1, 20))


# Deliveries in flight at once, per sink. A delivery of M messages lasts at least (M - 1) times
# the platform's per-channel interval, so keeping a platform-wide rate R busy takes about
# R x interval deliveries at once: a fixed 32 held Slack at 200 messages a second to ~48 (32
# channels x 3 messages per 2 s) and a 1,000-channel day took four times as long as the
# platform allowed. Bounded all the same, at 1.5 times that, and never below 32: each delivery
# holds its composed messages in memory, and more would only queue on the budget.
MIN_CONCURRENT_DELIVERIES = 32


def concurrent_deliveries(pace: Pace) -> int:
    """How many deliveries of one sink may be in flight together (see above)."""
    rate = pace.platform_messages_per_second
    if not rate or pace.per_destination_interval <= 0:
        return MIN_CONCURRENT_DELIVERIES
    return max(MIN_CONCURRENT_DELIVERIES, math.ceil(1.5 * rate * pace.per_destination_interval))


def _record_message(store, *, key: str, day: date, now: datetime, markers: Sequence[str], ref: str,
                    parent_ref: str | None, done: bool) -> None:
    """One posted message in the ledger, in one transaction: the parent's reference if it is
    not recorded yet, the papers (and mentions) the message holds, and the day's end if it was
    the last."""
    with store.transaction():
        if parent_ref is not None:
            store.ledger.set_parent(key, day, parent_ref, now)
        if markers:
            store.ledger.record_papers(key, day, markers, ref, now)
        if done:
            store.ledger.finish(key, day, ledger.DONE, now)


def _open_day(store, key: str, day: date, now: datetime, *, waiting: bool):
    """(paused reason, the day's record, the record once its attempt has started): the attempt
    starts only if the destination is not paused, the day is not final and no back-off holds it."""
    reason = store.ledger.paused_reason(key)
    if reason:
        return reason, None, None
    record = store.ledger.get_delivery(key, day)
    if waiting or (record and record.state in (ledger.DONE, ledger.UNDELIVERABLE)):
        return None, record, None
    return None, record, store.ledger.start_attempt(key, day, now)


class _Stopped(Exception):
    """The runner was asked to stop between two messages."""


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    destination: str
    day: date
    outcome: str
    messages: int = 0
    papers: int = 0
    detail: str = ""
    retry_at: datetime | None = None  # FAILED / WAITING: when the next attempt may start


class DeliveryRunner:
    def __init__(self, store: AsyncStore, clock: Clock, *, max_rate_limit_waits: int = 5,
                 stop: asyncio.Event | None = None) -> None:
        self.store = store
        self.clock = clock
        # Every ledger read and write of a delivery goes through here: the writes of concurrent
        # deliveries share transactions and database-thread hops (bot/delivery/group_commit.py).
        self.ledger_writes = GroupCommit(store)
        self.max_rate_limit_waits = max_rate_limit_waits
        self.stop = stop or asyncio.Event()
        # (destination, day) -> monotonic time before which a failed day is not retried. Kept in
        # memory: a restarted bot tries once at once, then backs off again.
        self._retry_not_before: dict[tuple[str, date], float] = {}
        self._last_message_at: dict[str, float] = {}
        # One budget per sink (a sink is one workspace / one bot) for its platform-wide rate.
        self._platform_budgets: dict[int, RequestBudget] = {}
        # One bound per sink on its deliveries in flight (concurrent_deliveries), shared by
        # every deliver_all of this runner.
        self._delivery_slots: dict[int, asyncio.Semaphore] = {}

    def delivery_slots(self, sink: DocumentSink | ThreadSink) -> asyncio.Semaphore:
        """The semaphore that bounds `sink`'s deliveries in flight."""
        slots = self._delivery_slots.get(id(sink))
        if slots is None:
            pace = getattr(sink, "pace", None) or Pace()
            slots = self._delivery_slots[id(sink)] = asyncio.Semaphore(concurrent_deliveries(pace))
        return slots

    async def deliver(self, sink: DocumentSink | ThreadSink, destination: Destination,
                      digest: Digest) -> DeliveryResult:
        result = await self._deliver(sink, destination, digest)
        metrics.DELIVERIES.labels(result.outcome).inc()
        if result.messages:
            metrics.MESSAGES_POSTED.labels(sink.platform).inc(result.messages)
        return result

    async def _deliver(self, sink: DocumentSink | ThreadSink, destination: Destination,
                       digest: Digest) -> DeliveryResult:
        key, day = destination.key, digest.day
        # In memory: a failed day is not retried before its back-off ends.
        wait = self._retry_not_before.get((key, day), 0.0) - self.clock.monotonic()
        now = self.clock.now()
        # One trip to the database for what decides whether to post, and the attempt's start.
        reason, record, started = await self.ledger_writes.run(
            lambda s: _open_day(s, key, day, now, waiting=wait > 0))
        if reason:
            # A sink may know that the cause is over (a platform-wide problem that ended, or
            # whose next probe is due): then this delivery tries again, and pauses again if not.
            lifted = getattr(sink, "pause_lifted", None)
            if lifted is None or not await lifted(destination, reason):
                return DeliveryResult(key, day, PAUSED, detail=reason)
            now = self.clock.now()
            reason, record, started = await self.ledger_writes.run(
                lambda s: (s.ledger.resume_destination(key), _open_day(s, key, day, now, waiting=wait > 0))[1])
        if record and record.state == ledger.DONE:
            return DeliveryResult(key, day, DONE, detail="already delivered")
        if record and record.state == ledger.UNDELIVERABLE:
            return DeliveryResult(key, day, UNDELIVERABLE, detail=record.last_error or "")
        if wait > 0:
            return DeliveryResult(key, day, WAITING, detail=f"retrying in {wait:.0f} s: {record.last_error if record else ''}",
                                  retry_at=self.clock.now() + timedelta(seconds=wait))
        # Only a day begun before (a crash, a failure) can have a parent the ledger missed.
        begun_before = record is not None
        record = started
        assert record is not None
        try:
            if isinstance(sink, ThreadSink):
                result, finished = await self._deliver_thread(sink, destination, digest, record.parent_ref,
                                                              begun_before)
            else:
                result, finished = await self._deliver_document(sink, destination, digest), False
        except DestinationUnavailable as exc:
            reason = exc.reason
            # A platform-wide problem (a revoked token) is logged once by its health, not per channel.
            log.log(logging.DEBUG if isinstance(exc, PlatformUnavailable) else logging.WARNING,
                    "pausing %s: %s", key, reason)
            now = self.clock.now()
            await self.ledger_writes.run(lambda s: (s.ledger.pause_destination(key, reason, now),
                                                    s.ledger.finish(key, day, ledger.FAILED, now, reason)))
            return DeliveryResult(key, day, PAUSED, detail=reason)
        except (StoreError, sqlite3.Error):
            # The database itself failed (locked, full): nothing can be recorded now; the
            # scheduler says so in one line and retries. What went out is found in the thread.
            raise
        except Exception as exc:  # noqa: BLE001 - one destination's failure must not stop the others
            detail = f"{type(exc).__name__}: {exc}"
            now = self.clock.now()
            failures = await self.ledger_writes.run(lambda s: s.ledger.record_failure(key, day, detail, now))
            backoff = retry_backoff(failures)
            self._retry_not_before[(key, day)] = self.clock.monotonic() + backoff.total_seconds()
            log.warning("delivery of %s for %s failed (attempt %d; retrying in %.0f s): %s", key, day,
                        failures, backoff.total_seconds(), detail,
                        exc_info=not isinstance(exc, (RateLimited, OSError, TransientDeliveryError)))
            metrics.DELIVERY_FAILURES.labels(sink.platform).inc()
            return DeliveryResult(key, day, FAILED, detail=detail, retry_at=now + backoff)
        self._retry_not_before.pop((key, day), None)
        if (result.outcome == DONE or result.outcome == SKIPPED) and not finished:
            now = self.clock.now()
            await self.ledger_writes.run(lambda s: s.ledger.finish(key, day, ledger.DONE, now))
        return result

    async def give_up(self, destination: str, day: date, reason: str) -> None:
        """Record that `destination` will never get `day` (superseded before it could go out):
        an ERROR line with the reason, a metric, and the state `/papers list` shows."""
        now = self.clock.now()
        log.error("delivery of %s for %s is undeliverable: %s", destination, day, reason)
        await self.ledger_writes.run(lambda s: (s.ledger.start_attempt(destination, day, now),
                                                s.ledger.finish(destination, day, ledger.UNDELIVERABLE, now, reason)))
        self._retry_not_before.pop((destination, day), None)
        metrics.UNDELIVERABLE_DAYS.inc()

    async def _deliver_document(self, sink: DocumentSink, destination: Destination,
                                digest: Digest) -> DeliveryResult:
        # A whole day's document (every paper with its abstract) is rendered off the event loop.
        document = await asyncio.to_thread(sink.compose, destination, digest)
        ref = await sink.send(destination, document)
        now = self.clock.now()
        ids = document.markers
        await self.ledger_writes.run(lambda s: s.ledger.record_papers(destination.key, digest.day, ids, ref, now))
        return DeliveryResult(destination.key, digest.day, DONE, messages=1, papers=len(ids), detail=ref)

    async def _deliver_thread(self, sink: ThreadSink, destination: Destination, digest: Digest,
                              parent_ref: str | None, begun_before: bool) -> tuple[DeliveryResult, bool]:
        """The day's thread; returns the result and whether the day was already recorded done
        (together with its last message)."""
        key, day = destination.key, digest.day
        if not digest.has_thread and not destination.empty_note:
            return DeliveryResult(key, day, SKIPPED, detail="no matching papers"), False
        messages = 0
        if parent_ref is None and begun_before:
            # Only a day begun before can have a parent the ledger missed (a crash right after
            # posting it); a first attempt skips the lookup and stays within 1 + ceil(n/k) calls.
            parent_ref = await self._call(sink, key, lambda: sink.find_parent(destination, digest))
        delivered: set[str] = set()
        if parent_ref is not None:
            already = await self.ledger_writes.run(lambda s: s.ledger.delivered_paper_ids(key, day))
            # Close the window between posting a message and recording it: ask the thread itself.
            ref = parent_ref
            on_platform = await self._call(sink, key, lambda: sink.posted_markers(destination, ref))
            missing = sorted(on_platform - set(already))
            if missing:
                now = self.clock.now()
                await self.ledger_writes.run(lambda s: s.ledger.record_papers(key, day, missing, ref, now))
            delivered = set(already) | set(missing)
        # Composed (and rendered) once: the parent, then the thread's messages, each with the
        # ledger markers it delivers (paper ids; `mention:<user>` for the people it names).
        undelivered = Undelivered.of(digest, delivered)
        # Rendered off the event loop: a real-size day takes a while (~0.1 ms a paper, 0.2 s for
        # 1,500), and even small ones add up when hundreds of deliveries start together (a few
        # ms each: a second of stalled loop for a 1,000-channel fan-out).
        composed = await asyncio.to_thread(sink.compose, destination, digest, undelivered)
        posted = 0
        # Ledger writes are batched where no crash can make them wrong: the parent's reference is
        # recorded together with the first thread message's papers, and the last message's
        # papers together with the day's end. A crash between the parent and its first reply
        # leaves a begun day without a parent reference, which `find_parent` finds on the
        # platform (one lookup, only then); papers posted but not recorded are found in the
        # thread (`posted_markers`). Each message's record is committed before the next goes.
        unrecorded_parent: str | None = None
        recorded_done = False
        try:
            if parent_ref is None:
                parent_ref = unrecorded_parent = await self._send(sink, destination, composed.parent, None)
                messages += 1
            for number, message in enumerate(composed.thread, start=1):
                if self.stop.is_set():
                    raise _Stopped
                ref = await self._send(sink, destination, message, parent_ref)
                messages += 1
                now, markers, last = self.clock.now(), message.markers, number == len(composed.thread)
                await self.ledger_writes.run(partial(_record_message, key=key, day=day, now=now, markers=markers,
                                                     ref=ref, parent_ref=unrecorded_parent, done=last))
                unrecorded_parent, recorded_done = None, last
                posted += sum(not marker.startswith(MENTION_PREFIX) for marker in markers)
            if unrecorded_parent is not None:   # a parent alone (an empty day's note)
                now = self.clock.now()
                await self.ledger_writes.run(partial(_record_message, key=key, day=day, now=now, markers=(),
                                                     ref=unrecorded_parent, parent_ref=unrecorded_parent,
                                                     done=True))
                unrecorded_parent, recorded_done = None, True
        except _Stopped:
            await self._record_parent(key, day, unrecorded_parent)
            return DeliveryResult(key, day, INTERRUPTED, messages, posted, "stopping; will resume"), False
        except BaseException:
            await self._record_parent(key, day, unrecorded_parent)
            raise
        return DeliveryResult(key, day, DONE, messages, posted, parent_ref), recorded_done

    async def _record_parent(self, key: str, day: date, parent_ref: str | None) -> None:
        """A delivery that ends early still records the parent it posted (best effort: if the
        database fails too, the next attempt finds the parent on the platform)."""
        if parent_ref is None:
            return
        now = self.clock.now()
        try:
            await self.ledger_writes.run(lambda s: s.ledger.set_parent(key, day, parent_ref, now))
        except (StoreError, sqlite3.Error) as exc:
            log.warning("could not record the parent of %s for %s (%s); the next attempt looks for it",
                        key, day, exc)

    async def _send(self, sink: ThreadSink, destination: Destination, message: OutgoingMessage,
                    parent_ref: str | None) -> str:
        await self._pace(sink, destination.key)
        if self.stop.is_set():
            # Asked to stop while waiting for the pace: nothing more goes out; the ledger holds
            # what did, so the next run resumes here.
            raise _Stopped
        try:
            return await self._call(sink, destination.key, lambda: sink.send(destination, message, parent_ref),
                                    budget=self._platform_budget(sink))
        finally:
            # Stamped when the call has completed, not when it started: the platform measures
            # arrivals, and a request that started on time may arrive late (a busy event loop,
            # a slow connection). Waiting the interval from completion means the next message
            # cannot arrive sooner than the interval after this one did.
            self._last_message_at[destination.key] = self.clock.monotonic()

    async def _pace(self, sink: ThreadSink, key: str) -> None:
        """Keep at least the sink's per-destination interval between the completion of the last
        message and the next one.

        Pacing reads the clock's monotonic time: a wall clock stepped backwards (NTP, a VM
        resumed) must not hold posting back by the size of the step. Every wait ends early when
        the runner is asked to stop."""
        interval = sink.pace.per_destination_interval
        last = self._last_message_at.get(key)
        if last is not None and interval > 0:
            wait = last + interval - self.clock.monotonic()
            if wait > 0:
                await sleep_unless_stopped(self.clock, wait, self.stop)

    def _platform_budget(self, sink: ThreadSink) -> RequestBudget | None:
        """The budget that keeps the sink's platform-wide message rate
        (`sink.pace.platform_messages_per_second`) across ALL its destinations, on the runner's
        clock. Without it, a thousand channels post at once, all get 429, and all retry
        together; with a mere spacing of the starts, messages held up by a busy loop arrive
        together and draw 429s all the same (see `bot.delivery.budget`)."""
        rate = sink.pace.platform_messages_per_second
        if not rate:
            return None
        budget = self._platform_budgets.get(id(sink))
        if budget is None or budget.per_second != rate:
            budget = self._platform_budgets[id(sink)] = RequestBudget(
                rate, monotonic=self.clock.monotonic, sleep=self._sleep_or_stop)
        return budget

    async def _sleep_or_stop(self, seconds: float) -> None:
        if await sleep_unless_stopped(self.clock, seconds, self.stop):
            raise _Stopped

    async def _call(self, sink, key: str, call, *, budget: RequestBudget | None = None):
        """One platform call, waiting out rate limits (bounded) as the platform asks. Every
        attempt (the retries too) is counted by the platform-wide `budget`, if any, so retries
        after a 429 do not arrive as one herd."""
        for attempt in range(self.max_rate_limit_waits + 1):
            try:
                if budget is None:
                    return await call()
                async with budget.slot():
                    return await call()
            except RateLimited as exc:
                if attempt == self.max_rate_limit_waits:
                    raise
                log.info("%s: rate limited, waiting %.1f s", key, exc.retry_after)
                if await sleep_unless_stopped(self.clock, exc.retry_after, self.stop):
                    raise
        raise AssertionError("unreachable")


async def deliver_all(runner: DeliveryRunner, jobs: Sequence[tuple[DocumentSink | ThreadSink, Destination, Digest]]
                      ) -> list[DeliveryResult]:
    """Deliver to many destinations concurrently; each one's failure stays its own. At most
    `concurrent_deliveries(sink.pace)` of one sink's deliveries are in flight at once (the
    runner's bound, shared by all its calls)."""

    async def one(sink: DocumentSink | ThreadSink, destination: Destination, digest: Digest) -> DeliveryResult:
        async with runner.delivery_slots(sink):
            return await runner.deliver(sink, destination, digest)

    return list(await asyncio.gather(*(one(sink, dest, digest) for sink, dest, digest in jobs)))
