"""One matcher pass over a day as a compact table (issue 12): per subscription the indices of the
papers it matched and their scores, with Match records and hits made only on request.

A day at 100k subscriptions has over a million (subscription, paper) matches; a digest shows a
few dozen papers per destination. So the pass (`CompiledMatcher.match_day`) keeps, per paper, the
set of terms that hit it and, per term and announce type, a posting: a dict from the index of each
paper it hit to its score there. A subscription's matches are then:

- one term and nothing else (most subscriptions): that term's postings for the announce types it
  takes, the very dicts, shared with every other subscription of the term: no work per match;
- any of several terms (`VLM, MLLM`): their postings, shared as they are, plus one small chunk
  with the summed score of the papers two of them hit; with terms excluded (`"world model"
  -robot`), a posting the excluded ones meet is copied without those papers;
- `a AND b`: the postings intersected with C-level dict and set operations;
- anything else: evaluated on the hit sets of the papers one of its necessary terms hit.

Each subscription's rows are a tuple of chunks, dicts {paper index: score}; chunks may be shared
with other subscriptions and must not be changed. A paper may be in several chunks of one
subscription: its score is its highest there (a sum of positive term scores is above each of
them), the rule a digest merging several subscriptions applies anyway. So "any of" costs no copy
of its terms' postings: at 100k subscriptions those copies were millions of entries, most of
the resolving time and memory. (Dicts of ints and floats, not lists of pairs: no object per
match, and nothing the cyclic garbage collector has to visit; millions of fresh pairs cost a
collection pass of most of a second once the collector was back on.) Hits (with their spans)
and Match records are made by `hits()` / `match()` for the pairs someone looks at.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Callable, Iterable, Iterator, Mapping

from bot.models import ANNOUNCE_TYPES, Match, Paper

from .routes import ROUTE_ANY_OF, ROUTE_PAIR, CompiledSubscription

Rows = tuple[Mapping[int, float], ...]
_NO_ROWS: Rows = ()


class MatchTable:
    """The result of `CompiledMatcher.match_day(papers)`; see the module docstring."""

    __slots__ = ("papers", "_rows", "_hits_of", "_by_paper", "_ids")

    def __init__(self, papers: tuple[Paper, ...], rows: dict[str, Rows], hits_of: Callable):
        self.papers = papers
        self._rows = rows
        self._hits_of = hits_of   # (subscription id, paper index) -> hits (lazy spans)
        self._by_paper: list[list[str]] | None = None
        self._ids: tuple[str, ...] | None = None

    @classmethod
    def empty(cls) -> "MatchTable":
        """No papers, no matches (a day with no announcement)."""
        return cls((), {}, _no_hits)

    # -- per subscription --

    @property
    def subscription_ids(self) -> list[str]:
        """The subscriptions with at least one match."""
        return [sid for sid, rows in self._rows.items() if rows]

    def rows(self, subscription_id: str) -> Rows:
        """The subscription's matches as chunks, dicts {paper index: score}; shared dicts:
        read only. A paper in several chunks scores its highest there (`best_scores`); no
        order is promised."""
        return self._rows.get(subscription_id, _NO_ROWS)

    def count(self, subscription_id: str) -> int:
        return len(_papers_of(self.rows(subscription_id)))

    def scored(self, subscription_id: str) -> list[tuple[int, float]]:
        """(paper index, score) of every match of one subscription, in paper order."""
        return sorted(best_scores(self.rows(subscription_id)).items())

    def hits(self, subscription_id: str, index: int):
        """The hits (terms with spans) of one match; spans are computed when first looked at."""
        return self._hits_of(subscription_id, index)

    def match(self, subscription_id: str, index: int, score: float) -> Match:
        return Match(subscription_id, self.papers[index], self.hits(subscription_id, index), score)

    def matches(self, subscription_id: str) -> list[Match]:
        """Match records of one subscription, in paper order (made on request)."""
        return [self.match(subscription_id, index, score)
                for index, score in self.scored(subscription_id)]

    # -- per paper --

    @property
    def paper_ids(self) -> tuple[str, ...]:
        ids = self._ids
        if ids is None:
            ids = self._ids = tuple(paper.id for paper in self.papers)
        return ids

    def matched_indices(self) -> list[int]:
        """Indices of the papers at least one subscription matched, ascending."""
        matched: set[int] = set()
        seen: set[int] = set()
        for rows in self._rows.values():
            for chunk in rows:
                if id(chunk) not in seen:  # shared postings: once each
                    seen.add(id(chunk))
                    matched.update(chunk)
        return sorted(matched)

    def subscriptions_of(self, index: int) -> list[str]:
        """The subscriptions that matched paper `index` (the inversion is built on first use:
        one pass over every match)."""
        by_paper = self._by_paper
        if by_paper is None:
            by_paper = [[] for _ in self.papers]
            for sid, rows in self._rows.items():
                for matched in _papers_of(rows):
                    by_paper[matched].append(sid)
            self._by_paper = by_paper
        return by_paper[index]

    def pairs(self) -> Iterator[tuple[str, int, float]]:
        """Every (subscription id, paper index, score)."""
        for sid, rows in self._rows.items():
            for index, score in best_scores(rows).items():
                yield sid, index, score

    def __len__(self) -> int:
        """How many (subscription, paper) matches."""
        return sum(map(self.count, self._rows))

    def all_matches(self) -> list[Match]:
        """Every match as a Match record, grouped by paper in input order: for small matchers;
        a day's digests use `rows`."""
        found: list[list[tuple[str, float]]] = [[] for _ in self.papers]
        for sid, rows in self._rows.items():
            for index, score in best_scores(rows).items():
                found[index].append((sid, score))
        return [self.match(sid, index, score)
                for index, pairs in enumerate(found) for sid, score in pairs]


