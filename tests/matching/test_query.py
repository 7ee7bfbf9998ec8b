"""The query language: how queries are read, the errors users see, limits, the seed form."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.matching import QueryLimits, QuerySyntaxError, parse_query, query_from_keywords
from bot.matching.query import And, Not, Or, Term

SEED_KEYWORDS = ["VLM", "MLM", "MLLM", "Multi-Modal Language Model", "Multimodal Language Model",
                 "Vision Language Model"]


@pytest.mark.parametrize("typed, canonical", [
    ('VLM, MLLM, "vision language model"', 'VLM OR MLLM OR "vision language model"'),
    ("VLM OR MLLM", "VLM OR MLLM"),
    ('diffusion AND (video OR "3D")', "diffusion AND (video OR 3D)"),
    ('"world model" NOT robot', '"world model" AND NOT robot'),
    ('"world model" -robot', '"world model" AND NOT robot'),
    ("vision language model", '"vision language model"'),
    ("vision-language model", '"vision-language model"'),
    # precedence NOT > AND > OR/comma, shown with explicit parentheses
    ("vision language model, VLM -robot", '"vision language model" OR (VLM AND NOT robot)'),
    ("a OR b AND c", "a OR (b AND c)"),
    ("(a OR b) AND c", "(a OR b) AND c"),
    ("a b, c d", '"a b" OR "c d"'),
    ('"world model" robot', '"world model" AND robot'),
    ("diffusion -robot arm", 'diffusion AND NOT "robot arm"'),
    ("NOT NOT diffusion", "diffusion"),
    ("diffusion AND NOT (robot OR agent)", "diffusion AND NOT (robot OR agent)"),
    # fields apply to the following phrase or quoted phrase; categories to one name
    ('ti:transformer abs:"test-time" au:LeCun cat:cs.CV cat:cs primary:cs.CL',
     "ti:transformer AND abs:test-time AND au:LeCun AND cat:cs.CV AND cat:cs AND primary:cs.CL"),
    ("au:Yann LeCun", 'au:"Yann LeCun"'),
    ("ti: diffusion models", 'ti:"diffusion models"'),
    ("cat:CS.cv diffusion", "cat:cs.CV AND diffusion"),
    ("TI:diffusion", "ti:diffusion"),
    ("cat:hep-th", "cat:hep-th"),
    # lower-case operator words are ordinary words of a phrase
    ("vision and language", '"vision and language"'),
    ('"AND"', '"AND"'),
    ("\u201cworld model\u201d", '"world model"'),
])
def test_queries_are_read_as_described(typed, canonical):
    assert parse_query(typed).describe() == canonical


def test_structure_follows_precedence():
    query = parse_query("a, b AND c -d")
    assert query.root == Or((Term("a"), And((Term("b"), Term("c"), Not(Term("d"))))))
    assert [t.text for t in query.positive_terms] == ["a", "b", "c"]
    assert [t.text for t in query.negative_terms] == ["d"]


@pytest.mark.parametrize("typed, message", [
    ("diffusion AND ", 'expected a term after "AND", found the end of the query at column 15'),
    ("diffusion AND OR video", 'expected a term after "AND", found "OR" at column 15'),
    ("VLM, ", 'expected a term after ",", found the end of the query at column 6'),
    ("(video OR 3D", 'expected ")" to close the "(" of column 1, found the end of the query at column 13'),
    ("video)", 'unexpected ")" with no "(" open at column 6'),
    ("()", 'expected a term after "(", found ")" at column 2'),
    ('"world model', "the quote opened here is never closed at column 1"),
    ('""', "empty quotes: expected a word or phrase inside at column 1"),
    ("++", '"++" has no letters or digits to search for at column 1'),
    ("", "the query is empty at column 1 (try e.g. VLM, \"vision language model\")"),
    ("   ", "the query is empty at column 1 (try e.g. VLM, \"vision language model\")"),
    ("ti:", 'expected a term after "ti:", found the end of the query at column 4'),
    ("diffusion NOT", 'expected a term after "NOT", found the end of the query at column 14'),
    ("foo:bar", 'unknown field "foo:" at column 1 (fields are ti:, abs:, au:, cat:, primary:; '
                "quote the words to search for them as text)"),
    ("cat:cs.XY", 'unknown category "cs.XY" after "cat:" at column 5 (did you mean cs.SY?)'),
    ("primary:physic", 'unknown category "physic" after "primary:" at column 9 (did you mean physics?)'),
    ("cat:zzzz", 'unknown category "zzzz" after "cat:" at column 5 '
                 "(use an archive like cs or a category like cs.CV)"),
])
def test_errors_say_where_and_why(typed, message):
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(typed)
    assert str(caught.value) == message


@pytest.mark.parametrize("typed", ["-robot", "NOT robot", "robot OR NOT agent",
                                   "NOT (robot AND agent)", "-robot -agent"])
def test_a_query_of_only_exclusions_is_refused(typed):
    with pytest.raises(QuerySyntaxError, match="would match almost the whole listing"):
        parse_query(typed)


def test_exclusion_inside_a_positive_query_is_fine():
    assert parse_query("NOT (NOT diffusion)").describe() == "NOT (NOT diffusion)"
    assert parse_query("diffusion OR (video -robot)").describe() == "diffusion OR (video AND NOT robot)"


def test_error_pointer_marks_the_column():
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("diffusion AND ")
    assert caught.value.column == 15
    assert caught.value.pointer("diffusion AND ") == "diffusion AND \n              ^"


def test_limits_on_length_terms_and_depth():
    limits = QueryLimits(max_length=40, max_terms=3, max_depth=2)
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("x" * 41, limits)
    assert str(caught.value) == "the query is too long: 41 characters (the limit is 40) at column 41"
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("a, b, c, d", limits)
    assert str(caught.value) == "too many terms (the limit is 3) at column 10"
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("(((a)))", limits)
    assert str(caught.value) == "parentheses nested too deeply (the limit is 2) at column 3"
    assert parse_query("((a)), b, c", limits).describe() == "a OR b OR c"


def test_default_limits_follow_the_configuration_defaults():
    from bot.config import LimitSettings

    assert QueryLimits.from_settings(LimitSettings()) == QueryLimits()
    with pytest.raises(QuerySyntaxError, match="too many terms"):
        parse_query(", ".join(f"w{i}" for i in range(51)))


def test_seed_keywords_form():
    query = query_from_keywords(SEED_KEYWORDS, [])
    assert query.describe() == ('VLM OR MLM OR MLLM OR "Multi-Modal Language Model" OR '
                                '"Multimodal Language Model" OR "Vision Language Model"')
    combined = query_from_keywords(["world model", ["diffusion", "video"]], ["robot", "survey"])
    assert combined.describe() == ('("world model" OR (diffusion AND video)) '
                                   "AND NOT robot AND NOT survey")
    # keywords are literal phrases: no query syntax inside
    assert query_from_keywords(["a, b OR c"]).describe() == '"a, b OR c"'


@pytest.mark.parametrize("keywords, filters, message", [
    ([], [], "keywords is empty: give at least one phrase to look for"),
    (["VLM", 3], [], "keyword 2 must be a phrase or a non-empty list of phrases, not 3"),
    (["VLM", []], [], "keyword 2 must be a phrase or a non-empty list of phrases, not []"),
    (["VLM", "--"], [], 'keyword 2: "--" has no letters or digits to search for'),
    (["VLM"], [None], "filter 1 must be text, not None"),
])
def test_seed_keywords_errors(keywords, filters, message):
    with pytest.raises(QuerySyntaxError) as caught:
        query_from_keywords(keywords, filters)
    assert str(caught.value) == message


# -- fuzzing ------------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120))
def test_any_text_parses_or_raises_a_syntax_error(text):
    try:
        query = parse_query(text)
    except QuerySyntaxError as error:
        assert str(error)
        assert error.column is None or 1 <= error.column <= len(text) + 1
    else:
        assert query.describe()


_PIECES = st.sampled_from(["diffusion", "VLM", "vision", "model", "(", ")", ",", " OR ", " AND ",
                           " NOT ", "-", '"world model"', "ti:", "abs:", "au:", "cat:cs.CV ",
                           "primary:cs ", " ", "multi-modal", "\u201c3D\u201d", "x:"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_described_form_reads_back_the_same(text):
    try:
        query = parse_query(text)
    except QuerySyntaxError:
        return
    again = parse_query(query.describe())
    assert again.root == query.root
    assert again.describe() == query.describe()
