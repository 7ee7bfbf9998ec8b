"""arXiv's /list/<archive-or-category>/new pages, rendered from `Paper` records for tests.

The markup follows arXiv's own templates (arXiv/arxiv-browse `browse/templates/list/new.html`,
`list_macros.html`, and `sub_sections_for_types` / `index_for_types` in
`browse/controllers/list_page/__init__.py`), element by element: see bot/arxiv/listing_pages.py for
the structure. `render_new_page` renders one page; `ListingSite` serves them (with `skip`/`show`,
ETag/Last-Modified and a robots.txt) from a `FakeArxiv`.

Papers come from the recorded listings in ../shared (`recorded_papers`) or from `synthetic_papers`
when shared/ is absent, so tests of the parser run either way.

Layouts: "current" (arXiv today: "Showing new listings for <date>", "New submissions (showing N of
M entries)", "Total of N entries"), "legacy" (older arxiv-browse: the date in each section heading,
"[ total of N entries ]"), and "changed" (a redesign the parser must refuse: entry blocks renamed).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path

from aiohttp import web

from bot.arxiv.feeds import parse_listing
from bot.arxiv.listing_pages import belongs_to
from bot.models import Paper
from tests.fakes.arxiv_server import FakeArxiv, ServedResource

# Display names for the categories the tests use (the page shows "Name (code)").
CATEGORY_NAMES = {
    "quant-ph": "Quantum Physics",
    "cs.AI": "Artificial Intelligence",
    "cs.CL": "Computation and Language",
    "cs.CV": "Computer Vision and Pattern Recognition",
    "cs.LG": "Machine Learning",
    "cs.RO": "Robotics",
    "cs": "Computer Science",
}
MAX_SHOW = 2000  # arxiv-browse's max_show, the default `show` of /new
ROBOTS_TXT = "User-agent: *\nCrawl-delay: 15\nDisallow: /api\nAllow: /list\n"


def display(category: str) -> str:
    return f"{CATEGORY_NAMES.get(category, category)} ({category})"


@dataclass(frozen=True)
class Sections:
    """The papers of one context's /new listing, by section, in page order."""

    new: tuple[Paper, ...] = ()
    cross: tuple[Paper, ...] = ()
    replace: tuple[Paper, ...] = ()

    @property
    def ordered(self) -> list[tuple[str, Paper]]:
        return [("new", p) for p in self.new] + [("cross", p) for p in self.cross] + \
               [("replace", p) for p in self.replace]

    @property
    def total(self) -> int:
        return len(self.new) + len(self.cross) + len(self.replace)


def sections_for(context: str, papers: Iterable[Paper]) -> Sections:
    """Which papers the /new page of `context` lists, and where: its own new submissions, other
    archives' papers cross-listed to it, then replacements of both (arXiv's listing rules)."""
    new: list[Paper] = []
    cross: list[Paper] = []
    replace: list[Paper] = []
    for paper in papers:
        if not any(belongs_to(c, context) for c in paper.categories):
            continue
        if paper.is_update:
            replace.append(paper)
        elif belongs_to(paper.categories[0], context):
            new.append(paper)
        else:
            cross.append(paper)
    return Sections(tuple(new), tuple(cross), tuple(replace))


def recorded_papers(name: str = "quant-ph-2025-04-28.atom.xml") -> list[Paper] | None:
    """The papers of a recorded listing in ../shared/fixtures/arxiv-listing, or None without shared/."""
    from tests.conftest import FIXTURES

    path: Path = FIXTURES / "arxiv-listing" / name
    if not path.exists():
        return None
    return parse_listing(path.read_bytes()).papers


def synthetic_papers(day: date = date(2025, 4, 28)) -> list[Paper]:
    """A small quant-ph day of each kind, for when the recorded listings are not beside the project."""
    def paper(number: str, version: int, kind: str, categories: tuple[str, ...], title: str, **kw) -> Paper:
        return Paper(id=number, version=version, announce_type=kind, categories=categories, title=title,
                     abstract=kw.pop("abstract", f"We study {title.lower()}. See https://example.org/{number}."),
                     authors=kw.pop("authors", ("Ada Lovelace", "Alan Turing")), announced=day, **kw)

    return [
        paper("2504.17830", 1, "new", ("quant-ph",), "Self-Adjoint Time Operator", authors=("Radmir Kokoulin",)),
        paper("2504.17837", 1, "new", ("quant-ph", "physics.comp-ph"), "Statistical noise and quantumness"),
        paper("2504.17901", 1, "new", ("quant-ph", "cs.LG"), "Learning $\\alpha<\\beta$ & friends",
              abstract="First paragraph ends here. Second one: a < b and c > d."),
        paper("2504.16299", 1, "cross", ("cs.IT", "math.IT", "quant-ph"), "Quantum hypothesis testing"),
        paper("2112.14988", 4, "replace", ("quant-ph", "cs.CR"), "Deniable Encryption in a Quantum World"),
        paper("2504.14362", 2, "replace-cross", ("hep-th", "cond-mat.stat-mech", "quant-ph"),
              "Average Spread Complexity"),
        paper("quant-ph/0201082", 3, "replace", ("quant-ph",), "An old-style identifier"),
    ]


