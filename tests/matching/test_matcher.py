"""The compiled matcher: conformance with the seed digests, options, explanations, updates."""

from __future__ import annotations

import functools
import json
import random
import re

import pytest

from bot.matching import (
    Subscription,
    compile_subscriptions,
    parse_query,
    query_from_keywords,
)
from bot.matching import automata as automata_module
from bot.matching.tokens import tokenize
from bot.models import Paper
from tests.conftest import shared_path
from tests.synthetic_corpus import synthetic_corpus

SEED_KEYWORDS = ["VLM", "MLM", "MLLM", "Multi-Modal Language Model", "Multimodal Language Model",
                 "Vision Language Model"]
SEED_TYPES = frozenset({"new", "cross", "replace"})  # config/paperbot.yaml's MLLM topic


def seed_matcher():
    return compile_subscriptions([Subscription("mllm", query_from_keywords(SEED_KEYWORDS, []),
                                               types=SEED_TYPES)])


_SEED_ITEM = re.compile(
    r"^- \*\*\[(?P<title>.*?)\]\((?P<link>[^)]*)\)\*\*\s+`arXiv:(?P<id>[^`]+)`(?P<cats>.*?)$\n"
    r"\s+_(?P<authors>.*?)_\n"
    r"\s+<details[^>]*><summary>Abstract</summary>\n(?P<abstract>.*?)\n\s*</details>",
    re.MULTILINE | re.DOTALL)


def read_seed_digest(name: str) -> list[Paper]:
    """Papers of a seed digest (title, abstract in <details>, id, categories, authors)."""
    text = shared_path("seeds", name).read_text(encoding="utf-8")
    papers = []
    for item in _SEED_ITEM.finditer(text):
        authors = tuple(a.strip() for a in item["authors"].split(",") if a.strip() != "et al.")
        categories = tuple(re.findall(r"`([^`]+)`", item["cats"]))
        papers.append(Paper(item["id"], item["title"], " ".join(item["abstract"].split()),
                            authors, categories, "new"))
    badge = int(re.search(r"badge/Papers-(\d+)-", text).group(1))
    assert len(papers) == badge, f"read {len(papers)} papers of {badge} in {name}"
    return papers


@pytest.mark.parametrize("digest, missing", [
    ("mllm-2025-04-20.md", "2504.11829"),   # "mLLMs" = multilingual LLMs, matched by substring
    ("mllm-2025-03-31.md", "2503.23907"),   # only "Vision LanguageModel", glued by the seed's bug
])
def test_seed_keywords_reproduce_the_seed_digest(digest, missing):
    papers = read_seed_digest(digest)
    matched = {match.paper.id for match in seed_matcher().match(papers)}
    assert {paper.id for paper in papers} - matched == {missing}


def test_seed_keywords_on_the_recorded_listing_feed():
    from bot.arxiv.feeds import parse_listing

    body = shared_path("fixtures", "arxiv-listing", "seed-mllm-2025-04-21.atom.xml").read_bytes()
    papers = parse_listing(body).papers
    assert len(papers) == 15
    assert {p.announce_type for p in papers} >= {"new", "replace"}
    matches = seed_matcher().match(papers)
    assert {p.id for p in papers} - {m.paper.id for m in matches} == {"2504.11829"}
    explanation = seed_matcher().explain("mllm", next(p for p in papers if p.id == "2504.11829"))
    assert not explanation.matched
    assert 'abstract has "mLLMs", but MLLM is written in capitals' in explanation.text()


def test_explanation_of_a_hit():
    subject = Paper("2504.13365", "Vision-Language Model Agents", "Our VLM uses a VLM-based planner.",
                    ("Ada Lovelace",), ("cs.CV",), "new")
    explanation = seed_matcher().explain("mllm", subject)
    assert explanation.matched
    assert explanation.reasons == ()
    by_term = {report.term: report for report in explanation.terms}
    assert [h.field for h in by_term["VLM"].hits] == ["abstract", "abstract"]
    assert [h.field for h in by_term['"Vision Language Model"'].hits] == ["title"]
    assert by_term["MLM"].hits == ()
    assert explanation.text() == (
        '2504.13365 matches subscription mllm (score 4.1): VLM OR MLM OR MLLM OR '
        '"Multi-Modal Language Model" OR "Multimodal Language Model" OR "Vision Language Model"\n'
        '  VLM: hit in abstract "VLM" (2 times)\n'
        "  MLM: no hit\n"
        "  MLLM: no hit\n"
        '  "Multi-Modal Language Model": no hit\n'
        '  "Multimodal Language Model": no hit\n'
        '  "Vision Language Model": hit in title "Vision-Language Model"')
    assert explanation.score == seed_matcher().match([subject])[0].score


