"""The Markdown renderer against the seed digests, line by line, plus escaping and edge cases."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from bot.platforms.markdown.render import (
    NO_MATCH_TEXT,
    code_span,
    escape_html,
    escape_inline,
    render_markdown,
)
from bot.digest.model import DigestError, build_digest
from bot.models import Hit
from tests.conftest import shared_path
from tests.digest.helpers import hits_for, make_match, make_paper

DAY = date(2025, 4, 20)

# --- reading the seed -----------------------------------------------------------------------

SEED_HEADER = re.compile(
    r"^- \*\*\[(?P<title>.+)\]\((?P<url>[^)\s]+)\)\*\*  `arXiv:(?P<id>[^`]+)`  "
    r"(?P<cats>`[^`]+`(?: `[^`]+`)*)  $")
SEED_AUTHORS = re.compile(r"^  _(?P<authors>.+)_$")


@dataclass
class SeedEntry:
    lines: list[str]  # header, authors, <details ...>, abstract, </details>
    title: str
    url: str
    paper_id: str
    categories: tuple[str, ...]
    authors: tuple[str, ...]
    et_al: bool
    abstract: str


def read_seed(path: Path) -> tuple[list[str], list[SeedEntry]]:
    """The seed's lines before the first paper, and its papers parsed back into fields."""
    lines = path.read_text(encoding="utf-8").split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("- **["))
    entries = []
    i = first
    while i < len(lines):
        if not lines[i].startswith("- **["):
            i += 1
            continue
        block = lines[i:i + 5]
        header = SEED_HEADER.match(block[0])
        authors = SEED_AUTHORS.match(block[1])
        assert header and authors, block[:2]
        assert block[2] == "  <details open><summary>Abstract</summary>" and block[4] == "  </details>"
        names = authors.group("authors").split(", ")
        et_al = names[-1] == "et al."
        entries.append(SeedEntry(
            lines=block, title=header.group("title"), url=header.group("url"),
            paper_id=header.group("id"),
            categories=tuple(re.findall(r"`([^`]+)`", header.group("cats"))),
            authors=tuple(names[:-1] if et_al else names), et_al=et_al,
            abstract=block[3][2:]))
        i += 5
    return lines[:first], entries


def seed_keywords(preamble: list[str]) -> list[str]:
    line = next(line for line in preamble if line.startswith("**Keywords**:"))
    return re.findall(r"`([^`]+)`", line)


# Stands in for the title hits the matcher reports for the seed's "Vision Language Model" keyword.
VISION_LANGUAGE_MODEL = r"vision[- ]language models?"


def entry_paper(entry: SeedEntry, **changes):
    # The seed printed 6 names then "et al."; give such papers a 7th author so the renderer has
    # something to leave out.
    authors = entry.authors + (("Hidden Seventh",) if entry.et_al else ())
    fields = dict(title=entry.title, abstract=entry.abstract, authors=authors,
                  categories=entry.categories) | changes
    return make_paper(entry.paper_id, **fields)


def emphasised(title: str) -> str:
    return re.sub(VISION_LANGUAGE_MODEL, lambda m: f"***{m.group(0)}***", title, flags=re.I)


