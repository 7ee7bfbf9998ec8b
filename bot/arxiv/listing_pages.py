"""arXiv's listing pages `https://arxiv.org/list/<archive-or-category>/new`, parsed into `Paper` records.

The pages appear at the 20:00 ET announcement, four hours before the feeds are rebuilt (issue 16).
Their markup is that of arXiv's own site code, arXiv/arxiv-browse (`browse/templates/list/new.html`,
`list_macros.html`, `browse/controllers/list_page/__init__.py`):

    <div id='dlpage'>
      <h1>Quantum Physics</h1>
      <ul><li><a href="#item0">New submissions</a></li> <li>Cross-lists</li> <li>Replacements</li></ul>
      <h3>Showing new listings for Monday, 28 April 2025</h3>
      <div class='paging'>Total of 81 entries : <span>1-25</span> <a href=...>26-50</a> ...</div>
      <div class='morefewer'>Showing up to 2000 entries per page: fewer | more | all</div>
      <dl id='articles'>
        <h3>New submissions (showing 40 of 40 entries)</h3>
        <dt><a name='item1'>[1]</a> <a href="/abs/2504.17830" title="Abstract" id="2504.17830">arXiv:2504.17830</a>
            [<a href="/pdf/2504.17830" title="Download PDF">pdf</a>, <a href=".../html/2504.17830v1" title="View HTML">html</a>]</dt>
        <dd><div class='meta'>
          <div class='list-title mathjax'><span class='descriptor'>Title:</span> ...</div>
          <div class='list-authors'><a href=...>Radmir Kokoulin</a>, <a ...>...</a></div>
          <div class='list-comments mathjax'><span class='descriptor'>Comments:</span> 12 pages</div>   (optional)
          <div class='list-journal-ref'><span class='descriptor'>Journal-ref:</span> ...</div>         (optional)
          <div class='list-subjects'><span class='descriptor'>Subjects:</span>
            <span class="primary-subject">Quantum Physics (quant-ph)</span>; Mathematical Physics (math-ph)</div>
          <p class='mathjax'>abstract (TeX accents as Unicode, URLs as links, paragraph breaks as <br>)</p>
        </div></dd>
      </dl>
      <dl id='articles'><h3>Cross submissions (showing 10 of 10 entries)</h3> ... "(cross-list from cs.IT)" in the <dt>
      <dl id='articles'><h3>Replacement submissions (showing 31 of 31 entries)</h3> ... "(replaced)" in the <dt>
    </div>

A section with no entries is left out (or says "No updates for this time period."); a day with no
entries at all says "No updates today." and has no paging block. Pages hold at most `show` entries
(2000 by default for /new) from `skip`; a continued section's heading reads "(continued, showing
last 5 of 40 entries)". Older arxiv-browse versions put the date in each section heading ("New
submissions for Monday, 28 April 2025 (showing ...)") and wrapped the count in "[ total of N
entries ]"; both forms are read.

Differences from what the Atom feed parser (`bot.arxiv.feeds`) gives for the same paper, checked
field by field in tests/arxiv/test_listing_pages.py:
- version: the page shows the id without version; it is taken from the "html" link (`.../2504.17830v1`)
  when the paper has an HTML rendering, else left None. The feed always has it.
- announce type: the page has three sections; "replace" and "replace-cross" share the Replacement
  section and are told apart by whether the primary category belongs to the page's archive or
  category (as the feed's types are relative to the requested categories).
- primary category: the page marks it (`primary-subject`); the feed relies on order. Same result.
- authors: the page shows only the first part of very long author lists (arxiv-browse's
  `split_long_author_list`, cut at 100 names); the feed has all. Names are the link texts.
- abstract: the page runs it through `tex2utf_no_symbols` (TeX accents such as {\\"o} become "ö")
  and turns URLs into links; the feed keeps the TeX source. Whitespace collapses alike.
- comments and journal-ref: on the page, not in the feed (the API enrichment adds them); they are
  returned in `Paper.comment` / `Paper.journal_ref`.

Every check failure raises `ListingPageChanged` with the reason: a page that cannot be read is
never turned into a partial list of papers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import lxml.etree
import lxml.html

from bot.arxiv.client import merge_listings
from bot.arxiv.errors import ArxivError, InvalidArxivId
from bot.arxiv.feeds import Listing, collapse_whitespace
from bot.arxiv.ids import split_versioned_id
from bot.models import Paper

NEW, CROSS, REPLACE = "new", "cross", "replace"
_SECTION_KINDS = {"new": NEW, "cross": CROSS, "replacement": REPLACE}

# Patterns over the *text* of single elements (never over the HTML).
_SECTION_HEADING = re.compile(
    r"^(?P<kind>New|Cross|Replacement) submissions(?: for (?P<date>[^(]+?))?\s*"
    r"\((?P<continued>continued, )?showing (?:first |last )?(?P<shown>\d+) of (?P<total>\d+) entries\s*\)$",
    re.IGNORECASE,
)
_DATE_HEADING = re.compile(r"^Showing new listings for (?P<date>.+)$", re.IGNORECASE)
_TOTAL = re.compile(r"total of (?P<total>\d+) entries", re.IGNORECASE)
_PER_PAGE = re.compile(r"showing (?:up to )?(?P<show>\d+) entries per page", re.IGNORECASE)
_CROSS_FROM = re.compile(r"\(cross-list from (?P<primary>[^)\s]+)\)", re.IGNORECASE)
_VERSION_SUFFIX = re.compile(r"v(\d+)/?$")
_NO_UPDATES_TODAY = "no updates today"


class ListingPageChanged(ArxivError):
    """A listing page that cannot be read as arXiv's /list/<x>/new page: changed layout, cut short,
    or counts that disagree. The midnight feed stays the source of the day."""

    def __init__(self, detail: str, *, url: str | None = None) -> None:
        self.detail = detail
        self.url = url
        where = f" {url}" if url else ""
        super().__init__(f"arXiv listing page{where} cannot be read (changed layout?): {detail}")


@dataclass(frozen=True, slots=True)
class PageSection:
    """One section heading of one page: "New submissions (showing 25 of 40 entries)"."""

    kind: str  # new, cross, replace
    shown: int
    total: int
    continued: bool = False


@dataclass(frozen=True, slots=True)
class ListingPage:
    """One page of /list/<context>/new. `total` is the day's entry count over all pages (0 on a
    day without entries); `papers` are this page's entries in page order."""

    context: str
    announced: date
    total: int
    sections: tuple[PageSection, ...]
    papers: tuple[Paper, ...]
    per_page: int | None = None
    url: str | None = None

    @property
    def entries(self) -> int:
        return len(self.papers)


