"""Votes through the command layer (`CommandExecutor.vote`, `vote_tallies`, `/papers me forget`)
on a real SQLite store: the toggle, concurrent voters, refusals that change nothing."""

from __future__ import annotations

import asyncio

from bot.commands import Response
from bot.commands.votes import DOWN, UP, Tally, VoteClick, VoteRecorded, button_label, destination_parts
from tests.commands.conftest import SEED_DAY, context

THREAD = "slack:T0001:C0001"
DM = "slack-dm:T0001:U0001"
PAPER = "2504.00001"


async def _delivered(store, destination: str, *paper_ids: str) -> None:
    await store.run(lambda s: s.ledger.record_papers(destination, SEED_DAY, paper_ids, "1.0001"))


def click(direction: int, *, user: str = "U0001", destination: str = THREAD, paper: str = PAPER,
          workspace: str | None = "T0001", channel: str | None = "C0001") -> VoteClick:
    return VoteClick("slack", user, destination, paper, direction, workspace, channel)


async def test_up_again_withdraws_and_down_switches(executor, store):
    await _delivered(store, THREAD, PAPER)
    first = await executor.vote(click(UP))
    assert first == VoteRecorded(PAPER, UP, Tally(1, 0))
    assert (await executor.vote(click(UP))) == VoteRecorded(PAPER, None, Tally(0, 0))
    await executor.vote(click(UP))
    switched = await executor.vote(click(DOWN))
    assert switched == VoteRecorded(PAPER, DOWN, Tally(0, 1))
    assert await executor.vote_tallies(THREAD, [PAPER, "2504.00002"]) == {
        PAPER: Tally(0, 1), "2504.00002": Tally(0, 0)}


async def test_many_people_clicking_at_once_are_all_counted(executor, store):
    await _delivered(store, THREAD, PAPER)
    results = await asyncio.gather(*(executor.vote(click(UP, user=f"U{n:04d}")) for n in range(20)),
                                   *(executor.vote(click(DOWN, user=f"W{n:04d}")) for n in range(5)))
    assert all(isinstance(result, VoteRecorded) for result in results)
    assert (await executor.vote_tallies(THREAD, [PAPER]))[PAPER] == Tally(20, 5)


async def test_a_button_from_elsewhere_changes_nothing(executor, store):
    await _delivered(store, THREAD, PAPER)
    await _delivered(store, DM, PAPER)
    refusals = [
        click(UP, paper="2504.99999"),                               # never posted in this thread
        click(UP, destination="slack:T0001:C0002", channel="C0001"),  # another channel's button
        click(UP, workspace="T0002"),                                # another workspace
        click(UP, destination=DM, user="U0002", channel="D0002"),    # someone else's DM
        click(UP, destination="markdown:MLLM"),                      # not a chat thread at all
        click(UP, destination="discord:1:2"),                        # another platform's key
        click(7),                                                    # neither 👍 nor 👎
    ]
    for bad in refusals:
        answer = await executor.vote(bad)
        assert isinstance(answer, Response) and answer.is_error and answer.ephemeral, bad
        assert "did not count" in answer.text
    assert (await executor.vote_tallies(THREAD, [PAPER]))[PAPER] == Tally()
    # The DM's own person may vote there.
    assert isinstance(await executor.vote(click(UP, destination=DM, channel="D0001")), VoteRecorded)


async def test_a_vote_when_the_database_is_gone_says_so_privately(executor, store):
    await _delivered(store, THREAD, PAPER)
    await store.close()
    answer = await executor.vote(click(UP))
    assert isinstance(answer, Response) and answer.outcome == "unavailable"
    assert "not counted" in answer.text


async def test_forget_counts_first_then_deletes_only_that_persons_votes_and_model(executor, store):
    await _delivered(store, THREAD, PAPER, "2504.00002")
    await _delivered(store, DM, PAPER)
    await executor.vote(click(UP))
    await executor.vote(click(DOWN, paper="2504.00002"))
    await executor.vote(click(UP, destination=DM, channel=None))
    await executor.vote(click(UP, user="U0002"))
    await store.run(lambda s: s.votes.save_model(DM, 1, b"model"))
    await store.run(lambda s: s.votes.save_model(THREAD, 3, b"channel model"))

    asked = await executor.execute(context(user="U0001"), "me forget")
    assert not asked.is_error and asked.ephemeral
    assert "3 votes" in asked.text and "/papers me forget confirm" in asked.text
    assert (await executor.vote_tallies(THREAD, [PAPER]))[PAPER] == Tally(2, 0)  # nothing yet

    done = await executor.execute(context(user="U0001"), "me forget confirm")
    assert done.ephemeral and "Deleted 3 votes" in done.text
    assert (await executor.vote_tallies(THREAD, [PAPER, "2504.00002"])) == {
        PAPER: Tally(1, 0), "2504.00002": Tally()}
    assert await store.run(lambda s: s.votes.load_model(DM)) is None
    assert await store.run(lambda s: s.votes.load_model(THREAD)) is not None
    again = await executor.execute(context(user="U0001"), "me forget")
    assert "no votes" in again.text


def test_labels_show_counts_only():
    assert button_label(UP, Tally()) == "👍"
    assert button_label(UP, Tally(3, 1)) == "👍 3"
    assert button_label(DOWN, Tally(3, 1)) == "👎 1"


def test_destination_keys_read_back():
    assert destination_parts("slack:T1:C1") == ("slack", False, "T1", "C1")
    assert destination_parts("discord-dm:1:2") == ("discord", True, "1", "2")
    for bad in ("markdown:MLLM", "slack:T1", "slack::C1", "teams:T:C", "slack:T:C:D", ""):
        assert destination_parts(bad) is None


async def test_message_updates_run_one_at_a_time_and_the_last_one_sees_every_vote(executor, store):
    papers = [f"2504.0000{n}" for n in range(1, 4)]
    await _delivered(store, THREAD, *papers)
    shown: list[dict] = []
    running = 0

    async def update():
        nonlocal running
        running += 1
        assert running == 1, "two updates of one message at once"
        tallies = await executor.vote_tallies(THREAD, papers)
        await asyncio.sleep(0)   # the platform call: other clicks arrive meanwhile
        shown.append(tallies)
        running -= 1

    async def one_click(user: str, paper: str):
        assert isinstance(await executor.vote(click(UP, user=user, paper=paper)), VoteRecorded)
        await executor.votes.refresh_message(("slack", "C0001", "1.0001"), update)

    await asyncio.gather(*(one_click(f"U{n:04d}", papers[n % 3]) for n in range(30)))
    assert shown[-1] == {paper: Tally(10, 0) for paper in papers}
    assert 1 <= len(shown) <= 30