def test_first_three_seed_papers_render_in_the_seeds_structure_with_its_fixes():
    preamble, entries = read_seed(shared_path("seeds", "mllm-2025-04-20.md"))
    seed = entries[:3]
    papers = [entry_paper(seed[0]), entry_paper(seed[1]),
              entry_paper(seed[2], announce_type="replace", version=2)]
    matches = [make_match(paper, score=3.0 - n, hits=hits_for(paper, "vision language model",
                                                              VISION_LANGUAGE_MODEL))
               for n, paper in enumerate(papers)]
    assert [len(m.hits) for m in matches] == [0, 1, 1]  # the seed titles as they are
    digest = build_digest("md:MLLM", "MLLM", DAY, matches)
    keywords = seed_keywords(preamble)
    assert keywords[0] == "VLM" and len(keywords) == 6

    rendered = render_markdown(digest, keywords=keywords, filters=[]).split("\n")

    # Page head: the seed's, without its foreign "Last Updated" badge, with the counts line.
    assert preamble[3].startswith("[![Last Updated]")
    expected_head = ([preamble[0], preamble[1], preamble[2].replace("Papers-15-", "Papers-3-"),
                      "", "2 new · 1 updated"] + preamble[4:])
    assert rendered[:len(expected_head)] == expected_head

    body = rendered[len(expected_head):]
    for n, entry in enumerate(seed):
        got = body[n * 6:(n + 1) * 6]
        header = entry.lines[0].replace(f"[{entry.title}]", f"[{emphasised(entry.title)}]")
        if n == 2:
            header = header[:-2] + "  `updated v2`  "
        assert got[0] == header
        assert got[1] == entry.lines[1]  # authors, with "et al." after six
        assert got[2] == "  <details><summary>Abstract</summary>"  # folded by default
        assert got[3] == "  " + html.escape(entry.abstract, quote=False)
        assert got[4] == entry.lines[4]
        assert got[5] == ""
    assert len(body) == 6 * 3  # the file ends with one newline, nothing after the last paper

    # The fixes are really there.
    assert "***Vision Language Models***" in body[6] and "***Vision-Language Model***" in body[12]
    assert body[7].endswith(", et al._") and seed[1].et_al
    assert not seed[2].et_al and len(seed[2].authors) == 6  # exactly six: no et al.

    opened = render_markdown(digest, keywords=keywords, filters=[], open_abstracts=True)
    assert opened.split("\n")[len(expected_head) + 2] == entry.lines[2] == \
        "  <details open><summary>Abstract</summary>"


def test_versioned_http_links_of_the_older_seed_become_versionless_https():
    _, entries = read_seed(shared_path("seeds", "mllm-2025-03-31.md"))
    entry = entries[0]
    assert entry.url == "http://arxiv.org/abs/2503.24379v1"
    digest = build_digest("md", "MLLM", DAY, [make_match(entry_paper(entry))])
    header = next(line for line in render_markdown(digest).split("\n") if line.startswith("- **["))
    assert header == entry.lines[0].replace(entry.url, "https://arxiv.org/abs/2503.24379")


def test_whitespace_collapsed_abstracts_pass_through_unaltered():
    abstract = "within the current video generation community, we present Any2Caption, a novel framework"
    digest = build_digest("md", "MLLM", DAY, [make_match(make_paper(abstract=abstract))])
    assert f"\n  {abstract}\n" in render_markdown(digest)


# --- escaping -------------------------------------------------------------------------------

INJECTIONS = [
    "@everyone", "@here", "<!channel>", "<@U024BE7LH>", "<script>alert(1)</script>",
    "</details>", "<details open>", "</summary><b>x</b>", "*bold*", "**strong**", "_under_",
    "`code`", "```fence```", "[x](javascript:alert(1))", "![i](http://evil.example/x.png)",
    "<img src=x onerror=alert(1)>", "&lt;already&gt; &amp;", "a | b | c", "~~strike~~",
    "back\\slash \\*", "C# ##", "line one\n\n# Heading\n- item\n", "cr\r\nlf", "$\\times$ 36.9\\%",
]
INLINE_SPECIAL = set("\\`*_[]<>&~|#")


