"""`/papers today` and the personal overview (Slack Home tab) show a day as its delivery shows it: in the learned order
of the destination's stored relevance model (the one that ordered the daily thread), cut at the
channel's `max`; the match order with no model or `order listing`. Real SQLite, the real Ranker,
the scheduler's own path (bot.daily) for the thread to compare with."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.commands import CommandExecutor
from bot.commands.responses import OK, DigestSection, Lines, Response
from bot.config import Settings
from bot.daily import digest_for, match_day, relevance_orders
from bot.destinations.channels import ChannelSubscriptions
from bot.destinations.people import personal_destination_key
from bot.ranking import Ranker
from bot.store import AsyncStore
from bot.store.votes import DOWN, UP
from tests.ranking.topics import topic_papers

from .conftest import context

VOTE_DAY, LATEST_DAY = date(2025, 4, 14), date(2025, 4, 21)
VOTED = topic_papers("2504", 20)             # the day people voted on (alternately liked)
LATER = topic_papers("2505", 30, seed=11)    # the latest day, which `today` shows
LEAD = context(user="U0LEAD")
VISITOR = context(user="U0VISIT", can_manage=False)
QUERY = "cat:cs.LG"                          # every topic paper: the match order mixes the two


def now() -> datetime:
    return datetime(2025, 4, 21, 14, 30, tzinfo=timezone.utc)


@pytest.fixture
async def store(tmp_path):
    opened = await AsyncStore.open(tmp_path / "paperbot.db", clock=now)

    def fill(s):
        s.papers.save_listing(VOTE_DAY, [paper for paper, _ in VOTED])
        s.papers.save_listing(LATEST_DAY, [paper for paper, _ in LATER])
    await opened.run(fill)
    yield opened
    await opened.close()


@pytest.fixture
def ranker(store) -> Ranker:
    return Ranker(store, now=now)


@pytest.fixture
async def executor(store, ranker) -> CommandExecutor:
    executor = CommandExecutor(store, Settings(), ranker=ranker)
    assert (await executor.execute(LEAD, f"subscribe {QUERY}")).outcome == OK
    return executor


async def vote(store, destination: str, labelled, user: str = "U0LEAD") -> None:
    def cast(s):
        for paper, liked in labelled:
            s.votes.cast(destination, paper.id, context(user=user).person, UP if liked else DOWN)
    await store.run(cast)


async def thread_digest(store, ranker):
    """The channel's daily thread of LATEST_DAY, built as the scheduler builds it (this trains
    and stores the channel's model, as the daily pass does)."""
    directory = await ChannelSubscriptions(store, "slack").load()
    [destination] = directory.destinations
    day_matches = await match_day(store, LATEST_DAY, directory.subscriptions)
    orders = await relevance_orders(ranker, directory.destinations, day_matches)
    return destination, digest_for(destination, LATEST_DAY, day_matches, orders.get(destination.key))


def shown(reply: Response) -> tuple[str, ...]:
    [section] = [s for s in reply.sections if isinstance(s, DigestSection)]
    return section.digest.paper_ids


def notes(reply: Response) -> str:
    return "\n".join(line for s in reply.sections if isinstance(s, Lines) for line in s.lines)


LIKED_LATER = {paper.id for paper, liked in LATER if liked}


async def test_today_shows_the_threads_learned_order(store, ranker, executor):
    before = await executor.execute(VISITOR, "today")
    assert set(shown(before)[:10]) != set(list(LIKED_LATER)[:10])  # the match order mixes them
    await vote(store, LEAD.destination_key, VOTED)
    _, thread = await thread_digest(store, ranker)
    assert set(thread.paper_ids[:15]) == LIKED_LATER                 # the model learned

    reply = await executor.execute(VISITOR, "today")
    assert reply.outcome == OK and reply.ephemeral
    assert shown(reply) == thread.paper_ids[:10]
    assert reply.text == "30 papers of 30 on 2025-04-21 match this channel's subscriptions; showing the top 10."
    assert "Ordered as the daily thread" in notes(reply)


async def test_today_reuses_the_stored_model_and_never_trains(store, ranker, executor):
    await vote(store, LEAD.destination_key, VOTED)
    _, thread = await thread_digest(store, ranker)
    stored = await store.read(lambda s: s.votes.load_model(LEAD.destination_key))
    # Votes after the thread went out: the thread keeps its order until the next day's training,
    # and so does `today` (no training on a command).
    await vote(store, LEAD.destination_key, [(paper, not liked) for paper, liked in VOTED[:6]], user="U0EVE")
    ranker.last_training = []
    for _ in range(3):
        assert shown(await executor.execute(VISITOR, "today")) == thread.paper_ids[:10]
    assert ranker.last_training == []
    again = await store.read(lambda s: s.votes.load_model(LEAD.destination_key))
    assert (again.trained_at, again.votes, again.model) == (stored.trained_at, stored.votes, stored.model)


