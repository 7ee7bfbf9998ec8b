"""The seam the rest of paperbot ranks through: `Ranker.scores(destination, papers)`.

Each destination has its own relevance model, learned from the votes cast on it: a channel's
model from every vote in the channel's daily threads (a paper's label is the sign of its 👍
minus 👎), a person's direct-message model from that person's own votes wherever they cast them
(their latest vote on a paper counts). With fewer than `MIN_VOTES` voted papers, or votes all
one way, there is nothing to learn: `scores` answers None and the digest keeps the match order.

Votes that are all 👍 are the common case (people click what they like and scroll past the
rest). Then the papers the destination was shown but nobody voted on teach what it passes over:
the ledger's delivered papers of the feed days on which it voted at least once (a day nobody
looked at says nothing), as negatives of weight `WEAK_NEGATIVE_WEIGHT` (unvoted is not
disliked: some were simply not read). So `MIN_VOTES` 👍 are enough for a model.

Models are trained when they are asked for and stale: no model yet, the number of votes changed
since it was trained, or votes changed (without changing their number) and the model is a day
old. A stale model is retrained at most once per request, and requests come once a day (the
daily digests, the weekly best-of). Training and scoring run in worker threads; the store is
read on a reader connection; each trained model is one short write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from bot.destinations.people import person_of_destination_key
from bot.models import Paper
from bot.ranking.features import PaperFeatures
from bot.ranking.model import ModelFormatError, RelevanceModel, train_model
from bot.store import AsyncStore, ReadStore, Store
from bot.store.votes import StoredModel, Vote

log = logging.getLogger(__name__)

MIN_VOTES = 5
RETRAIN_AFTER = timedelta(days=1)
# The most recent voted papers a model learns from: interests drift, and training stays cheap.
MAX_TRAINING_PAPERS = 2000
# Weight of a paper shown but not voted on, when a destination's votes are all 👍 (see the module
# doc); a vote weighs 1. Class balancing already evens out the many unvoted papers against the
# few 👍, so the order hardly depends on it (bench_ranking --likes-only: the same precision@10
# from 0.1 to 1); below 1 it keeps the unvoted papers from outweighing what people said.
WEAK_NEGATIVE_WEIGHT = 0.3
# The most recent unvoted papers a model learns from (training time grows with them: 300 or
# 1,000 give the same precision on the benchmark, 1,000 covers a busy channel's voted days).
MAX_WEAK_NEGATIVES = 1000

Scores = dict[str, float]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def training_votes(store: Store | ReadStore, destination: str) -> list[Vote]:
    """The votes a destination's model learns from, oldest first (see the module doc)."""
    person = person_of_destination_key(destination)
    if person is not None:
        return store.votes.by_person(person)
    return store.votes.for_destination(destination)


def vote_labels(votes: Sequence[Vote], personal: bool) -> dict[str, int]:
    """Paper id -> 1 (liked) or 0 (not), most recently voted last. A channel's paper is liked
    when it has more 👍 than 👎 (a tie teaches nothing); a person's, by their latest vote."""
    if personal:
        latest: dict[str, int] = {}
        for vote in votes:  # oldest first: a later vote on the same paper wins
            latest.pop(vote.paper_id, None)
            latest[vote.paper_id] = vote.value
        return {paper: int(value > 0) for paper, value in latest.items()}
    totals: dict[str, int] = {}
    for vote in votes:
        total = totals.pop(vote.paper_id, 0) + vote.value
        totals[vote.paper_id] = total
    return {paper: int(total > 0) for paper, total in totals.items() if total != 0}


def enough_to_learn(labels: Mapping[str, int], min_votes: int = MIN_VOTES) -> bool:
    return len(labels) >= min_votes and 0 < sum(labels.values()) < len(labels)


def weak_negatives(store: Store | ReadStore, destination: str, labels: Mapping[str, int],
                   min_votes: int = MIN_VOTES) -> list[str]:
    """The papers `destination` was shown and passed over (see the module doc), when its
    `labels` are at least `min_votes` papers, all liked; otherwise none (a 👎 says more)."""
    if len(labels) < min_votes or not all(labels.values()):
        return []
    person = person_of_destination_key(destination)
    if person is not None:
        shown = store.votes.unvoted_shown_to(person, MAX_WEAK_NEGATIVES)
    else:
        shown = store.votes.unvoted_shown(destination, MAX_WEAK_NEGATIVES)
    return [paper for paper in shown if paper not in labels]