def assert_inert_inline(markdown: str, original: str) -> None:
    """Every markup character is backslash-escaped and unescaping gives the text back."""
    plain = []
    i = 0
    while i < len(markdown):
        ch = markdown[i]
        if ch == "\\":
            assert i + 1 < len(markdown) and markdown[i + 1] in INLINE_SPECIAL, markdown
            plain.append(markdown[i + 1])
            i += 2
            continue
        assert ch not in INLINE_SPECIAL, f"unescaped {ch!r} in {markdown!r}"
        assert ch not in "\r\n"
        plain.append(ch)
        i += 1
    assert "".join(plain) == re.sub(r"[ \t]*[\r\n]+[ \t]*", " ", original)


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injected_text_renders_inert_everywhere(payload):
    paper = make_paper("2504.00001", title=f"Title {payload} end", abstract=f"Abs {payload} end",
                       authors=(f"Eve {payload}", "Bob"), comment=f"Comment {payload}")
    benign = make_paper("2504.00001", title="Title x end", abstract="Abs x end",
                        authors=("Eve x", "Bob"), comment="Comment x")
    digest = build_digest("md", f"Topic {payload}", DAY, [make_match(paper)])
    text = render_markdown(digest, keywords=[payload, "VLM"], filters=[payload])
    lines = text.split("\n")
    reference = render_markdown(build_digest("md", "Topic x", DAY, [make_match(benign)]),
                                keywords=["x", "VLM"], filters=["x"]).split("\n")
    # Nothing the payload does can add, remove or re-order lines.
    assert len(lines) == len(reference)
    assert [line[:2] for line in lines] == [line[:2] for line in reference]

    heading = lines[0]
    assert heading.startswith("# 🔍 ") and heading.endswith(" Papers · 2025-04-20")
    assert_inert_inline(heading[len("# 🔍 "):-len(" Papers · 2025-04-20")], f"Topic {payload}")

    item = lines.index(next(line for line in lines if line.startswith("- **[")))
    header = re.fullmatch(r"- \*\*\[(.*)\]\(https://arxiv\.org/abs/2504\.00001\)\*\*  "
                          r"`arXiv:2504\.00001`  `cs\.CV` `cs\.AI`  ", lines[item])
    assert header, lines[item]
    assert_inert_inline(header.group(1), f"Title {payload} end")

    authors = re.fullmatch(r"  _(.*)_  ", lines[item + 1])
    assert authors, lines[item + 1]
    assert_inert_inline(authors.group(1), f"Eve {payload}".strip() + ", Bob")
    assert lines[item + 2].startswith("  **Comment**: ")
    assert_inert_inline(lines[item + 2][len("  **Comment**: "):],
                        " ".join(f"Comment {payload}".split()))

    assert lines[item + 3] == "  <details><summary>Abstract</summary>"
    abstract = lines[item + 4][2:]
    assert "<" not in abstract and ">" not in abstract
    assert html.unescape(abstract) == re.sub(r"[ \t]*[\r\n]+[ \t]*", " ", f"Abs {payload} end")
    assert lines[item + 5] == "  </details>"
    # Keywords and filters are code spans, where nothing is markup ...
    assert lines[item - 7] == f"**Keywords**: {code_span(payload)} `VLM`  "
    assert lines[item - 6] == f"**Filter**: {code_span(payload)}"
    # ... and elsewhere our own tags are the only unescaped HTML in the file.
    outside_code = "\n".join(lines[:item - 7] + lines[item - 5:])
    assert re.findall(r"(?<!\\)<\S", outside_code) == ["<d", "<s", "</", "</"]