def test_explanation_of_near_misses():
    matcher = compile_subscriptions([
        Subscription("robots", parse_query('"world model" -robot')),
        Subscription("video", parse_query('diffusion AND (video OR "3D")')),
        Subscription("cv", parse_query("diffusion"), categories=frozenset({"cs.CV"})),
        Subscription("fresh", parse_query("diffusion")),
    ])
    subject = Paper("2504.00002", "World Models for Robots", "A diffusion world model.",
                    (), ("cs.RO",), "new")
    excluded = matcher.explain("robots", subject)
    assert not excluded.matched
    assert excluded.reasons[0] == 'excluded by NOT robot (robot in title "Robots")'
    assert "NOT robot: hit in title" in excluded.text()
    missing = matcher.explain("video", subject)
    assert 'missing AND part: (video OR 3D)' in missing.reasons
    wrong_category = matcher.explain("cv", subject)
    assert ("not in the subscription's categories (cs.CV); the paper is in cs.RO"
            in wrong_category.reasons)
    wrong_type = matcher.explain("fresh", subject.with_changes(announce_type="replace"))
    assert wrong_type.reasons == ('announce type "replace" is not selected '
                                  "(this subscription takes cross, new)",)
    assert [m.subscription_id for m in matcher.match([subject])] == ["fresh"]


def test_announce_types():
    def admitted(types, announce_type):
        sub = Subscription("s", parse_query("diffusion"), **({"types": types} if types else {}))
        subject = Paper("1", "diffusion", "", (), ("cs.CV",), announce_type)
        return bool(compile_subscriptions([sub]).match([subject]))

    assert admitted(None, "new") and admitted(None, "cross")
    assert not admitted(None, "replace") and not admitted(None, "replace-cross")
    assert admitted(frozenset({"new", "replace"}), "replace")
    assert admitted(frozenset({"replace"}), "replace-cross")
    assert not admitted(frozenset({"new"}), "cross")
    assert admitted("new, cross, replace", "replace")


def test_subscription_options_are_validated():
    query = parse_query("diffusion")
    with pytest.raises(ValueError, match='unknown announce type "updates"'):
        Subscription("s", query, types=frozenset({"updates"}))
    with pytest.raises(ValueError, match='unknown category "cs.XX"'):
        Subscription("s", query, categories=frozenset({"cs.XX"}))
    with pytest.raises(ValueError, match="must be a parsed Query"):
        Subscription("s", "diffusion")
    assert Subscription("s", query, categories=frozenset({"CS.cv"})).categories == {"cs.CV"}
    with pytest.raises(ValueError, match='"s" is already compiled'):
        compile_subscriptions([Subscription("s", query), Subscription("s", query)])


def test_category_restriction_takes_archives():
    sub = Subscription("s", parse_query("diffusion"), categories=frozenset({"cs"}))
    matcher = compile_subscriptions([sub])
    assert matcher.match([Paper("1", "diffusion", "", (), ("math.OC", "cs.LG"))])
    assert not matcher.match([Paper("2", "diffusion", "", (), ("math.OC",))])


def test_scores_order_title_hits_and_distinct_terms():
    matcher = compile_subscriptions([Subscription("s", parse_query("diffusion, video"))])
    in_title = Paper("1", "Diffusion", "x", (), ("cs.CV",))
    in_abstract = Paper("2", "x", "diffusion", (), ("cs.CV",))
    two_terms = Paper("3", "x", "diffusion video", (), ("cs.CV",))
    repeated = Paper("4", "x", "diffusion diffusion diffusion", (), ("cs.CV",))
    score = {m.paper.id: m.score for m in matcher.match([in_title, in_abstract, two_terms, repeated])}
    assert score["1"] > score["3"] > score["4"] > score["2"]


def corpus_papers(limit=None) -> list[Paper]:
    """A body of realistic text to compare the matcher with simpler computations: the synthetic
    corpus (tests/synthetic_corpus.py), so this runs without ../shared."""
    return synthetic_corpus(limit or 200, seed=2025)


