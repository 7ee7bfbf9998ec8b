"""Channel subscriptions and per-channel settings (`store.channels`), as changed by `/papers` in a
chat channel.

A channel is identified by (platform, workspace, channel): a Slack team and channel id, or a
Discord guild and channel id. Subscriptions are shown numbered 1, 2, 3... in creation order
(`/papers list`); `/papers unsubscribe 2` removes the second one *as listed now*, so the number is a
position, never the row id. Row ids are AUTOINCREMENT so a removed subscription's id is never
reused (matcher subscription ids `chan:<id>` stay unambiguous in logs).

Every setting column is NULL until someone sets it; NULL means "the deployment's default" (see
`bot.destinations.channels.effective_channel_settings`), so changing a default in the configuration
reaches every channel that never chose otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from bot.store.repository import DirectoryRepository, operation

EMPTY_DAY_CHOICES = ("note", "silent")
# Columns `update_channel_settings` may change, with what each holds.
SETTING_COLUMNS = ("post_time", "timezone", "types", "max_papers", "empty_day", "paper_order",
                   "weekly_day", "weekly_time")
PAPER_ORDERS = ("relevance", "listing")
WEEKLY_OFF = -1  # weekly_day: -1 = off; 0..6 = Monday..Sunday; NULL = the default


def create_channel_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE channel_subscriptions ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " platform TEXT NOT NULL,"
        " workspace TEXT NOT NULL,"
        " channel TEXT NOT NULL,"
        " query TEXT NOT NULL,"          # as the user typed it
        " types TEXT,"                   # comma-separated; NULL = the channel's setting
        " created_by TEXT,"
        " created_at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE INDEX channel_subscriptions_by_channel"
        " ON channel_subscriptions (platform, workspace, channel, id)"
    )
    db.execute(
        "CREATE TABLE channel_settings ("
        " platform TEXT NOT NULL,"
        " workspace TEXT NOT NULL,"
        " channel TEXT NOT NULL,"
        " channel_name TEXT,"
        " post_time TEXT,"               # HH:MM in `timezone`
        " timezone TEXT,"                # Area/City
        " types TEXT,"                   # comma-separated announce types
        " max_papers INTEGER CHECK (max_papers IS NULL OR max_papers >= 1),"
        " empty_day TEXT CHECK (empty_day IS NULL OR empty_day IN ('note', 'silent')),"
        " updated_by TEXT,"
        " updated_at TEXT NOT NULL,"
        " PRIMARY KEY (platform, workspace, channel))"
    )


@dataclass(frozen=True, slots=True, order=True)
class ChannelRef:
    """One chat channel: `slack`/`T123`/`C456`, or `discord`/guild id/channel id."""

    platform: str
    workspace: str
    channel: str


@dataclass(frozen=True, slots=True)
class ChannelSubscriptionRecord:
    id: int
    channel: ChannelRef
    query: str
    types: tuple[str, ...] | None  # None: follow the channel's setting
    created_by: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class ChannelSettingsRecord:
    """What a channel chose; None everywhere means "the default"."""

    channel: ChannelRef
    channel_name: str | None = None
    post_time: str | None = None
    timezone: str | None = None
    types: tuple[str, ...] | None = None
    max_papers: int | None = None
    empty_day: str | None = None
    paper_order: str | None = None     # "relevance" or "listing"
    weekly_day: int | None = None      # WEEKLY_OFF, or 0..6 = Monday..Sunday
    weekly_time: str | None = None     # HH:MM in the channel's time zone


class SubscriptionLimitReached(Exception):
    """The channel already has `limit` subscriptions."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"the channel has {count} subscriptions; the limit is {limit}")
        self.count = count
        self.limit = limit


def _types_text(types: Iterable[str] | None) -> str | None:
    return None if types is None else ",".join(types)


