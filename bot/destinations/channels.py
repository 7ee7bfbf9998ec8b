"""Chat channels as delivery destinations: what `/papers subscribe` and `/papers settings` stored,
read back through the `DestinationDirectory` seam the scheduler consumes.

One Destination per channel that has subscriptions (`slack:<workspace>:<channel>`), fed by one
matcher Subscription per stored row (`chan:<row id>`). A channel's unset settings fall back to the
deployment's `schedule` configuration and the documented defaults (new and cross-listed papers,
no cap, silent on days without matches, papers in the learned order once votes allow).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from time import monotonic

from bot.collector import collector_paused
from bot.config import ScheduleSettings, parse_hh_mm
from bot.destinations.people import load_personal_routes
from bot.destinations.destination import RELEVANCE, Destination, Directory
from bot.matching import Query, QueryLimits, QuerySyntaxError, Subscription, parse_query
from bot.store import AsyncStore, ReadStore, Store
from bot.store.subscriptions import ChannelRef, ChannelSettingsRecord, ChannelSubscriptionRecord

log = logging.getLogger(__name__)

DEFAULT_CHANNEL_TYPES: tuple[str, ...] = ("new", "cross")
# Stored queries were checked against the limits of the day they were added; a later, stricter
# configuration must not silently drop a channel's existing subscriptions, so reading them back
# uses these generous bounds instead.
STORED_QUERY_LIMITS = QueryLimits(max_length=100_000, max_terms=10_000, max_depth=1_000)
# A change made outside this process (an operator's script) reaches the scheduler within this.
DIRECTORY_MAX_AGE = timedelta(minutes=30)


def describe_stored_query(stored_query: str) -> str | None:
    """How a stored query reads (`Query.describe()`), None if it no longer parses."""
    try:
        return parse_query(stored_query, STORED_QUERY_LIMITS).describe()
    except QuerySyntaxError:
        return None


def channel_destination_key(channel: ChannelRef) -> str:
    """The ledger key of a channel's daily thread: `slack:T123:C456`."""
    return f"{channel.platform}:{channel.workspace}:{channel.channel}"


def channel_subscription_id(row_id: int) -> str:
    return f"chan:{row_id}"


@dataclass(frozen=True, slots=True)
class ChannelSchedule:
    """A channel's settings with the defaults filled in (what delivery actually does)."""

    post_time: time | None        # None: as soon as the day's listing is available
    timezone: str
    types: tuple[str, ...]
    max_papers: int | None        # None: every matched paper
    empty_note: bool              # post a short note on days without matches
    types_are_default: bool = True
    paper_order: str = RELEVANCE  # relevance (by the channel's votes, once it has enough) | listing
    paper_order_is_default: bool = True
    weekly_day: int | None = None   # the weekly best-of: 0..6 = Monday..Sunday; None = off
    weekly_time: time | None = None  # its local time (with weekly_day)


def effective_channel_settings(record: ChannelSettingsRecord,
                               schedule: ScheduleSettings | None = None) -> ChannelSchedule:
    schedule = schedule or ScheduleSettings()
    post_time = record.post_time or schedule.post_time
    return ChannelSchedule(
        post_time=parse_hh_mm(post_time),
        timezone=record.timezone or schedule.timezone,
        types=record.types or DEFAULT_CHANNEL_TYPES,
        max_papers=record.max_papers,
        empty_note=record.empty_day == "note",
        types_are_default=not record.types,
        paper_order=record.paper_order or schedule.paper_order,
        paper_order_is_default=record.paper_order is None,
        # NULL (never chosen) and WEEKLY_OFF both mean off: the weekly best-of is opt-in.
        weekly_day=record.weekly_day if record.weekly_day is not None and record.weekly_day >= 0 else None,
        weekly_time=parse_hh_mm(record.weekly_time or schedule.weekly_time),
    )


def channel_subscription(row: ChannelSubscriptionRecord, channel_types: tuple[str, ...],
                         limits: QueryLimits = STORED_QUERY_LIMITS,
                         parse: Callable[[str, QueryLimits], Query] = parse_query) -> Subscription:
    """The matcher subscription of a stored row (raises QuerySyntaxError if it no longer parses)."""
    return Subscription(
        id=channel_subscription_id(row.id),
        query=parse(row.query, limits),
        types=frozenset(row.types or channel_types),
    )


