"""The delivery ledger: what went out where, so a restart resumes instead of repeating.

Per destination and announcement day one `deliveries` row (pending -> posting -> done, or
failed / paused) holding the parent message reference; per paper a `delivered_papers` row naming
the message it went out in. A destination that lost its channel is paused in `destination_status`
with the reason, which `/papers list` and the log show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlite_utils

from bot.store.repository import Repository, operation

PENDING, POSTING, DONE, FAILED = "pending", "posting", "done", "failed"
# A day that can no longer be delivered (superseded before the platform came back): final, with
# the reason in `last_error`; `/papers list` and the log show it.
UNDELIVERABLE = "undeliverable"


def create_delivery_ledger(db: sqlite_utils.Database) -> None:
    # What the scheduler learnt about each feed day: announced (with how many papers) or empty
    # (arXiv made no announcement), so a restart neither re-polls a finished day nor forgets one.
    db.execute(
        "CREATE TABLE announcement_days ("
        " day TEXT PRIMARY KEY,"
        " status TEXT NOT NULL,"
        " papers INTEGER NOT NULL,"
        " recorded_at TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE deliveries ("
        " destination TEXT NOT NULL,"
        " day TEXT NOT NULL,"
        " state TEXT NOT NULL,"
        " parent_ref TEXT,"
        " attempts INTEGER NOT NULL DEFAULT 0,"
        " last_error TEXT,"
        " updated_at TEXT NOT NULL,"
        " PRIMARY KEY (destination, day))"
    )
    db.execute(
        "CREATE TABLE delivered_papers ("
        " destination TEXT NOT NULL,"
        " day TEXT NOT NULL,"
        " paper_id TEXT NOT NULL,"
        " message_ref TEXT NOT NULL,"
        " delivered_at TEXT NOT NULL,"
        " PRIMARY KEY (destination, day, paper_id))"
    )
    db.execute(
        "CREATE TABLE destination_status ("
        " destination TEXT PRIMARY KEY,"
        " paused_reason TEXT,"
        " paused_at TEXT)"
    )


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    destination: str
    day: date
    state: str
    parent_ref: str | None
    attempts: int
    last_error: str | None


class DeliveryLedger(Repository):
    """`store.ledger`: delivery rows per destination and day, delivered papers, announcement
    days, paused destinations. `now` defaults to the store's clock."""

    @operation("reading a delivery")
    def get_delivery(self, destination: str, day: date) -> DeliveryRecord | None:
        row = self._db.execute(
            "SELECT state, parent_ref, attempts, last_error FROM deliveries WHERE destination = ? AND day = ?",
            [destination, day.isoformat()],
        ).fetchone()
        if row is None:
            return None
        return DeliveryRecord(destination, day, row[0], row[1], row[2], row[3])

    @operation("reading finished deliveries")
    def done_destinations(self, day: date) -> set[str]:
        """The destinations whose delivery of `day` is done (the scheduler skips them before
        building any digest)."""
        rows = self._db.execute("SELECT destination FROM deliveries WHERE day = ? AND state = ?",
                                [day.isoformat(), DONE]).fetchall()
        return {row[0] for row in rows}

    @operation("recording a delivery attempt")
    def start_attempt(self, destination: str, day: date, now: datetime | None = None) -> DeliveryRecord:
        """Mark the day as being posted (creating the row). Attempts are counted when they fail
        (`record_failure`), not here: a crash mid-delivery must never spend one."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO deliveries (destination, day, state, attempts, updated_at) VALUES (?, ?, ?, 0, ?)"
                " ON CONFLICT (destination, day) DO UPDATE SET state = excluded.state,"
                " updated_at = excluded.updated_at",
                [destination, day.isoformat(), POSTING, self._stamp(now)],
            )
        record = self.get_delivery(destination, day)
        assert record is not None
        return record

    @operation("recording a failed delivery attempt")
    def record_failure(self, destination: str, day: date, error: str, now: datetime | None = None) -> int:
        """The attempt failed: state failed, the error kept, one attempt counted. Returns the
        number of failed attempts so far."""
        with self._transaction():
            self._db.execute(
                "UPDATE deliveries SET state = ?, last_error = ?, attempts = attempts + 1, updated_at = ?"
                " WHERE destination = ? AND day = ?",
                [FAILED, error, self._stamp(now), destination, day.isoformat()],
            )
        record = self.get_delivery(destination, day)
        return record.attempts if record else 0

    @operation("reading unfinished deliveries")
    def unfinished_deliveries(self, before: date) -> list[DeliveryRecord]:
        """Deliveries of days before `before` that were begun but never finished (posting or
        failed), oldest first."""
        rows = self._db.execute(
            "SELECT destination, day, state, parent_ref, attempts, last_error FROM deliveries"
            " WHERE day < ? AND state IN (?, ?) ORDER BY day, destination",
            [before.isoformat(), POSTING, FAILED],
        ).fetchall()
        return [DeliveryRecord(r[0], date.fromisoformat(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    @operation("reading a destination's latest delivery")
    def latest_delivery(self, destination: str) -> DeliveryRecord | None:
        """The newest day's delivery row of `destination` (for `/papers list`)."""
        row = self._db.execute(
            "SELECT day, state, parent_ref, attempts, last_error FROM deliveries WHERE destination = ?"
            " ORDER BY day DESC LIMIT 1", [destination]).fetchone()
        return DeliveryRecord(destination, date.fromisoformat(row[0]), *row[1:]) if row else None

    @operation("recording a parent message")
    def set_parent(self, destination: str, day: date, parent_ref: str, now: datetime | None = None) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE deliveries SET parent_ref = ?, updated_at = ? WHERE destination = ? AND day = ?",
                [parent_ref, self._stamp(now), destination, day.isoformat()],
            )

    @operation("recording a delivery outcome")
    def finish(self, destination: str, day: date, state: str, now: datetime | None = None,
               error: str | None = None) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE deliveries SET state = ?, last_error = ?, updated_at = ? WHERE destination = ? AND day = ?",
                [state, error, self._stamp(now), destination, day.isoformat()],
            )

    @operation("recording delivered papers")
    def record_papers(self, destination: str, day: date, paper_ids: Iterable[str],
                      message_ref: str, now: datetime | None = None) -> None:
        stamp = self._stamp(now)
        with self._transaction():
            self._db.conn.executemany(
                "INSERT OR IGNORE INTO delivered_papers (destination, day, paper_id, message_ref, delivered_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(destination, day.isoformat(), pid, message_ref, stamp) for pid in paper_ids],
            )

    @operation("reading delivered papers")
    def delivered_paper_ids(self, destination: str, day: date) -> dict[str, str]:
        """paper id -> message reference, for what already went out."""
        rows = self._db.execute(
            "SELECT paper_id, message_ref FROM delivered_papers WHERE destination = ? AND day = ?",
            [destination, day.isoformat()],
        ).fetchall()
        return {pid: ref for pid, ref in rows}

    @operation("looking up a delivered paper")
    def was_delivered(self, destination: str, paper_id: str) -> bool:
        """Whether `paper_id` went out to `destination` on any day (a vote button must come
        from one of the bot's own threads)."""
        row = self._db.execute(
            "SELECT 1 FROM delivered_papers WHERE destination = ? AND paper_id = ? LIMIT 1",
            [destination, paper_id]).fetchone()
        return row is not None

    @operation("reading delivered papers")
    def delivered_between(self, destination: str, first_day: date, last_day: date) -> list[tuple[date, str]]:
        """(day, paper id) of every paper delivered to `destination` for the feed days from
        `first_day` to `last_day` (inclusive), by day and then in the order they went out."""
        rows = self._db.execute(
            "SELECT day, paper_id FROM delivered_papers WHERE destination = ? AND day BETWEEN ? AND ?"
            " AND paper_id NOT LIKE 'mention:%' ORDER BY day, rowid",
            [destination, first_day.isoformat(), last_day.isoformat()],
        ).fetchall()
        return [(date.fromisoformat(day), pid) for day, pid in rows]

    @operation("recording an announcement day")
    def record_announcement_day(self, day: date, status: str, papers: int,
                                now: datetime | None = None) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO announcement_days (day, status, papers, recorded_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (day) DO UPDATE SET status = excluded.status, papers = excluded.papers,"
                " recorded_at = excluded.recorded_at",
                [day.isoformat(), status, papers, self._stamp(now)],
            )

    @operation("reading announcement days")
    def latest_announcement_day(self) -> tuple[date, str] | None:
        """The newest feed day the scheduler has finished fetching, and whether it was `announced`
        or `empty`."""
        row = self._db.execute(
            "SELECT day, status FROM announcement_days ORDER BY day DESC LIMIT 1").fetchone()
        return (date.fromisoformat(row[0]), row[1]) if row else None

    @operation("pausing a destination")
    def pause_destination(self, destination: str, reason: str, now: datetime | None = None) -> None:
        with self._transaction():
            self._db.execute(
                "INSERT INTO destination_status (destination, paused_reason, paused_at) VALUES (?, ?, ?)"
                " ON CONFLICT (destination) DO UPDATE SET paused_reason = excluded.paused_reason,"
                " paused_at = excluded.paused_at",
                [destination, reason, self._stamp(now)],
            )

    @operation("resuming a destination")
    def resume_destination(self, destination: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM destination_status WHERE destination = ?", [destination])

    @operation("reading a destination's pause")
    def paused_reason(self, destination: str) -> str | None:
        row = self._db.execute(
            "SELECT paused_reason FROM destination_status WHERE destination = ?", [destination]
        ).fetchone()
        return row[0] if row else None

    @operation("reading paused destinations")
    def paused_reasons(self) -> list[str]:
        """The reason of every paused destination (for metrics)."""
        return [row[0] or "" for row in
                self._db.execute("SELECT paused_reason FROM destination_status").fetchall()]
