"""Scoring a day's hits at once (bot/matching/day_scores.py): the same scores, term by term,
as the per-field formula, for any mix of title and abstract occurrences."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from bot.matching.day_scores import KeyTerms, RegionHits, postings_by_term, scored_pairs
from bot.matching.matcher import _SCORE_TABLES, _SCORES, BOTH, TITLE, ABSTRACT


def test_keys_expand_to_every_term_they_stand_for_and_checked_keys_are_left_out():
    # key 0 -> term 5; key 1 -> terms 2 and 7; key 2 -> nothing plain (it has a check)
    key_terms = KeyTerms([(5,), (2, 7), ()], checked_keys=[2])
    day = RegionHits([(0, [(1, 0, 5), (0, 6, 9)]), (3, [(2, 0, 4), (1, 5, 9)])])
    papers, terms = day.occurrences(key_terms)
    assert sorted(zip(papers.tolist(), terms.tolist())) == [(0, 2), (0, 5), (0, 7), (3, 2), (3, 7)]
    assert day.checked(key_terms) == [(3, (2, 0, 4))]


@settings(max_examples=200, deadline=None)
@given(occurrences=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6), st.booleans()),
                            max_size=60))
def test_every_pair_scores_as_the_per_field_formula(occurrences):
    title = [(paper, term) for paper, term, in_title in occurrences if in_title]
    abstract = [(paper, term) for paper, term, in_title in occurrences if not in_title]

    def arrays(pairs):
        return (np.array([p for p, _ in pairs], np.int64), np.array([t for _, t in pairs], np.int64))

    papers, terms, scores = scored_pairs(arrays(title), arrays(abstract), 7, _SCORE_TABLES)
    expected = {}
    for pair in set(title) | set(abstract):
        in_title, in_abstract = title.count(pair), abstract.count(pair)
        if not in_abstract:
            expected[pair] = _SCORES[TITLE][in_title]
        elif not in_title:
            expected[pair] = _SCORES[ABSTRACT][in_abstract]
        else:
            expected[pair] = _SCORES[BOTH][in_title + in_abstract]
    got = list(zip(papers.tolist(), terms.tolist()))
    assert got == sorted(expected)  # by paper, then term
    assert dict(zip(got, scores.tolist())) == expected

    kinds = np.array([0, 1, 0, 1, 0], np.int64)
    postings = postings_by_term(papers, terms, scores, kinds, 5)
    rebuilt = {(paper, term): score for kind, term, posting in postings
               for paper, score in posting.items() if kinds[paper] == kind}
    assert rebuilt == expected
    assert len({(kind, term) for kind, term, _ in postings}) == len(postings)