@dataclass(frozen=True, slots=True)
class PagedListing:
    """Every page of one context's /new listing, checked to add up."""

    context: str
    announced: date
    papers: tuple[Paper, ...]
    counts: dict[str, int] = field(default_factory=dict)  # section kind -> total entries
    pages: int = 1


def belongs_to(category: str, context: str) -> bool:
    """Whether `category` is listed under the page `context` as its own (archive or category)."""
    return category == context or category.startswith(context + ".")


def parse_listing_page(body: bytes | str, *, context: str, url: str | None = None) -> ListingPage:
    """Parse one /list/<context>/new page. Raises `ListingPageChanged`."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not body.strip():
        raise ListingPageChanged("empty response body", url=url)
    # The HTML parser closes whatever a cut-short document leaves open, so a page cut inside its
    # last abstract would parse "fine". The end of the document is the one sign it arrived whole.
    if b"</html>" not in body[-1024:].lower():
        raise ListingPageChanged("the document does not end with </html> (cut short?)", url=url)
    try:
        # arXiv serves UTF-8; say so rather than let libxml2 guess from a missing meta tag.
        parser = lxml.html.HTMLParser(encoding="utf-8")
        document = lxml.html.document_fromstring(body, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ListingPageChanged(f"not an HTML document ({exc})", url=url) from None
    return _PageReader(document, context, url).read()


class _PageReader:
    def __init__(self, document: lxml.html.HtmlElement, context: str, url: str | None) -> None:
        self.document = document
        self.context = context
        self.url = url

    def fail(self, detail: str) -> ListingPageChanged:
        return ListingPageChanged(detail, url=self.url)

    def read(self) -> ListingPage:
        found = self.document.xpath("//div[@id='dlpage']")
        if not found:
            raise self.fail("no <div id='dlpage'> (the listing block)")
        page = found[0]
        # <br> separates paragraphs of an abstract: a word boundary, like a line break in the feed.
        for br in page.iter("br"):
            br.tail = " " + (br.tail or "")

        announced = self._announcement_date(page)
        total, per_page = self._paging(page)
        sections: list[PageSection] = []
        papers: list[Paper] = []
        section_entries: list[int] = []
        pending_dt: lxml.html.HtmlElement | None = None
        for element in page.iter("h3", "dt", "dd"):
            if element.tag == "h3":
                heading = _text(element)
                match = _SECTION_HEADING.match(heading)
                if match is None:
                    continue  # the date heading, read above
                if pending_dt is not None:
                    raise self.fail(f"entry {self._dt_id(pending_dt)!r} has no <dd> before {heading!r}")
                if match.group("date") and announced is None:
                    announced = self._date(match.group("date"))
                sections.append(PageSection(_SECTION_KINDS[match.group("kind").lower()], int(match.group("shown")),
                                            int(match.group("total")), bool(match.group("continued"))))
                section_entries.append(0)
            elif element.tag == "dt":
                if not sections:
                    raise self.fail("an entry before any section heading (New/Cross/Replacement submissions)")
                if pending_dt is not None:
                    raise self.fail(f"entry {self._dt_id(pending_dt)!r} has no <dd>")
                pending_dt = element
            else:
                if pending_dt is None:
                    raise self.fail("a <dd> without its <dt>")
                papers.append(self._paper(pending_dt, element, sections[-1].kind, announced))
                section_entries[-1] += 1
                pending_dt = None
        if pending_dt is not None:
            raise self.fail(f"entry {self._dt_id(pending_dt)!r} has no <dd> (page cut short?)")
        if announced is None:
            raise self.fail("no announcement date ('Showing new listings for ...')")
        papers = [p.with_changes(announced=announced) for p in papers]

        first_index = self._check_positions(page)
        for section, count in zip(sections, section_entries):
            if count != section.shown:
                raise self.fail(f"the {section.kind} section says it shows {section.shown} entries, "
                                f"the page holds {count}")
        if not sections:
            if total:
                raise self.fail(f"the page counts {total} entries but has no section")
            if _NO_UPDATES_TODAY not in _text(page).lower():
                raise self.fail("no section and no 'No updates today.'")
        elif total is None:
            raise self.fail("no entry count ('Total of N entries')")
        else:
            expected = min(per_page or total, total - first_index + 1)
            if len(papers) != expected:
                raise self.fail(f"the page holds {len(papers)} entries from [{first_index}], "
                                f"expected {expected} of {total} (page cut short?)")
        kinds = [s.kind for s in sections]
        if len(set(kinds)) != len(kinds) or kinds != sorted(kinds, key=list(_SECTION_KINDS.values()).index):
            raise self.fail(f"sections out of order or repeated: {kinds}")
        ids = [p.id for p in papers]
        if len(set(ids)) != len(ids):
            raise self.fail("an id listed twice")
        return ListingPage(self.context, announced, total or 0, tuple(sections), tuple(papers), per_page, self.url)

    def _check_positions(self, page: lxml.html.HtmlElement) -> int:
        """The entries' running numbers ("[41]") are consecutive; returns the first (1 if none)."""
        numbers: list[int] = []
        for dt in page.iter("dt"):
            anchors = [a for a in dt.iter("a") if (a.get("name") or "").startswith("item")]
            text = _text(anchors[0]).strip("[]") if anchors else ""
            if not text.isdigit():
                raise self.fail(f"entry {self._dt_id(dt)!r} has no running number ([N])")
            numbers.append(int(text))
        if numbers and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            raise self.fail("entry numbers are not consecutive")
        return numbers[0] if numbers else 1

    # -- page-level parts ---------------------------------------------------------------------

    def _announcement_date(self, page: lxml.html.HtmlElement) -> date | None:
        for heading in page.iter("h3"):
            match = _DATE_HEADING.match(_text(heading))
            if match:
                return self._date(match.group("date"))
        return None

    def _date(self, text: str) -> date:
        text = collapse_whitespace(text)
        try:
            return datetime.strptime(text, "%A, %d %B %Y").date()
        except ValueError:
            raise self.fail(f"unreadable announcement date {text!r}") from None

    def _paging(self, page: lxml.html.HtmlElement) -> tuple[int | None, int | None]:
        total = per_page = None
        for block in page.xpath(".//div[contains(concat(' ', normalize-space(@class), ' '), ' paging ')]"):
            match = _TOTAL.search(_text(block))
            if match:
                found = int(match.group("total"))
                if total is not None and found != total:
                    raise self.fail(f"the page counts {total} and {found} entries")
                total = found
        for block in page.xpath(".//div[contains(concat(' ', normalize-space(@class), ' '), ' morefewer ')]"):
            match = _PER_PAGE.search(_text(block))
            if match:
                per_page = int(match.group("show"))
        return total, per_page

    # -- entries ------------------------------------------------------------------------------

    def _dt_id(self, dt: lxml.html.HtmlElement) -> str:
        links = dt.xpath(".//a[@title='Abstract']")
        return _text(links[0]) if links else _text(dt)[:40]

    def _paper(self, dt, dd, kind: str, announced: date | None) -> Paper:
        links = dt.xpath(".//a[@title='Abstract']")
        if not links:
            raise self.fail(f"an entry without its abstract link: {_text(dt)[:80]!r}")
        raw_id = _text(links[0])
        try:
            paper_id, version = split_versioned_id(raw_id)
        except InvalidArxivId:
            raise self.fail(f"not an arXiv id: {raw_id!r}") from None
        if version is None:
            version = self._html_version(dt, paper_id)

        title = self._field(dd, "list-title", paper_id, required=True)
        authors_block = self._block(dd, "list-authors", paper_id, required=True)
        authors = tuple(n for n in (collapse_whitespace(_text(a)) for a in authors_block.iter("a")) if n)
        categories = self._categories(dd, paper_id)
        abstracts = dd.xpath(".//p[contains(concat(' ', normalize-space(@class), ' '), ' mathjax ')]")
        if not abstracts:
            raise self.fail(f"{paper_id}: no abstract")

        announce_type = kind
        cross_from = _CROSS_FROM.search(_text(dt))
        if kind == CROSS:
            if cross_from and cross_from.group("primary") != categories[0]:
                raise self.fail(f"{paper_id}: cross-listed from {cross_from.group('primary')} "
                                f"but its primary subject is {categories[0]}")
        elif not belongs_to(categories[0], self.context):
            if kind == NEW:
                raise self.fail(f"{paper_id}: a new submission whose primary {categories[0]} "
                                f"is not in {self.context}")
            announce_type = "replace-cross"
        return Paper(
            id=paper_id,
            version=version,
            title=title,
            abstract=collapse_whitespace(_text(abstracts[0])),
            authors=authors,
            categories=categories,
            announce_type=announce_type,
            announced=announced,
            comment=self._field(dd, "list-comments", paper_id) or None,
            journal_ref=self._field(dd, "list-journal-ref", paper_id) or None,
        )

    def _html_version(self, dt, paper_id: str) -> int | None:
        for link in dt.xpath(".//a[@title='View HTML']"):
            match = _VERSION_SUFFIX.search(link.get("href", ""))
            if match and paper_id.replace("/", "") in link.get("href", "").replace("/", ""):
                return int(match.group(1))
        return None

    def _block(self, dd, css_class: str, paper_id: str, *, required: bool = False):
        found = dd.xpath(f".//div[contains(concat(' ', normalize-space(@class), ' '), ' {css_class} ')]")
        if not found:
            if required:
                raise self.fail(f"{paper_id}: no {css_class} block")
            return None
        return found[0]

    def _field(self, dd, css_class: str, paper_id: str, *, required: bool = False) -> str:
        block = self._block(dd, css_class, paper_id, required=required)
        if block is None:
            return ""
        text = collapse_whitespace(_text(block, skip_class="descriptor"))
        if required and not text:
            raise self.fail(f"{paper_id}: empty {css_class}")
        return text

    def _categories(self, dd, paper_id: str) -> tuple[str, ...]:
        block = self._block(dd, "list-subjects", paper_id, required=True)
        primary = block.xpath(".//span[contains(concat(' ', normalize-space(@class), ' '), ' primary-subject ')]")
        if not primary:
            raise self.fail(f"{paper_id}: no primary subject marked")
        items = [collapse_whitespace(part) for part in _text(block, skip_class="descriptor").split(";")]
        codes = [_category_code(item) for item in items if item]
        if not codes or None in codes:
            raise self.fail(f"{paper_id}: unreadable subjects {items!r}")
        if _category_code(collapse_whitespace(_text(primary[0]))) != codes[0]:
            raise self.fail(f"{paper_id}: the marked primary subject is not listed first")
        return tuple(dict.fromkeys(codes))  # type: ignore[arg-type]


