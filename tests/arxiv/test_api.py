import json

import pytest

from bot.arxiv.api import Enrichment, apply_enrichment, parse_api_response
from bot.arxiv.errors import ApiError, MalformedFeed
from bot.models import Paper
from tests.conftest import DATA, shared_path
from tests.fakes.arxiv_server import api_feed

# A synthetic API answer for what does not depend on arXiv's exact output (the recordings below
# check that): a math.CO paper cross-listed to math.ST, with a comment.
HEAT_BATH = api_feed([{"id": "1605.90001v1", "title": "Random walks on lattice points",
                       "abstract": "Graphs on lattice points are studied.", "authors": ["A. Stanley", "T. Windmill"],
                       "categories": ["math.CO", "math.ST"], "comment": "20 pages, 3 figures"}])


def recorded(name: str) -> bytes:
    """A 2026 API recording: the JSON holds the response bytes decoded as latin-1."""
    data = json.loads(shared_path("fixtures", "arxiv-api", "current", name).read_text(encoding="utf-8"))
    return data["body"].encode("latin-1")


def legacy(name: str) -> bytes:
    return shared_path("fixtures", "arxiv-api", "legacy-2016", name).read_bytes()


def synthetic(name: str) -> bytes:
    """A synthetic API answer in tests/data/api (invented text in arXiv's document shape)."""
    return (DATA / "api" / name).read_bytes()


def test_error_entry_raises_api_error_with_arxivs_message():
    with pytest.raises(ApiError) as caught:
        parse_api_response(synthetic("error-bad-id.xml"))
    assert caught.value.message == "incorrect id format for xyz"
    assert "incorrect id format for xyz" in str(caught.value)


def test_empty_result_is_an_empty_list():
    assert parse_api_response(synthetic("empty.xml")) == []


def test_unknown_id_is_simply_absent():
    # arXiv answers only for the ids it knows: one known id of two asked gives one entry.
    [only] = parse_api_response(api_feed([{"id": "1707.90001v1", "title": "Known", "abstract": "A.",
                                           "authors": ["A. Known"], "categories": ["cs.IT"]}]))
    assert only.id == "1707.90001"


def test_new_style_entry():
    [paper] = parse_api_response(HEAT_BATH)
    assert paper == Enrichment(
        id="1605.90001", version=1, title="Random walks on lattice points",
        abstract="Graphs on lattice points are studied.", authors=("A. Stanley", "T. Windmill"),
        categories=("math.CO", "math.ST"), comment="20 pages, 3 figures", journal_ref=None, doi=None,
    )
    assert paper.primary_category == "math.CO"


def test_old_style_ids():
    astro, hep, _ = parse_api_response(synthetic("old-style-and-accents.xml"))
    assert (astro.id, astro.version) == ("astro-ph/0601999", 1)
    assert astro.journal_ref == "Invented Astron. 12:1-41,2006"
    assert astro.comment.startswith("41 pages including 12 figures")
    assert "I_max<16.5" in astro.abstract and "Smith & Jones (2003)" in astro.abstract
    assert (hep.id, hep.version, hep.categories) == ("hep-th/0512001", 2, ("hep-th", "cs.PL"))


def test_latin1_trap_accented_authors_decode_right():
    *_, proceedings = parse_api_response(synthetic("old-style-and-accents.xml"))
    assert proceedings.authors == ("Dörte Wübbel", "Aurora Ramírez-Núñez", "Zoë Ångström", "Paul Erdős")
    assert not any("Ã" in a for a in proceedings.authors)  # UTF-8 read as latin-1 would show "Ã"


def test_legacy_2016_format():
    paper, old_style = parse_api_response(synthetic("legacy-2016.xml"))
    assert (paper.id, paper.version) == ("1111.90011", 2)
    assert paper.title == "Invented Criticality for Extended Nodes on a Tree in the Large Connectivity Limit"
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.doi == "10.1103/PhysRevB.99.000001"
    assert paper.journal_ref == "Phys. Rev. B 99, 000001 (2012)"
    assert paper.comment == "8 pages, 3 figures. Published version"
    assert paper.authors == ("Jane Q. Public", "Adrian Del Sample")
    assert paper.abstract == ("An invented description of layered systems, written over several lines "
                              "the way the 2016 API wrapped them.")
    assert (old_style.id, old_style.version, old_style.abstract) == ("cond-mat/0412999", 1, "Short.")


def test_every_entry_of_a_full_page_reads():
    page = api_feed([{"id": f"2504.9{n:04d}v{1 + n % 3}", "title": f"Paper {n}", "abstract": f"Abstract {n}.",
                      "authors": ["A. Author", "B. Author"][: 1 + n % 2], "categories": ["cs.LG", "stat.ML"][n % 2:],
                      "doi": f"10.1000/{n}" if n % 7 == 0 else None} for n in range(100)])
    entries = parse_api_response(page)
    assert len(entries) == 100
    for entry in entries:
        assert entry.title and entry.abstract and entry.authors and entry.categories
        assert entry.categories[0] == entry.primary_category
    assert sum(e.doi is not None for e in entries) == 15


# arXiv's real answers, recorded (../shared/fixtures/arxiv-api): what they add is arXiv's exact
# output. One test reads them all, so a clone without ../shared skips one test, not eight.

def check_recorded_error_entry():
    with pytest.raises(ApiError) as caught:
        parse_api_response(recorded("id_abc_s0_m100_b79c8dcf6bc3.json"))
    assert caught.value.message == "incorrect id format for abc"
    assert "incorrect id format for abc" in str(caught.value)


