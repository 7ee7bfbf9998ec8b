"""Shared text helpers: authors, categories, bold spans, labels, truncation, count line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.digest.model import AnnounceCounts, DigestError
from bot.digest.text import (
    author_line,
    bold_spans,
    category_badges,
    count_line,
    labels_text,
    papers_count,
    truncate,
    venue_text,
)
from tests.digest.helpers import make_paper

SEVEN = ("Tianyu Zhang", "Suyuchen Wang", "Lu Li", "Ge Zhang", "Perouz Taslakian",
         "Sai Rajeswar", "Someone Seventh")


def test_author_line_lists_six_then_et_al():
    # The seed's VCR entry: six names, then "et al.".
    assert author_line(SEVEN) == ("Tianyu Zhang, Suyuchen Wang, Lu Li, Ge Zhang, Perouz Taslakian, "
                                  "Sai Rajeswar, et al.")
    assert author_line(SEVEN[:6]) == ", ".join(SEVEN[:6])  # exactly six: no et al.
    assert author_line(SEVEN[:1]) == "Tianyu Zhang"
    assert author_line(()) == ""
    assert author_line(["A", " ", "", "B "], limit=1) == "A, et al."
    with pytest.raises(DigestError, match="at least 1"):
        author_line(SEVEN, limit=0)


def test_category_badges_keep_the_papers_order_primary_first():
    assert category_badges(("cs.CL", "cs.AI", "cs.CV")) == ("cs.CL", "cs.AI", "cs.CV")
    assert category_badges(("cs.RO", "cs.AI", "cs.RO", " ")) == ("cs.RO", "cs.AI")
    assert category_badges(()) == ()


def test_bold_spans_merges_overlaps_and_escapes_each_piece_before_bolding():
    text = "a *vision language* model"
    star = {"*": "\\*"}

    def escape(s: str) -> str:
        return "".join(star.get(ch, ch) for ch in s)

    # (3, 9) and (7, 18) overlap, (18, 19) touches: one bold run, markers not escaped.
    assert bold_spans(text, [(7, 18), (3, 9), (18, 19)], bold=lambda s: f"<b>{s}</b>",
                      escape=escape) == "a \\*<b>vision language\\*</b> model"
    assert bold_spans("VLM and VLMs", [(0, 3), (8, 11)]) == "**VLM** and **VLM**s"
    assert bold_spans("abc", []) == "abc"
    assert bold_spans("abc", [(-5, 1), (2, 50)]) == "**a**b**c**"  # clipped to the text


@given(st.text(st.characters(blacklist_characters="\x00\x01"), max_size=40), st.lists(st.tuples(st.integers(-3, 45), st.integers(-3, 45)),
                                      max_size=6))
def test_bold_spans_never_loses_or_reorders_text(text, spans):
    rendered = bold_spans(text, spans, bold=lambda s: f"\x00{s}\x01")
    assert rendered.replace("\x00", "").replace("\x01", "") == text
    # Markers alternate open/close and never nest.
    markers = [ch for ch in rendered if ch in "\x00\x01"]
    assert markers == ["\x00", "\x01"] * (len(markers) // 2)


def test_labels_and_venue_text():
    assert labels_text(("updated v2", "cross-list")) == "updated v2 · cross-list"
    assert labels_text(()) == ""
    paper = make_paper(comment="Accepted at\n CVPR 2025", journal_ref="Nature 1 (2025)")
    assert venue_text(paper) == "Accepted at CVPR 2025 · Journal ref: Nature 1 (2025)"
    assert venue_text(make_paper()) == ""


def test_truncate_cuts_at_a_word_boundary_with_an_ellipsis():
    text = "Vision language models are strong baselines"
    assert truncate(text, 100) == text
    assert truncate(text, len(text)) == text
    assert truncate(text, 20) == "Vision language…"
    assert truncate(text, 23) == "Vision language models…"  # the space right after counts
    assert truncate("tokens, more", 9) == "tokens…"  # no dangling comma
    # One long word: cut inside it rather than returning almost nothing.
    assert truncate("a " + "x" * 50, 10) == "a xxxxxxx…"
    with pytest.raises(DigestError, match="cannot truncate to 1"):
        truncate(text, 1)


@given(st.text(max_size=300), st.integers(2, 320))
def test_truncate_always_fits_and_keeps_a_prefix(text, limit):
    cut = truncate(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith("…")
        assert text.startswith(cut[:-1])


def test_count_line_reads_like_a_person_would_say_it():
    assert count_line(AnnounceCounts(new=12, cross=3, replace=2)) == "12 new · 3 cross-lists · 2 updated"
    assert count_line(AnnounceCounts(new=1, cross=1)) == "1 new · 1 cross-list"
    assert count_line(AnnounceCounts(replace=4)) == "4 updated"
    assert count_line(AnnounceCounts()) == "No matching papers"
    assert papers_count(1) == "1 paper" and papers_count(15) == "15 papers"
