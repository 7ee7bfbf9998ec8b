"""The Match and Hit records: tuple-backed for speed, but they behave like the frozen records
the rest of paperbot was written against."""

from __future__ import annotations

import copy
import pickle

import pytest

from bot.models import Hit, Match, Paper

PAPER = Paper("2504.00001", "Vision language models", "We study VLMs.", ("Ann Author",), ("cs.CV",))
HITS = (Hit("VLM", "abstract", 9, 13), Hit("vision language model", "title", 0, 22))


def test_construction_positional_keyword_and_defaults():
    positional = Match("s1", PAPER, HITS, 4.0)
    keyword = Match(subscription_id="s1", paper=PAPER, hits=HITS, score=4.0)
    assert positional == keyword
    assert (positional.subscription_id, positional.paper, positional.hits, positional.score) == (
        "s1", PAPER, HITS, 4.0)
    bare = Match("s2", PAPER)
    assert bare.hits == () and bare.score == 0.0
    assert Hit(term="x", field="title", start=1, end=2) == Hit("x", "title", 1, 2)
    with pytest.raises(TypeError):
        Match("s1")  # the paper is required


def test_hit_terms_in_first_seen_order_without_repeats():
    hits = HITS + (Hit("VLM", "abstract", 20, 23),)
    assert Match("s", PAPER, hits, 1.0).hit_terms == ("VLM", "vision language model")


def test_records_are_immutable():
    match = Match("s", PAPER, HITS, 1.0)
    with pytest.raises(AttributeError):
        match.score = 2.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        match.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        HITS[0].start = 0  # type: ignore[misc]


def test_equality_and_hash_by_value_within_the_class_only():
    match = Match("s", PAPER, HITS, 1.0)
    twin = Match("s", PAPER, tuple(HITS), 1.0)
    assert match == twin and hash(match) == hash(twin) and not match != twin
    assert match != Match("s", PAPER, HITS, 2.0)
    # a record is not the plain tuple of its fields, in either direction
    assert match != tuple(match) and tuple(match) != match
    assert Hit("a", "title", 0, 1) != ("a", "title", 0, 1)
    assert {Hit("a", "title", 0, 1): 1}[Hit("a", "title", 0, 1)] == 1


def test_records_do_not_order():
    with pytest.raises(TypeError, match="no order"):
        sorted([Match("b", PAPER), Match("a", PAPER)])
    with pytest.raises(TypeError, match="no order"):
        _ = ("a", "title", 0, 1) < Hit("a", "title", 0, 1)


def test_pickle_copy_repr_and_replace():
    match = Match("s", PAPER, HITS, 1.5)
    assert pickle.loads(pickle.dumps(match)) == match
    assert copy.copy(match) == match and copy.deepcopy(match) == match
    assert type(pickle.loads(pickle.dumps(HITS[0]))) is Hit
    assert repr(HITS[0]) == "Hit(term='VLM', field='abstract', start=9, end=13)"
    assert repr(match).startswith("Match(subscription_id='s', paper=Paper(id='2504.00001'")
    assert match._replace(score=3.0) == Match("s", PAPER, HITS, 3.0)
    with pytest.raises(TypeError, match="no field 'scroe'"):
        match._replace(scroe=3.0)


def test_fast_construction_gives_the_same_record():
    fields = ("s", PAPER, HITS, 1.0)
    assert Match.from_fields(fields) == Match(*fields)
    assert type(Match.from_fields(fields)) is Match
