"""A day's title and abstract hits scored all at once, in numpy (issue 12).

Per paper, the terms its keys stand for were counted in a Counter, scored, and written into each
term's posting: at 100k subscriptions some 400k hits a day, a few C calls each and the memory of
400k keys touched in no order, more than half a second. Here every hit of a region becomes a row
of two arrays (paper, key), keys expand to their terms through a CSR table (`KeyTerms`), and one
sort counts each (paper, term) pair's occurrences per field; the scores come from the same
score tables as before (`matcher._SCORES`), looked up by count.

Keys with a check (capitals, camel case, given names) are left to the matcher, which runs the
check on those few hits and adds the occurrences that pass (`extra`).
"""

from __future__ import annotations

from itertools import chain
from typing import Iterable, Sequence

import numpy as np

from .automata import hit_key
_INT = np.int64


class KeyTerms:
    """For one field (title or abstract): the terms each key stands for without a check, as CSR
    arrays (`offsets[key]:offsets[key + 1]` into `terms`), and which keys have a check."""

    __slots__ = ("offsets", "terms", "checked")

    def __init__(self, plain: Sequence[tuple[int, ...]], checked_keys: Iterable[int]):
        count = len(plain)
        lengths = np.fromiter(map(len, plain), _INT, count)
        self.offsets = np.zeros(count + 1, _INT)
        np.cumsum(lengths, out=self.offsets[1:])
        self.terms = np.fromiter(chain.from_iterable(plain), _INT, int(self.offsets[-1]))
        self.checked = np.zeros(count, bool)
        checked = list(checked_keys)
        if checked:
            self.checked[checked] = True


class RegionHits:
    """Every hit of one field over a day: the papers' hit lists flattened, with the paper of
    each (`papers`, `keys`: one row per hit)."""

    __slots__ = ("hits", "papers", "keys")

    def __init__(self, per_paper: Sequence[tuple[int, list]]):
        lengths = np.fromiter((len(hits) for _, hits in per_paper), _INT, len(per_paper))
        self.hits = list(chain.from_iterable(hits for _, hits in per_paper))
        self.keys = np.fromiter(map(hit_key, self.hits), _INT, len(self.hits))
        self.papers = np.repeat(np.fromiter((index for index, _ in per_paper), _INT,
                                            len(per_paper)), lengths)

    def checked(self, key_terms: KeyTerms) -> list[tuple[int, tuple[int, int, int]]]:
        """(paper, hit) of the hits of keys with a check, in paper order."""
        at = np.flatnonzero(key_terms.checked[self.keys]).tolist()
        return list(zip(self.papers[at].tolist(), map(self.hits.__getitem__, at)))

    def occurrences(self, key_terms: KeyTerms) -> tuple[np.ndarray, np.ndarray]:
        """(paper, term) of every occurrence of a term without a check: a hit of a key counts
        once for each term the key stands for."""
        starts = key_terms.offsets[self.keys]
        counts = key_terms.offsets[self.keys + 1] - starts
        if len(counts) and counts.min() == 1 and counts.max() == 1:
            return self.papers, key_terms.terms[starts]
        total = int(counts.sum())
        row = np.repeat(np.arange(len(counts)), counts)
        within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        return self.papers[row], key_terms.terms[starts[row] + within]


def scored_pairs(title: tuple[np.ndarray, np.ndarray], abstract: tuple[np.ndarray, np.ndarray],
                 term_count: int, tables: tuple[np.ndarray, np.ndarray, np.ndarray]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(papers, terms, scores) of every (paper, term) pair that occurred, sorted by paper then
    term. `tables`: the score by occurrence count for a term found in the title only, the
    abstract only, and both (counts past the last entry score as the last)."""
    title_codes = title[0] * term_count + title[1]
    codes = np.concatenate([title_codes, abstract[0] * term_count + abstract[1]])
    pairs, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    in_title = np.bincount(inverse[:len(title_codes)], minlength=len(pairs))
    in_abstract = counts - in_title
    only_title, only_abstract, both = tables
    last = len(both) - 1
    scores = np.where(in_abstract == 0, only_title[np.minimum(in_title, last)],
                      np.where(in_title == 0, only_abstract[np.minimum(in_abstract, last)],
                               both[np.minimum(counts, last)]))
    return pairs // term_count, pairs % term_count, scores


def postings_by_term(papers: np.ndarray, terms: np.ndarray, scores: np.ndarray,
                     kind_codes: np.ndarray, paper_count: int
                     ) -> list[tuple[int, int, dict[int, float]]]:
    """(kind code, term, {paper: score}) for every (announce type, term) that has pairs."""
    if not len(papers):
        return []
    groups = kind_codes[papers] * (int(terms.max()) + 1) + terms
    order = np.argsort(groups * paper_count + papers)
    groups = groups[order]
    starts = np.flatnonzero(np.diff(groups)) + 1
    bounds = [0, *starts.tolist(), len(groups)]
    firsts = order[bounds[:-1]]
    paper_list = papers[order].tolist()
    score_list = scores[order].tolist()
    return [(kind, term, dict(zip(paper_list[start:stop], score_list[start:stop])))
            for kind, term, start, stop in zip(kind_codes[papers[firsts]].tolist(),
                                               terms[firsts].tolist(), bounds, bounds[1:])]
