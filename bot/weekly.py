"""The weekly best-of (`/papers settings weekly on [DAY HH:MM]`): once a week, at the channel's
DAY HH:MM in its time zone, ONE message with the week's most-voted papers and the best-ranked
papers the channel received that week that nobody voted on.

- When: a channel's latest due moment (its weekday and time, local) that is not in the future.
  It is posted when that moment is at most `CATCH_UP` old, so a bot that was down posts the week
  late by at most that much, and a channel that turns the weekly on mid-week does not get last
  week's at once. The scheduler wakes for the next due moment (`next_due`).
- What: votes cast in the channel during the week (`store.votes.for_destination(since=start)`)
  give each paper a net 👍; the best with net > 0 come first. Then the papers delivered to the
  channel that week (`store.ledger.delivered_between`) without any vote, ranked by a `Ranker`
  (`bot.ranking` plugs in here) or, without one or while it has too few votes, each day's
  papers in the order they were posted (best match first), taken day by day in turn.
- How: through the delivery runner like a daily thread, under the ledger key `<channel>#weekly`
  and the week's last day, so it goes out once per week, is retried with backoff, and a crash
  between posting and recording finds the message again on the platform instead of posting it
  twice. A platform sink takes part by offering `compose_weekly` (and `find_weekly` where its
  `find_parent` cannot recognise the message).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from bot.delivery.runner import DeliveryResult, DeliveryRunner, PAUSED
from bot.delivery.sink import ComposedDay, OutgoingMessage, ThreadSink, Undelivered
from bot.destinations import Destination
from bot.digest.model import Digest
from bot.digest.weekly import VotedPaper, WeeklyBestOf, weekly_key
from bot.models import Paper
from bot.store import AsyncStore, ReadStore

log = logging.getLogger(__name__)

CATCH_UP = timedelta(hours=6)
WEEK = timedelta(days=7)
TOP_VOTED = 5       # most-voted papers shown
TOP_UNVOTED = 5     # best-ranked unvoted papers shown


@runtime_checkable
class Ranker(Protocol):
    """What the weekly best-of asks of the learned ranking (`bot.ranking.Ranker`): a score per
    paper for a destination (higher is better), or None while it has too few votes to rank."""

    async def scores(self, destination_key: str, papers: Sequence[Paper]) -> dict[str, float] | None: ...


@runtime_checkable
class WeeklySink(Protocol):
    """A platform sink that can post a weekly best-of: one top-level message."""

    def compose_weekly(self, destination: Destination, week: WeeklyBestOf) -> OutgoingMessage: ...


def latest_due(destination: Destination, now: datetime) -> datetime | None:
    """The channel's most recent weekly moment at or before `now` (None: weekly is off)."""
    if destination.weekly_day is None or destination.weekly_time is None:
        return None
    zone = ZoneInfo(destination.timezone)
    local = now.astimezone(zone)
    back = (local.weekday() - destination.weekly_day) % 7
    candidate = datetime.combine(local.date() - timedelta(days=back), destination.weekly_time, tzinfo=zone)
    if candidate > local:
        candidate = datetime.combine(candidate.date() - WEEK, destination.weekly_time, tzinfo=zone)
    return candidate


def next_due(destination: Destination, now: datetime) -> datetime | None:
    """The channel's next weekly moment after `now`."""
    latest = latest_due(destination, now)
    if latest is None:
        return None
    return datetime.combine(latest.date() + WEEK, destination.weekly_time, tzinfo=latest.tzinfo)


def round_robin_by_day(delivered: Sequence[tuple[date, str]]) -> list[str]:
    """Each day's papers in their posted order, taken day by day in turn (newest day first):
    every day's best match before any day's second."""
    by_day: dict[date, list[str]] = defaultdict(list)
    for day, paper_id in delivered:
        if paper_id not in by_day[day]:
            by_day[day].append(paper_id)
    days = sorted(by_day, reverse=True)
    order: list[str] = []
    seen: set[str] = set()
    for rank in range(max((len(ids) for ids in by_day.values()), default=0)):
        for day in days:
            ids = by_day[day]
            if rank < len(ids) and ids[rank] not in seen:
                seen.add(ids[rank])
                order.append(ids[rank])
    return order


class WeeklyThreadSink:
    """The runner's `ThreadSink` for one weekly message: the parent is the best-of, there is no
    thread. Posting, pacing, retries and recognising an already posted message are the platform
    sink's."""

    def __init__(self, inner: ThreadSink, week: WeeklyBestOf) -> None:
        self.inner = inner
        self.week = week
        self.platform = inner.platform
        self.pace = inner.pace

    def compose(self, destination: Destination, digest: Digest, undelivered: Undelivered) -> ComposedDay:
        return ComposedDay(self.inner.compose_weekly(destination, self.week), ())  # type: ignore[attr-defined]

    async def send(self, destination: Destination, message: OutgoingMessage, parent_ref: str | None) -> str:
        return await self.inner.send(destination, message, parent_ref)

    async def find_parent(self, destination: Destination, digest: Digest) -> str | None:
        find = getattr(self.inner, "find_weekly", None)
        if find is not None:
            return await find(destination, self.week)
        return await self.inner.find_parent(destination, digest)

    async def posted_markers(self, destination: Destination, parent_ref: str) -> set[str]:
        return set()   # one message, no thread: found means delivered


