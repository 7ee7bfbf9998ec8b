import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date

import feedparser
import pytest

from bot.arxiv.errors import FeedError, MalformedFeed
from bot.arxiv.feeds import Listing, collapse_whitespace, parse_listing, split_affiliation, split_authors
from tests.conftest import DATA, SYNTHETIC_LISTING, shared_path
from tests.fakes.arxiv_server import atom_listing

ATOM = "{http://www.w3.org/2005/Atom}"


def listing_bytes(name: str) -> bytes:
    """A listing document: tests/data's synthetic ones by name, or a recorded one from ../shared.
    (The recorded *.atom.xml are conversions of the recorded RSS, so the Atom form of a behaviour
    that does not depend on real text is checked on the synthetic documents.)"""
    synthetic = {
        "synthetic-listing.atom.xml": lambda: SYNTHETIC_LISTING.read_bytes(),
        "synthetic-listing.rss.xml": lambda: RSS_WITH_TAG_LIKE_TEXT,
        "synthetic-empty.atom.xml": lambda: atom_listing([], title="test updates on arXiv.org", day="2024-11-28"),
        "synthetic-error-bad-archive.atom.xml": lambda: (DATA / "error-bad-archive.atom.xml").read_bytes(),
        "pair-2025-04-28.rss.xml": lambda: (DATA / "pair-2025-04-28.rss.xml").read_bytes(),
        "pair-2025-04-28.atom.xml": lambda: (DATA / "pair-2025-04-28.atom.xml").read_bytes(),
    }
    if name in synthetic:
        return synthetic[name]()
    return shared_path("fixtures", "arxiv-listing", name).read_bytes()


@pytest.fixture(scope="module")
def pair_rss() -> Listing:
    return parse_listing(listing_bytes("pair-2025-04-28.rss.xml"))


@pytest.fixture(scope="module")
def pair_atom() -> Listing:
    return parse_listing(listing_bytes("pair-2025-04-28.atom.xml"))


def raw_atom_abstracts(body: bytes) -> dict[str, str]:
    """Summary text straight from the XML, after "Abstract:", keyed by versionless id."""
    out = {}
    for entry in ET.fromstring(body).iter(f"{ATOM}entry"):
        raw_id = entry.findtext(f"{ATOM}id").rsplit(":", 1)[1].rsplit("v", 1)[0]
        out[raw_id] = entry.findtext(f"{ATOM}summary").split("Abstract:", 1)[1]
    return out


# Checks that hold for any day's listing: run on the synthetic pair (tests/data/write_pair.py) and
# again on the recorded quant-ph day (../shared) in test_the_recorded_quant_ph_day_in_both_forms.

def check_rss_and_atom_agree(rss: Listing, atom: Listing) -> None:
    assert [p.id for p in rss.papers] == [p.id for p in atom.papers]
    for from_rss, from_atom in zip(rss.papers, atom.papers):
        assert from_rss == from_atom, from_rss.id


def check_every_paper_reads_clean(listing: Listing) -> None:
    for paper in listing.papers:
        assert paper.title and paper.authors and paper.categories
        assert not paper.abstract.startswith(("arXiv:", "Abstract")), paper.id
        assert "Announce Type" not in paper.abstract
        assert "\n" not in paper.abstract and "  " not in paper.abstract
    # Updates carry their version: every replacement is past v1.
    assert all(p.version > 1 for p in listing.papers if p.announce_type == "replace")


def check_a_literal_less_than_sign_survives(rss: Listing, atom: Listing, expected: str) -> None:
    for listing in (rss, atom):
        [paper] = [p for p in listing.papers if "$0<" in p.abstract]
        assert expected in paper.abstract


def check_multi_author_entries_keep_every_author(atom: Listing, atom_body: bytes, at_least: int) -> None:
    most = max(atom.papers, key=lambda p: len(p.authors))
    assert len(most.authors) >= at_least
    assert ", ".join(most.authors) in atom_body.decode("utf-8")  # the dc:creator string, split and nothing lost


