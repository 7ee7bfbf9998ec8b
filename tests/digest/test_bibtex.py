"""`/papers export bibtex`: entries a reference manager reads back as the paper (checked with
bibtexparser), with TeX kept and everything that would break a .bib file escaped."""

from __future__ import annotations

import bibtexparser
import pytest
from hypothesis import given, settings, strategies as st

from bot.digest.bibtex import bibtex, bibtex_entry, citation_key, paper_year, split_entries, tex_field
from bot.models import Paper


def paper(**changes) -> Paper:
    base = dict(id="2504.13365", title="A Title", abstract="", authors=("Ada Lovelace", "Alan Turing"),
                categories=("cs.CV", "cs.AI"))
    return Paper(**{**base, **changes})


def parsed(text: str) -> list[dict]:
    return bibtexparser.loads(text).entries


def test_an_entry_in_arxivs_own_form():
    [entry] = parsed(bibtex_entry(paper(doi="10.48550/arXiv.2504.13365", journal_ref="CVPR 2025")))
    assert entry == {
        "ENTRYTYPE": "misc", "ID": "arXiv:2504.13365", "title": "{A Title}",
        "author": "Ada Lovelace and Alan Turing", "year": "2025", "eprint": "2504.13365",
        "archiveprefix": "arXiv", "primaryclass": "cs.CV", "journal": "CVPR 2025",
        "doi": "10.48550/arXiv.2504.13365", "url": "https://arxiv.org/abs/2504.13365",
    }


@pytest.mark.parametrize("raw, expected", [
    ("R&D at 50% for #1", r"R\&D at 50\% for \#1"),
    (r"Already \& escaped", r"Already \& escaped"),
    ("x_1 and $x_1$", r"x\_1 and $x_1$"),
    (r"$\gamma$-ray and $$\Lambda$$CDM", r"$\gamma$-ray and $$\Lambda$$CDM"),
    ("Déjà vu in Kästner's ŁódŹ", r"D{\'e}j{\`a} vu in K{\"a}stner's {\L}{\'o}d{\'Z}"),
    (r"{\aa}ngstr{\"o}m kept", r"{\aa}ngstr{\"o}m kept"),
    ("an { unbalanced brace", r"an \textbraceleft  unbalanced brace"),
    ("} closes first {", r"\textbraceright  closes first \textbraceleft "),
    (r"\{balanced\} stays", r"\{balanced\} stays"),
    ("ends in a backslash\\", r"ends in a backslash\textbackslash "),
    ("line\nbreaks   collapse", "line breaks collapse"),
])
def test_tex_fields(raw, expected):
    assert tex_field(raw) == expected


def test_authors_and_their_names():
    entry = bibtex_entry(paper(authors=("Jörg Kästner", "Anders And Sons", "  ", "Mary-Jane O'Neil")))
    [read] = parsed(entry)
    assert read["author"] == r'J{\"o}rg K{\"a}stner and {Anders And Sons} and Mary-Jane O\'Neil'.replace("\\'", "'")
    assert len(bibtexparser.customization.getnames([a.strip() for a in read["author"].split(" and ")])) == 3


def test_years_and_keys_of_old_and_new_ids():
    assert paper_year(paper(id="0704.0001")) == 2007
    assert paper_year(paper(id="hep-th/9901001")) == 1999
    assert paper_year(paper(id="math.GT/0309136")) == 2003
    assert citation_key(paper(id="hep-th/9901001")) == "arXiv:hep-th_9901001"
    [entry] = parsed(bibtex_entry(paper(id="hep-th/9901001", categories=("hep-th",))))
    assert entry["eprint"] == "hep-th/9901001" and entry["url"] == "https://arxiv.org/abs/hep-th/9901001"


def test_several_entries_and_splitting_between_them():
    papers = [paper(id=f"2504.{10000 + i}", title=f"Paper {i} " + "long " * 40) for i in range(30)]
    text = bibtex(papers)
    assert [e["eprint"] for e in parsed(text)] == [p.id for p in papers]
    pieces = split_entries(text, 1500)
    assert len(pieces) > 1 and all(len(piece) <= 1500 for piece in pieces)
    assert all(piece.startswith("@misc{") for piece in pieces)   # cut between entries
    assert [e["eprint"] for piece in pieces for e in parsed(piece)] == [p.id for p in papers]
    tiny = split_entries(text, 100)
    assert all(len(piece) <= 100 for piece in tiny) and "".join(tiny).replace("\n", "") == text.replace("\n", "")


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_any_title_gives_a_field_that_parses_back(title):
    entry = bibtex_entry(paper(title=title, authors=(title,)))
    entries = parsed(entry)
    assert len(entries) == 1 and entries[0]["eprint"] == "2504.13365"
    assert entries[0]["url"] == "https://arxiv.org/abs/2504.13365"
