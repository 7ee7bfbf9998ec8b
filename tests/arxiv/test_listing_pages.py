"""The listing-page parser against pages in arXiv's own markup (tests/fakes/arxiv_pages.py), rendered
from the recorded quant-ph day and the seed day (synthetic papers when ../shared is absent)."""

from collections import Counter
from datetime import date

import pytest

from bot.arxiv.feeds import parse_listing
from bot.arxiv.listing_pages import (
    ListingPageChanged,
    PageSection,
    as_listing,
    combine_pages,
    next_skip,
    parse_listing_page,
)
from bot.models import Paper
from tests.conftest import shared_path
from tests.fakes.arxiv_pages import (
    Sections,
    quant_ph_papers,
    render_new_page,
    sections_for,
    synthetic_papers,
)

DAY = date(2025, 4, 28)
FIELDS = ("id", "version", "title", "abstract", "authors", "categories", "announce_type", "announced",
          "comment", "journal_ref", "doi")


@pytest.fixture(scope="module")
def papers() -> list[Paper]:
    return quant_ph_papers()


@pytest.fixture(scope="module")
def sections(papers) -> Sections:
    return sections_for("quant-ph", papers)


def pages(context: str, sections: Sections, *, show: int, day: date = DAY, layout: str = "current"):
    """Every page of a listing, requested the way the fetcher does (skip from each page's count)."""
    found, skip = [], 0
    while skip is not None:
        page = parse_listing_page(render_new_page(context, sections, day, skip=skip, show=show, layout=layout),
                                  context=context)
        found.append(page)
        skip = next_skip(page, skip)
    return found


def differences(page_paper: Paper, feed_paper: Paper) -> dict[str, tuple]:
    return {name: (getattr(page_paper, name), getattr(feed_paper, name))
            for name in FIELDS if getattr(page_paper, name) != getattr(feed_paper, name)}


@pytest.mark.parametrize("layout", ["current", "legacy"])
def test_quant_ph_page_gives_what_the_feed_gives_field_by_field(papers, sections, layout):
    page = parse_listing_page(render_new_page("quant-ph", sections, DAY, layout=layout), context="quant-ph",
                              url="https://arxiv.org/list/quant-ph/new")
    assert page.announced == DAY and page.context == "quant-ph"
    assert page.total == len(papers) and page.entries == len(papers)
    assert [s.kind for s in page.sections] == ["new", "cross", "replace"]
    assert all(s.shown == s.total and not s.continued for s in page.sections)
    feed = {p.id: p for p in papers}
    assert [p.id for p in page.papers] == [p.id for p in papers]  # the feed lists in page order too
    for paper in page.papers:
        assert differences(paper, feed[paper.id]) == {}, paper.id


def test_recorded_quant_ph_day_has_every_announce_type(sections):
    page = parse_listing_page(render_new_page("quant-ph", sections, DAY), context="quant-ph")
    counts = Counter(p.announce_type for p in page.papers)
    assert set(counts) == {"new", "cross", "replace", "replace-cross"}
    if sum(counts.values()) == 81:  # the recorded day (shared/ present)
        assert counts == {"new": 40, "cross": 10, "replace": 22, "replace-cross": 9}


def test_the_seed_day_from_per_category_pages_equals_the_combined_feed():
    body = shared_path("fixtures", "arxiv-listing", "seed-mllm-2025-04-21.atom.xml").read_bytes()
    feed = parse_listing(body)
    contexts = sorted({c for p in feed.papers for c in p.categories if c.startswith("cs.")})
    parts = [combine_pages(pages(c, sections_for(c, feed.papers), show=2000, day=feed.feed_date))
             for c in contexts]
    listing = as_listing(parts)
    assert listing.feed_date == feed.feed_date == date(2025, 4, 21)
    by_id = {p.id: p for p in listing.papers}
    assert set(by_id) == {p.id for p in feed.papers}
    # The feed was a request for several categories; the pages are one per category. A paper new in
    # one and cross-listed in another comes out "new", as in the combined feed.
    for paper in feed.papers:
        assert differences(by_id[paper.id], paper) == {}, paper.id