class WeeklyBestOfPoster:
    """Posts every due weekly best-of; the scheduler calls `deliver_due` on each pass."""

    def __init__(self, store: AsyncStore, *, ranker: Ranker | None = None,
                 top_voted: int = TOP_VOTED, top_unvoted: int = TOP_UNVOTED) -> None:
        self.store = store
        self.ranker = ranker
        self.top_voted = top_voted
        self.top_unvoted = top_unvoted

    def next_wake(self, destinations: Sequence[Destination], now: datetime) -> datetime | None:
        wakes = [when for d in destinations if (when := next_due(d, now)) is not None]
        return min(wakes) if wakes else None

    async def deliver_due(self, now: datetime, destinations: Sequence[Destination],
                          sinks: Mapping[str, Any], runner: DeliveryRunner) -> tuple[list[DeliveryResult], list[datetime]]:
        """Post the best-of of every channel whose weekly moment came within CATCH_UP and that
        has not got it yet; returns the results and when to come back (the next weekly moments,
        and retries of failed posts)."""
        results: list[DeliveryResult] = []
        wakes: list[datetime] = []
        for destination in destinations:
            sink = sinks.get(destination.platform)
            due = latest_due(destination, now)
            if due is None or not isinstance(sink, WeeklySink):
                continue
            wakes.append(next_due(destination, now))  # type: ignore[arg-type]
            if now - due > CATCH_UP:
                continue
            result = await self._deliver_one(destination, due, sink, runner)
            if result is None:
                continue
            results.append(result)
            if result.retry_at is not None:
                wakes.append(result.retry_at)
            if result.outcome != "done" or result.messages:
                log.info("weekly best-of %s %s: %s %s", destination.key, due.date(), result.outcome, result.detail)
        return results, wakes

    async def _deliver_one(self, destination: Destination, due: datetime, sink: Any,
                           runner: DeliveryRunner) -> DeliveryResult | None:
        key, last_day = weekly_key(destination.key), due.date()

        def state(store: ReadStore):
            record = store.ledger.get_delivery(key, last_day)
            return (record.state if record else None), store.ledger.paused_reason(destination.key)

        done, paused = await self.store.read(state, operation="reading the weekly best-of's delivery")
        if done == "done" or paused:
            return None   # posted already; or the channel is paused (its daily thread says why)
        week = await self.best_of(destination, due)
        # An empty week (nothing voted, nothing received) posts nothing, whatever the channel's
        # note on empty days; it is still recorded, so the week is not looked at again.
        weekly_destination = dataclasses.replace(destination, key=key, empty_note=False)
        result = await runner.deliver(WeeklyThreadSink(sink, week), weekly_destination, week.as_digest())
        if result.outcome == PAUSED:
            # Lost the channel: the pause belongs to the channel (where /papers list shows it and
            # /papers resume lifts it), not to the weekly key.
            reason = result.detail

            def move(store):
                store.ledger.resume_destination(key)
                store.ledger.pause_destination(destination.key, reason)

            await self.store.run(move)
        return result

    async def best_of(self, destination: Destination, due: datetime) -> WeeklyBestOf:
        """The channel's week ending at `due`: the week's most-voted papers, and the best-ranked
        papers it received that nobody voted on."""
        start = due - WEEK
        first_day, last_day = (start + timedelta(days=1)).date(), due.date()
        key = destination.key
        # The feed days of the week shown (the day after last week's post up to the due day):
        # each feed day belongs to exactly one week.
        window = (first_day, last_day)

        def read(store: ReadStore):
            votes = store.votes.for_destination(key, since=start.astimezone(ZoneInfo("UTC")))
            delivered = store.ledger.delivered_between(key, *window)
            net: dict[str, int] = defaultdict(int)
            for vote in votes:
                net[vote.paper_id] += vote.value
            delivered_ids = [pid for _, pid in delivered]
            counts = store.votes.counts(key, list(dict.fromkeys([*net, *delivered_ids])))
            wanted = set(net) | set(delivered_ids)
            return net, delivered, counts, store.papers.get_many(wanted)

        net, delivered, counts, papers = await self.store.read(read, operation="reading the week's votes")
        liked = sorted((pid for pid, value in net.items() if value > 0 and pid in papers),
                       key=lambda pid: (-net[pid], -counts[pid].up if pid in counts else 0, pid))
        voted = tuple(VotedPaper(papers[pid], counts[pid].up if pid in counts else 0,
                                 counts[pid].down if pid in counts else 0)
                      for pid in liked[:self.top_voted])
        candidates = [pid for pid in round_robin_by_day(delivered) if pid not in counts and pid in papers]
        ranked_by_votes = False
        if self.ranker is not None and candidates:
            try:
                scores = await self.ranker.scores(key, [papers[pid] for pid in candidates])
            except Exception:  # noqa: BLE001 - a ranking failure costs the order, not the week
                log.exception("ranking the weekly best-of of %s failed; using the match order", key)
                scores = None
            if scores:
                position = {pid: n for n, pid in enumerate(candidates)}
                candidates.sort(key=lambda pid: (-scores.get(pid, float("-inf")), position[pid]))
                ranked_by_votes = True
        unvoted = tuple(papers[pid] for pid in candidates[:self.top_unvoted])
        return WeeklyBestOf(destination=weekly_key(key), title=destination.title, first_day=first_day,
                            last_day=last_day, voted=voted, unvoted=unvoted,
                            ranked_by_votes=ranked_by_votes,
                            received=len({pid for _, pid in delivered}))