def quant_ph_papers() -> list[Paper]:
    """The recorded quant-ph day (81 papers) when shared/ is there, else the synthetic one."""
    return recorded_papers() or synthetic_papers()


# -- rendering ------------------------------------------------------------------------------------


def _urlize(text: str) -> str:
    """arxiv-browse's `urlize`: URLs in the abstract become links (the text stays the same)."""
    words = []
    for word in escape(text, quote=False).split(" "):
        if word.startswith(("http://", "https://")):
            url = word.rstrip(".,;)")
            word = f'<a href="{escape(url)}">{url}</a>{word[len(url):]}'
        words.append(word)
    return " ".join(words)


def _entry(kind: str, paper: Paper, index: int, layout: str) -> str:
    pid = escape(paper.id)
    type_info = ""
    if kind == "cross":
        type_info = f"\n      (cross-list from {escape(paper.categories[0])})"
    elif kind == "replace":
        type_info = "\n      (replaced)"
    html_link = (f', <a href="https://arxiv.org/html/{pid}v{paper.version}" title="View HTML" id="html-{pid}" '
                 f'aria-labelledby="html-{pid}" rel="noopener noreferrer" target="_blank">html</a>'
                 if paper.version else "")
    authors = ", ".join(f'<a href="https://arxiv.org/a/{escape(a.split()[-1].lower())}_1" rel="nofollow">'
                        f"{escape(a)}</a>" for a in paper.authors) or "(author list is unavailable)"
    comments = (f"\n        <div class='list-comments mathjax'><span class='descriptor'>Comments:</span>\n"
                 f"          {escape(paper.comment)}\n        </div>" if paper.comment else "")
    journal = (f"\n        <div class='list-journal-ref'><span class='descriptor'>Journal-ref:</span>\n"
               f"          {escape(paper.journal_ref)}\n        </div>" if paper.journal_ref else "")
    secondaries = "".join(f"; {escape(display(c))}" for c in paper.categories[1:])
    title_class, meta_class = ("list-title mathjax", "meta") if layout != "changed" else ("paper-title", "paper-meta")
    abstract = _urlize(paper.abstract)
    if ". " in abstract:  # arXiv's abstract_lf_to_br: an indented line starts a new paragraph
        head, tail = abstract.split(". ", 1)
        abstract = f"{head}.<br />\n{tail}"
    return f"""
    <dt>
      <a name='item{index}'>[{index}]</a>
      <a href ="/abs/{pid}" title="Abstract" id="{pid}">
        arXiv:{pid}
      </a>{type_info}
      [<a href="/pdf/{pid}" title="Download PDF" id="pdf-{pid}" aria-labelledby="pdf-{pid}">pdf</a>{html_link}, <a href="/format/{pid}" title="Other formats" id="oth-{pid}" aria-labelledby="oth-{pid}">other</a>]
    </dt>
    <dd>
      <div class='{meta_class}'>
        <div class='{title_class}'><span class='descriptor'>Title:</span>
          {escape(paper.title, quote=False)}
        </div>
        <div class='list-authors'>{authors}</div>{comments}{journal}
        <div class='list-subjects'><span class='descriptor'>Subjects:</span>
          <span class="primary-subject">{escape(display(paper.categories[0]))}</span>{secondaries}
        </div>
        <p class='mathjax'>
          {abstract}
        </p>
      </div>
    </dd>"""


