"""The day index (bot/matching/day_index.py): candidates are a superset of what the matcher
matches, and matching on them gives exactly the matcher's answer over the whole day.

Checked over random queries of every shape the language has (words, phrases, capitals, hyphenated
compounds, prefixes, ti:/abs:/au:/cat:/primary:, AND/OR/NOT nested), with announce types and
category restrictions, on the synthetic corpus (its hard text: plurals, glued compounds, LaTeX,
accents, acronyms in capitals and not) with mixed announce types.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from bot.matching import QuerySyntaxError, Subscription, compile_subscriptions, parse_query
from bot.matching.day_index import DayIndex
from bot.matching.tokens import tokenize
from bot.models import ANNOUNCE_TYPES
from tests.synthetic_corpus import synthetic_corpus

_WRITTEN_TERMS = ["VLM", "VLMs", "MLLM", "mLLMs", "LLM", "GPT-4", "GPT4", "fine-tune", "finetune",
                  "multi-modal", "multimodal", "vision-language", "pre-trained", "pretrained",
                  "language model", "neural networks", "point-cloud", "state of the art",
                  "Erdős-Rényi", "Erdos Renyi", "Schrödinger", "Cramer-Rao", "epsilon-greedy",
                  "analyses", "policy", "queries", "behaviour", "optimization", "RLHF", "ImageNet"]


def day(count: int = 240, seed: int = 11):
    """The synthetic corpus as one day of mixed announce types (as a real listing has)."""
    rng = random.Random(seed)
    return [dataclasses.replace(paper, announce_type=rng.choice(ANNOUNCE_TYPES))
            for paper in synthetic_corpus(count, seed=seed)]


def random_subscriptions(papers, count: int, seed: int) -> list[Subscription]:
    rng = random.Random(seed)
    words = sorted({t for p in papers for t in tokenize(p.abstract + " " + p.title)
                    if t.isalpha() and len(t) > 2})
    families = sorted({author.split()[-1] for p in papers for author in p.authors})
    authors = sorted({author for p in papers for author in p.authors})
    categories = sorted({c for p in papers for c in p.categories})
    archives = sorted({c.split(".")[0] for c in categories})

    def term() -> str:
        roll = rng.random()
        if roll < 0.12:
            tokens = tokenize(rng.choice(papers).abstract)
            start = rng.randrange(max(1, len(tokens) - 3))
            return '"' + " ".join(tokens[start:start + rng.randint(2, 3)]) + '"'
        if roll < 0.24:
            written = rng.choice(_WRITTEN_TERMS)
            return f'"{written}"' if " " in written else written
        if roll < 0.32:
            word = rng.choice([w for w in words if len(w) >= 6])
            return word[:rng.randint(4, 6)] + "*"
        if roll < 0.40:
            field = rng.choice(["cat", "cat", "primary"])
            return f"{field}:{rng.choice(categories + archives)}"
        if roll < 0.48:
            name = rng.choice(families + authors)
            return f'au:"{name}"' if " " in name else f"au:{name}"
        if roll < 0.51:
            given, family = rng.choice(authors).split(" ", 1)
            return f'au:"{given[0]}. {family}"'
        field = rng.choice(["", "", "", "ti:", "abs:"])
        return field + rng.choice(words)

    def node(depth: int) -> str:
        if depth == 0 or rng.random() < 0.35:
            return term()
        shape = rng.randrange(5)
        if shape == 0:
            return " OR ".join(node(depth - 1) for _ in range(rng.randint(2, 3)))
        if shape == 1:
            return f"({node(depth - 1)}) AND ({node(depth - 1)})"
        if shape == 2:
            return f"({node(depth - 1)}) NOT ({node(depth - 1)})"
        if shape == 3:
            return f"{term()} -{term()}"
        return f"NOT (NOT ({node(depth - 1)}))"

    subscriptions = []
    while len(subscriptions) < count:
        try:
            query = parse_query(node(3))
        except QuerySyntaxError:
            continue  # a prefix too short to be allowed, a query of NOTs only, ...
        types = frozenset(rng.sample(ANNOUNCE_TYPES, rng.randint(1, len(ANNOUNCE_TYPES))))
        chosen = frozenset(rng.sample(categories, 1)) if rng.random() < 0.15 else frozenset()
        subscriptions.append(Subscription(f"s{len(subscriptions)}", query, types=types,
                                          categories=chosen))
    return subscriptions


def records(matches):
    """Matches as plain values (hits resolved), to compare two answers exactly."""
    return [(m.subscription_id, m.paper.id, tuple(m.hits), m.score) for m in matches]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_candidates_hold_every_paper_the_matcher_matches(seed):
    papers = day(seed=seed)
    index = DayIndex(papers)
    subscriptions = random_subscriptions(papers, 250, seed)
    matched: dict[str, set[str]] = {}
    for m in compile_subscriptions(subscriptions).match(papers):
        matched.setdefault(m.subscription_id, set()).add(m.paper.id)
    narrowed = 0
    for subscription in subscriptions:
        candidates = {paper.id for paper in index.candidates([subscription])}
        missing = matched.get(subscription.id, set()) - candidates
        assert not missing, (subscription.query.describe(), sorted(missing))
        narrowed += len(candidates) < len(papers)
    assert sum(1 for s in subscriptions if s.id in matched) > 50  # the queries do match things
    assert narrowed > len(subscriptions) * 0.8  # and the index leaves most papers out


@pytest.mark.parametrize("seed", [4, 5])
def test_matching_the_candidates_is_exactly_matching_the_day(seed):
    papers = day(seed=seed)
    index = DayIndex(papers)
    subscriptions = random_subscriptions(papers, 200, seed)
    # all together (as the command worker asks them), and a few alone
    assert records(index.match(subscriptions)) == records(
        compile_subscriptions(subscriptions).match(papers))
    for subscription in subscriptions[:25]:
        assert records(index.match([subscription])) == records(
            compile_subscriptions([subscription]).match(papers)), subscription.query.describe()


def test_candidates_are_in_the_days_order_and_narrowed_by_type_and_category():
    papers = day()
    index = DayIndex(papers)
    everything = Subscription("all", parse_query("cat:cs OR cat:stat OR cat:math OR cat:quant-ph "
                                                 "OR cat:eess OR cat:physics"),
                              types=frozenset(ANNOUNCE_TYPES))
    assert index.candidates([everything]) == papers
    new_only = Subscription("new", everything.query, types=frozenset({"new"}))
    assert index.candidates([new_only]) == [p for p in papers if p.announce_type == "new"]
    in_vision = Subscription("cv", everything.query, types=frozenset(ANNOUNCE_TYPES),
                             categories=frozenset({"cs.CV"}))
    assert index.candidates([in_vision]) == [p for p in papers if "cs.CV" in p.categories]


def test_a_not_of_a_category_leaves_its_papers_out():
    """Categories are known exactly, so NOT cat:x narrows; a NOT of a text term cannot (a text
    term may fail the matcher's checks, capitals or camel case, where its tokens are)."""
    papers = day()
    index = DayIndex(papers)
    types = frozenset(ANNOUNCE_TYPES)
    with_cv = {p.id for p in index.candidates([Subscription("a", parse_query("learning"), types=types)])}
    without_cv = {p.id for p in index.candidates(
        [Subscription("b", parse_query("learning NOT cat:cs.CV"), types=types)])}
    in_cv = {p.id for p in papers if "cs.CV" in p.categories}
    assert without_cv == with_cv - in_cv and with_cv & in_cv
    not_vlm = {p.id for p in index.candidates(
        [Subscription("c", parse_query("learning NOT VLM"), types=types)])}
    assert not_vlm == with_cv


def test_prefixes_phrases_and_authors_are_narrowed_to_the_papers_with_their_tokens():
    papers = day()
    index = DayIndex(papers)
    types = frozenset(ANNOUNCE_TYPES)

    def candidates(text):
        return {p.id for p in index.candidates([Subscription("q", parse_query(text), types=types)])}

    def having(predicate):
        return {p.id for p in papers if predicate(p)}

    assert candidates("robot*") == having(
        lambda p: any(t.startswith("robot") for t in tokenize(p.title + " " + p.abstract)))
    assert candidates("ti:robot*") == having(lambda p: any(t.startswith("robot") for t in tokenize(p.title)))
    phrase = candidates('"point cloud"')
    assert phrase <= having(lambda p: {"point", "cloud"} <= set(tokenize(p.title + " " + p.abstract))
                            or {"point", "clouds"} <= set(tokenize(p.title + " " + p.abstract))
                            or "pointcloud" in tokenize(p.title + " " + p.abstract))
    assert candidates("au:Kowalski") == having(lambda p: any(a.endswith("Kowalski") for a in p.authors))


def test_an_empty_day_and_a_term_no_paper_has():
    assert DayIndex([]).candidates([Subscription("q", parse_query("anything"))]) == []
    assert DayIndex(day(20)).candidates([Subscription("q", parse_query("zzqxv OR au:zzqxv"))]) == []


def test_near_misses_from_one_pass_over_the_candidates_are_those_of_the_whole_day():
    """`/papers test` asks the near-miss questions along with its own, over the candidates only,
    and classifies from those matches; the classification is the one `terms_hit` gives (what
    the matcher says of each paper, one paper at a time) over the whole day."""
    from bot.matching.near_misses import (REASON_TITLES, _classify, near_miss_probe,
                                          near_miss_questions, near_misses_among)

    papers = day(160, seed=6)
    index = DayIndex(papers)
    checked = 0
    for subscription in random_subscriptions(papers, 60, seed=6):
        questions = near_miss_questions(subscription)
        probe = near_miss_probe(subscription.query)
        if probe is None:
            assert questions == ()
            continue
        batch = [subscription, *questions]
        matcher = compile_subscriptions(batch)
        found = near_misses_among(subscription, matcher.match(index.candidates(batch)),
                                  matcher.explain)
        # the reference: every paper the probe hits and the subscription does not match,
        # classified from terms_hit
        reference = compile_subscriptions([subscription, Subscription(
            "probe", probe, types=frozenset(ANNOUNCE_TYPES))])
        matched = {m.paper.id for m in reference.match(papers) if m.subscription_id == subscription.id}
        by_reason: dict[str, set[str]] = {reason: set() for reason in REASON_TITLES}
        for m in reference.match(papers):
            if m.subscription_id == "probe" and m.paper.id not in matched:
                by_reason[_classify(subscription, reference.terms_hit(subscription.id, m.paper),
                                    reference.terms_hit("probe", m.paper), m.paper)].add(m.paper.id)
        assert {g.reason: g.total for g in found.groups} == {
            reason: len(ids) for reason, ids in by_reason.items() if ids}, subscription.query.describe()
        for group in found.groups:
            assert {miss.paper.id for miss in group.items} <= by_reason[group.reason]
            checked += len(group.items)
    assert checked > 20
