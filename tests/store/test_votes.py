"""Votes (👍/👎 per person, paper and destination) and stored relevance models, on a real file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import Store
from bot.store.migrations import MIGRATIONS
from bot.store.personal import PersonRef
from bot.store.subscriptions import ChannelRef
from bot.store.votes import DOWN, UP, VoteCounts

THREAD = "slack:T1:C1"
OTHER_THREAD = "slack:T1:C2"
ADA = PersonRef("slack", "T1", "U_ADA")
ALAN = PersonRef("slack", "T1", "U_ALAN")
ADA_ELSEWHERE = PersonRef("slack", "T2", "U_ADA")


def test_one_vote_per_person_per_paper_changeable_and_withdrawable(store: Store):
    assert store.votes.cast(THREAD, "2504.00001", ADA, UP) == VoteCounts(up=1, down=0)
    assert store.votes.cast(THREAD, "2504.00001", ALAN, UP) == VoteCounts(up=2, down=0)
    # Ada changes her mind: still one vote of hers, now a 👎.
    assert store.votes.cast(THREAD, "2504.00001", ADA, DOWN) == VoteCounts(up=1, down=1)
    assert store.votes.vote_of(THREAD, "2504.00001", ADA) == DOWN
    assert store.votes.cast(THREAD, "2504.00001", ADA, None) == VoteCounts(up=1, down=0)
    assert store.votes.vote_of(THREAD, "2504.00001", ADA) is None
    assert store.votes.cast(THREAD, "2504.00001", ALAN, None) == VoteCounts()


def test_counts_are_per_destination(store: Store):
    store.votes.cast(THREAD, "2504.00001", ADA, UP)
    store.votes.cast(OTHER_THREAD, "2504.00001", ADA, DOWN)
    store.votes.cast(THREAD, "2504.00002", ALAN, DOWN)
    assert store.votes.counts(THREAD, ["2504.00001", "2504.00002", "2504.00003"]) == {
        "2504.00001": VoteCounts(1, 0), "2504.00002": VoteCounts(0, 1)}
    assert store.votes.counts(OTHER_THREAD, ["2504.00001"]) == {"2504.00001": VoteCounts(0, 1)}
    assert [v.value for v in store.votes.for_destination(THREAD)] == [UP, DOWN]


def test_counts_of_many_papers_at_once(store: Store):
    ids = [f"2504.{n:05d}" for n in range(1200)]
    for paper_id in ids[::3]:
        store.votes.cast(THREAD, paper_id, ADA, UP)
    counts = store.votes.counts(THREAD, ids)
    assert len(counts) == 400 and all(c == VoteCounts(1, 0) for c in counts.values())


def test_votes_since_a_time(store: Store, clock):
    store.votes.cast(THREAD, "2504.00001", ADA, UP)
    clock.advance(days=8)
    cutoff = clock()
    store.votes.cast(THREAD, "2504.00002", ADA, UP)
    assert [v.paper_id for v in store.votes.for_destination(THREAD, since=cutoff)] == ["2504.00002"]


def test_forget_deletes_every_vote_of_that_person_in_that_workspace_only(store: Store):
    store.votes.cast(THREAD, "2504.00001", ADA, UP)
    store.votes.cast("slack-dm:T1:U_ADA", "2504.00002", ADA, DOWN)
    store.votes.cast(THREAD, "2504.00001", ALAN, UP)
    store.votes.cast("slack:T2:C9", "2504.00001", ADA_ELSEWHERE, UP)
    assert len(store.votes.by_person(ADA)) == 2
    assert store.votes.forget_person(ADA) == 2
    assert store.votes.by_person(ADA) == []
    assert store.votes.counts(THREAD, ["2504.00001"]) == {"2504.00001": VoteCounts(1, 0)}
    assert len(store.votes.by_person(ADA_ELSEWHERE)) == 1
    assert store.votes.forget_person(ADA) == 0


def test_a_vote_is_up_or_down_only(store: Store):
    with pytest.raises(ValueError, match="a vote is 1 or -1"):
        store.votes.cast(THREAD, "2504.00001", ADA, 2)
    assert store.votes.for_destination(THREAD) == []


def test_models_are_saved_replaced_and_deleted(store: Store):
    assert store.votes.load_model(THREAD) is None
    store.votes.save_model(THREAD, votes=12, model=b"\x00first")
    store.votes.save_model(THREAD, votes=20, model=b"\x00second")
    stored = store.votes.load_model(THREAD)
    assert (stored.votes, stored.model) == (20, b"\x00second")
    store.votes.delete_model(THREAD)
    assert store.votes.load_model(THREAD) is None


def test_order_and_weekly_are_channel_settings(store: Store):
    channel = ChannelRef("slack", "T1", "C1")
    settings = store.channels.update_channel_settings(
        channel, {"paper_order": "listing", "weekly_day": 4, "weekly_time": "16:00"})
    assert (settings.paper_order, settings.weekly_day, settings.weekly_time) == ("listing", 4, "16:00")
    assert store.channels.get_channel_settings(channel).paper_order == "listing"
    assert store.channels.all_channel_settings()[channel].weekly_day == 4


def test_an_older_database_gains_the_vote_tables(db_path: Path, clock):
    with Store(db_path, clock=clock, migrations=MIGRATIONS[:4]) as old:
        # Written as the version-4 code wrote it (today's code reads the new columns).
        old.db.execute("INSERT INTO channel_settings (platform, workspace, channel, max_papers,"
                       " updated_at) VALUES ('slack', 'T1', 'C1', 5, '2025-04-21T00:00:00')")
        old.db.conn.commit()
    with Store(db_path, clock=clock) as upgraded:
        settings = upgraded.channels.get_channel_settings(ChannelRef("slack", "T1", "C1"))
        assert (settings.max_papers, settings.paper_order, settings.weekly_day) == (5, None, None)
        assert upgraded.votes.cast(THREAD, "2504.00001", ADA, UP) == VoteCounts(1, 0)