def recorded_corpus_papers(limit=None) -> list[Paper]:
    """The first papers of the recorded Kaggle snapshot (../shared): real text, for the one test
    that repeats the corpus comparisons on it (tests/matching/test_shared_hits.py)."""
    path = shared_path("fixtures", "corpus", "kaggle-snapshot-head200.jsonl")
    papers = []
    for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
        record = json.loads(line)
        papers.append(Paper(record["id"], " ".join(record["title"].split()),
                            " ".join(record["abstract"].split()),
                            tuple(a.strip() for a in record["authors"].split(",")),
                            tuple(record["categories"].split())))
    return papers


def random_queries(papers, count, seed):
    """Queries over the corpus vocabulary: words, phrases, AND/OR/NOT, ti:/abs:, categories."""
    rng = random.Random(seed)
    vocabulary = sorted({t for p in papers for t in tokenize(p.abstract) if t.isalpha() and len(t) > 3})
    categories = sorted({c for p in papers for c in p.categories})

    def term():
        roll = rng.random()
        if roll < 0.15:
            paper_tokens = tokenize(rng.choice(papers).abstract)
            start = rng.randrange(max(1, len(paper_tokens) - 2))
            return '"' + " ".join(paper_tokens[start:start + 2]) + '"'
        if roll < 0.25:
            return f"cat:{rng.choice(categories)}"
        prefix = rng.choice(["", "", "", "ti:", "abs:"])
        return prefix + rng.choice(vocabulary)

    queries = []
    for _ in range(count):
        shape = rng.randrange(4)
        if shape == 0:
            text = term()
        elif shape == 1:
            text = ", ".join(term() for _ in range(rng.randint(2, 4)))
        elif shape == 2:
            text = f"{term()} AND {term()}"
        else:
            text = f"({term()} OR {term()}) -{rng.choice(vocabulary)}"
        queries.append(parse_query(text))
    return queries


def test_incremental_updates_equal_a_fresh_compile():
    check_incremental_updates_equal_a_fresh_compile(corpus_papers(80))


def check_incremental_updates_equal_a_fresh_compile(papers):
    queries = random_queries(papers, 60, seed=7)
    subscriptions = [Subscription(f"s{i}", q) for i, q in enumerate(queries)]
    matcher = compile_subscriptions(subscriptions[:40])
    for sub in subscriptions[10:20]:
        matcher.remove(sub.id)
    for sub in subscriptions[40:]:
        matcher.add(sub)
    kept = subscriptions[:10] + subscriptions[20:]
    fresh = compile_subscriptions(kept)
    assert len(matcher) == len(kept)

    def key(matches):
        return sorted((m.subscription_id, m.paper.id, m.hits, m.score) for m in matches)

    assert key(matcher.match(papers)) == key(fresh.match(papers))
    with pytest.raises(KeyError):
        matcher.remove("s10")


def test_removing_a_subscription_keeps_shared_terms_working():
    first = Subscription("a", parse_query("diffusion"))
    second = Subscription("b", parse_query("diffusion AND video"))
    matcher = compile_subscriptions([first, second])
    matcher.remove("a")
    subject = Paper("1", "diffusion video", "", (), ("cs.CV",))
    assert [m.subscription_id for m in matcher.match([subject])] == ["b"]
    matcher.remove("b")
    assert matcher.match([subject]) == [] and len(matcher) == 0


@functools.lru_cache(maxsize=None)
def _token_text(text: str) -> str:
    return " ".join(tokenize(text))


def _reference_term_hit(term, paper) -> bool:
    """Plain scan: any of the term's word forms (its compiled keys: plurals, spellings, compounds,
    which tests/matching/test_forms.py checks on their own) as a whole-token run."""
    if term.field in ("cat", "primary"):
        names = paper.categories[:1] if term.field == "primary" else paper.categories
        return any(n == term.text or n.split(".")[0] == term.text for n in names)
    fields = {None: (paper.title, paper.abstract), "ti": (paper.title,), "abs": (paper.abstract,)}
    pattern = _reference_pattern(term.text)
    return any(pattern.search(_token_text(text)) for text in fields[term.field])


