"""Personal keywords (`/papers me ...`, `store.people`): subscriptions per person per workspace or server, and how
each person wants their matches delivered.

A person is (platform, workspace, user): the same Slack user in two workspaces, or a Discord user
on two servers, keeps two separate lists. Subscriptions are numbered 1, 2, 3... in creation order
as `/papers me list` shows them, like channel subscriptions. Delivery is `dm` (a direct message
per announcement day), `here` (a mention in the daily thread of `channel`, the channel where the
person chose it) or `off`; a person who never chose gets DELIVERY_DEFAULT.

Nothing here is ever listed to anyone but its owner: every read takes the owner's PersonRef.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from bot.store.repository import DirectoryRepository, operation

DELIVERY_MODES = ("dm", "here", "off")
DELIVERY_DEFAULT = "dm"


def create_personal_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE personal_subscriptions ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " platform TEXT NOT NULL,"
        " workspace TEXT NOT NULL,"
        " user TEXT NOT NULL,"
        " query TEXT NOT NULL,"
        " created_at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE INDEX personal_subscriptions_by_user"
        " ON personal_subscriptions (platform, workspace, user, id)"
    )
    db.execute(
        "CREATE TABLE personal_delivery ("
        " platform TEXT NOT NULL,"
        " workspace TEXT NOT NULL,"
        " user TEXT NOT NULL,"
        " mode TEXT NOT NULL CHECK (mode IN ('dm', 'here', 'off')),"
        " channel TEXT,"                 # for `here`: where the mentions go
        " channel_name TEXT,"
        " updated_at TEXT NOT NULL,"
        " CHECK (mode != 'here' OR channel IS NOT NULL),"
        " PRIMARY KEY (platform, workspace, user))"
    )


@dataclass(frozen=True, slots=True, order=True)
class PersonRef:
    """One person in one workspace: `slack`/`T123`/`U456`, or `discord`/guild id/user id."""

    platform: str
    workspace: str
    user: str


@dataclass(frozen=True, slots=True)
class PersonalSubscriptionRecord:
    id: int
    person: PersonRef
    query: str
    created_at: str


@dataclass(frozen=True, slots=True)
class PersonalDelivery:
    person: PersonRef
    mode: str = DELIVERY_DEFAULT
    channel: str | None = None
    channel_name: str | None = None
    chosen: bool = False             # False: nobody chose, `mode` is the default


class PersonalLimitReached(Exception):
    """Adding `adding` more to the `count` a person has would pass `limit`."""

    def __init__(self, count: int, limit: int, adding: int = 1) -> None:
        super().__init__(f"the person has {count} personal subscriptions and adds {adding}; "
                         f"the limit is {limit}")
        self.count = count
        self.limit = limit
        self.adding = adding


_COLUMNS = "id, platform, workspace, user, query, created_at"


def _record(row: tuple) -> PersonalSubscriptionRecord:
    return PersonalSubscriptionRecord(row[0], PersonRef(row[1], row[2], row[3]), row[4], row[5])


class People(DirectoryRepository):
    """`store.people`: each person's personal subscriptions and delivery choice. `now` defaults
    to the store's clock."""

    @operation("reading personal subscriptions")
    def list_personal(self, person: PersonRef) -> list[PersonalSubscriptionRecord]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM personal_subscriptions"
            " WHERE platform = ? AND workspace = ? AND user = ? ORDER BY id",
            [person.platform, person.workspace, person.user]).fetchall()
        return [_record(row) for row in rows]

    @operation("counting personal subscriptions")
    def count_personal(self, person: PersonRef) -> int:
        return self._db.execute(
            "SELECT count(*) FROM personal_subscriptions WHERE platform = ? AND workspace = ? AND user = ?",
            [person.platform, person.workspace, person.user]).fetchone()[0]

    @operation("saving a personal subscription")
    def add_personal(self, person: PersonRef, query: str, *, now: datetime | None = None,
                     limit: int | None = None) -> PersonalSubscriptionRecord:
        """Store one personal subscription (already validated); counting and inserting in one
        transaction, so two concurrent adds cannot both slip under `limit`."""
        return self.add_many_personal(person, [query], now=now, limit=limit)[0]

    @operation("saving personal subscriptions")
    def add_many_personal(self, person: PersonRef, queries: Sequence[str], *,
                          now: datetime | None = None, limit: int | None = None,
                          replace: bool = False) -> list[PersonalSubscriptionRecord]:
        """Add `queries` (or, with `replace`, make them the whole list) in one transaction."""
        stamp = self._stamp(now)
        db = self._db
        ids = []
        with self._transaction():
            if replace:
                self.remove_all_personal(person)
            if limit is not None:
                count = self.count_personal(person)
                if count + len(queries) > limit:
                    raise PersonalLimitReached(count, limit, adding=len(queries))
            for query in queries:
                cursor = db.execute(
                    "INSERT INTO personal_subscriptions (platform, workspace, user, query, created_at)"
                    " VALUES (?, ?, ?, ?, ?)", [person.platform, person.workspace, person.user, query, stamp])
                ids.append(cursor.lastrowid)
        return [_record(db.execute(f"SELECT {_COLUMNS} FROM personal_subscriptions WHERE id = ?",
                                   [row_id]).fetchone()) for row_id in ids]

    @operation("removing a personal subscription")
    def remove_personal(self, person: PersonRef, number: int) -> PersonalSubscriptionRecord | None:
        """Remove the `number`-th subscription as `/papers me list` shows it; None if there is none."""
        with self._transaction():
            current = self.list_personal(person)
            if not 1 <= number <= len(current):
                return None
            removed = current[number - 1]
            self._db.execute("DELETE FROM personal_subscriptions WHERE id = ?", [removed.id])
        return removed

    @operation("removing a personal subscription")
    def remove_personal_by_id(self, person: PersonRef, row_id: int) -> PersonalSubscriptionRecord | None:
        """Remove one of `person`'s own subscriptions by row id (a button's value); another
        person's row is never touched (None)."""
        with self._transaction():
            for record in self.list_personal(person):
                if record.id == row_id:
                    self._db.execute("DELETE FROM personal_subscriptions WHERE id = ?", [row_id])
                    return record
        return None

    @operation("removing personal subscriptions")
    def remove_all_personal(self, person: PersonRef) -> int:
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM personal_subscriptions WHERE platform = ? AND workspace = ? AND user = ?",
                [person.platform, person.workspace, person.user])
        return cursor.rowcount

    @operation("reading a delivery choice")
    def get_delivery(self, person: PersonRef) -> PersonalDelivery:
        row = self._db.execute(
            "SELECT mode, channel, channel_name FROM personal_delivery"
            " WHERE platform = ? AND workspace = ? AND user = ?",
            [person.platform, person.workspace, person.user]).fetchone()
        if row is None:
            return PersonalDelivery(person)
        return PersonalDelivery(person, row[0], row[1], row[2], chosen=True)

    @operation("saving a delivery choice")
    def set_delivery(self, person: PersonRef, mode: str, *, now: datetime | None = None,
                     channel: str | None = None, channel_name: str | None = None) -> PersonalDelivery:
        if mode not in DELIVERY_MODES:
            raise ValueError(f"delivery must be one of {DELIVERY_MODES}, not {mode!r}")
        if mode == "here" and not channel:
            raise ValueError("delivery 'here' needs the channel it was chosen in")
        if mode != "here":
            channel = channel_name = None
        with self._transaction():
            self._db.execute(
                "INSERT INTO personal_delivery (platform, workspace, user, mode, channel, channel_name,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, workspace, user)"
                " DO UPDATE SET mode = excluded.mode, channel = excluded.channel,"
                " channel_name = excluded.channel_name, updated_at = excluded.updated_at",
                [person.platform, person.workspace, person.user, mode, channel, channel_name,
                 self._stamp(now)])
        return self.get_delivery(person)

    @operation("reading personal subscriptions")
    def all_personal(self, platform: str | None = None
                     ) -> list[tuple[PersonalDelivery, list[PersonalSubscriptionRecord]]]:
        """Every person with at least one personal subscription, with their delivery choice (for
        the scheduler's directory; never shown to users)."""
        sql = f"SELECT {_COLUMNS} FROM personal_subscriptions"
        params: list[str] = []
        if platform is not None:
            sql += " WHERE platform = ?"
            params.append(platform)
        sql += " ORDER BY platform, workspace, user, id"
        grouped: dict[PersonRef, list[PersonalSubscriptionRecord]] = {}
        for row in self._db.execute(sql, params).fetchall():
            record = _record(row)
            grouped.setdefault(record.person, []).append(record)
        deliveries: dict[PersonRef, PersonalDelivery] = {}
        sql = "SELECT platform, workspace, user, mode, channel, channel_name FROM personal_delivery"
        for row in self._db.execute(sql + (" WHERE platform = ?" if platform else ""), params).fetchall():
            person = PersonRef(row[0], row[1], row[2])
            deliveries[person] = PersonalDelivery(person, row[3], row[4], row[5], chosen=True)
        return [(deliveries.get(person) or PersonalDelivery(person), rows)
                for person, rows in grouped.items()]