def check_line_breaks_inside_abstracts_become_spaces(atom: Listing, atom_body: bytes) -> None:
    raw = raw_atom_abstracts(atom_body)
    multi_line = [pid for pid, text in raw.items() if "\n" in text.strip()]
    assert multi_line, "the document should hold abstracts written over several lines"
    papers = {p.id: p for p in atom.papers}
    for pid, text in raw.items():
        # Same words in the same order: no word glued to its neighbour, none lost.
        assert papers[pid].abstract.split(" ") == text.split(), pid
    pid = multi_line[0]
    before, after = raw[pid].strip().split("\n", 1)
    assert f"{before.split()[-1]} {after.split()[0]}" in papers[pid].abstract


@pytest.mark.parametrize("form", ["pair_rss", "pair_atom"])
def test_a_day_has_all_four_announce_types(form, request):
    listing = request.getfixturevalue(form)
    assert listing.title == "quant-ph updates on arXiv.org"
    assert listing.feed_date == date(2025, 4, 28)
    assert len(listing.papers) == listing.entry_count == 8
    assert not listing.is_empty and listing.skipped == ()
    counts = Counter(p.announce_type for p in listing.papers)
    assert counts == {"new": 3, "cross": 2, "replace": 2, "replace-cross": 1}
    assert {p.announced for p in listing.papers} == {date(2025, 4, 28)}
    assert len({p.id for p in listing.papers}) == 8


def test_rss_and_atom_forms_agree_paper_by_paper(pair_rss, pair_atom):
    check_rss_and_atom_agree(pair_rss, pair_atom)


def test_paper_fields(pair_atom):
    papers = {p.id: p for p in pair_atom.papers}
    first = papers["2504.90101"]
    assert first.version == 1
    assert first.title == "A Self-Adjoint Clock Operator on an Invented Weighted Space"
    assert first.authors == ("Radka Kowal",)
    assert first.abstract.startswith("We introduce a clock operator \\(C_w = ")
    assert first.abs_url == "https://arxiv.org/abs/2504.90101"
    assert papers["2504.90102"].authors == ("Yusra Kora", "Christophe Simonet")
    assert papers["2504.90102"].categories == ("quant-ph", "physics.comp-ph")
    assert papers["2504.90105"].title == "Lattice Bounds & Invented Operators"
    old_style = papers["quant-ph/0612001"]
    assert (old_style.version, old_style.announce_type) == (4, "replace-cross")
    check_every_paper_reads_clean(pair_atom)


def test_a_literal_less_than_sign_survives_in_both_forms(pair_rss, pair_atom):
    check_a_literal_less_than_sign_survives(pair_rss, pair_atom, "($0< \\delta \\ll 1$)")


def test_multi_author_entries_keep_every_author_not_only_the_last(pair_atom):
    check_multi_author_entries_keep_every_author(pair_atom, listing_bytes("pair-2025-04-28.atom.xml"), 6)
    assert {p.id: p for p in pair_atom.papers}["2504.90103"].authors[-1] == "Fu Feng"


def test_line_breaks_inside_abstracts_become_spaces(pair_atom):
    check_line_breaks_inside_abstracts_become_spaces(pair_atom, listing_bytes("pair-2025-04-28.atom.xml"))
    papers = {p.id: p for p in pair_atom.papers}
    assert papers["2411.90106"].abstract == "An invented witness, revised over two lines."