def _papers_of(rows: Rows):
    """The papers of one subscription's chunks, each once."""
    return rows[0] if len(rows) == 1 else set().union(*rows)


def best_scores(rows: Rows) -> Mapping[int, float]:
    """One subscription's chunks as one mapping {paper index: score}, a paper in several chunks
    at its highest score (one chunk: the chunk itself, read only)."""
    if len(rows) == 1:
        return rows[0]
    best: dict[int, float] = {}
    for chunk in rows:
        if not best:
            best.update(chunk)
            continue
        before = {index: best[index] for index in best.keys() & chunk.keys()}
        best.update(chunk)
        for index, score in before.items():
            if score > best[index]:
                best[index] = score
    return best


def _no_hits(subscription_id: str, index: int):
    raise KeyError(f"no paper {index} in an empty table")


class _ScoreMaps(dict):
    """term id -> {paper index: score} over every announce type, made on first lookup."""

    __slots__ = ("by_kind",)

    def __init__(self, by_kind: dict[str, defaultdict[int, dict[int, float]]]):
        super().__init__()
        self.by_kind = by_kind

    def __missing__(self, term_id: int) -> dict[int, float]:
        postings = [posting for posting in (by_kind.get(term_id) for by_kind
                                            in self.by_kind.values()) if posting is not None]
        if len(postings) == 1:
            found = postings[0]   # one announce type (most terms): the posting itself
        else:
            found = {}
            for posting in postings:
                found.update(posting)
        self[term_id] = found
        return found


class Postings:
    """What one pass over a day found: per announce type, term id -> {paper index: score}."""

    __slots__ = ("by_kind", "kind_of", "score_map", "_shared")

    def __init__(self, count: int):
        self.by_kind: dict[str, defaultdict[int, dict[int, float]]] = {
            kind: defaultdict(dict) for kind in ANNOUNCE_TYPES}
        self.kind_of: list[str | None] = [None] * count  # announce type of each paper matched
        # term id -> {paper index: score} (every announce type); shared: read only. A dict's own
        # lookup, as resolving 100k subscriptions asks for a term's map some 200k times.
        self.score_map: Callable[[int], dict[int, float]] = _ScoreMaps(self.by_kind).__getitem__
        self._shared: dict[tuple[int, tuple[str, ...]], Rows] = {}

    @property
    def kinds_present(self) -> frozenset[str]:
        return frozenset(kind for kind, postings in self.by_kind.items() if postings)


    def shared_rows(self, term_id: int, kinds: tuple[str, ...]) -> Rows:
        """The postings of one term for these announce types, as rows (the dicts themselves)."""
        key = (term_id, kinds)
        rows = self._shared.get(key)
        if rows is None:
            by_kind = self.by_kind
            rows = self._shared[key] = tuple(
                posting for posting in (by_kind[kind].get(term_id) for kind in kinds)
                if posting is not None)
        return rows


def resolve_all(subscriptions: Iterable[CompiledSubscription],
                sharing: Mapping[tuple, Iterable[str]], postings: Postings, hit_sets: list,
                category_sets: list) -> dict[str, Rows]:
    """Every subscription's rows: `sharing` groups the one-term subscriptions by the (term,
    announce types) whose postings they share; `subscriptions`, the others, are resolved one by
    one. (Rows in no particular order of subscriptions.)"""
    rows: dict[str, Rows] = {}
    shared_rows = postings.shared_rows
    # a subscription without a match has no entry (MatchTable.rows: no rows): most of 100k
    # subscriptions match nothing on a given day
    for key, subscription_ids in sharing.items():
        found = shared_rows(*key)
        if found:
            rows.update(dict.fromkeys(subscription_ids, found))
    every_kind = postings.kinds_present
    for compiled in subscriptions:
        found = resolve(compiled, postings, hit_sets, category_sets, every_kind)
        if found:
            rows[compiled.id] = found
    return rows