def test_paging_reads_every_entry_once_and_the_counts_add_up(papers, sections):
    paged = pages("quant-ph", sections, show=25)
    assert len(paged) == -(-len(papers) // 25)
    assert paged[0].sections[0] == PageSection("new", min(25, len(sections.new)), len(sections.new), False)
    combined = combine_pages(paged)
    assert [p.id for p in combined.papers] == [p.id for p in papers]
    assert combined.counts == {"new": len(sections.new), "cross": len(sections.cross),
                               "replace": len(sections.replace)}
    assert combined.pages == len(paged)


def test_a_missing_page_is_caught_by_the_counts(sections):
    paged = pages("quant-ph", sections, show=3)
    with pytest.raises(ListingPageChanged, match="hold"):
        combine_pages(paged[:-1])


def test_pages_of_different_days_are_refused(sections):
    first = parse_listing_page(render_new_page("quant-ph", sections, DAY, show=3), context="quant-ph")
    second = parse_listing_page(render_new_page("quant-ph", sections, date(2025, 4, 29), skip=3, show=3),
                                context="quant-ph")
    with pytest.raises(ListingPageChanged, match="different dates"):
        combine_pages([first, second])


def test_a_missing_section_is_fine():
    papers = [p for p in synthetic_papers() if p.announce_type != "cross"]
    page = parse_listing_page(render_new_page("quant-ph", sections_for("quant-ph", papers), DAY),
                              context="quant-ph")
    assert [s.kind for s in page.sections] == ["new", "replace"]
    assert page.entries == page.total == len(papers)


def test_an_empty_day_is_an_announcement_without_papers():
    page = parse_listing_page(render_new_page("quant-ph", Sections(), DAY), context="quant-ph")
    assert page.announced == DAY
    assert page.total == 0 and page.papers == () and page.sections == ()
    assert combine_pages([page]).papers == ()


def test_text_keeps_word_boundaries_and_markup_characters():
    paper = next(p for p in synthetic_papers() if p.id == "2504.17901")
    page = parse_listing_page(render_new_page("quant-ph", sections_for("quant-ph", [paper]), DAY),
                              context="quant-ph")
    parsed = page.papers[0]
    assert parsed.title == "Learning $\\alpha<\\beta$ & friends"
    assert parsed.abstract == "First paragraph ends here. Second one: a < b and c > d."  # across the <br>


def test_urls_turned_into_links_read_as_their_text():
    paper = next(p for p in synthetic_papers() if p.id == "2504.17830")
    page = parse_listing_page(render_new_page("quant-ph", sections_for("quant-ph", [paper]), DAY),
                              context="quant-ph")
    assert page.papers[0].abstract == paper.abstract
    assert "https://example.org/2504.17830" in page.papers[0].abstract


def test_comments_and_journal_ref_come_along():
    paper = synthetic_papers()[0].with_changes(comment="12 pages, accepted at QIP 2026", journal_ref="PRL 1 (2026)")
    parsed = parse_listing_page(render_new_page("quant-ph", sections_for("quant-ph", [paper]), DAY),
                                context="quant-ph").papers[0]
    assert (parsed.comment, parsed.journal_ref) == (paper.comment, paper.journal_ref)


def test_archive_pages_treat_subject_classes_as_their_own():
    papers = [Paper(id="2504.00001", title="T", abstract="A", authors=("X Y",), categories=("cs.LG", "stat.ML"),
                    version=1),
              Paper(id="2504.00002", title="T", abstract="A", authors=("X Y",), categories=("stat.ML", "cs.LG"),
                    version=1),
              Paper(id="2401.00003", title="T", abstract="A", authors=("X Y",), categories=("math.OC", "cs.SY"),
                    version=2, announce_type="replace")]
    page = parse_listing_page(render_new_page("cs", sections_for("cs", papers), DAY), context="cs")
    assert [(p.id, p.announce_type) for p in page.papers] == [
        ("2504.00001", "new"), ("2504.00002", "cross"), ("2401.00003", "replace-cross")]


# -- pages that must be refused, with a reason -------------------------------------------------------


@pytest.fixture
def good_page(sections) -> str:
    return render_new_page("quant-ph", sections, DAY).decode()


def refused(body: str | bytes, match: str) -> None:
    with pytest.raises(ListingPageChanged, match=match) as caught:
        parse_listing_page(body, context="quant-ph", url="https://arxiv.org/list/quant-ph/new")
    assert "https://arxiv.org/list/quant-ph/new" in str(caught.value)


def test_a_changed_layout_is_refused(sections):
    refused(render_new_page("quant-ph", sections, DAY, layout="changed"), "list-title")


@pytest.mark.parametrize("fraction", [0.2, 0.35, 0.5, 0.66, 0.8])
def test_a_page_cut_short_is_refused(good_page, fraction):
    # Wherever the cut falls, some check notices (the reason depends on what got cut).
    refused(good_page[: int(len(good_page) * fraction)], ".")


def test_a_page_cut_inside_its_last_abstract_is_refused(good_page):
    # Every entry is there and the counts add up; only the end of the document says it is cut.
    refused(good_page[: good_page.rindex("</p>")], "cut short")


def test_an_error_page_is_refused():
    refused("<html><body><h1>Service Unavailable</h1></body></html>", "dlpage")
    refused(b"", "empty")


def test_a_section_count_that_disagrees_is_refused(good_page, sections):
    n = len(sections.new)
    refused(good_page.replace(f"New submissions (showing {n} of {n} entries)",
                              f"New submissions (showing {n + 1} of {n + 1} entries)"), "shows")


def test_a_total_that_disagrees_is_refused(good_page, sections):
    total = sections.total
    bad = good_page.replace(f"Total of {total} entries", f"Total of {total + 5} entries")
    with pytest.raises(ListingPageChanged, match="hold"):
        combine_pages([parse_listing_page(bad, context="quant-ph")])


def test_an_invalid_id_is_refused(good_page, sections):
    first = sections.new[0].id
    refused(good_page.replace(f"arXiv:{first}\n", "arXiv:not-an-id\n", 1), "not an arXiv id")


def test_a_section_that_counts_entries_but_shows_none_is_refused():
    body = render_new_page("quant-ph", Sections(), DAY).decode().replace(
        "<p>No updates today.</p>",
        "<dl id='articles'><h3>New submissions (showing 3 of 3 entries)</h3></dl>")
    refused(body, "shows 3 entries, the page holds 0")


def test_a_page_without_a_date_is_refused(good_page):
    refused(good_page.replace("Showing new listings for", "Listings for"), "announcement date")


def test_an_unmarked_primary_is_refused(good_page):
    refused(good_page.replace('class="primary-subject"', 'class="subject"'), "primary subject")


def test_without_an_html_rendering_the_version_is_unknown():
    # The page shows the id without version; only the "html" link carries one (documented difference).
    paper = synthetic_papers()[0].with_changes(version=None)
    parsed = parse_listing_page(render_new_page("quant-ph", sections_for("quant-ph", [paper]), DAY),
                                context="quant-ph").papers[0]
    assert parsed.version is None and parsed.id == paper.id


def test_a_new_submission_of_another_archive_is_refused(good_page):
    # The page of quant-ph listing a cs.IT paper as its own new submission: not the page we know.
    cross = next(p for p in synthetic_papers() if p.announce_type == "cross")
    body = render_new_page("quant-ph", Sections(new=(cross,)), DAY)
    refused(body, "not in quant-ph")