def test_the_recorded_quant_ph_day_in_both_forms():
    """arXiv's real quant-ph day (../shared): real sizes, real LaTeX and real line breaks, through
    every check the synthetic pair passes above. One test, so a clone without ../shared skips one."""
    rss_body = listing_bytes("quant-ph-2025-04-28.rss.xml")
    atom_body = listing_bytes("quant-ph-2025-04-28.atom.xml")
    rss, atom = parse_listing(rss_body), parse_listing(atom_body)
    for listing in (rss, atom):
        assert listing.title == "quant-ph updates on arXiv.org"
        assert listing.feed_date == date(2025, 4, 28)
        assert len(listing.papers) == listing.entry_count == 81
        assert not listing.is_empty and listing.skipped == ()
        counts = Counter(p.announce_type for p in listing.papers)
        assert counts == {"new": 40, "cross": 10, "replace": 22, "replace-cross": 9}
        assert {p.announced for p in listing.papers} == {date(2025, 4, 28)}
        assert len({p.id for p in listing.papers}) == 81
    check_rss_and_atom_agree(rss, atom)
    papers = {p.id: p for p in atom.papers}
    first = papers["2504.17830"]
    assert first.version == 1
    assert first.title == "Self-Adjoint Time Operator in a Weighted Energy Space"
    assert first.authors == ("Radmir Kokoulin",)
    assert first.abstract.startswith("We introduce a self-adjoint time operator \\(T_w = ")
    assert first.abs_url == "https://arxiv.org/abs/2504.17830"
    assert papers["2504.17837"].authors == ("Youssef Kora", "Christoph Simon")
    assert papers["2504.17837"].categories == ("quant-ph", "physics.comp-ph")
    check_every_paper_reads_clean(atom)
    check_a_literal_less_than_sign_survives(rss, atom, "($0< \\delta \\ll 1$)")
    check_multi_author_entries_keep_every_author(atom, atom_body, 5)
    check_line_breaks_inside_abstracts_become_spaces(atom, atom_body)


def test_seed_mllm_listing():
    body = listing_bytes("seed-mllm-2025-04-21.atom.xml")
    listing = parse_listing(body)
    assert listing.title == "cs.AI+cs.CL+cs.CV+cs.LG+cs.MA+cs.RO updates on arXiv.org"
    assert listing.feed_date == date(2025, 4, 21)
    assert len(listing.papers) == 15
    papers = {p.id: p for p in listing.papers}
    grasp = papers["2502.04873"]
    assert grasp.authors == ("Jiaming Wang", "Jizhuo Chen", "Diwen Liu", "Linh Kästner")
    assert grasp.announce_type == "replace" and grasp.version == 2
    assert papers["2504.13365"].title.startswith("VLLFL: A Vision-Language Model Based")
    raw = raw_atom_abstracts(body)
    for pid, text in raw.items():
        assert papers[pid].abstract == " ".join(text.split()), pid


def test_the_synthetic_listing_reads_whole_with_its_hard_text():
    listing = parse_listing(SYNTHETIC_LISTING.read_bytes())
    assert listing.title == "cs.AI+cs.CL+cs.CV+cs.LG+cs.MA+cs.RO updates on arXiv.org"
    assert listing.feed_date == date(2025, 4, 21) and listing.skipped == ()
    assert Counter(p.announce_type for p in listing.papers) == {"new": 15, "cross": 2, "replace": 2,
                                                                "replace-cross": 1}
    papers = {p.id: p for p in listing.papers}
    old_style = papers["math/0703001"]
    assert (old_style.version, old_style.announce_type) == (4, "replace-cross")
    assert old_style.categories == ("math.ST", "cs.LG", "stat.TH")
    assert r"$\ell_p$" in old_style.title and r"Cram\'er's" in old_style.abstract
    assert len(papers["2504.90007"].authors) == 40 and "Zofia Zanetti" in papers["2504.90007"].authors
    assert papers["2504.90003"].authors[:2] == ("Zoë Ångström", "José Núñez")
    marked = papers["2504.90008"]
    assert marked.title.startswith("*Bold* Claims and _Emphasis_: [Markdown] # in <Titles>")
    assert "clutter & find" not in marked.abstract and "12,000 titles & find" in marked.abstract
    assert "<b>tags</b>" in marked.abstract and "<script>" in marked.abstract
    assert marked.authors == ("Grace O'Neil", "Bob `Backtick` Tables")
    for paper in listing.papers:
        assert "\n" not in paper.abstract and "  " not in paper.abstract
        assert not paper.abstract.startswith(("arXiv:", "Abstract")), paper.id


def test_synthetic_line_break_between_two_words_keeps_a_space():
    body = atom_listing([{
        "id": "2504.00001v1", "title": "Vision\n   Language\tModels",
        "abstract": "To address the bottleneck within the\ncurrent video generation community,\r\n\n  we present",
        "authors": ["A. Author"], "categories": ["cs.CV"],
    }])
    [paper] = parse_listing(body).papers
    assert paper.title == "Vision Language Models"
    assert paper.abstract == "To address the bottleneck within the current video generation community, we present"


