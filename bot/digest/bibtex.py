"""Papers as BibTeX entries (`/papers export bibtex`), in the form arXiv's own "Export BibTeX
Citation" gives and biblatex reads: `@misc` with `eprint`, `archivePrefix = {arXiv}` and
`primaryClass`, plus title, authors joined with "and", year, url (and doi / journal when known).

arXiv titles are TeX already (`$\\gamma$-ray`, `{\\aa}`), so they are kept as TeX: math and
commands pass through, and only what would break a .bib file or LaTeX is escaped:

- `& % #` and a `_` outside math get a backslash (unless they have one);
- unbalanced braces would end the field early or swallow the rest of the file (BibTeX counts
  every brace, even `\\{`), so in a field whose braces do not balance every brace becomes
  `\\textbraceleft` / `\\textbraceright`;
- non-ASCII letters become braced TeX accents (`ä` -> `{\\"a}`, `ł` -> `{\\l}`), by pylatexenc, so the
  file also works with classic 8-bit BibTeX;
- an author whose name contains the word "and" is braced, so BibTeX does not split it.

The title is double-braced so BibTeX styles keep its capitals (`{{BERT}}`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from pylatexenc.latexencode import unicode_to_latex

from bot.models import Paper

_MATH = re.compile(r"(?<!\\)\$\$?.+?(?<!\\)\$\$?", re.S)
_SPECIALS = re.compile(r"(?<!\\)([&%#])")
_UNDERSCORE = re.compile(r"(?<!\\)_")
_NEW_STYLE_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_OLD_STYLE_ID = re.compile(r"^[a-z\-]+(?:\.[A-Z]{2})?/(\d{2})(\d{2})\d{3}$")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9.:\-_]")


def _balanced(text: str) -> bool:
    """Whether the braces balance as BibTeX counts them: every brace, escaped or not."""
    depth = 0
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _escape_text(text: str) -> str:
    """A piece of text outside math: specials escaped, non-ASCII as TeX."""
    text = _SPECIALS.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    return _non_ascii(text)


def _non_ascii(text: str) -> str:
    # Braced (`{\"o}`): BibTeX then treats the accented letter as one character when it sorts,
    # abbreviates first names or changes case.
    return unicode_to_latex(text, non_ascii_only=True, replacement_latex_protection="braces-all")


def tex_field(value: str) -> str:
    """`value` (TeX-ish text from arXiv) safe inside a BibTeX `{...}` field."""
    value = " ".join(value.split())
    pieces: list[str] = []
    position = 0
    for found in _MATH.finditer(value):
        pieces.append(_escape_text(value[position:found.start()]))
        # Math keeps its TeX; only non-ASCII inside it is converted (rare: a pasted Greek letter).
        pieces.append(_non_ascii(found.group(0)))
        position = found.end()
    pieces.append(_escape_text(value[position:]))
    result = "".join(pieces)
    # A backslash that starts no command (at the end, before a space) would escape our closing brace.
    result = re.sub(r"\\(?=\s|$)", r"\\textbackslash ", result)
    if not _balanced(result):
        # BibTeX counts every brace, `\{` too: the field's braces become brace-free commands.
        result = re.sub(r"\\?\{", "\\\\textbraceleft ", result)
        result = re.sub(r"\\?\}", "\\\\textbraceright ", result)
    return result


def _author(name: str) -> str:
    name = tex_field(name)
    return f"{{{name}}}" if re.search(r"\band\b", name, re.I) else name


def paper_year(paper: Paper) -> int | None:
    """The year of first submission, from the id (`2504.13365` -> 2025), else the announcement."""
    for pattern in (_NEW_STYLE_ID, _OLD_STYLE_ID):
        found = pattern.match(paper.id)
        if found:
            yy = int(found.group(1))
            return (2000 if yy < 91 else 1900) + yy
    return paper.announced.year if isinstance(paper.announced, date) else None


def citation_key(paper: Paper) -> str:
    """`arXiv:2504.13365`, `arXiv:hep-th/9901001`: stable and unique per paper."""
    return "arXiv:" + _KEY_UNSAFE.sub("_", paper.id)


def bibtex_entry(paper: Paper) -> str:
    fields: list[tuple[str, str]] = [("title", "{" + tex_field(paper.title or "(untitled)") + "}")]
    authors = [author for author in paper.authors if author.strip()]
    if authors:
        fields.append(("author", " and ".join(_author(author) for author in authors)))
    year = paper_year(paper)
    if year:
        fields.append(("year", str(year)))
    fields += [("eprint", paper.id), ("archivePrefix", "arXiv")]
    if paper.primary_category:
        fields.append(("primaryClass", paper.primary_category))
    if paper.journal_ref:
        fields.append(("journal", tex_field(paper.journal_ref)))
    if paper.doi:
        # biblatex reads doi verbatim (no escapes); only what could end the field is dropped.
        fields.append(("doi", re.sub(r"[{}\s\\]", "", paper.doi)))
    fields.append(("url", paper.abs_url))
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name:<{width}} = {{{value}}}" for name, value in fields)
    return f"@misc{{{citation_key(paper)},\n{body}\n}}\n"


def bibtex(papers: Iterable[Paper]) -> str:
    """Entries for `papers`, in order, separated by blank lines."""
    return "\n".join(bibtex_entry(paper) for paper in papers)


def split_entries(text: str, limit: int) -> list[str]:
    """BibTeX text in pieces of at most `limit` characters, cut between entries (an entry longer
    than `limit` is cut between its lines, a line longer than that inside it)."""
    parts = (part for entry in re.split(r"\n(?=@)", text)
             for part in ([entry] if len(entry) <= limit else _lines_within(entry, limit)))
    return [piece for piece in _packed(parts, limit) if piece]


def _lines_within(entry: str, limit: int) -> list[str]:
    slices = (line[start:start + limit] for line in entry.split("\n")
              for start in range(0, max(len(line), 1), limit))
    return _packed(slices, limit)


def _packed(parts: Iterable[str], limit: int) -> list[str]:
    """Consecutive parts joined by newlines into pieces of at most `limit` characters (a part
    is never cut: one longer than `limit` is a piece of its own)."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current}\n{part}" if current else part
        if len(joined) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = part
    if current:
        pieces.append(current)
    return pieces