@functools.lru_cache(maxsize=None)
def _reference_pattern(text: str) -> re.Pattern:
    from bot.matching.query import Term
    from bot.matching.terms import CompiledTerm

    forms = sorted((key.strip() for key, _ in CompiledTerm(0, Term(text)).keys), key=len, reverse=True)
    return re.compile(rf"(?<!\S)(?:{'|'.join(map(re.escape, forms))})(?!\S)")


def test_matcher_agrees_with_a_plain_scan_on_the_corpus():
    check_matcher_agrees_with_a_plain_scan(corpus_papers())


def check_matcher_agrees_with_a_plain_scan(papers):
    from bot.matching.query import evaluate

    queries = random_queries(papers, 300, seed=11)
    matcher = compile_subscriptions(Subscription(f"s{i}", q) for i, q in enumerate(queries))
    found = {(m.subscription_id, m.paper.id) for m in matcher.match(papers)}
    expected = {(f"s{i}", p.id) for i, q in enumerate(queries) for p in papers
                if evaluate(q.root, lambda term: _reference_term_hit(term, p))}
    assert len(expected) > 200  # the comparison covers real matches, not an empty set
    assert found == expected


def test_announce_types_apply_to_every_kind_of_subscription():
    subject = Paper("1", "diffusion video", "", (), ("cs.CV",), "replace-cross")
    matcher = compile_subscriptions([
        Subscription("single", parse_query("diffusion"), types=frozenset({"replace"})),
        Subscription("either", parse_query("diffusion, robot"), types=frozenset({"replace"})),
        Subscription("both", parse_query("diffusion video")),
        Subscription("not-updates", parse_query("diffusion -robot"), types=frozenset({"new"})),
    ])
    assert sorted(m.subscription_id for m in matcher.match([subject])) == ["either", "single"]


def test_match_leaves_the_garbage_collector_as_it_found_it():
    import gc

    matcher = seed_matcher()
    subject = Paper("1", "VLM", "", (), ("cs.CV",))
    assert gc.isenabled()
    assert matcher.match([subject])
    assert gc.isenabled()
    gc.disable()
    try:
        matcher.match([subject])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_empty_matcher_matches_nothing():
    matcher = compile_subscriptions([])
    assert matcher.match([Paper("1", "VLM", "", (), ("cs.CV",))]) == []
    with pytest.raises(KeyError, match='no subscription "x" is compiled'):
        matcher.explain("x", Paper("1", "VLM", "", (), ()))


def test_updates_spread_over_several_automata_equal_a_fresh_compile(monkeypatch):
    # keys added after the compile go to automata of at most GENERATION_KEYS keys (so a subscribe
    # never rebuilds the whole key set); removed keys stay inert and are reused when wanted again
    monkeypatch.setattr(automata_module, "GENERATION_KEYS", 12)
    papers = corpus_papers(80)
    queries = random_queries(papers, 90, seed=11)
    subscriptions = [Subscription(f"s{i}", q) for i, q in enumerate(queries)]
    matcher = compile_subscriptions(subscriptions[:30])
    kept = list(subscriptions[:30])
    for step, sub in enumerate(subscriptions[30:]):
        matcher.add(sub)
        kept.append(sub)
        if step % 3 == 0:
            gone = kept.pop(step % len(kept))
            matcher.remove(gone.id)
        if step % 10 == 0:
            matcher.match(papers[:5])  # builds the open automaton, sealing it when it is full
    for sub in subscriptions[:30:4]:  # terms removed earlier, wanted again
        if sub.id not in matcher:
            matcher.add(sub)
            kept.append(sub)
    assert len(matcher._automata.scans()) > 2

    def key(matches):
        return sorted((m.subscription_id, m.paper.id, tuple(m.hits), m.score) for m in matches)

    assert key(matcher.match(papers)) == key(compile_subscriptions(kept).match(papers))
    for sub in kept[::7]:
        paper = papers[0]
        assert matcher.explain(sub.id, paper) == compile_subscriptions([sub]).explain(sub.id, paper)


