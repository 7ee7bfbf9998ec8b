"""Spans are computed only when a match's hits are looked at; the score, computed without them,
must be the one the spans give, and lazy hits must behave as the tuple they stand for."""

from __future__ import annotations

import copy
import pickle

from bot.matching import FIELD_WEIGHTS, Subscription, compile_subscriptions, parse_query
from bot.matching.lazy_hits import LazyHits, concatenated
from bot.models import Hit, Match
from tests.matching.test_matcher import corpus_papers, random_queries


def _score_from_spans(hits) -> float:
    """The score rule of DESIGN.md §4 applied to materialised hits (as the matcher did before)."""
    if not hits:
        return 0.0
    if len(hits) == 1:
        return FIELD_WEIGHTS[hits[0].field]
    return round(sum(FIELD_WEIGHTS[f] for f in {h.field for h in hits})
                 + 0.1 * min(len(hits) - 1, 5), 3)


def test_scores_counted_without_spans_equal_the_scores_of_the_spans():
    papers = corpus_papers(150)
    queries = random_queries(papers, 200, seed=41) + [
        parse_query(text) for text in ("model", "models", "LLM", "multi-modal", "fine-tuning",
                                        "learn*", "ti:learning", "abs:data", "neural network")]
    subscriptions = [Subscription(f"s{n}", query) for n, query in enumerate(queries)
                     if len(query.positive_terms) == 1]
    matches = compile_subscriptions(subscriptions).match(papers)
    text_matches = [m for m in matches if m.hits and m.hits[0].field in ("title", "abstract")]
    assert len(text_matches) > 200
    several = [m for m in text_matches if len(m.hits) > 1]
    assert len(several) > 20 and any(len({h.field for h in m.hits}) > 1 for m in several)
    for match in text_matches:
        assert match.score == _score_from_spans(tuple(match.hits)), match


def test_lazy_hits_behave_as_their_tuple():
    hits = (Hit("model", "title", 0, 5), Hit("model", "abstract", 10, 16))
    calls = []

    def compute(*args):
        calls.append(args)
        return list(hits)

    lazy = LazyHits(compute, "a", "b")
    match = Match("s1", None, lazy, 4.1)  # type: ignore[arg-type]
    assert not calls  # nothing computed until looked at
    assert match.hits == hits and hits == match.hits and not (match.hits != hits)
    assert calls == [("a", "b")]
    assert list(lazy) == list(hits) and len(lazy) == 2 and lazy[1] == hits[1] and bool(lazy)
    assert hash(lazy) == hash(hits) and hits[0] in lazy
    assert lazy + () == hits and () + lazy == hits
    assert Match("s1", None, hits, 4.1) == match  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(lazy)) == hits and copy.deepcopy(lazy) == hits
    assert repr(lazy) == repr(hits)
    assert len(calls) == 1  # computed once


def test_concatenated_hits_keep_the_query_order():
    first = (Hit("a", "title", 0, 1),)
    second = LazyHits(lambda: [Hit("b", "abstract", 3, 4)])
    assert concatenated([first, (Hit("c", "title", 5, 6),)]) == first + (Hit("c", "title", 5, 6),)
    joined = concatenated([first, second])
    assert isinstance(joined, LazyHits)
    assert joined == (Hit("a", "title", 0, 1), Hit("b", "abstract", 3, 4))


def test_a_digest_works_out_spans_only_for_the_papers_it_keeps():
    from datetime import date

    from bot.digest.model import build_digest

    papers = corpus_papers(40)
    matches = compile_subscriptions([Subscription("a", parse_query("the")),
                                     Subscription("b", parse_query("of"))]).match(papers)
    assert len({m.paper.id for m in matches}) > 10
    digest = build_digest("dest", "title", date(2025, 4, 21), matches, max_items=3)
    kept = {item.paper.id for item in digest.items}
    assert len(kept) == 3 and digest.truncated > 0
    for match in matches:
        assert isinstance(match.hits, LazyHits)
        assert (match.hits._hits is not None) == (match.paper.id in kept), match.paper.id
    for item in digest.items:  # the kept items have the hits of every match of their paper
        assert set(item.hits) == {hit for m in matches if m.paper.id == item.paper.id
                                  for hit in m.hits}
        assert item.title_spans or item.abstract_spans