def check_recorded_empty_result():
    assert parse_api_response(recorded("id_0000.0000_s0_m100_8b51d9633a68.json")) == []


def check_recorded_unknown_id():
    assert parse_api_response(recorded("id_0808.05394_s0_m100_7b0c7d0a7cdd.json")) == []
    [only] = parse_api_response(recorded("id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json"))
    assert only.id == "1707.08567"


def check_recorded_new_style_entry():
    [paper] = parse_api_response(recorded("id_1605.08386_s0_m100_199195aa31ad.json"))
    assert paper == Enrichment(
        id="1605.08386", version=1, title="Heat-bath random walks with Markov bases",
        abstract=paper.abstract, authors=("Caprice Stanley", "Tobias Windisch"),
        categories=("math.CO", "math.ST"), comment="20 pages, 3 figures", journal_ref=None, doi=None,
    )
    assert paper.abstract.startswith("Graphs on lattice points are studied")
    assert paper.primary_category == "math.CO"


def check_recorded_old_style_ids():
    [astro] = parse_api_response(recorded("id_astro-ph_0601001_s0_m100_3150dca9dc76.json"))
    assert (astro.id, astro.version) == ("astro-ph/0601001", 1)
    assert astro.journal_ref == "ActaAstron.56:1-50,2006"
    assert astro.comment.startswith("62 pages including 16 figures")
    assert "V_max<17.5" in astro.abstract and "Gould & Morgan (2003)" in astro.abstract
    [quant] = parse_api_response(recorded("id_quant-ph_0201082v1_s0_m100_86989fe779ef.json"))
    assert (quant.id, quant.version, quant.categories) == ("quant-ph/0201082", 1, ("quant-ph", "cs.PL"))


def check_recorded_latin1_trap():
    [proceedings] = parse_api_response(recorded("id_1707.08567_s0_m100_6a1afebfc6a3.json"))
    assert "Dirk Wübben" in proceedings.authors
    assert len(proceedings.authors) == 34
    entries = parse_api_response(recorded("q_testing_s0_m10_bc5a6c384fe9.json"))
    authors = {a for e in entries for a in e.authors}
    assert "Aurora Ramírez" in authors
    assert not any("Ã" in a for a in authors)


def check_recorded_legacy_2016_format():
    [paper] = parse_api_response(legacy("id_list=1111.2011v2.xml"))
    assert (paper.id, paper.version) == ("1111.2011", 2)
    assert paper.title == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.comment == "8 pages, 3 figures. Published version"
    assert paper.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert "\n" not in paper.abstract and paper.abstract.startswith("Theoretical description of anisotropic")
    many = parse_api_response(legacy("search_query=au_del_maestro.xml"))
    assert len(many) == 10
    assert all(any(a.endswith("Del Maestro") for a in e.authors) for e in many)
    ids = [e.id for e in many]
    assert "cond-mat/0412498" in ids and "1201.4869" in ids  # old and new style side by side


def check_recorded_full_pages():
    for name, count in [("q_testing_s0_m100_cfe7536492ca.json", 100), ("q_testing_s0_m15_80c242b59d59.json", 15)]:
        entries = parse_api_response(recorded(name))
        assert len(entries) == count
        for entry in entries:
            assert entry.title and entry.abstract and entry.authors and entry.categories
            assert entry.categories[0] == entry.primary_category
        assert sum(e.doi is not None for e in entries) >= 1


def test_recorded_api_answers_read_as_arxiv_wrote_them():
    shared_path("fixtures", "arxiv-api")
    check_recorded_error_entry()
    check_recorded_empty_result()
    check_recorded_unknown_id()
    check_recorded_new_style_entry()
    check_recorded_old_style_ids()
    check_recorded_latin1_trap()
    check_recorded_legacy_2016_format()
    check_recorded_full_pages()


def test_primary_category_comes_first_even_when_listed_later():
    body = HEAT_BATH.replace(b'<arxiv:primary_category term="math.CO"/>', b'<arxiv:primary_category term="math.ST"/>')
    [paper] = parse_api_response(body)
    assert paper.categories == ("math.ST", "math.CO")


def test_truncated_or_foreign_documents_are_malformed():
    body = HEAT_BATH
    with pytest.raises(MalformedFeed, match="not well-formed XML"):
        parse_api_response(body[: len(body) // 2])
    with pytest.raises(MalformedFeed, match="not an Atom feed"):
        parse_api_response(b"<html><body>busy</body></html>")
    with pytest.raises(MalformedFeed, match="empty"):
        parse_api_response(b"")


def test_apply_enrichment_fills_fields_and_moves_the_primary_first():
    paper = Paper(id="1605.90001", title="t", abstract="a", authors=("X",),
                  categories=("math.ST", "math.CO"), announce_type="cross", version=2)
    [enrichment] = parse_api_response(HEAT_BATH)
    enriched = apply_enrichment(paper, enrichment)
    assert enriched.categories == ("math.CO", "math.ST")
    assert enriched.comment == "20 pages, 3 figures"
    assert enriched.journal_ref is None and enriched.doi is None
    assert (enriched.version, enriched.announce_type, enriched.title) == (2, "cross", "t")
    outside = apply_enrichment(paper.with_changes(categories=("cs.LG",)), enrichment)
    assert outside.categories == ("math.CO", "cs.LG")
