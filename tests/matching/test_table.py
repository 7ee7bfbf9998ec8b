"""A day's MatchTable (issue 12): per subscription the matched papers and scores, with hits and
Match records only on request. It must say exactly what the per-subscription computation says,
and a digest built from it must be the digest built from Match records."""

from __future__ import annotations

from datetime import date

from bot.digest.model import build_digest, digest_from_table
from bot.matching import Subscription, compile_subscriptions, parse_query
from tests.matching.test_matcher import corpus_papers
from tests.matching.test_shared_hits import _corpus_day, _subscriptions

DAY = date(2025, 4, 21)


def test_every_pair_and_score_agree_with_the_per_subscription_explanation():
    papers = _corpus_day(corpus_papers(80))
    subscriptions = _subscriptions(papers)
    matcher = compile_subscriptions(subscriptions)
    table = matcher.match_day(papers)
    found = {(sid, papers[index].id): score for sid, index, score in table.pairs()}
    assert len(found) > 300 and len(found) == len(table)
    for subscription in subscriptions:
        for paper in papers:
            explanation = matcher.explain(subscription.id, paper)
            pair = (subscription.id, paper.id)
            assert explanation.matched == (pair in found), pair
            if explanation.matched:
                assert found[pair] == explanation.score, pair


def test_matches_of_a_subscription_are_the_records_match_makes():
    papers = _corpus_day(corpus_papers(60))
    subscriptions = _subscriptions(papers)
    matcher = compile_subscriptions(subscriptions)
    table = matcher.match_day(papers)
    records = matcher.match(papers)
    for subscription in subscriptions[::7]:
        expected = [m for m in records if m.subscription_id == subscription.id]
        assert table.matches(subscription.id) == expected
    matched = {m.paper.id for m in records}
    assert [papers[index].id for index in table.matched_indices()] == [
        p.id for p in papers if p.id in matched]
    some = records[len(records) // 2]
    index = [p.id for p in papers].index(some.paper.id)
    assert some.subscription_id in table.subscriptions_of(index)


def test_one_term_subscriptions_share_their_term_postings():
    papers = corpus_papers(60)
    subscriptions = [Subscription(f"s{n}", parse_query("model")) for n in range(50)]
    table = compile_subscriptions(subscriptions).match_day(papers)
    rows = table.rows("s0")
    assert rows and table.count("s0") > 5
    assert all(table.rows(f"s{n}") is rows for n in range(50))  # no copy per subscription


def test_a_table_keeps_its_day_when_the_matcher_changes_afterwards():
    papers = corpus_papers(40)
    matcher = compile_subscriptions([Subscription("a", parse_query("model, learning")),
                                     Subscription("b", parse_query("data"))])
    table = matcher.match_day(papers)
    before = {(sid, index, score) for sid, index, score in table.pairs()}
    matcher.remove("a")
    matcher.add(Subscription("c", parse_query("network")))
    assert {(sid, index, score) for sid, index, score in table.pairs()} == before
    index, score = table.scored("a")[0]
    hits = table.hits("a", index)
    assert hits and {hit.term for hit in hits} <= {"model", "learning"}
    assert table.rows("c") == ()


def test_a_digest_from_the_table_is_the_digest_from_match_records():
    papers = _corpus_day(corpus_papers(80))
    subscriptions = _subscriptions(papers)
    matcher = compile_subscriptions(subscriptions)
    table = matcher.match_day(papers)
    records = matcher.match(papers)
    chosen = [s.id for s in subscriptions[:40]] + ["s3", "s0-twin"]  # a repeat is harmless
    for max_items in (None, 5):
        expected = build_digest("k", "t", DAY, [m for sid in chosen for m in records
                                                if m.subscription_id == sid],
                                max_items=max_items, subscriptions_text=("x",))
        got = digest_from_table("k", "t", DAY, table, chosen, max_items=max_items,
                                subscriptions_text=("x",))
        assert got == expected
        assert got.items and (max_items is None or got.truncated > 0)


def test_any_of_several_terms_shares_their_postings_and_sums_papers_both_hit():
    """`model, learning` costs no copy of the two terms' postings: they are its chunks as they
    are, and the papers both hit come once more in a chunk of their own with the summed score,
    which every reader of the table takes (a paper counts once, at its highest score)."""
    papers = corpus_papers(60)
    matcher = compile_subscriptions([Subscription("model", parse_query("model")),
                                     Subscription("learning", parse_query("learning")),
                                     Subscription("either", parse_query("model, learning")),
                                     Subscription("neither-robot", parse_query("(model OR learning) -robot"))])
    table = matcher.match_day(papers)
    model, learning = dict(table.scored("model")), dict(table.scored("learning"))
    both = model.keys() & learning.keys()
    assert both and model.keys() - both and learning.keys() - both
    chunks = table.rows("either")
    assert table.rows("model")[0] in chunks and table.rows("learning")[0] in chunks  # not copies
    expected = {**model, **learning, **{i: round(model[i] + learning[i], 3) for i in both}}
    assert dict(table.scored("either")) == expected
    assert table.count("either") == len(expected) < sum(map(len, chunks))
    assert {(sid, i) for sid, i, _ in table.pairs() if sid == "either"} == {("either", i) for i in expected}
    assert all("either" in table.subscriptions_of(i) and table.subscriptions_of(i).count("either") == 1
               for i in expected)
    digest = digest_from_table("k", "t", DAY, table, ["either", "model"])
    assert len(digest.items) == len(expected) == len({item.paper.id for item in digest.items})
    kept = dict(table.scored("neither-robot"))
    excluded = {i for i in expected if not matcher.explain("neither-robot", papers[i]).matched}
    assert excluded and excluded & both  # robot papers: some hit by one term, some by both
    assert kept == {i: s for i, s in expected.items() if i not in excluded}