def _category_code(display: str) -> str | None:
    """"Quantum Physics (quant-ph)" -> "quant-ph" (the code is the last parenthesised part)."""
    if not display.endswith(")") or "(" not in display:
        return None
    code = display[display.rindex("(") + 1:-1].strip()
    return code or None


def _text(element, *, skip_class: str | None = None) -> str:
    """The element's text with whitespace collapsed, leaving out children of class `skip_class`
    (the "Title:" descriptor) but keeping their tails."""
    if skip_class is None:
        return collapse_whitespace(element.text_content())
    parts: list[str] = [element.text or ""]
    for child in element:
        if not isinstance(child.tag, str):  # comments, processing instructions
            parts.append(child.tail or "")
            continue
        if skip_class not in (child.get("class") or "").split():
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return collapse_whitespace("".join(parts))


# -- several pages of one context -----------------------------------------------------------------


def next_skip(page: ListingPage, skip: int) -> int | None:
    """The `skip` of the next page of this listing, or None when `page` (shown from `skip`) is the last."""
    seen = skip + page.entries
    if page.entries == 0 or seen >= page.total:
        return None
    return seen


def combine_pages(pages: Sequence[ListingPage]) -> PagedListing:
    """One context's listing from its pages (in skip order), checked: one date, sections adding up
    to their "of M entries", the whole adding up to "Total of N entries". Raises `ListingPageChanged`."""
    if not pages:
        raise ValueError("combine_pages needs at least one page")
    first = pages[0]
    url = first.url
    dates = {p.announced for p in pages}
    if len(dates) > 1:
        raise ListingPageChanged(f"pages of one listing carry different dates {sorted(dates)} "
                                 "(the listing changed while being read)", url=url)
    totals = {p.total for p in pages}
    if len(totals) > 1:
        raise ListingPageChanged(f"pages of one listing count different totals {sorted(totals)}", url=url)
    shown: dict[str, int] = {}
    declared: dict[str, int] = {}
    for page in pages:
        for section in page.sections:
            shown[section.kind] = shown.get(section.kind, 0) + section.shown
            if declared.setdefault(section.kind, section.total) != section.total:
                raise ListingPageChanged(f"the {section.kind} section counts {declared[section.kind]} "
                                         f"and {section.total} entries on different pages", url=url)
    for kind, total in declared.items():
        if shown[kind] != total:
            raise ListingPageChanged(f"the {kind} section says {total} entries, the pages hold {shown[kind]}",
                                     url=url)
    papers = [paper for page in pages for paper in page.papers]
    if len(papers) != first.total:
        raise ListingPageChanged(f"the page counts {first.total} entries, the pages hold {len(papers)}", url=url)
    if len({p.id for p in papers}) != len(papers):
        raise ListingPageChanged("an id listed twice across pages", url=url)
    return PagedListing(first.context, first.announced, tuple(papers), declared, len(pages))


def as_listing(parts: Sequence[PagedListing]) -> Listing:
    """The feed-shaped `Listing` of several contexts' pages (one announcement), each paper once:
    a paper listed as a cross-list on one page and as its own on another keeps the non-cross type,
    as one feed request for all the contexts would show it."""
    dates = {p.announced for p in parts}
    if len(dates) > 1:
        raise ListingPageChanged(f"the listing pages carry different dates: {sorted(dates)}")
    return merge_listings(
        "arXiv listing pages: " + " ".join(p.context for p in parts),
        [Listing(title=p.context, feed_date=p.announced, papers=list(p.papers), entry_count=len(p.papers))
         for p in parts],
    )
