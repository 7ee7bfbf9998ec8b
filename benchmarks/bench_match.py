"""Matching benchmark (DESIGN.md §9, issue 12): compiled matcher vs a per-subscription regex scan.

What is timed: `CompiledMatcher.match_day(papers)`, one pass over a day that yields every
subscription's matched papers with their scores (the table digests are built from; hits with
spans and Match records are made later, only for what a digest shows), run as the daily pass runs
it (bot/daily.py): inside `collector_paused()`, which freezes what the match built rather than
leaving millions of new objects to the first collection afterwards (0.2-0.3 s at 100k, a pause
the bot never takes there). The target is on one core (DESIGN.md §9), so the process is pinned
to one CPU unless `--all-cores`: match_day scans a batch of papers in a second thread while it
normalises the next (the automaton's search releases the GIL), which on two cores puts its wall
time below its CPU time. Both are printed (`seconds_<workload>`, `cpu_seconds_<workload>`), and
`cores` says how many the process had.

Workloads (each at 1k, 10k and 100k subscriptions over 3,000 papers):
- `uniform`: subscriptions from the corpus vocabulary with a fixed seed -- single words, phrases,
  OR lists, AND / NOT, ti:, au:, cat: -- words drawn uniformly (three or more letters, not a
  stopword, in at most 5% of the papers: subscriptions look for topics, not for "the").
- `popular`: the same shapes, words drawn weighted by how many papers they occur in (up to 10% of
  them), so many subscriptions share the popular terms and each matches many papers.
- `long`: the uniform subscriptions over real-length abstracts: each corpus abstract extended
  with sentences of other corpus papers to 1,000-1,500 characters, as arXiv abstracts are.
Papers: the recorded corpus (Kaggle-schema JSON lines under ../shared/fixtures/corpus), repeated
with light perturbation (sentences rotated, a word dropped, new ids) up to 3,000.

The naive baseline compiles one regex per subscription (an alternation of its terms, run over
each paper's normalised title and abstract) and evaluates the boolean query on what it found;
papers are normalised by its own simple normaliser (ASCII letters and digits, lower-cased), not
the matcher's. It runs at 1k and 10k on the uniform workload (timed, in the same process, for the
ratio), and at 10k on the other workloads over the first AGREEMENT_PAPERS papers (the
baseline's scan at 10k takes minutes per thousand papers on a busy machine). Each time the
two match sets are compared on the subscriptions the baseline can express (no capitals-only
terms, no given-name author terms, no words of their own whose parts count only hyphenated; it
does not check camel-case glue on closed compounds either) and on the papers its normaliser can read (no LaTeX, no non-ASCII text).

    .venv/bin/python benchmarks/bench_match.py [--quick] [--only N] [--skip-naive]
                                               [--workload uniform|popular|long]
                                               [--agreement-papers N] [--all-cores]

The default run (no options) is the one whose figures count: every workload and size, the
baseline in the same process. `--only`, `--workload` and `--skip-naive` are for iterating.

Prints a row per workload and size, then a last line of JSON (`seconds`: the slowest workload at
the largest size; `seconds_<workload>` each).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import resource
import sys
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.taxonomy import archive_of, canonical_category  # noqa: E402
from bot.matching import Subscription, compile_subscriptions, parse_query  # noqa: E402
from bot.matching.query import QuerySyntaxError, Term, evaluate, iter_terms  # noqa: E402
from bot.matching.terms import CompiledTerm  # noqa: E402
from bot.matching import papers as papers_module, tokens as tokens_module  # noqa: E402
from bot.matching.tokens import is_capitalised, term_tokens, tokenize  # noqa: E402
from bot.models import Paper  # noqa: E402
from bot.collector import collector_paused  # noqa: E402

CORPUS = PROJECT.parent / "shared" / "fixtures" / "corpus"
SEED = 20250421
_STOPWORDS = set("""about above after again against also although among an and another any are
as at based be been being between both but by can could de did do does done due each either et
for from further given had has have having here however if in into is it its itself la le may
more most much must new non not now of on one only or other our out over per same several shall
she should show shown since so some such than that the their them then there these they this
those though three through thus to two under up upon us use used using very via was we well were
what when where whether which while who whose will with within without would yet""".split())


# --- data ---------------------------------------------------------------------------------------


def load_corpus() -> list[Paper]:
    papers = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            authors = [a.strip() for a in re.split(r",|\band\b", record["authors"]) if a.strip()]
            papers.append(Paper(
                record["id"], " ".join(record["title"].split()), " ".join(record["abstract"].split()),
                tuple(authors), tuple(record["categories"].split()), "new"))
    seen, unique = set(), []
    for paper in papers:  # the two files share ids
        if paper.id not in seen:
            seen.add(paper.id)
            unique.append(paper)
    return unique


def perturbed_papers(base: list[Paper], count: int, rng: random.Random) -> list[Paper]:
    papers = list(base[:count])
    copy = 0
    while len(papers) < count:
        source = base[copy % len(base)]
        copy += 1
        sentences = re.split(r"(?<=\.) ", source.abstract)
        shift = rng.randrange(len(sentences))
        words = " ".join(sentences[shift:] + sentences[:shift]).split(" ")
        if len(words) > 5:
            del words[rng.randrange(len(words))]
        papers.append(source.with_changes(id=f"9{copy // 10000:03d}.{copy % 10000:05d}",
                                          abstract=" ".join(words)))
    return papers


def long_abstracts(base: list[Paper], rng: random.Random) -> list[Paper]:
    """The corpus with every abstract extended by sentences of other corpus papers to a length
    drawn from 1,000-1,500 characters (the corpus median is ~730; arXiv's is over 1,000)."""
    sentences = [s for p in base for s in re.split(r"(?<=\.) ", p.abstract) if len(s) > 40]
    papers = []
    for paper in base:
        target = rng.randint(1000, 1500)
        abstract = paper.abstract
        while len(abstract) < target:
            abstract += " " + rng.choice(sentences)
        papers.append(paper.with_changes(abstract=abstract))
    return papers


class Vocabulary:
    def __init__(self, papers: list[Paper], popular: bool = False):
        frequency: Counter[str] = Counter()
        spelling: dict[str, Counter[str]] = {}
        for paper in papers:
            # sorted: the spelling counters' ties (IAGRG 1, Iagrg 1) break the same way whatever
            # the hash seed, so every run draws the same queries
            words = sorted(set(re.findall(r"[A-Za-z][A-Za-z0-9]{2,}", f"{paper.title} {paper.abstract}")))
            for word in words:
                spelling.setdefault(word.lower(), Counter())[word] += 1
            frequency.update({w.lower() for w in words})
        limit = max(2, int((0.10 if popular else 0.05) * len(papers)))
        self.words = sorted(w for w, n in frequency.items() if n <= limit and w not in _STOPWORDS)
        # popular: a word is drawn as often as papers use it (many subscriptions share it)
        self.weights = [frequency[w] for w in self.words] if popular else None
        # acronyms keep their capitals (QCD, LHC), everything else is typed in lower case
        self.spelling = {w: (spelling[w].most_common(1)[0][0] if is_capitalised(
            spelling[w].most_common(1)[0][0]) else w) for w in self.words}
        self.abstract_words = [re.findall(r"[A-Za-z][A-Za-z0-9]+", p.abstract) for p in papers]
        self.families = sorted({a.split()[-1] for p in papers for a in p.authors
                                if a.split() and re.fullmatch(r"[A-Za-z]{3,}", a.split()[-1])})
        self.categories = sorted({c for p in papers for c in p.categories if canonical_category(c)})


def generate_queries(vocabulary: Vocabulary, count: int, rng: random.Random) -> list[str]:
    def word() -> str:
        if vocabulary.weights is not None:
            return vocabulary.spelling[rng.choices(vocabulary.words, vocabulary.weights)[0]]
        return vocabulary.spelling[rng.choice(vocabulary.words)]

    def phrase() -> str:
        for _ in range(20):
            words = rng.choice(vocabulary.abstract_words)
            length = rng.choice((2, 2, 3))
            if len(words) > length:
                start = rng.randrange(len(words) - length)
                chosen = words[start:start + length]
                if not any(w.lower() in _STOPWORDS for w in (chosen[0], chosen[-1])):
                    return '"' + " ".join(w if is_capitalised(w) else w.lower() for w in chosen) + '"'
        return word()

    def item() -> str:
        return phrase() if rng.random() < 0.3 else word()

    queries = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.35:
            queries.append(word())
        elif roll < 0.50:
            queries.append(phrase())
        elif roll < 0.65:
            queries.append(", ".join(item() for _ in range(rng.randint(2, 4))))
        elif roll < 0.75:
            queries.append(f"{item()} AND {item()}")
        elif roll < 0.80:
            queries.append(f"({item()} OR {item()}) -{word()}")
        elif roll < 0.85:
            queries.append(f"ti:{word()}")
        elif roll < 0.90:
            queries.append(f"au:{rng.choice(vocabulary.families)}")
        elif roll < 0.95:
            queries.append(f"cat:{rng.choice(vocabulary.categories)} AND {item()}")
        else:
            queries.append(f"{item()} -cat:{archive_of(rng.choice(vocabulary.categories))}")
    return queries


def make_subscriptions(texts: list[str]) -> list[Subscription]:
    subscriptions = []
    for index, text in enumerate(texts):
        try:
            subscriptions.append(Subscription(f"s{index}", parse_query(text)))
        except QuerySyntaxError as error:  # pragma: no cover - the generator makes valid queries
            raise SystemExit(f"generated query {text!r} does not parse: {error}")
    return subscriptions


# --- the naive baseline ------------------------------------------------------------------------


def _term_regex(term: Term) -> str:
    """A term as a regex over normalised text (folded tokens joined by single spaces), to follow
    a word start: an alternation of the term's word forms (plurals, spellings, compounds: the
    forms the matcher compiles, so both sides agree on semantics and differ only in how they
    search)."""
    if term.field == "au":
        family = tokenize(term.text)[-1]  # given names are beyond the baseline
        return rf"{re.escape(family)}(?= \|)"
    forms = {key.strip() for key, _ in CompiledTerm(0, term).keys}
    end = "" if term.text.endswith("*") else r"(?!\S)"
    return rf"{_alternation(forms)}{end}"


def _needs_a_hyphen(term: Term) -> bool:
    """Whether a form of the term counts only where the text hyphenates it (a word of its own
    split: overall = over-all, not "over all"), which the baseline's regex over tokens cannot see."""
    return any(check is not None and any(check[3]) for _, check in CompiledTerm(0, term).keys)


def _alternation(words) -> str:
    """A regex for any of `words`, common prefixes factored out (model|models|modeles ->
    model(?:s|es)?), as anyone writing a regex by hand for a word's forms would; the plain
    alternation of up to 128 forms made the baseline slower than it needs to be."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        if ends:
            return f"(?:{body})?"
        return body

    return f"(?:{pattern(trie)})"


class NaiveSubscription:
    """One compiled regex for all of a subscription's text terms; categories by set lookup."""

    def __init__(self, subscription: Subscription):
        self.id = subscription.id
        self.query = subscription.query
        self.terms = list(dict.fromkeys(t for t, _ in iter_terms(self.query.root)))
        self.groups = {}
        alternatives = []
        for index, term in enumerate(self.terms):
            if term.field in ("cat", "primary"):
                continue
            self.groups[f"t{index}"] = term
            alternatives.append(f"(?P<t{index}>{_term_regex(term)})")
        # longest first, so a phrase is not shadowed by a shorter term starting at the same word
        alternatives.sort(key=len, reverse=True)
        self.regex = re.compile(rf"(?<!\S)(?:{'|'.join(alternatives)})") if alternatives else None
        self.expressible = not any(
            (t.field == "au" and len(tokenize(t.text)) > 1)
            or (t.field not in ("au", "cat", "primary") and any(is_capitalised(w) for _, w, _ in term_tokens(t.text)))
            or (t.field not in ("au", "cat", "primary") and _needs_a_hyphen(t))
            for t in self.terms)

    def matches(self, fields: dict[str, str], categories: tuple[str, ...]) -> bool:
        hit: set[Term] = set()
        if self.regex is not None:
            for field_name, text in fields.items():
                for found in self.regex.finditer(text):
                    term = self.groups[found.lastgroup]
                    wanted = {None: ("title", "abstract"), "ti": ("title",), "abs": ("abstract",),
                              "au": ("authors",)}[term.field]
                    if field_name in wanted:
                        hit.add(term)
        for term in self.terms:
            if term.field == "cat":
                if any(c == term.text or archive_of(c) == term.text for c in categories):
                    hit.add(term)
            elif term.field == "primary":
                if categories and (categories[0] == term.text or archive_of(categories[0]) == term.text):
                    hit.add(term)
        return evaluate(self.query.root, hit.__contains__)


_SIMPLE_TOKEN = re.compile(r"[A-Za-z0-9]+")
_MARKUP = re.compile(r"[\\${}]")
_AFFILIATION = re.compile(r"\s*\([^()]*\)\s*$")


def simple_tokens(text: str) -> list[str] | None:
    """The baseline's own normaliser: runs of ASCII letters and digits, lower-cased (DESIGN.md
    §4's token rule); None for text beyond it (LaTeX, non-ASCII), which the comparison leaves
    out rather than guess."""
    if not text.isascii() or _MARKUP.search(text):
        return None
    return [token.lower() for token in _SIMPLE_TOKEN.findall(text)]


def naive_fields(paper: Paper) -> tuple[dict[str, str], bool]:
    """A paper's fields as the baseline scans them, and whether its own normaliser read them
    all; a field it cannot read is normalised by the matcher's `tokenize` (so the baseline still
    scans every paper for the timing), and the paper is left out of the comparison."""
    readable = True

    def tokens(text: str) -> list[str]:
        nonlocal readable
        simple = simple_tokens(text)
        if simple is None:
            readable = False
            return tokenize(text)
        return simple

    # names without a trailing affiliation ("Jane Doe (MIT)"), each followed by " |"
    names = [tokens(_AFFILIATION.sub("", author) or author) for author in paper.authors]
    fields = {"title": " ".join(tokens(paper.title)), "abstract": " ".join(tokens(paper.abstract)),
              "authors": " ".join(" ".join(name) + " |" for name in names)}
    return fields, readable


def naive_match(subscriptions: list[NaiveSubscription], papers: list[Paper]) -> set[tuple[str, str]]:
    # normalising once is not the baseline's cost; scanning per query is
    prepared = [(paper, naive_fields(paper)[0]) for paper in papers]
    found = set()
    for subscription in subscriptions:
        for paper, fields in prepared:
            if paper.announce_type in ("new", "cross") and subscription.matches(fields, paper.categories):
                found.add((subscription.id, paper.id))
    return found


def agreement(naive: list[NaiveSubscription], naive_found: set, table, papers: list[Paper]) -> dict:
    """The matcher's pairs against the baseline's, where the baseline can judge."""
    expressible = {s.id for s in naive if s.expressible}
    readable = {paper.id for paper in papers if naive_fields(paper)[1]}
    listed = table.papers
    fast = {(sid, listed[index].id) for sid, index, _ in table.pairs()
            if sid in expressible and listed[index].id in readable}
    slow = {pair for pair in naive_found if pair[0] in expressible and pair[1] in readable}
    return {"agree": fast == slow, "subscriptions": len(expressible), "papers": len(readable),
            "pairs": len(fast), "baseline_pairs": len(slow), "differ": len(fast ^ slow),
            "examples": sorted(fast ^ slow)[:5]}


# --- running --------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def forget_normalised_texts() -> None:
    """Empty the caches of normalised paper text, so every timed first match is of a day whose
    texts this process has never seen (the popular workload's papers are the uniform one's, and
    every size of a workload matches the same papers). The LaTeX-piece cache goes too, though a
    running bot keeps it from day to day: a perturbed day repeats its corpus records' markup."""
    papers_module._normalised.cache_clear()
    papers_module._field_tables.cache_clear()
    tokens_module._island_pieces.cache_clear()


def match_as_the_daily_pass(matcher, papers):
    with collector_paused():
        return matcher.match_day(papers)


def timed(function, *args):
    gc.collect()
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def timed_cpu(function, *args):
    """Wall and CPU seconds: on a shared machine the CPU time of this process is the steadier
    figure (the wall time includes waiting for a core)."""
    gc.collect()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - start, time.process_time() - cpu_start


def on_one_core() -> int:
    """Pin this process (and the threads it starts) to one of the CPUs it may use."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    return 1


WORKLOADS = ("uniform", "popular", "long")
# papers the baseline compares on at 10k for the popular and long workloads (its full scan at
# 10k takes minutes per workload; the uniform workload's runs over all papers)
AGREEMENT_PAPERS = 600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="300 papers, and the 100k size skipped (a smoke run, not the targets)")
    parser.add_argument("--only", type=int, action="append", metavar="N",
                        help="run only this subscription count (repeatable), e.g. --only 100000")
    parser.add_argument("--workload", choices=WORKLOADS, action="append",
                        help="run only this workload (repeatable); default all")
    parser.add_argument("--agreement-papers", type=int, metavar="N", default=AGREEMENT_PAPERS,
                        help="papers the baseline compares on for the popular and long workloads "
                             f"(default {AGREEMENT_PAPERS}); 0: all of them")
    parser.add_argument("--skip-naive", action="store_true",
                        help="skip the regex baseline (no ratios; for iterating, not the targets)")
    parser.add_argument("--all-cores", action="store_true",
                        help="leave the process on every core it may use (default: pinned to one, "
                             "as the target is on one core)")
    args = parser.parse_args()
    cores = on_one_core() if not args.all_cores else len(os.sched_getaffinity(0))
    print(f"running on {cores} core{'s' if cores > 1 else ''}")
    if not CORPUS.exists():
        raise SystemExit(f"corpus not found: {CORPUS} (shared/ must sit beside the project)")

    paper_count = 300 if args.quick else 3000
    sizes = (1000, 10000) if args.quick else (1000, 10000, 100000)
    if args.only:
        sizes = tuple(args.only)
    workloads = tuple(args.workload or WORKLOADS)
    base = load_corpus()
    long_base = long_abstracts(base, random.Random(SEED))
    vocabularies = {"uniform": Vocabulary(base), "popular": Vocabulary(base, popular=True)}
    vocabularies["long"] = vocabularies["uniform"]
    days = {"uniform": perturbed_papers(base, paper_count, random.Random(SEED))}
    days["popular"] = days["uniform"]
    days["long"] = perturbed_papers(long_base, paper_count, random.Random(SEED))
    for workload in workloads:
        day = days[workload]
        print(f"{workload}: {len(day)} papers (from {len(base)} corpus records), abstracts "
              f"{sum(len(p.abstract) for p in day) / len(day):.0f} characters on average; vocabulary "
              f"{len(vocabularies[workload].words)} words, {len(vocabularies[workload].families)} family names")

    rows = []
    figures: dict[str, object] = {}
    for workload in workloads:
        papers = days[workload]
        for size in sizes:
            queries = generate_queries(vocabularies[workload], size, random.Random(SEED + size))
            subscriptions = make_subscriptions(queries)
            matcher, compile_seconds = timed(compile_subscriptions, subscriptions)
            forget_normalised_texts()
            table, match_seconds, match_cpu = timed_cpu(match_as_the_daily_pass, matcher, papers)
            # a second run, the texts normalised already (as when commands ask about the latest day)
            again, match_seconds_again = timed(match_as_the_daily_pass, matcher, papers)
            del again  # (each workload is measured with no table of another one alive)
            row = {"workload": workload, "subscriptions": size, "compile_s": compile_seconds,
                   "match_s": match_seconds, "match_cpu_s": match_cpu,
                   "match_again_s": match_seconds_again, "matches": len(table),
                   "rss_mb": peak_rss_mb(), "naive_s": None, "ratio": None}
            tag = "" if workload == "uniform" else f"{workload}_"
            naive_here = (not args.skip_naive and size <= 10000
                          and (workload == "uniform" or size == 10000))
            if naive_here:
                naive = [NaiveSubscription(s) for s in subscriptions]
                compared = (papers if workload == "uniform" or not args.agreement_papers
                            else papers[:args.agreement_papers])
                naive_found, naive_seconds = timed(naive_match, naive, compared)
                if workload == "uniform":
                    row["naive_s"] = naive_seconds
                    row["ratio"] = naive_seconds / match_seconds
                    figures[f"naive_seconds_{size // 1000}k"] = round(naive_seconds, 3)
                    figures[f"ratio_{size // 1000}k"] = round(naive_seconds / match_seconds, 1)
                fast_table = table if compared is papers else matcher.match_day(compared)
                found = agreement(naive, naive_found, fast_table, compared)
                print(f"agreement, {workload} at {size // 1000}k: {found['subscriptions']} of {size} "
                      f"subscriptions expressible by the baseline, {found['papers']} of "
                      f"{len(compared)} papers readable by its normaliser; match sets "
                      f"{'AGREE' if found['agree'] else 'DIFFER'} ({found['pairs']} pairs fast, "
                      f"{found['baseline_pairs']} baseline, {found['differ']} differ"
                      f"{'' if found['agree'] else ', e.g. ' + repr(found['examples'])})")
                figures[f"agreement_{tag}{size // 1000}k"] = found["agree"]
            rows.append(row)
            if size == max(sizes):
                figures[f"seconds_{workload}"] = round(match_seconds, 3)
                figures[f"cpu_seconds_{workload}"] = round(match_cpu, 3)
                figures[f"matches_{workload}"] = len(table)
            del matcher, table

    print()
    print(f"{'workload':>8} {'subs':>7} {'compile s':>10} {'match s':>8} {'cpu s':>7} {'again s':>8} "
          f"{'matches':>9} {'peak RSS MB':>12} {'naive s':>9} {'ratio':>7}")
    for row in rows:
        naive = f"{row['naive_s']:9.2f}" if row["naive_s"] is not None else f"{'-':>9}"
        ratio = f"{row['ratio']:7.0f}" if row["ratio"] is not None else f"{'-':>7}"
        print(f"{row['workload']:>8} {row['subscriptions']:>7} {row['compile_s']:10.2f} "
              f"{row['match_s']:8.3f} {row['match_cpu_s']:7.3f} {row['match_again_s']:8.3f} "
              f"{row['matches']:>9} {row['rss_mb']:12.0f} {naive} {ratio}")
    print()
    slowest = max(figures[f"seconds_{w}"] for w in workloads)
    result = {"bench": "match", "subscriptions": max(sizes), "papers": paper_count,
              "seconds": slowest, "cores": cores, "workloads": list(workloads)}
    result.update({k: v for k, v in figures.items() if k not in result})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