@pytest.mark.parametrize("text, capitals_hit", [
    ("Evaluating MLLMs – and how they fail", True),         # a non-ASCII separator
    ("Evaluating mLLMs – multilingual models", False),
    ("Kästner’s MLLM benchmark", True),                     # a non-ASCII token of equal length
    ("Kästner’s mLLM benchmark", False),
    ("Straße MLLM benchmark", True),                         # ß folds to "ss": no written stream
    ("Straße mLLM benchmark", False),
    ("Ka\u0308stner MLLM benchmark", True),                  # a combining mark: no written stream
    ("Ka\u0308stner mLLMs benchmark", False),
])
def test_capitals_are_checked_on_text_that_is_not_ascii(text, capitals_hit):
    """The capitals check reads the tokens as written from a stream aligned with the folded one
    where folding keeps every token's length, and from the token tables where it does not: the
    same answer either way."""
    from bot.matching.tokens import token_stream

    _, stream, _, written = token_stream(text)
    if "ß" in text or "\u0308" in text:
        assert written == ""
    else:
        assert list(map(len, written.split(" "))) == list(map(len, stream.split(" ")))
    matcher = compile_subscriptions([Subscription("caps", parse_query("MLLM"))])
    for field in ("title", "abstract"):
        paper = Paper("1", text if field == "title" else "A title",
                      text if field == "abstract" else "", (), ("cs.CL",))
        assert bool(matcher.match([paper])) is capitals_hit, field


def test_a_days_rows_hold_nothing_for_the_garbage_collector_to_visit():
    """A day's table keeps its matches in dicts of ints and floats: no object per match, and no
    collection pass over millions of them once the collector is back on."""
    import gc

    papers = corpus_papers(60)
    matcher = compile_subscriptions([Subscription("one", parse_query("model")),
                                     Subscription("any", parse_query("model, learning -robot")),
                                     Subscription("pair", parse_query("model learning"))])
    table = matcher.match_day(papers)
    for sid in ("one", "any", "pair"):
        chunks = table.rows(sid)
        assert chunks and sum(map(len, chunks)) == table.count(sid)
        assert not any(gc.is_tracked(chunk) for chunk in chunks)


BATCH_QUERIES = ["VLM", "LLM, GPT-4", "CNN embeddings", "robot*", "qubit -Bayesian", "au:Müller",
                 "au:Nunez, ti:language", "end-to-end", "multimodal", "Kähler OR Angstrom",
                 "NeRF", "QAOA agents", "fine-grained", "cat:cs.AI language", "lattice*",
                 "primary:cs, cat:quant-ph"]


def _scored_by_subscription(table, ids) -> dict[str, dict[str, float]]:
    return {sid: {table.papers[index].id: score for index, score in table.scored(sid)}
            for sid in ids}


@pytest.mark.parametrize("cores", [2, 1])
def test_a_day_scanned_in_batches_matches_as_each_paper_alone(monkeypatch, cores):
    """The day's scan goes batch by batch in another thread (with one core, the whole day in
    one batch), each batch's texts joined: what a paper matches, and with what score, is what
    it matches alone (capitals, camel case, prefix and author keys read their hits' positions
    back from the joined text)."""
    from bot.matching import matcher as matcher_module
    monkeypatch.setattr(matcher_module, "SCAN_BATCH_PAPERS", 7)
    monkeypatch.setattr(matcher_module, "usable_cores", lambda: cores)
    monkeypatch.setattr(automata_module, "GENERATION_KEYS", 5)
    papers = corpus_papers(120)
    matcher = compile_subscriptions([Subscription(f"s{n}", parse_query(text))
                                     for n, text in enumerate(BATCH_QUERIES[:8])])
    for n, text in enumerate(BATCH_QUERIES[8:], start=8):
        matcher.add(Subscription(f"s{n}", parse_query(text)))   # keys in a later generation
    ids = matcher.subscription_ids
    day = _scored_by_subscription(matcher.match_day(papers), ids)
    assert len(matcher._automata.scans()) > 1
    alone: dict[str, dict[str, float]] = {sid: {} for sid in ids}
    for paper in papers:
        for sid, scores in _scored_by_subscription(matcher.match_day([paper]), ids).items():
            alone[sid].update(scores)
    assert day == alone
    assert sum(1 for scores in day.values() if scores) >= 12, "most queries should find papers"
    shown = matcher.match_day(papers).all_matches()
    assert shown and all(hit.field in ("title", "abstract", "authors", "categories")
                         for match in shown for hit in match.hits)
    for match in shown[:200]:
        paper = next(p for p in papers if p.id == match.paper.id)
        alone_hits = [m.hits for m in matcher.match([paper]) if m.subscription_id == match.subscription_id]
        assert alone_hits == [match.hits]
