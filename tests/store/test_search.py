"""Full-text search: ranking, accents, hostile input as plain words, re-indexing on update."""

from __future__ import annotations

from datetime import date

import pytest

from bot.store import Store
from bot.store.papers import fts_query

from .conftest import make_paper

MONDAY = date(2025, 4, 21)
TUESDAY = date(2025, 4, 22)


@pytest.fixture
def library(store: Store) -> Store:
    store.papers.save_listing(
        MONDAY,
        [
            make_paper(
                "2504.00001",
                title="Diffusion models for video generation",
                abstract="We train a transformer on frames.",
                authors=("Jürgen Kästner",),
            ),
            make_paper(
                "2504.00002",
                title="A survey of robots",
                abstract="Diffusion appears once in this abstract about world models.",
                authors=("Yann LeCun",),
            ),
            make_paper(
                "2504.00003",
                title="Col: x marks the spot NEAR the end",
                abstract="Edge cases: a-b testing, C++ and 50% of *stars*.",
                authors=("Or Levi",),
            ),
        ],
    )
    return store


def ids(papers) -> list[str]:
    return [p.id for p in papers]


def test_title_hits_rank_above_abstract_hits(library: Store):
    assert ids(library.papers.search("diffusion")) == ["2504.00001", "2504.00002"]


def test_every_word_must_match_and_stems_and_accents_fold(library: Store):
    assert ids(library.papers.search("diffusion transformer")) == ["2504.00001"]
    assert ids(library.papers.search("model")) == ["2504.00001", "2504.00002"]
    assert ids(library.papers.search("kastner")) == ["2504.00001"]
    assert ids(library.papers.search("KÄSTNER")) == ["2504.00001"]
    assert ids(library.papers.search("lecun")) == ["2504.00002"]
    assert library.papers.search("quantum") == []


def test_results_carry_listing_details_and_respect_limit_and_day(library: Store):
    library.papers.save_listing(TUESDAY, [make_paper("2504.00004", title="Diffusion again")])
    found = library.papers.search("diffusion", limit=2)
    assert len(found) == 2
    by_id = {p.id: p for p in library.papers.search("diffusion")}
    assert by_id["2504.00004"].announced == TUESDAY
    assert by_id["2504.00001"].announced == MONDAY
    assert ids(library.papers.search("diffusion", day=TUESDAY)) == ["2504.00004"]
    assert library.papers.search("diffusion", limit=0) == []


@pytest.mark.parametrize(
    "text",
    ['"unbalanced', "NEAR(", "a OR", "*", "-x", "col:x", "(", ")", '"', "AND", "NOT x",
     "title:diffusion", "^start", "x*", "{a b}", "''", "C++", "50%", "a-b"],
)
def test_hostile_input_is_searched_as_words_and_never_raises(library: Store, text: str):
    library.papers.search(text)  # must not raise
    library.papers.search(text, day=MONDAY)


def test_hostile_input_finds_the_literal_words(library: Store):
    assert ids(library.papers.search("col:x")) == ["2504.00003"]  # words "col" and "x"
    assert ids(library.papers.search("NEAR(")) == ["2504.00003"]  # the word "near"
    assert ids(library.papers.search('"unbalanced diffusion')) == []  # "unbalanced" appears nowhere
    assert ids(library.papers.search("-x marks")) == ["2504.00003"]  # not an exclusion
    assert ids(library.papers.search("a-b")) == ["2504.00003"]
    assert ids(library.papers.search("Or")) == ["2504.00003"]  # an author, not an operator
    assert library.papers.search("*") == []


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "* - ( ) \" :"])
def test_empty_queries_return_nothing(library: Store, text: str):
    assert library.papers.search(text) == []
    assert fts_query(text) is None


def test_an_updated_paper_is_reindexed(library: Store):
    assert ids(library.papers.search("robots")) == ["2504.00002"]
    library.papers.save_listing(
        TUESDAY,
        [
            make_paper(
                "2504.00002",
                title="Humanoid locomotion",
                abstract="Nothing about the old subject.",
                authors=("Grace Hopper",),
                announce_type="replace",
                version=2,
            )
        ],
    )
    assert library.papers.search("robots") == []
    assert library.papers.search("lecun") == []
    assert ids(library.papers.search("humanoid hopper")) == ["2504.00002"]
    # FTS5 compares the index with the papers table and raises SQLITE_CORRUPT on any stale entry.
    library.db.execute("INSERT INTO papers_fts(papers_fts, rank) VALUES('integrity-check', 1)")


def test_the_search_index_can_be_rebuilt(library: Store):
    library.db.execute("INSERT INTO papers_fts(papers_fts) VALUES('delete-all')")
    assert library.papers.search("diffusion") == []
    library.papers.rebuild_search_index()
    assert ids(library.papers.search("diffusion")) == ["2504.00001", "2504.00002"]
