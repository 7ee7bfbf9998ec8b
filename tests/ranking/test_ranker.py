"""The Ranker on a real SQLite file: votes in, scores out; fallback, persistence, personal models."""

from __future__ import annotations

import asyncio
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.destinations.people import person_of_destination_key, personal_destination_key
from bot.ranking import Ranker
from bot.ranking.features import PaperFeatures
from bot.store import AsyncStore
from bot.store.personal import PersonRef
from bot.store.votes import DOWN, UP
from tests.ranking.topics import topic_papers

CHANNEL = "slack:T1:C1"
ADA = PersonRef("slack", "T1", "U_ADA")
ALAN = PersonRef("slack", "T1", "U_ALAN")
DAY = date(2025, 4, 21)


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2025, 4, 21, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.current


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path: Path, clock: Clock):
    opened = await AsyncStore.open(tmp_path / "paperbot.db", clock=clock)
    yield opened
    await opened.close()


VOTED = topic_papers("2504", 20)              # the first days: what people voted on
LATER = topic_papers("2505", 30, seed=11)     # a later day, to rank


async def _store_papers(store: AsyncStore) -> None:
    papers = [paper for paper, _ in VOTED + LATER]
    await store.run(lambda s: s.papers.save_listing(DAY, papers))


async def _vote(store: AsyncStore, destination: str, voter: PersonRef, labelled, flip: bool = False):
    def cast(s):
        for paper, liked in labelled:
            s.votes.cast(destination, paper.id, voter, UP if liked != flip else DOWN)
    await store.run(cast)


def _liked_first(scores: dict[str, float], labelled) -> bool:
    liked = [scores[p.id] for p, is_liked in labelled if is_liked]
    other = [scores[p.id] for p, is_liked in labelled if not is_liked]
    return min(liked) > max(other)