@dataclass(frozen=True)
class _Plan:
    """What one destination needs, decided on a reader thread: use the stored model, train a
    new one from `papers`/`labels`, or nothing (and forget a stored model that no longer has
    enough votes behind it)."""

    destination: str
    votes: int
    stored: StoredModel | None = None
    papers: tuple[Paper, ...] = ()
    labels: tuple[int, ...] = ()
    weights: tuple[float, ...] = ()
    train: bool = False


@dataclass(frozen=True)
class _Trained:
    destination: str
    votes: int
    model: RelevanceModel | None
    blob: bytes | None
    seconds: float


class Ranker:
    """Relevance scores per destination from its learned model; None when it has too few votes.

    One per process (it keeps decoded models and the day's paper features in memory)."""

    def __init__(self, store: AsyncStore, *, now: Callable[[], datetime] = _utc_now,
                 min_votes: int = MIN_VOTES, retrain_after: timedelta = RETRAIN_AFTER,
                 features: PaperFeatures | None = None) -> None:
        self.store = store
        self.now = now
        self.min_votes = min_votes
        self.retrain_after = retrain_after
        self.features = features or PaperFeatures()
        # destination -> (trained_at, votes, model): decoded once, until retrained
        self._models: dict[str, tuple[str, int, RelevanceModel]] = {}
        self._training = asyncio.Lock()
        self.last_training: list[_Trained] = []  # what the last request trained (for benchmarks)

    async def scores(self, destination_key: str, papers: Sequence[Paper]) -> Scores | None:
        """paper id -> relevance score (higher first) for `papers` in `destination_key`; None
        when the destination has too few votes to learn from (keep the match order)."""
        return (await self.scores_for({destination_key: papers}))[destination_key]

    async def scores_for(self, requests: Mapping[str, Sequence[Paper]]) -> dict[str, Scores | None]:
        """`scores` for many destinations at once: one store read, one training job, one
        scoring job (a day's thousand channels must not cost a thousand round trips)."""
        answers: dict[str, Scores | None] = {key: None for key in requests}
        keys = [key for key, papers in requests.items() if papers]
        if not keys:
            return answers
        async with self._training:  # one request trains at a time: no model trained twice
            now = self.now()
            plans = await self.store.read(self._plan_all, keys, now, operation="reading votes for ranking")
            trained = await asyncio.to_thread(self._train_all, [p for p in plans if p.train])
            self.last_training = trained
            for result in trained:
                await self._save(result, now)
            models = self._usable_models(plans, {t.destination: t for t in trained})
        if not models:
            return answers
        scored = await asyncio.to_thread(self._score_all, {key: requests[key] for key in models}, models)
        answers.update(scored)
        return answers

    # -- the stored model only (commands) -----------------------------------------------------

    async def stored_model(self, destination_key: str) -> RelevanceModel | None:
        """The destination's model as last trained and stored, without training: the one that
        ordered its latest daily thread (a command showing that day must show the same order,
        and must not pay for training). None when it has none (too few votes, or not trained
        yet: the thread then kept the match order too). One small read on a reader connection;
        decoded once per trained model."""
        stored = await self.store.read(lambda s: s.votes.load_model(destination_key),
                                       operation="reading a relevance model")
        if stored is None or not RelevanceModel.readable(stored.model):
            return None
        return self._decoded(stored)

    def score(self, model: RelevanceModel, papers: Sequence[Paper]) -> Scores:
        """paper id -> `model`'s score of each of `papers`. CPU work: call it on a worker
        thread (the day's paper features are computed once and shared with the daily pass)."""
        values = model.scores(self.features.matrix(papers))
        return {paper.id: float(value) for paper, value in zip(papers, values)}

    # -- planning (reader thread) -------------------------------------------------------------

    def _plan_all(self, store: ReadStore, keys: Sequence[str], now: datetime) -> list[_Plan]:
        return [self._plan(store, key, now) for key in keys]

    def _plan(self, store: ReadStore, key: str, now: datetime) -> _Plan:
        votes = training_votes(store, key)
        stored = store.votes.load_model(key)
        if not votes:
            return _Plan(key, 0, stored, train=stored is not None)  # forget the old model
        latest = max(vote.voted_at for vote in votes)
        if (stored is not None and stored.votes == len(votes) and RelevanceModel.readable(stored.model)
                and self._fresh(stored, latest, now)):
            return _Plan(key, len(votes), stored)
        labels = vote_labels(votes, person_of_destination_key(key) is not None)
        recent = {paper: labels[paper] for paper in list(labels)[-MAX_TRAINING_PAPERS:]}
        weights = dict.fromkeys(recent, 1.0)
        for paper in weak_negatives(store, key, recent, self.min_votes):
            recent[paper], weights[paper] = 0, WEAK_NEGATIVE_WEIGHT
        if not enough_to_learn(recent, self.min_votes):
            return _Plan(key, len(votes), stored, train=stored is not None)
        papers = store.papers.get_many(list(recent))
        return _Plan(key, len(votes), stored, papers=tuple(papers.values()),
                     labels=tuple(recent[paper] for paper in papers),
                     weights=tuple(weights[paper] for paper in papers), train=True)

    def _fresh(self, stored: StoredModel, latest_vote: str, now: datetime) -> bool:
        if latest_vote <= stored.trained_at:
            return True
        try:
            trained_at = datetime.fromisoformat(stored.trained_at)
        except ValueError:
            return False
        if trained_at.tzinfo is None:
            trained_at = trained_at.replace(tzinfo=timezone.utc)
        return now - trained_at < self.retrain_after

    # -- training (worker thread) -------------------------------------------------------------

    def _train_all(self, plans: Sequence[_Plan]) -> list[_Trained]:
        results = []
        for plan in plans:
            started = time.perf_counter()
            model = None
            if plan.papers and enough_to_learn(dict(zip((p.id for p in plan.papers), plan.labels)),
                                               self.min_votes):
                try:
                    model, _, _ = train_model(self.features.matrix(plan.papers), np.array(plan.labels),
                                              np.array(plan.weights) if plan.weights else None)
                except Exception:  # noqa: BLE001 - one destination's model must not cost the others
                    log.exception("training the relevance model of %s failed", plan.destination)
            blob = model.to_bytes() if model is not None else None
            results.append(_Trained(plan.destination, plan.votes, model, blob, time.perf_counter() - started))
        return results

    async def _save(self, result: _Trained, now: datetime) -> None:
        """One short write per destination, so other writers never wait behind a day's models."""
        key = result.destination
        if result.blob is None:
            self._models.pop(key, None)
            await self.store.run(lambda s: s.votes.delete_model(key))
            log.info("relevance model of %s dropped: too few votes (%d)", key, result.votes)
            return
        blob, votes = result.blob, result.votes
        await self.store.run(lambda s: s.votes.save_model(key, votes, blob, now))
        self._models[key] = (now.isoformat(timespec="seconds"), votes, result.model)
        log.info("relevance model of %s trained on %d papers (%d votes) in %.0f ms, %d bytes", key,
                 result.model.trained_on, votes, result.seconds * 1000, len(blob))

    def _usable_models(self, plans: Sequence[_Plan], trained: Mapping[str, _Trained]) -> dict[str, RelevanceModel]:
        models: dict[str, RelevanceModel] = {}
        for plan in plans:
            if plan.destination in trained:
                model = trained[plan.destination].model
            elif plan.stored is not None and not plan.train:
                model = self._decoded(plan.stored)
            else:
                model = None
            if model is not None:
                models[plan.destination] = model
        return models

    def _decoded(self, stored: StoredModel) -> RelevanceModel | None:
        cached = self._models.get(stored.destination)
        if cached is not None and cached[:2] == (stored.trained_at, stored.votes):
            return cached[2]
        try:
            model = RelevanceModel.from_bytes(stored.model)
        except ModelFormatError as exc:
            # A readable header over a corrupt body: keep the match order today.
            log.warning("ignoring the stored relevance model of %s: %s", stored.destination, exc)
            return None
        self._models[stored.destination] = (stored.trained_at, stored.votes, model)
        return model

    # -- scoring (worker thread) --------------------------------------------------------------

    def _score_all(self, requests: Mapping[str, Sequence[Paper]],
                   models: Mapping[str, RelevanceModel]) -> dict[str, Scores]:
        scored: dict[str, Scores] = {}
        for key, model in models.items():
            scored[key] = self.score(model, requests[key])
        return scored
