"""Hits are computed once per (paper, term) and shared by every subscription's Match: the shared
result must be exactly what the subscription alone would have got."""

from __future__ import annotations

import random
from collections import defaultdict

from bot.matching import Subscription, compile_subscriptions, parse_query
from bot.models import Match
from tests.matching.test_matcher import (
    check_incremental_updates_equal_a_fresh_compile,
    check_matcher_agrees_with_a_plain_scan,
    corpus_papers,
    random_queries,
    recorded_corpus_papers,
)

# Every route match() takes: one keyword, keyword lists (two of whose terms may hit one paper),
# exclusions, two-term conjunctions, general queries, category restrictions, announce types,
# capitals-only terms, author and field-scoped terms.
EXTRA_QUERIES = [
    "model", "models, learning", "learning, model, data", '"neural network", network',
    "model -learning", "(model OR data) -network", "model AND data", "ti:learning AND model",
    "(model OR learning) AND (data OR network)", "LLM, GPT", "au:Zhang", "abs:model, ti:model",
    "cat:cs.LG AND learning", "model AND NOT (robot OR agent)", "multi-modal, multimodal",
]


def _subscriptions(papers) -> list[Subscription]:
    queries = random_queries(papers, 150, seed=23) + [parse_query(t) for t in EXTRA_QUERIES]
    rng = random.Random(5)
    subscriptions = []
    for index, query in enumerate(queries):
        options = {}
        if rng.random() < 0.15:
            options["categories"] = frozenset({rng.choice(["cs", "cs.LG", "math", "cs.CV"])})
        if rng.random() < 0.15:
            options["types"] = frozenset({"new", "cross", "replace"})
        subscriptions.append(Subscription(f"s{index}", query, **options))
        # the same query again under another id: the two must share, not recompute
        if index % 3 == 0:
            subscriptions.append(Subscription(f"s{index}-twin", query, **options))
    return subscriptions


def _corpus_day(papers):
    """The corpus as one day's listing, with every announce type represented."""
    kinds = ["new", "new", "cross", "replace", "replace-cross"]
    return [paper.with_changes(announce_type=kinds[index % len(kinds)])
            for index, paper in enumerate(papers)]


def test_shared_hits_equal_a_fresh_computation_per_subscription():
    check_shared_hits_equal_a_fresh_computation(_corpus_day(corpus_papers(120)))


def check_shared_hits_equal_a_fresh_computation(papers):
    subscriptions = _subscriptions(papers)
    matches = compile_subscriptions(subscriptions).match(papers)
    assert len(matches) > 500
    assert len({(m.subscription_id, m.paper.id) for m in matches}) == len(matches)

    by_id = {s.id: s for s in subscriptions}
    rng = random.Random(3)
    sample = rng.sample(matches, 400) + [m for m in matches if len(m.hit_terms) > 1]
    assert len([m for m in sample if len(m.hit_terms) > 1]) >= 10  # merged hits are covered
    for match in sample:
        alone = compile_subscriptions([by_id[match.subscription_id]])
        fresh = alone.match([match.paper])
        assert fresh == [match], (match.subscription_id, match.paper.id)
        # and the explanation, which computes per subscription, tells the same
        explanation = alone.explain(match.subscription_id, match.paper)
        assert explanation.matched and explanation.score == match.score
        explained = {hit for report in explanation.terms if not report.excluding
                     for hit in report.hits}
        assert set(match.hits) == explained


def test_no_match_is_lost_or_invented_by_the_shared_path():
    check_no_match_is_lost_or_invented(_corpus_day(corpus_papers(120)))


def check_no_match_is_lost_or_invented(papers):
    subscriptions = _subscriptions(papers)
    together = {(m.subscription_id, m.paper.id) for m in compile_subscriptions(subscriptions).match(papers)}
    one_by_one = {(m.subscription_id, m.paper.id) for s in subscriptions
                  for m in compile_subscriptions([s]).match(papers)}
    assert together == one_by_one


def test_hits_of_a_paper_and_term_are_one_shared_tuple():
    check_hits_of_a_paper_and_term_are_one_shared_tuple(corpus_papers(60))


def check_hits_of_a_paper_and_term_are_one_shared_tuple(papers):
    subscriptions = [Subscription(f"{kind}{n}", parse_query(text))
                     for n in range(5)
                     for kind, text in (("word", "model"), ("list", "model, zzzunseen"),
                                        ("minus", "model -zzzunseen"))]
    matches = compile_subscriptions(subscriptions).match(papers)
    by_paper: dict[str, list[Match]] = defaultdict(list)
    for match in matches:
        by_paper[match.paper.id].append(match)
    assert len(by_paper) > 5
    for paper_matches in by_paper.values():
        assert len(paper_matches) == len(subscriptions)
        first = paper_matches[0].hits
        assert first and all(m.hits is first for m in paper_matches)


def test_the_corpus_comparisons_hold_on_the_recorded_corpus():
    """The comparisons above, once more on real text (the recorded Kaggle snapshot in ../shared):
    real abstracts hold spellings no generator thinks of. One test, so a clone without ../shared
    skips one test rather than five."""
    papers = recorded_corpus_papers()
    check_matcher_agrees_with_a_plain_scan(papers)
    check_incremental_updates_equal_a_fresh_compile(papers[:80])
    check_shared_hits_equal_a_fresh_computation(_corpus_day(papers[:120]))
    check_no_match_is_lost_or_invented(_corpus_day(papers[:120]))
    check_hits_of_a_paper_and_term_are_one_shared_tuple(papers[:60])