class ParsedQueries:
    """Stored query text -> its parsed Query, kept across loads: a reload after one subscribe
    re-reads the rows but parses only what is new (queries are immutable once parsed)."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, QueryLimits], Query] = {}
        self._used: set[tuple[str, QueryLimits]] = set()

    def __call__(self, text: str, limits: QueryLimits) -> Query:
        key = (text, limits)
        self._used.add(key)
        query = self._parsed.get(key)
        if query is None:
            query = self._parsed[key] = parse_query(text, limits)
        return query

    def forget_unused(self) -> None:
        """Drop what the last load did not ask for (removed subscriptions)."""
        self._parsed = {key: query for key, query in self._parsed.items() if key in self._used}
        self._used = set()


def _load(store: Store | ReadStore, platform: str, schedule: ScheduleSettings | None,
          parse: Callable[[str, QueryLimits], Query] = parse_query) -> Directory:
    rows = store.channels.all_subscriptions(platform)
    settings = store.channels.all_channel_settings(platform)
    people = load_personal_routes(store, platform, schedule, STORED_QUERY_LIMITS, parse)
    by_channel: dict[ChannelRef, list[ChannelSubscriptionRecord]] = defaultdict(list)
    for row in rows:
        by_channel[row.channel].append(row)
    for workspace, channel_id in people.mentions:
        # A channel where only people asked for mentions still gets its daily thread.
        by_channel.setdefault(ChannelRef(platform, workspace, channel_id), [])
    destinations: list[Destination] = list(people.dm_destinations)
    subscriptions: list[Subscription] = list(people.subscriptions)
    for channel, channel_rows in by_channel.items():
        record = settings.get(channel) or ChannelSettingsRecord(channel)
        effective = effective_channel_settings(record, schedule)
        channel_subscriptions = []
        for row in channel_rows:
            try:
                channel_subscriptions.append(channel_subscription(row, effective.types, parse=parse))
            except (QuerySyntaxError, ValueError) as exc:
                # Only possible if the query language changed under a stored row; one bad row
                # must not silence the channel's other subscriptions.
                log.warning("skipping stored subscription %s of %s (%r): %s",
                            row.id, channel_destination_key(channel), row.query, exc)
        mentions = people.mentions.get((channel.workspace, channel.channel), {})
        if not channel_subscriptions and not mentions:
            continue
        subscriptions += channel_subscriptions
        name = record.channel_name or people.channel_names.get((channel.workspace, channel.channel))
        destinations.append(Destination(
            key=channel_destination_key(channel),
            platform=channel.platform,
            address=channel.channel,
            title=name or channel.channel,
            subscription_ids=tuple(s.id for s in channel_subscriptions),
            subscriptions_text=tuple(s.query.describe() for s in channel_subscriptions),
            post_time=effective.post_time,
            timezone=effective.timezone,
            empty_note=effective.empty_note,
            max_papers=effective.max_papers,
            weekly_day=effective.weekly_day,
            weekly_time=effective.weekly_time if effective.weekly_day is not None else None,
            options={"workspace": channel.workspace, "channel": channel.channel,
                     "channel_name": name},
            mention_subscriptions=mentions,
            paper_order=effective.paper_order,
        ))
    return Directory(tuple(destinations), tuple(subscriptions))


class ChannelSubscriptions:
    """The `DestinationDirectory` of one platform's chat channels and people (personal keywords,
    see `bot.destinations.people`).

    Kept in memory between loads and read again only when the store counted a change to
    subscriptions, settings or personal choices since (`AsyncStore.directory_version`; every
    `/papers subscribe` or `/papers me add` writes through the store, so it reaches the next
    scheduler pass without a restart), or when the copy is older than `max_age` (a change made by
    another process, such as an operator's script). Read on a reader connection, so a reload of
    a large directory never holds up the writer."""

    def __init__(self, store: AsyncStore, platform: str, *,
                 schedule: ScheduleSettings | None = None,
                 max_age: timedelta = DIRECTORY_MAX_AGE) -> None:
        self.store = store
        self.platform = platform
        self.schedule = schedule
        self.max_age = max_age.total_seconds()
        self._parsed = ParsedQueries()
        self._loaded: Directory | None = None
        self._loaded_version = -1
        self._loaded_at = 0.0
        self._loading = asyncio.Lock()

    async def load(self) -> Directory:
        async with self._loading:  # one reload at a time; the others get its result
            version = self.store.directory_version  # read BEFORE loading: a change during the
            # load moves it again, so the next load reloads
            fresh = monotonic() - self._loaded_at < self.max_age
            if self._loaded is not None and version == self._loaded_version and fresh:
                return self._loaded
            loaded = await self.store.read(self._load_on_reader, operation="loading channel subscriptions")
            self._loaded, self._loaded_version, self._loaded_at = loaded, version, monotonic()
            return loaded

    def _load_on_reader(self, store: ReadStore) -> Directory:
        # Only one load runs at a time (the lock above), so the parse cache is never shared
        # between two threads at once.
        with collector_paused():  # a large directory: see bot.collector
            directory = _load(store, self.platform, self.schedule, self._parsed)
            self._parsed.forget_unused()
        return directory