def resolve(compiled: CompiledSubscription, postings: Postings, hit_sets: list,
            category_sets: list, every_kind: frozenset[str] | None = None) -> Rows:
    """One subscription's rows from the day's postings (see the module docstring)."""
    if compiled.shared_rows is not None:
        return postings.shared_rows(*compiled.shared_rows)
    if every_kind is None:
        every_kind = postings.kinds_present
    score_map = postings.score_map
    positives = compiled.positive_order
    merged: dict[int, float]
    if compiled.categories is None and compiled.route == ROUTE_ANY_OF:
        return _any_of_rows(compiled, postings, every_kind)
    if compiled.categories is None and compiled.route == ROUTE_PAIR:
        first, second = positives
        first_scores, second_scores = score_map(first), score_map(second)
        merged = {index: round(first_scores[index] + second_scores[index], 3)
                  for index in first_scores.keys() & second_scores.keys()}
    else:
        # anything else: evaluated on the papers one of its necessary terms hit
        merged = {}
        categories = compiled.categories
        for index in set().union(*(score_map(term_id).keys() for term_id in compiled.necessary)):
            hit = hit_sets[index]
            if categories is not None and categories.isdisjoint(category_sets[index]):
                continue
            if compiled.is_true(hit):
                merged[index] = _summed(positives, hit, score_map, index)
    if not merged:
        return _NO_ROWS
    if not every_kind <= compiled.types:
        kind_of = postings.kind_of
        types = compiled.types
        merged = {index: score for index, score in merged.items() if kind_of[index] in types}
        if not merged:
            return _NO_ROWS
    return (merged,)


def _any_of_rows(compiled: CompiledSubscription, postings: Postings,
                 every_kind: frozenset[str]) -> Rows:
    """Any of some terms, none of others: the terms' postings for the subscription's announce
    types, shared as they are (copied only where an excluded term takes papers out), and the
    papers two of them hit with their summed score in a chunk of their own."""
    positives = compiled.positive_order
    score_map = postings.score_map
    if every_kind <= compiled.types:
        # every announce type of the day: a term's postings are its score map (one dict)
        chunks = list(map(score_map, positives))
    else:
        chunks = [posting for term_id in positives
                  for posting in postings.shared_rows(term_id, compiled.kinds)]
    dropped = [score_map(term_id) for term_id in compiled.any_of_excluded]
    if dropped:
        kept = []
        for chunk in chunks:
            # (an excluded term is often a whole archive: the intersection walks the smaller)
            gone = set().union(*(chunk.keys() & scores.keys() for scores in dropped))
            if gone:
                if len(gone) == len(chunk):
                    continue
                chunk = dict(chunk)
                for index in gone:
                    del chunk[index]
            kept.append(chunk)
        chunks = kept
    if len(positives) > 1 and len(chunks) > 1:
        sums = _summed_where_several_hit([score_map(term_id) for term_id in positives])
        for scores in dropped:
            for index in sums.keys() & scores.keys():
                del sums[index]
        if sums and not every_kind <= compiled.types:
            kind_of, types = postings.kind_of, compiled.types
            sums = {index: score for index, score in sums.items() if kind_of[index] in types}
        if sums:
            chunks.append(sums)
    return tuple(chunks)


def _summed_where_several_hit(maps: list[dict[int, float]]) -> dict[int, float]:
    """The papers two or more of these terms' score maps have, each with the terms' scores
    added in the query's order (`_summed`'s sum, without looking at each paper's hit set)."""
    if len(maps) == 2:
        first, second = maps
        return {index: round(first[index] + second[index], 3)
                for index in first.keys() & second.keys()}
    common: set[int] = set()
    for first, second in combinations(maps, 2):
        common.update(first.keys() & second.keys())
    if not common:
        return {}
    totals = dict.fromkeys(common, 0.0)
    for scores in maps:
        for index in scores.keys() & common:
            totals[index] += scores[index]
    return {index: round(total, 3) for index, total in totals.items()}


def _summed(positives: tuple[int, ...], hit: set[int], score_map: Callable, index: int) -> float:
    """The score of a match: its positive terms that hit, added in the query's order (one term:
    its own score)."""
    present = [term_id for term_id in positives if term_id in hit]
    if len(present) == 1:
        return score_map(present[0])[index]
    total = 0.0
    for term_id in present:
        total += score_map(term_id)[index]
    return round(total, 3)
