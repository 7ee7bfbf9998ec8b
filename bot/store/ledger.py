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

from bot.store.migrations import migration

PENDING, POSTING, DONE, FAILED = "pending", "posting", "done", "failed"


@migration(2, "delivery ledger and announcement days")
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


def get_delivery(db: sqlite_utils.Database, destination: str, day: date) -> DeliveryRecord | None:
    row = db.execute(
        "SELECT state, parent_ref, attempts, last_error FROM deliveries WHERE destination = ? AND day = ?",
        [destination, day.isoformat()],
    ).fetchone()
    if row is None:
        return None
    return DeliveryRecord(destination, day, row[0], row[1], row[2], row[3])


def start_attempt(db: sqlite_utils.Database, destination: str, day: date, now: datetime) -> DeliveryRecord:
    """Mark the day as being posted (creating the row) and count the attempt."""
    with db.atomic():
        db.execute(
            "INSERT INTO deliveries (destination, day, state, attempts, updated_at) VALUES (?, ?, ?, 1, ?)"
            " ON CONFLICT (destination, day) DO UPDATE SET state = excluded.state,"
            " attempts = deliveries.attempts + 1, updated_at = excluded.updated_at",
            [destination, day.isoformat(), POSTING, now.isoformat(timespec="seconds")],
        )
    record = get_delivery(db, destination, day)
    assert record is not None
    return record


def set_parent(db: sqlite_utils.Database, destination: str, day: date, parent_ref: str, now: datetime) -> None:
    with db.atomic():
        db.execute(
            "UPDATE deliveries SET parent_ref = ?, updated_at = ? WHERE destination = ? AND day = ?",
            [parent_ref, now.isoformat(timespec="seconds"), destination, day.isoformat()],
        )


def finish(db: sqlite_utils.Database, destination: str, day: date, state: str, now: datetime,
           error: str | None = None) -> None:
    with db.atomic():
        db.execute(
            "UPDATE deliveries SET state = ?, last_error = ?, updated_at = ? WHERE destination = ? AND day = ?",
            [state, error, now.isoformat(timespec="seconds"), destination, day.isoformat()],
        )


def record_papers(db: sqlite_utils.Database, destination: str, day: date, paper_ids: Iterable[str],
                  message_ref: str, now: datetime) -> None:
    stamp = now.isoformat(timespec="seconds")
    with db.atomic():
        db.conn.executemany(
            "INSERT OR IGNORE INTO delivered_papers (destination, day, paper_id, message_ref, delivered_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(destination, day.isoformat(), pid, message_ref, stamp) for pid in paper_ids],
        )


def delivered_paper_ids(db: sqlite_utils.Database, destination: str, day: date) -> dict[str, str]:
    """paper id -> message reference, for what already went out."""
    rows = db.execute(
        "SELECT paper_id, message_ref FROM delivered_papers WHERE destination = ? AND day = ?",
        [destination, day.isoformat()],
    ).fetchall()
    return {pid: ref for pid, ref in rows}


def record_announcement_day(db: sqlite_utils.Database, day: date, status: str, papers: int,
                            now: datetime) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO announcement_days (day, status, papers, recorded_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (day) DO UPDATE SET status = excluded.status, papers = excluded.papers,"
            " recorded_at = excluded.recorded_at",
            [day.isoformat(), status, papers, now.isoformat(timespec="seconds")],
        )


def latest_announcement_day(db: sqlite_utils.Database) -> tuple[date, str] | None:
    """The newest feed day the scheduler has finished fetching, and whether it was `announced`
    or `empty`."""
    row = db.execute("SELECT day, status FROM announcement_days ORDER BY day DESC LIMIT 1").fetchone()
    return (date.fromisoformat(row[0]), row[1]) if row else None


def pause_destination(db: sqlite_utils.Database, destination: str, reason: str, now: datetime) -> None:
    with db.atomic():
        db.execute(
            "INSERT INTO destination_status (destination, paused_reason, paused_at) VALUES (?, ?, ?)"
            " ON CONFLICT (destination) DO UPDATE SET paused_reason = excluded.paused_reason,"
            " paused_at = excluded.paused_at",
            [destination, reason, now.isoformat(timespec="seconds")],
        )


def resume_destination(db: sqlite_utils.Database, destination: str) -> None:
    with db.atomic():
        db.execute("DELETE FROM destination_status WHERE destination = ?", [destination])


def paused_reason(db: sqlite_utils.Database, destination: str) -> str | None:
    row = db.execute(
        "SELECT paused_reason FROM destination_status WHERE destination = ?", [destination]
    ).fetchone()
    return row[0] if row else None


def paused_reasons(db: sqlite_utils.Database) -> list[str]:
    """The reason of every paused destination (for metrics)."""
    return [row[0] or "" for row in db.execute("SELECT paused_reason FROM destination_status").fetchall()]
