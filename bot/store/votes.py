"""Votes on papers and the relevance models learned from them (`store.votes`).

A vote is one person's 👍 (+1) or 👎 (-1) on one paper in one destination (a channel's daily
thread, or a person's own direct message): at most one per person per paper per destination,
changeable, withdrawable. Only counts are ever shown to others; who voted is kept so that a
person can change or withdraw their own vote, and so that `/papers me forget` can delete every
vote a person cast (`forget_person`).

A relevance model is an opaque blob (whatever `bot.ranking` serialises) per destination, stored
with the number of votes it was trained on, so that a ranker can tell whether it is stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from bot.store.personal import PersonRef
from bot.store.repository import Repository, operation

UP = 1
DOWN = -1
VOTE_VALUES = (UP, DOWN)


def create_vote_tables(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE votes ("
        " destination TEXT NOT NULL,"    # ledger key: slack:T1:C1, discord-dm:G1:U1, ...
        " paper_id TEXT NOT NULL,"
        " platform TEXT NOT NULL,"       # the voter: (platform, workspace, user)
        " workspace TEXT NOT NULL,"
        " user TEXT NOT NULL,"
        " value INTEGER NOT NULL CHECK (value IN (1, -1)),"
        " voted_at TEXT NOT NULL,"
        " PRIMARY KEY (destination, paper_id, platform, workspace, user))"
    )
    db.execute("CREATE INDEX votes_by_destination_time ON votes (destination, voted_at)")
    db.execute("CREATE INDEX votes_by_person ON votes (platform, workspace, user)")
    db.execute(
        "CREATE TABLE relevance_models ("
        " destination TEXT PRIMARY KEY,"
        " votes INTEGER NOT NULL,"       # how many votes the model was trained on
        " trained_at TEXT NOT NULL,"
        " model BLOB NOT NULL)"
    )
    # Channel settings of the learned ranking and the weekly best-of; NULL = the default
    # (see bot.destinations.channels.effective_channel_settings).
    db.execute("ALTER TABLE channel_settings ADD COLUMN paper_order TEXT"
               " CHECK (paper_order IS NULL OR paper_order IN ('relevance', 'listing'))")
    db.execute("ALTER TABLE channel_settings ADD COLUMN weekly_day INTEGER"
               " CHECK (weekly_day IS NULL OR weekly_day BETWEEN -1 AND 6)")  # -1 = off; 0 = Monday
    db.execute("ALTER TABLE channel_settings ADD COLUMN weekly_time TEXT")   # HH:MM in the channel's tz


@dataclass(frozen=True, slots=True)
class VoteCounts:
    up: int = 0
    down: int = 0


@dataclass(frozen=True, slots=True)
class Vote:
    destination: str
    paper_id: str
    voter: PersonRef
    value: int
    voted_at: str


@dataclass(frozen=True, slots=True)
class StoredModel:
    destination: str
    votes: int
    trained_at: str
    model: bytes


_VOTE_COLUMNS = "destination, paper_id, platform, workspace, user, value, voted_at"


def _vote(row: tuple) -> Vote:
    return Vote(destination=row[0], paper_id=row[1], voter=PersonRef(row[2], row[3], row[4]),
                value=row[5], voted_at=row[6])


class Votes(Repository):
    """`store.votes`: votes per destination and paper, and relevance models per destination."""

    @operation("recording a vote")
    def cast(self, destination: str, paper_id: str, voter: PersonRef, value: int | None,
             now: datetime | None = None) -> VoteCounts:
        """Record `voter`'s vote (UP or DOWN; None withdraws it) and return the paper's counts in
        `destination` afterwards, read in the same transaction."""
        if value is not None and value not in VOTE_VALUES:
            raise ValueError(f"a vote is {UP} or {DOWN} (or None to withdraw), not {value!r}")
        key = [destination, paper_id, voter.platform, voter.workspace, voter.user]
        with self._transaction() as db:
            if value is None:
                db.execute("DELETE FROM votes WHERE destination = ? AND paper_id = ? AND platform = ?"
                           " AND workspace = ? AND user = ?", key)
            else:
                db.execute(
                    f"INSERT INTO votes ({_VOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (destination, paper_id, platform, workspace, user)"
                    " DO UPDATE SET value = excluded.value, voted_at = excluded.voted_at",
                    [*key, value, self._stamp(now)])
            return self._counts(destination, [paper_id]).get(paper_id, VoteCounts())

    @operation("reading a vote")
    def vote_of(self, destination: str, paper_id: str, voter: PersonRef) -> int | None:
        row = self._db.execute(
            "SELECT value FROM votes WHERE destination = ? AND paper_id = ? AND platform = ?"
            " AND workspace = ? AND user = ?",
            [destination, paper_id, voter.platform, voter.workspace, voter.user]).fetchone()
        return None if row is None else row[0]

    @operation("counting votes")
    def counts(self, destination: str, paper_ids: Iterable[str]) -> dict[str, VoteCounts]:
        """Counts of the papers in `destination` that have any vote (others are absent)."""
        return self._counts(destination, list(paper_ids))

    def _counts(self, destination: str, paper_ids: list[str]) -> dict[str, VoteCounts]:
        counts: dict[str, VoteCounts] = {}
        # SQLite allows 32766 variables; a day's thread holds far fewer papers, but chunk anyway.
        for start in range(0, len(paper_ids), 500):
            chunk = paper_ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self._db.execute(
                "SELECT paper_id, sum(value = 1), sum(value = -1) FROM votes"
                f" WHERE destination = ? AND paper_id IN ({marks}) GROUP BY paper_id",
                [destination, *chunk]).fetchall()
            counts.update((row[0], VoteCounts(up=row[1], down=row[2])) for row in rows)
        return counts

    @operation("reading votes")
    def for_destination(self, destination: str, since: datetime | None = None) -> list[Vote]:
        """Every vote cast in `destination` (since `since`, if given), oldest first."""
        sql = f"SELECT {_VOTE_COLUMNS} FROM votes WHERE destination = ?"
        params: list[str] = [destination]
        if since is not None:
            sql += " AND voted_at >= ?"
            params.append(since.isoformat(timespec="seconds"))
        sql += " ORDER BY voted_at, paper_id, user"
        return [_vote(row) for row in self._db.execute(sql, params)]

    @operation("reading a person's votes")
    def by_person(self, voter: PersonRef) -> list[Vote]:
        """Every vote `voter` cast in their workspace, in any destination, oldest first."""
        rows = self._db.execute(
            f"SELECT {_VOTE_COLUMNS} FROM votes WHERE platform = ? AND workspace = ? AND user = ?"
            " ORDER BY voted_at, destination, paper_id",
            [voter.platform, voter.workspace, voter.user])
        return [_vote(row) for row in rows]

    @operation("reading papers shown but not voted on")
    def unvoted_shown(self, destination: str, limit: int) -> list[str]:
        """Papers delivered to `destination` (the ledger's `delivered_papers`) on the feed days
        on which it voted on at least one delivered paper, that nobody voted on there: what its
        people saw and passed over (a ranker's weak negatives). Newest days first, at most
        `limit`."""
        rows = self._db.execute(
            "SELECT shown.paper_id FROM delivered_papers shown"
            " WHERE shown.destination = ? AND shown.paper_id NOT LIKE 'mention:%'"
            " AND shown.day IN (SELECT DISTINCT d.day FROM delivered_papers d JOIN votes v"
            "   ON v.destination = d.destination AND v.paper_id = d.paper_id WHERE d.destination = ?)"
            " AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.destination = shown.destination"
            "   AND v.paper_id = shown.paper_id)"
            " ORDER BY shown.day DESC, shown.rowid LIMIT ?",
            [destination, destination, limit]).fetchall()
        return list(dict.fromkeys(row[0] for row in rows))

    @operation("reading papers shown to a person but not voted on")
    def unvoted_shown_to(self, voter: PersonRef, limit: int) -> list[str]:
        """`unvoted_shown` for one person across destinations: papers delivered to a destination
        on a feed day on which `voter` voted on a paper delivered there, that `voter` did not
        vote on anywhere. Newest days first, at most `limit`.

        One destination at a time, each read by its ledger key (destination, day): the ledger
        holds every channel's papers of every day, and must not be scanned whole."""
        who = [voter.platform, voter.workspace, voter.user]
        person = "v.platform = ? AND v.workspace = ? AND v.user = ?"
        voted = {row[0] for row in self._db.execute(f"SELECT v.paper_id FROM votes v WHERE {person}", who)}
        destinations = [row[0] for row in self._db.execute(
            f"SELECT DISTINCT v.destination FROM votes v WHERE {person}", who)]
        shown: list[tuple[str, int, str]] = []   # (day, rowid, paper id)
        for destination in destinations:
            days = [row[0] for row in self._db.execute(
                "SELECT DISTINCT d.day FROM delivered_papers d WHERE d.destination = ?"
                f" AND EXISTS (SELECT 1 FROM votes v WHERE v.destination = d.destination"
                f"   AND v.paper_id = d.paper_id AND {person})", [destination, *who])]
            for day in days:
                shown += [(day, rowid, paper) for rowid, paper in self._db.execute(
                    "SELECT rowid, paper_id FROM delivered_papers WHERE destination = ? AND day = ?"
                    " AND paper_id NOT LIKE 'mention:%'", [destination, day]) if paper not in voted]
        shown.sort(key=lambda row: (row[0], -row[1]), reverse=True)
        return list(dict.fromkeys(paper for _, _, paper in shown))[:limit]

    @operation("forgetting a person's votes")
    def forget_person(self, voter: PersonRef) -> int:
        """Delete every vote `voter` cast in their workspace; returns how many there were."""
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM votes WHERE platform = ? AND workspace = ? AND user = ?",
                                [voter.platform, voter.workspace, voter.user])
            return cursor.rowcount

    @operation("saving a relevance model")
    def save_model(self, destination: str, votes: int, model: bytes,
                   now: datetime | None = None) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO relevance_models (destination, votes, trained_at, model)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (destination) DO UPDATE SET"
                " votes = excluded.votes, trained_at = excluded.trained_at, model = excluded.model",
                [destination, votes, self._stamp(now), model])

    @operation("reading a relevance model")
    def load_model(self, destination: str) -> StoredModel | None:
        row = self._db.execute(
            "SELECT destination, votes, trained_at, model FROM relevance_models WHERE destination = ?",
            [destination]).fetchone()
        return None if row is None else StoredModel(row[0], row[1], row[2], bytes(row[3]))

    @operation("deleting a relevance model")
    def delete_model(self, destination: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM relevance_models WHERE destination = ?", [destination])