def render_new_page(context: str, sections: Sections, announced: date, *, skip: int = 0,
                    show: int = MAX_SHOW, layout: str = "current") -> bytes:
    """One page of /list/<context>/new as arXiv renders it (entries `skip`..`skip+show`)."""
    total = sections.total
    counts = {"new": len(sections.new), "cross": len(sections.cross), "replace": len(sections.replace)}
    starts = {"new": 0, "cross": counts["new"], "replace": counts["new"] + counts["cross"]}
    window = sections.ordered[skip:skip + show]
    when = f"{announced:%A}, {announced.day} {announced:%B %Y}"

    index = []
    for kind, label in (("new", "New submissions"), ("cross", "Cross-lists"), ("replace", "Replacements")):
        if counts[kind]:
            page_skip = math.floor(starts[kind] / show) * show
            href = f"/list/{context}/new?skip={page_skip}&amp;show={show}" if page_skip != skip else ""
            index.append(f'  <li><a href="{href}#item{starts[kind] + (1 if kind != "new" else 0)}" '
                         f'rel="nofollow">{label}</a></li>')

    body: list[str] = []
    for kind, heading in (("new", "New"), ("cross", "Cross"), ("replace", "Replacement")):
        items = [(k, p, skip + i + 1) for i, (k, p) in enumerate(window) if k == kind]
        if not items:
            continue
        continued = skip > starts[kind]
        last = skip + show >= starts[kind] + counts[kind]
        showing = "showing "
        if continued:
            showing = "continued, " + showing + ("last " if last else "")
        if not last and not continued:
            showing += "first "
        date_part = f" for {when}" if layout == "legacy" else ""
        body.append(f"<dl id='articles'>\n    <h3>{heading} submissions{date_part} "
                    f"({showing}{len(items)} of {counts[kind]} entries)</h3>")
        body.extend(_entry(k, p, i, layout) for k, p, i in items)
        body.append("</dl>")
    if not body:
        body.append("<p>No updates today.</p>")

    paging = ""
    if total:
        links = []
        for start in range(0, total, show):
            label = f"{start + 1}-{min(total, start + show)}"
            links.append(f"<span>{label}</span>" if start == skip else
                         f'<a href=/list/{context}/new?skip={start}&amp;show={show} rel="nofollow">{label}</a>')
        pages = (": " + " ".join(links)) if total > show else ""
        if layout == "legacy":
            paging = (f"<div class='paging'>[ total of {total} entries\n {pages}\n  ]\n</div>\n"
                      f"<div class='morefewer'>[ showing {show} entries per page: more | all ]\n</div>")
        else:
            paging = (f"<div class='paging'>Total of {total} entries {pages}\n</div>\n"
                      f"<div class='morefewer'>Showing up to {show} entries per page:\n"
                      f"  <span style=\"color: #454545\">fewer</span> | more | all\n</div>")
    date_line = ("" if layout == "legacy" else f"<h3>Showing new listings for {when}</h3>\n")
    name = escape(CATEGORY_NAMES.get(context, context))
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><title>{name}</title><meta charset="utf-8"/></head>
<body>
<div id='content-inner'>
<div id='dlpage'>
  <h1>{name}</h1>
<ul>
{chr(10).join(index)}
</ul>
<p>See <a id="recent-{context}" aria-labelledby="recent-{context}" href="/list/{context}/recent">recent</a> articles</p>
{date_line}{paging}
{chr(10).join(body)}
{paging}
</div>
</div>
</body>
</html>
"""
    return page.encode("utf-8")


# -- serving --------------------------------------------------------------------------------------


@dataclass
class _Published:
    sections: Sections
    announced: date
    layout: str
    at: datetime


@dataclass
class ListingSite:
    """The listing pages of a fake arXiv: `publish` a day per context, then GET
    /list/<context>/new[?skip=&show=] and /robots.txt. Answers conditional GETs (ETag per page
    content, Last-Modified = publication time)."""

    arxiv: FakeArxiv
    robots_txt: str | None = ROBOTS_TXT
    default_show: int = MAX_SHOW
    published: dict[str, _Published] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.arxiv.serve_pages("/list/", self._page)
        self.arxiv.serve_pages("/robots.txt", self._robots)

    @property
    def base_url(self) -> str:
        return self.arxiv.base_url + "/list/"

    def publish(self, context: str, papers: Sequence[Paper], announced: date, *, layout: str = "current",
                at: datetime | None = None) -> Sections:
        sections = sections_for(context, papers)
        self.published[context] = _Published(sections, announced, layout, at or datetime.now(timezone.utc))
        return sections

    def page_requests(self) -> list:
        return [r for r in self.arxiv.requests if r.path.startswith("/list/")]

    def _page(self, request: web.Request) -> ServedResource | None:
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[2] != "new" or parts[1] not in self.published:
            return None
        day = self.published[parts[1]]
        skip = int(request.query.get("skip", "0") or 0)
        show = min(int(request.query.get("show", str(self.default_show)) or self.default_show), MAX_SHOW)
        body = render_new_page(parts[1], day.sections, day.announced, skip=skip, show=show, layout=day.layout)
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        return ServedResource(body, "text/html; charset=utf-8", etag=etag,
                              last_modified=format_datetime(day.at.astimezone(timezone.utc), usegmt=True))

    def _robots(self, request: web.Request) -> ServedResource | None:
        if self.robots_txt is None:  # a site without robots.txt: 404
            return None
        return ServedResource(self.robots_txt.encode(), "text/plain; charset=utf-8")