def test_code_spans_hold_any_backticks():
    assert code_span("VLM") == "`VLM`"
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x``") == "``` `x`` ```"
    assert code_span(" padded ") == "`  padded  `"


def test_escape_helpers():
    assert escape_inline("a*b_c [d](e) <f> & `g` ~h~ |i| \\") == \
        "a\\*b\\_c \\[d\\](e) \\<f\\> \\& \\`g\\` \\~h\\~ \\|i\\| \\\\"
    assert escape_html("a < b && c > d </details>") == \
        "a &lt; b &amp;&amp; c &gt; d &lt;/details&gt;"


def test_optional_commonmark_parse_is_inert_and_well_formed():
    """Parse a hostile digest with GitHub's own cmark (when installed) and inspect the HTML."""
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm (GitHub's cmark) not installed")
    from cmarkgfm.cmark import Options

    payload = " ".join(INJECTIONS)
    papers = [make_paper(f"2504.0000{n}", title=f"VLMs {payload} Vision-Language Model",
                         abstract=f"VLM {payload}", authors=(payload,), comment=payload)
              for n in range(3)]
    matches = [make_match(p, hits=hits_for(p, "VLM", "VLM") + hits_for(p, "v", VISION_LANGUAGE_MODEL))
               for p in papers]
    text = render_markdown(build_digest("md", payload, DAY, matches), keywords=[payload], filters=[])
    # UNSAFE keeps raw HTML as GitHub's parser does before sanitising: the worst case.
    rendered = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    tags = re.findall(r"<(/?[a-z0-9]+)", rendered)
    assert set(tags) <= {"h1", "/h1", "h2", "/h2", "p", "/p", "a", "/a", "img", "hr", "ul", "/ul",
                         "li", "/li", "strong", "/strong", "em", "/em", "code", "/code", "br",
                         "details", "/details", "summary", "/summary"}
    assert tags.count("details") == tags.count("/details") == 3
    assert tags.count("img") == 1  # the total badge only
    links = re.findall(r'<a href="([^"]*)">(.*?)</a>', rendered)
    assert [href for href, _ in links if "arxiv.org" in href or not href] == [""] + [
        f"https://arxiv.org/abs/2504.0000{n}" for n in range(3)]
    # GFM turns bare http(s) URLs in authors and comments into plain links to themselves;
    # nothing else (a javascript: link, an image) survives as markup.
    others = [(href, label) for href, label in links if href and "arxiv.org" not in href]
    assert others and all(href == label == "http://evil.example/x.png" for href, label in others)
    assert "javascript:alert(1)" not in "".join(href for href, _ in links)
    # Hits are emphasised inside the (bold) link: VLM and the phrase, per paper.
    assert rendered.count("<em><strong>VLM</strong></em>s") == 3
    assert rendered.count("<em><strong>Vision-Language Model</strong></em>") == 3


# --- edge cases -----------------------------------------------------------------------------

def test_empty_day_renders_a_valid_file_saying_so():
    digest = build_digest("md:MLLM", "MLLM", DAY, [])
    assert render_markdown(digest, keywords=["VLM"], filters=["robot"]) == "\n".join([
        "# 🔍 MLLM Papers · 2025-04-20",
        "",
        "[![Total Papers](https://img.shields.io/badge/Papers-0-2688EB)]()",
        "",
        "---",
        "",
        "## 📌 Filter by Category",
        "**Keywords**: `VLM`  ",
        "**Filter**: `robot`",
        "",
        "---",
        "",
        "## 📚 Paper List",
        "",
        NO_MATCH_TEXT,
        "",
    ])


def test_truncated_digest_says_how_many_are_not_listed():
    matches = [make_match(make_paper(f"2504.0000{n}"), score=n) for n in range(5)]
    text = render_markdown(build_digest("md", "MLLM", DAY, matches, max_items=2))
    assert "Papers-5-2688EB" in text and "\n5 new\n" in text
    assert text.count("\n- **[") == 2
    assert text.endswith("\n_3 more papers matched but are not listed (limit 2 a day)._\n")
    one_more = render_markdown(build_digest("md", "MLLM", DAY, matches, max_items=4))
    assert "_1 more paper matched but is not listed (limit 4 a day)._" in one_more


def test_labels_and_comment_line():
    paper = make_paper("2504.00007", announce_type="replace-cross", version=3,
                       comment="Accepted at CVPR 2025")
    lines = render_markdown(build_digest("md", "MLLM", DAY, [make_match(paper)])).split("\n")
    item = next(i for i, line in enumerate(lines) if line.startswith("- **["))
    assert lines[item].endswith("`cs.CV` `cs.AI`  `updated v3` `cross-list`  ")
    assert lines[item + 1] == "  _Ada Lovelace, Alan Turing_  "  # hard break before the comment
    assert lines[item + 2] == "  **Comment**: Accepted at CVPR 2025"
    assert "\n1 updated\n" in "\n".join(lines)


@pytest.mark.parametrize("title, hits, expected", [
    ("VLM at the start", [(0, 3)], "***VLM*** at the start"),
    ("ends with VLM", [(10, 13)], "ends with ***VLM***"),
    ("plural VLMs here", [(7, 10)], "plural ***VLM***s here"),
    ("touching VLMMLLM", [(9, 12), (12, 16)], "touching ***VLMMLLM***"),
    ("spaces ( VLM ) trimmed", [(7, 14)], "spaces ( ***VLM*** ) trimmed"),
    ("only * punctuation", [(5, 6)], "only \\* punctuation"),
    ("a *VLM* star", [(2, 7)], "a \\****VLM***\\* star"),
])
def test_title_hit_emphasis_stays_valid_markdown(title, hits, expected):
    paper = make_paper(title=title)
    match = make_match(paper, hits=tuple(Hit("t", "title", s, e) for s, e in hits))
    text = render_markdown(build_digest("md", "MLLM", DAY, [match]))
    assert f"- **[{expected}](https://arxiv.org/abs/2504.00001)**" in text


def test_no_title_authors_or_abstract_keep_the_structure():
    paper = make_paper(title=" ", authors=(), abstract="")
    lines = render_markdown(build_digest("md", "T", DAY, [make_match(paper)])).split("\n")
    item = next(i for i, line in enumerate(lines) if line.startswith("- **["))
    assert lines[item].startswith("- **[(untitled)](https://arxiv.org/abs/2504.00001)**")
    assert lines[item + 1:item + 4] == ["  <details><summary>Abstract</summary>",
                                        "  (no abstract)", "  </details>"]


def test_keywords_given_as_one_string_are_refused():
    with pytest.raises(DigestError, match="lists of terms"):
        render_markdown(build_digest("md", "T", DAY, []), keywords="VLM")