async def test_today_keeps_the_match_order_without_a_model_or_with_order_listing(store, ranker, executor):
    match_order = shown(await executor.execute(VISITOR, "today"))
    # Votes but no model stored yet (the daily pass trains it): today matches the thread, which
    # also kept the match order.
    await vote(store, LEAD.destination_key, VOTED)
    reply = await executor.execute(VISITOR, "today")
    assert shown(reply) == match_order and "Ordered as the daily thread" not in notes(reply)
    assert reply.text.endswith("showing the first 10.")
    await thread_digest(store, ranker)                                 # the model now exists
    assert shown(await executor.execute(VISITOR, "today")) != match_order
    assert (await executor.execute(LEAD, "settings order listing")).outcome == OK
    destination, thread = await thread_digest(store, ranker)
    reply = await executor.execute(VISITOR, "today")
    assert shown(reply) == match_order == thread.paper_ids[:10]
    # A private look at a query keeps the match order too.
    looked = await executor.execute(VISITOR, f"today {QUERY}")
    assert shown(looked) == match_order


async def test_today_cuts_at_the_channels_max_like_the_thread(store, ranker, executor):
    await vote(store, LEAD.destination_key, VOTED)
    assert (await executor.execute(LEAD, "settings max 4")).outcome == OK
    destination, thread = await thread_digest(store, ranker)
    assert destination.max_papers == 4 and len(thread.items) == 4 and thread.truncated == 26
    reply = await executor.execute(VISITOR, "today")
    assert shown(reply) == thread.paper_ids
    assert set(shown(reply)) <= LIKED_LATER
    assert ("The daily thread shows the first 4 papers (this channel's max) and folds the other 26 "
            'into one "more papers" message with links.') in notes(reply)


async def test_the_home_overview_shows_the_persons_day_in_their_own_learned_order(store, ranker, executor):
    anna = context(user="U0ANNA", can_manage=False)
    assert (await executor.execute(anna, f"me add {QUERY}")).outcome == OK
    match_order = (await executor.personal.home_overview(anna)).digest.paper_ids
    # Anna's own votes (in the channel) rank her direct message; robots are what she likes.
    await vote(store, LEAD.destination_key, [(paper, not liked) for paper, liked in VOTED], user="U0ANNA")
    dm = personal_destination_key(anna.person)
    scores = await ranker.scores(dm, [paper for paper, _ in LATER])   # the daily pass trains it
    assert scores is not None
    ranked = (await executor.personal.home_overview(anna)).digest.paper_ids
    assert ranked != match_order and set(ranked) <= {p.id for p, liked in LATER if not liked}
    assert ranked == tuple(sorted(scores, key=lambda pid: -scores[pid]))[:10]


async def test_settings_show_the_votes_key_a_topic_names_in_votes_from(executor):
    reply = await executor.execute(VISITOR, "settings")
    assert (f"Votes key: {VISITOR.destination_key} (a Markdown topic with votes_from: "
            f"{VISITOR.destination_key} in the configuration is ordered by this channel's votes)") in notes(reply)
    assert VISITOR.destination_key == "slack:T0001:C0001"


async def test_today_scores_on_the_command_worker_not_the_event_loop(store, ranker):
    import threading

    from bot.commands.context import COMMAND_WORKER_THREAD
    from bot.ranking.features import PaperFeatures

    class RecordingFeatures(PaperFeatures):
        def __init__(self) -> None:
            super().__init__()
            self.threads: set[str] = set()

        def matrix(self, papers):
            self.threads.add(threading.current_thread().name)
            return super().matrix(papers)

    features = RecordingFeatures()
    executor = CommandExecutor(store, Settings(), ranker=Ranker(store, now=now, features=features))
    assert (await executor.execute(LEAD, f"subscribe {QUERY}")).outcome == OK
    await vote(store, LEAD.destination_key, VOTED)
    _, thread = await thread_digest(store, ranker)          # the daily pass stores the model
    assert shown(await executor.execute(VISITOR, "today")) == thread.paper_ids[:10]
    assert features.threads and all(name.startswith(COMMAND_WORKER_THREAD) for name in features.threads)