async def test_too_few_votes_or_one_sided_votes_keep_the_match_order(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    ranker = Ranker(store, now=clock)
    later = [paper for paper, _ in LATER]
    assert await ranker.scores(CHANNEL, later) is None                 # no votes at all
    await _vote(store, CHANNEL, ADA, VOTED[:4])                          # 4 voted papers < 5
    assert await ranker.scores(CHANNEL, later) is None
    liked_only = [(paper, liked) for paper, liked in VOTED if liked]
    await _vote(store, "slack:T1:C9", ADA, liked_only)                   # 10 papers, all 👍
    assert await ranker.scores("slack:T1:C9", later) is None
    assert await store.read(lambda s: s.votes.load_model(CHANNEL)) is None


async def test_votes_rank_later_papers_and_the_model_persists_across_a_reopen(tmp_path: Path, clock: Clock):
    store = await AsyncStore.open(tmp_path / "paperbot.db", clock=clock)
    try:
        await _store_papers(store)
        await _vote(store, CHANNEL, ADA, VOTED)
        ranker = Ranker(store, now=clock)
        scores = await ranker.scores(CHANNEL, [paper for paper, _ in LATER])
        assert scores is not None and _liked_first(scores, LATER)
        stored = await store.read(lambda s: s.votes.load_model(CHANNEL))
        assert stored.votes == 20 and 0 < len(stored.model) < 8_000
        assert [t.destination for t in ranker.last_training] == [CHANNEL]
    finally:
        await store.close()

    reopened = await AsyncStore.open(tmp_path / "paperbot.db", clock=clock)
    try:
        ranker = Ranker(reopened, now=clock)
        again = await ranker.scores(CHANNEL, [paper for paper, _ in LATER])
        assert ranker.last_training == []  # read back, not retrained
        assert again == pytest.approx(scores, abs=1e-2)
    finally:
        await reopened.close()


async def test_a_channel_learns_from_the_balance_of_its_peoples_votes(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    await _vote(store, CHANNEL, ADA, VOTED)
    await _vote(store, CHANNEL, ALAN, VOTED)
    # A third person disagrees on everything: two against one, the channel still likes proteins.
    await _vote(store, CHANNEL, PersonRef("slack", "T1", "U_EVE"), VOTED, flip=True)
    scores = await Ranker(store, now=clock).scores(CHANNEL, [paper for paper, _ in LATER])
    assert _liked_first(scores, LATER)


async def test_retrained_when_the_vote_count_changes_not_on_every_request(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    await _vote(store, CHANNEL, ADA, VOTED[:10])
    ranker = Ranker(store, now=clock)
    later = [paper for paper, _ in LATER]
    await ranker.scores(CHANNEL, later)
    assert len(ranker.last_training) == 1
    await ranker.scores(CHANNEL, later)
    assert ranker.last_training == []
    await _vote(store, CHANNEL, ADA, VOTED[10:])
    await ranker.scores(CHANNEL, later)
    assert len(ranker.last_training) == 1 and ranker.last_training[0].votes == 20
    # A changed vote (same count) waits for the model to be a day old.
    clock.current += timedelta(hours=1)
    await store.run(lambda s: s.votes.cast(CHANNEL, VOTED[0][0].id, ADA, DOWN, now=clock.current))
    await ranker.scores(CHANNEL, later)
    assert ranker.last_training == []
    clock.current += timedelta(days=1)
    await ranker.scores(CHANNEL, later)
    assert len(ranker.last_training) == 1


async def test_forgotten_votes_drop_the_model(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    await _vote(store, CHANNEL, ADA, VOTED)
    ranker = Ranker(store, now=clock)
    later = [paper for paper, _ in LATER]
    assert await ranker.scores(CHANNEL, later) is not None
    await store.run(lambda s: s.votes.forget_person(ADA))
    assert await ranker.scores(CHANNEL, later) is None
    assert await store.read(lambda s: s.votes.load_model(CHANNEL)) is None


async def test_a_persons_own_votes_anywhere_rank_their_direct_message(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    # Ada likes proteins in two channels; the channel she shares with Alan is his robots' place.
    await _vote(store, CHANNEL, ADA, VOTED[:10])
    await _vote(store, "slack:T1:C2", ADA, VOTED[10:])
    await _vote(store, "slack:T1:C3", ALAN, VOTED, flip=True)
    ranker = Ranker(store, now=clock)
    later = [paper for paper, _ in LATER]
    ada_dm, alan_dm = personal_destination_key(ADA), personal_destination_key(ALAN)
    assert person_of_destination_key(ada_dm) == ADA and person_of_destination_key(CHANNEL) is None
    scores = await ranker.scores_for({ada_dm: later, alan_dm: later})
    assert _liked_first(scores[ada_dm], LATER)
    assert _liked_first({k: -v for k, v in scores[alan_dm].items()}, LATER)
    assert (await store.read(lambda s: s.votes.load_model(ada_dm))).votes == 20


class ThreadRecordingFeatures(PaperFeatures):
    """Records which thread computes features (training and scoring both do)."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def matrix(self, papers):
        self.threads.add(threading.get_ident())
        return super().matrix(papers)


async def test_training_and_scoring_stay_off_the_event_loop(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    await _vote(store, CHANNEL, ADA, VOTED)
    features = ThreadRecordingFeatures()
    ranker = Ranker(store, now=clock, features=features)
    assert await ranker.scores(CHANNEL, [paper for paper, _ in LATER]) is not None
    assert len(ranker.last_training) == 1
    assert features.threads and threading.get_ident() not in features.threads


async def test_concurrent_requests_train_once(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    await _vote(store, CHANNEL, ADA, VOTED)
    ranker = Ranker(store, now=clock)
    later = [paper for paper, _ in LATER]
    first, second = await asyncio.gather(ranker.scores(CHANNEL, later), ranker.scores(CHANNEL, later))
    assert first == second and ranker.last_training == []  # the second found the first's model


# -- only 👍: the papers shown and passed over are weak negatives ------------------------------

VOTE_DAY, QUIET_DAY = date(2025, 4, 14), date(2025, 4, 15)


async def _deliver(store: AsyncStore, destination: str, day: date, papers) -> None:
    ids = [paper.id for paper in papers]
    await store.run(lambda s: s.ledger.record_papers(destination, day, ids, "ts-1"))


async def test_only_likes_learn_from_the_papers_shown_that_day_and_not_voted_on(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    liked = [(paper, True) for paper, is_liked in VOTED if is_liked][:5]
    # The thread of the day they voted on held every VOTED paper; 5 👍 and nothing else.
    await _deliver(store, CHANNEL, VOTE_DAY, [paper for paper, _ in VOTED])
    await _vote(store, CHANNEL, ADA, liked)
    ranker = Ranker(store, now=clock)
    scores = await ranker.scores(CHANNEL, [paper for paper, _ in LATER])
    assert scores is not None and _liked_first(scores, LATER)
    assert ranker.last_training[0].model.trained_on == 20   # 5 liked + 15 shown and passed over


async def test_weak_negatives_come_only_from_days_someone_voted_on(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    liked = [(paper, True) for paper, is_liked in VOTED if is_liked][:5]
    await _deliver(store, CHANNEL, VOTE_DAY, [paper for paper, _ in liked])
    # A day nobody voted on says nothing about what the channel passes over.
    await _deliver(store, CHANNEL, QUIET_DAY, [paper for paper, is_liked in VOTED if not is_liked])
    await _vote(store, CHANNEL, ADA, liked)
    assert await store.read(lambda s: s.votes.unvoted_shown(CHANNEL, 100)) == []
    assert await Ranker(store, now=clock).scores(CHANNEL, [paper for paper, _ in LATER]) is None


async def test_weak_negatives_need_five_likes_and_give_way_to_dislikes(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    await _deliver(store, CHANNEL, VOTE_DAY, [paper for paper, _ in VOTED])
    liked = [(paper, True) for paper, is_liked in VOTED if is_liked]
    await _vote(store, CHANNEL, ADA, liked[:4])                       # 4 👍: not yet
    ranker = Ranker(store, now=clock)
    later = [paper for paper, _ in LATER]
    assert await ranker.scores(CHANNEL, later) is None
    # With a 👎 among the votes, the votes alone decide (5 voted papers, both ways).
    disliked = [(paper, False) for paper, is_liked in VOTED if not is_liked][:1]
    await _vote(store, CHANNEL, ADA, disliked)
    assert await ranker.scores(CHANNEL, later) is not None
    assert ranker.last_training[0].model.trained_on == 5


async def test_a_persons_likes_learn_from_what_they_were_shown_where_they_voted(store: AsyncStore, clock: Clock):
    await _store_papers(store)
    liked = [(paper, True) for paper, is_liked in VOTED if is_liked][:6]
    await _deliver(store, CHANNEL, VOTE_DAY, [paper for paper, _ in VOTED])
    await _vote(store, CHANNEL, ADA, liked)
    # Passed-over papers are per person: Alan, who voted nowhere, has none.
    shown_to_ada = await store.read(lambda s: s.votes.unvoted_shown_to(ADA, 100))
    assert set(shown_to_ada) == {p.id for p, _ in VOTED} - {p.id for p, _ in liked}
    assert await store.read(lambda s: s.votes.unvoted_shown_to(ALAN, 100)) == []
    scores = await Ranker(store, now=clock).scores(personal_destination_key(ADA), [p for p, _ in LATER])
    assert scores is not None and _liked_first(scores, LATER)