RSS_WITH_TAG_LIKE_TEXT = b"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">
<channel><title>cs.LG updates on arXiv.org</title><pubDate>Mon, 28 Apr 2025 00:00:00 -0400</pubDate>
<item><title>Bounds for x&lt;y and &lt;b&gt;bold&lt;/b&gt; claims</title>
<link>https://arxiv.org/abs/2504.00002</link>
<description>arXiv:2504.00002v3 Announce Type: replace-cross 
Abstract: For $a&lt;b$ and $x&lt;y, z&gt;w$ we show &lt;script&gt;f()&lt;/script&gt; that A &amp;amp; B hold.</description>
<guid isPermaLink="false">oai:arXiv.org:2504.00002v3</guid>
<category>cs.LG</category><category>math.OC</category>
<pubDate>Mon, 28 Apr 2025 00:00:00 -0400</pubDate>
<arxiv:announce_type>replace-cross</arxiv:announce_type>
<dc:creator>Ann Smith (MIT, Cambridge), Bo Li</dc:creator></item></channel></rss>"""


def test_rss_description_text_that_looks_like_tags_is_kept_and_matches_atom():
    # feedparser's default HTML sanitizer turns "$a<b$ and $x<y, z>w$" into "$a<b>w$": text lost.
    sanitized = feedparser.parse(RSS_WITH_TAG_LIKE_TEXT).entries[0].summary
    assert "$x<y" not in sanitized
    [rss] = parse_listing(RSS_WITH_TAG_LIKE_TEXT).papers
    expected = "For $a<b$ and $x<y, z>w$ we show <script>f()</script> that A &amp; B hold."
    assert rss.abstract == expected
    assert rss.title == "Bounds for x<y and <b>bold</b> claims"
    # the affiliation is not part of the name (issue 15); it is kept beside it
    assert rss.authors == ("Ann Smith", "Bo Li")
    assert rss.affiliations == ("MIT, Cambridge", "")
    assert (rss.id, rss.version, rss.announce_type) == ("2504.00002", 3, "replace-cross")
    atom = atom_listing([{
        "id": "2504.00002v3", "title": "Bounds for x<y and <b>bold</b> claims",
        "abstract": "For $a<b$ and $x<y, z>w$ we show <script>f()</script> that A &amp; B hold.",
        "authors": ["Ann Smith (MIT, Cambridge)", "Bo Li"], "categories": ["cs.LG", "math.OC"],
        "announce_type": "replace-cross",
    }])
    assert parse_listing(atom).papers == [rss]


@pytest.mark.parametrize("name", ["empty-test-2024-11-28.rss.xml", "synthetic-empty.atom.xml"])
def test_empty_feed_is_a_listing_without_papers(name):
    listing = parse_listing(listing_bytes(name))
    assert listing.is_empty
    assert listing.papers == []
    assert listing.title == "test updates on arXiv.org"
    assert listing.feed_date == date(2024, 11, 28)


@pytest.mark.parametrize("name", ["error-bad-archive.rss.xml", "synthetic-error-bad-archive.atom.xml"])
def test_error_feed_names_the_bad_category(name):
    with pytest.raises(FeedError) as caught:
        parse_listing(listing_bytes(name))
    assert caught.value.categories == ("astroph",)
    assert "Bad archive 'astroph'" in caught.value.message
    assert "'astroph'" in str(caught.value) and "astro-ph" in str(caught.value)


@pytest.mark.parametrize("name", ["synthetic-listing.rss.xml", "synthetic-listing.atom.xml"])
@pytest.mark.parametrize("fraction", [0.01, 0.3, 0.5, 0.999])
def test_truncated_document_is_malformed_not_a_partial_listing(name, fraction):
    body = listing_bytes(name)
    cut = body[: int(len(body) * fraction)]
    # feedparser alone would hand back the entries it saw before the cut.
    assert feedparser.parse(cut).bozo
    with pytest.raises(MalformedFeed, match="not well-formed XML at line"):
        parse_listing(cut)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty response body"),
        (b"   \n", "empty response body"),
        (b"Rate exceeded.", "not well-formed"),
        (b"<html><body><h1>Service Unavailable</h1></body></html>", "not an RSS or Atom document"),
    ],
)
def test_non_feeds_are_malformed(body, message):
    with pytest.raises(MalformedFeed, match=message):
        parse_listing(body)


def test_a_harmless_bozo_flag_does_not_reject_a_complete_document():
    body = atom_listing([{"id": "2504.00003v1", "title": "T", "abstract": "A.", "authors": ["Linh Kästner"],
                          "categories": ["cs.RO"]}])
    mislabelled = body.replace("Kästner".encode(), "Kästner".encode("latin-1"))  # declared utf-8
    assert feedparser.parse(mislabelled).bozo
    [paper] = parse_listing(mislabelled).papers
    assert paper.authors == ("Linh Kästner",)


def test_an_entry_without_a_readable_id_is_skipped_and_reported():
    body = atom_listing([
        {"id": "2504.00004v1", "title": "Good", "abstract": "A.", "authors": ["X"], "categories": ["cs.AI"]},
        {"id": "not-an-id", "title": "Bad", "abstract": "B.", "authors": ["Y"], "categories": ["cs.AI"]},
    ])
    listing = parse_listing(body)
    assert [p.id for p in listing.papers] == ["2504.00004"]
    assert listing.entry_count == 2 and not listing.is_empty
    assert len(listing.skipped) == 1 and "entry 2" in listing.skipped[0] and "not-an-id" in listing.skipped[0]


def test_parse_listing_wants_bytes():
    with pytest.raises(TypeError, match="bytes"):
        parse_listing("<feed/>")


def test_helpers():
    assert collapse_whitespace(" a\n\tb  c\u00a0d ") == "a b c d"
    assert split_authors(["A, B", "C (X, Y), D"]) == ("A", "B", "C (X, Y)", "D")
    assert split_affiliation("Jane Doe (University of Somewhere, United Kingdom)") == (
        "Jane Doe", "University of Somewhere, United Kingdom")
    assert split_affiliation("Jane Doe") == ("Jane Doe", "")
    assert split_affiliation("(Consortium)") == ("(Consortium)", "")
    assert split_affiliation("A. Smith (Dept. X (Physics), Univ. Y)") == (
        "A. Smith", "Dept. X (Physics), Univ. Y")


def test_one_invalid_byte_garbles_nothing_else():
    from tests.fakes.arxiv_server import atom_listing
    entries = [{"id": f"2504.0000{i}v1", "title": f"Kästner und Æsir {i}", "abstract": "Déjà vu — naïve café.",
                "authors": ["Łukasz Ø"], "categories": ["cs.CV"]} for i in range(3)]
    body = atom_listing(entries, title="cs.CV updates on arXiv.org", day="2025-04-21")
    broken = body.replace("Déjà vu — naïve café. ".strip().encode(), b"D\xe9j\xe0 vu", 1)
    assert broken != body
    listing = parse_listing(broken)
    titles = [p.title for p in listing.papers]
    assert titles == [f"Kästner und Æsir {i}" for i in range(3)]
    abstracts = [p.abstract for p in listing.papers]
    # The broken entry mixes valid UTF-8 (its title) with the stray bytes: only those are replaced.
    assert abstracts[0] == "D\ufffdj\ufffd vu" and abstracts[1:] == ["Déjà vu — naïve café."] * 2
    assert all(p.authors == ("Łukasz Ø",) for p in listing.papers)


def test_an_entry_written_in_latin1_is_read_as_latin1_and_the_others_stay_utf8():
    entries = [{"id": f"2504.0001{i}v1", "title": f"Paper {i}", "abstract": "Plain text.",
                "authors": ["Linh Kästner" if i == 1 else "Zoë Ørsted"], "categories": ["cs.RO"]} for i in range(3)]
    body = atom_listing(entries, title="cs.RO updates on arXiv.org", day="2025-04-21")
    mixed = body.replace("Linh Kästner".encode(), "Linh Kästner".encode("latin-1"))
    assert [p.authors for p in parse_listing(mixed).papers] == [("Zoë Ørsted",), ("Linh Kästner",), ("Zoë Ørsted",)]