def _types_tuple(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(part for part in text.split(",") if part)


_SUBSCRIPTION_COLUMNS = "id, platform, workspace, channel, query, types, created_by, created_at"


def _subscription(row: tuple) -> ChannelSubscriptionRecord:
    return ChannelSubscriptionRecord(
        id=row[0], channel=ChannelRef(row[1], row[2], row[3]), query=row[4],
        types=_types_tuple(row[5]), created_by=row[6], created_at=row[7])


class Channels(DirectoryRepository):
    """`store.channels`: channel subscriptions and per-channel settings. `now` defaults to the
    store's clock."""

    @operation("reading channel subscriptions")
    def list_subscriptions(self, channel: ChannelRef) -> list[ChannelSubscriptionRecord]:
        """The channel's subscriptions in the order `/papers list` numbers them (oldest first)."""
        rows = self._db.execute(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM channel_subscriptions"
            " WHERE platform = ? AND workspace = ? AND channel = ? ORDER BY id",
            [channel.platform, channel.workspace, channel.channel],
        ).fetchall()
        return [_subscription(row) for row in rows]

    @operation("counting channel subscriptions")
    def count_subscriptions(self, channel: ChannelRef) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM channel_subscriptions WHERE platform = ? AND workspace = ? AND channel = ?",
            [channel.platform, channel.workspace, channel.channel],
        ).fetchone()
        return row[0]

    @operation("saving a channel subscription")
    def add_subscription(
        self,
        channel: ChannelRef,
        query: str,
        *,
        now: datetime | None = None,
        created_by: str | None = None,
        types: Iterable[str] | None = None,
        limit: int | None = None,
        channel_name: str | None = None,
    ) -> ChannelSubscriptionRecord:
        """Store a subscription (the query already validated by the caller).

        Raises SubscriptionLimitReached when the channel already has `limit`; counting and
        inserting happen in one transaction, so two concurrent subscribes cannot both slip under
        the limit. `channel_name`, when given, is remembered for digest titles.
        """
        stamp = self._stamp(now)
        db = self._db
        with self._transaction():
            if limit is not None:
                count = self.count_subscriptions(channel)
                if count >= limit:
                    raise SubscriptionLimitReached(count, limit)
            cursor = db.execute(
                "INSERT INTO channel_subscriptions"
                " (platform, workspace, channel, query, types, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [channel.platform, channel.workspace, channel.channel, query,
                 _types_text(None if types is None else tuple(types)), created_by, stamp],
            )
            row_id = cursor.lastrowid
            if channel_name:
                _upsert_settings(db, channel, {"channel_name": channel_name}, None, stamp)
        row = db.execute(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM channel_subscriptions WHERE id = ?", [row_id]
        ).fetchone()
        return _subscription(row)

    @operation("removing a channel subscription")
    def remove_subscription(self, channel: ChannelRef, number: int) -> ChannelSubscriptionRecord | None:
        """Remove the `number`-th subscription as `/papers list` shows it (1-based); None when the
        channel has no such number."""
        with self._transaction():
            current = self.list_subscriptions(channel)
            if not 1 <= number <= len(current):
                return None
            removed = current[number - 1]
            self._db.execute("DELETE FROM channel_subscriptions WHERE id = ?", [removed.id])
        return removed

    @operation("removing channel subscriptions")
    def remove_all_subscriptions(self, channel: ChannelRef) -> int:
        """Remove every subscription of the channel; returns how many there were."""
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM channel_subscriptions WHERE platform = ? AND workspace = ? AND channel = ?",
                [channel.platform, channel.workspace, channel.channel],
            )
        return cursor.rowcount

    @operation("reading channel settings")
    def get_channel_settings(self, channel: ChannelRef) -> ChannelSettingsRecord:
        """The channel's choices (all None when it never chose anything)."""
        row = self._db.execute(
            f"SELECT {_SETTINGS_COLUMNS} FROM channel_settings"
            " WHERE platform = ? AND workspace = ? AND channel = ?",
            [channel.platform, channel.workspace, channel.channel],
        ).fetchone()
        return _settings(row) if row else ChannelSettingsRecord(channel)

    @operation("saving channel settings")
    def update_channel_settings(
        self,
        channel: ChannelRef,
        changes: Mapping[str, Any],
        *,
        now: datetime | None = None,
        updated_by: str | None = None,
        channel_name: str | None = None,
    ) -> ChannelSettingsRecord:
        """Change the given settings only (keys from SETTING_COLUMNS; `types` as a sequence);
        returns the channel's settings afterwards."""
        unknown = sorted(set(changes) - set(SETTING_COLUMNS))
        if unknown:
            raise ValueError(f"unknown channel setting(s) {unknown}; known: {', '.join(SETTING_COLUMNS)}")
        empty_day = changes.get("empty_day")
        if empty_day is not None and empty_day not in EMPTY_DAY_CHOICES:
            raise ValueError(f"empty_day must be one of {EMPTY_DAY_CHOICES}, not {empty_day!r}")
        values: dict[str, Any] = {
            name: (_types_text(value) if name == "types" and value is not None else value)
            for name, value in changes.items()
        }
        if channel_name:
            values["channel_name"] = channel_name
        with self._transaction():
            if values:
                _upsert_settings(self._db, channel, values, updated_by, self._stamp(now))
        return self.get_channel_settings(channel)

    @operation("listing channels")
    def channels_with_subscriptions(self, platform: str | None = None) -> list[ChannelRef]:
        """Every channel that has at least one subscription (of `platform`, or of any)."""
        sql = "SELECT DISTINCT platform, workspace, channel FROM channel_subscriptions"
        params: list[str] = []
        if platform is not None:
            sql += " WHERE platform = ?"
            params.append(platform)
        sql += " ORDER BY platform, workspace, channel"
        return [ChannelRef(*row) for row in self._db.execute(sql, params).fetchall()]

    @operation("reading channel subscriptions")
    def all_subscriptions(self, platform: str | None = None) -> list[ChannelSubscriptionRecord]:
        """Every stored subscription (of `platform`, or of any), by channel then list order."""
        sql = f"SELECT {_SUBSCRIPTION_COLUMNS} FROM channel_subscriptions"
        params: list[str] = []
        if platform is not None:
            sql += " WHERE platform = ?"
            params.append(platform)
        sql += " ORDER BY platform, workspace, channel, id"
        # Row by row, not fetchall(): fetching 100k rows is one C call that holds the GIL (and so
        # stalls the event loop) throughout; iterating lets the loop run in between.
        return [_subscription(row) for row in self._db.execute(sql, params)]

    @operation("reading channel settings")
    def all_channel_settings(self, platform: str | None = None) -> dict[ChannelRef, ChannelSettingsRecord]:
        sql = f"SELECT {_SETTINGS_COLUMNS} FROM channel_settings"
        params: list[str] = []
        if platform is not None:
            sql += " WHERE platform = ?"
            params.append(platform)
        records = (_settings(row) for row in self._db.execute(sql, params).fetchall())
        return {record.channel: record for record in records}


_SETTINGS_COLUMNS = ("platform, workspace, channel, channel_name, post_time, timezone, types,"
                     " max_papers, empty_day, paper_order, weekly_day, weekly_time")


def _settings(row: tuple) -> ChannelSettingsRecord:
    return ChannelSettingsRecord(
        channel=ChannelRef(row[0], row[1], row[2]), channel_name=row[3], post_time=row[4],
        timezone=row[5], types=_types_tuple(row[6]), max_papers=row[7], empty_day=row[8],
        paper_order=row[9], weekly_day=row[10], weekly_time=row[11])


def _upsert_settings(db: sqlite_utils.Database, channel: ChannelRef, values: Mapping[str, Any],
                     updated_by: str | None, stamp: str) -> None:
    columns = list(values)
    assignments = ", ".join(f"{name} = excluded.{name}" for name in columns)
    placeholders = ", ".join("?" for _ in columns)
    db.execute(
        f"INSERT INTO channel_settings (platform, workspace, channel, {', '.join(columns)},"
        f" updated_by, updated_at) VALUES (?, ?, ?, {placeholders}, ?, ?)"
        f" ON CONFLICT (platform, workspace, channel) DO UPDATE SET {assignments},"
        " updated_by = coalesce(excluded.updated_by, channel_settings.updated_by),"
        " updated_at = excluded.updated_at",
        [channel.platform, channel.workspace, channel.channel, *values.values(), updated_by, stamp],
    )
