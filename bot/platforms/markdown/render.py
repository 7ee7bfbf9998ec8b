"""Markdown digests in the seed's format (`shared/seeds/`), with the seed's defects fixed.

Per paper (the seed's layout, see `render_markdown`)::

    - **[Title with ***VLM*** hit](https://arxiv.org/abs/2504.13365)**  `arXiv:2504.13365`  `cs.CV` `cs.AI`  `updated v2`  
      _A, B, C, D, E, F, et al._
      <details><summary>Abstract</summary>
      abstract text, HTML-escaped
      </details>

Escaping, by where the text lands (CommonMark / GitHub Flavored Markdown):

- title, authors, comment, topic name: inline Markdown, so every character that could open
  markup (`` \\ ` * _ [ ] < > & ~ | # ``) is backslash-escaped and line breaks become spaces; an
  injected `[x](javascript:...)` stays text, `<script>` stays text.
- abstract: it sits inside `<details>`, which CommonMark parses as an HTML block (spec §4.6,
  kind 6, running to the next blank line), where Markdown is *not* interpreted: `*`, `_` and
  backticks cannot toggle anything there, and a backslash would be shown as is. So only `& < >`
  are escaped (as entities) and line breaks become spaces (a blank line would end the block
  early); an injected `</details>` or `<script>` renders as text.
- keywords, filters, categories, labels, ids: code spans whose backtick fence is longer than any
  run of backticks inside them.

Hit terms in the title are emphasised with `***...***` (bold-italic): the whole title is already
bold, and bold inside bold is invisible; the italic part is what a reader sees.

Files (`MarkdownWriter`) are written atomically (temporary file in the same folder, then
`os.replace`) with mode 0600 (owner-only, like the database).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import quote

from bot.digest.card import PaperCard, paper_card
from bot.digest.model import Digest, DigestError, DigestItem, Span
from bot.digest.text import bold_spans, count_line, papers_count

log = logging.getLogger(__name__)

ABS_URL = "https://arxiv.org/abs/"
BADGE_URL = "https://img.shields.io/badge/Papers-{count}-2688EB"
NO_MATCH_TEXT = "No matching papers in today's announcement."
# Owner-only like the database: a deployment that publishes the digests (a git push, a web
# server) reads them as the same user; nobody else on the machine needs to.
FILE_MODE = 0o600

# ASCII punctuation that can start Markdown or HTML inline syntax; backslash-escaping any ASCII
# punctuation is always allowed by CommonMark, so escaping a little too much is harmless.
_INLINE_SPECIAL = frozenset("\\`*_[]<>&~|#")
_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n|\r|\n)+[ \t]*")
_BADGE_COUNT = re.compile(r"img\.shields\.io/badge/Papers-(\d+)-")
_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.md$")


# --- escaping -------------------------------------------------------------------------------

def one_line(text: str) -> str:
    """Line breaks (and the spaces around them) become one space: inside a list item a line
    break could start a new block (`# heading`, a blank line ending the item)."""
    return _LINE_BREAKS.sub(" ", text)


def escape_inline(text: str) -> str:
    """Text as literal inline Markdown: markup characters backslash-escaped, one line."""
    return "".join("\\" + ch if ch in _INLINE_SPECIAL else ch for ch in one_line(text))


def escape_html(text: str) -> str:
    """Text as literal content of an HTML block: `& < >` as entities, one line."""
    return (one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def code_span(text: str) -> str:
    """`text` as a code span, whatever backticks it holds (CommonMark §6.1)."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")
                                                      and text.strip()):
        # One space each side is stripped by the parser, so the content stays exact.
        text = f" {text} "
    return f"{fence}{text}{fence}"


def _emphasise_hit(escaped: str) -> str:
    return f"***{escaped}***"


def _tighten(text: str, spans: Iterable[Span]) -> list[Span]:
    """Shrink spans to start and end on a letter or digit.

    Emphasis markers only open before and close after a word character in every position
    (CommonMark's flanking rules); a span starting on a space or an escaped `*` would otherwise
    leave literal asterisks in the title.
    """
    tight = []
    for start, end in spans:
        start, end = max(0, start), min(len(text), end)
        while start < end and not text[start].isalnum():
            start += 1
        while end > start and not text[end - 1].isalnum():
            end -= 1
        if start < end:
            tight.append((start, end))
    return tight


# --- rendering ------------------------------------------------------------------------------

def abs_url(paper_id: str) -> str:
    """The versionless https abstract page; the id is percent-encoded so it cannot end the link."""
    return ABS_URL + quote(paper_id, safe="/.-")


def total_badge(count: int) -> str:
    return f"[![Total Papers]({BADGE_URL.format(count=int(count))})]()"


def _terms_line(terms: Sequence[str]) -> str:
    shown = [code_span(term) for term in terms if term and term.strip()]
    return " ".join(shown) if shown else code_span("None")


def render_item(item: DigestItem | PaperCard, *, open_abstracts: bool = False) -> list[str]:
    """The lines of one paper card (without the blank line that follows it)."""
    card = paper_card(item, readable=False)  # GitHub renders $…$ as math
    title = "(untitled)"
    if card.title.strip():
        title = bold_spans(card.title, _tighten(card.title, card.title_spans),
                           bold=_emphasise_hit, escape=escape_inline)
    badges = " ".join(code_span(category) for category in card.categories)
    header = f"- **[{title}]({abs_url(card.id)})**  {code_span('arXiv:' + card.id)}"
    if badges:
        header += f"  {badges}"
    if card.labels:
        header += "  " + " ".join(code_span(label) for label in card.labels)
    lines = [header + "  "]

    authors = card.authors
    venue = card.venue
    if authors:
        # Two trailing spaces: a hard line break before the comment line.
        lines.append(f"  _{escape_inline(authors)}_" + ("  " if venue else ""))
    if venue:
        lines.append(f"  **Comment**: {escape_inline(venue)}")

    opening = "<details open>" if open_abstracts else "<details>"
    abstract = escape_html(card.abstract).strip() or "(no abstract)"
    lines += [f"  {opening}<summary>Abstract</summary>", f"  {abstract}", "  </details>"]
    return lines


def render_markdown(
    digest: Digest,
    *,
    keywords: Sequence[str] = (),
    filters: Sequence[str] = (),
    open_abstracts: bool = False,
) -> str:
    """The digest as one Markdown file in the seed's format (module doc), ending in a newline.

    `keywords` and `filters` are shown as the seed showed its configuration; `open_abstracts`
    unfolds the abstracts (`<details open>`, as the seed had them).
    """
    if isinstance(keywords, str) or isinstance(filters, str):
        raise DigestError("keywords and filters are lists of terms, not a single string")
    lines = [
        f"# 🔍 {escape_inline(digest.title)} Papers · {digest.day.isoformat()}",
        "",
        total_badge(digest.total),
    ]
    if not digest.is_empty:
        lines += ["", escape_inline(count_line(digest.counts))]
    lines += [
        "",
        "---",
        "",
        "## 📌 Filter by Category",
        f"**Keywords**: {_terms_line(keywords)}  ",
        f"**Filter**: {_terms_line(filters)}",
        "",
        "---",
        "",
        "## 📚 Paper List",
        "",
    ]
    if not digest.items and not digest.truncated:
        lines += [NO_MATCH_TEXT, ""]
    for item in digest.items:
        lines += render_item(item, open_abstracts=open_abstracts)
        lines.append("")
    if digest.truncated:
        more = digest.truncated
        lines += [f"_{more} more {'paper' if more == 1 else 'papers'} matched but "
                  f"{'is' if more == 1 else 'are'} not listed (limit {len(digest.items)} a day)._",
                  ""]
    return "\n".join(lines).rstrip("\n") + "\n"


# --- files ----------------------------------------------------------------------------------

def atomic_write_text(path: Path, text: str, *,
                      replace_file: Callable[[str, str], None] = os.replace) -> Path:
    """Write `text` to `path` so that readers see the old file or the new one, never half of it.

    The text goes to a temporary file in the same folder (same file system, so the rename is
    atomic), is flushed to disk, then renamed over `path`. If anything fails before the rename,
    the temporary file is removed and `path` is untouched; a process killed in between leaves at
    most a hidden `.<name>.*.tmp` file, which the README index ignores.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, FILE_MODE)
        replace_file(temp_name, str(path))
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise
    return path


def check_topic_name(topic: str) -> str:
    """A topic name usable as a file and folder name, or a DigestError saying why not."""
    if not isinstance(topic, str) or not topic.strip():
        raise DigestError("a Markdown topic needs a name (got an empty one)")
    if topic != topic.strip():
        raise DigestError(f"topic name {topic!r} starts or ends with spaces")
    if topic in (".", "..") or topic.startswith("."):
        raise DigestError(f"topic name {topic!r} cannot start with a dot (hidden or parent folder)")
    bad = sorted({ch for ch in topic if ch in '/\\:*?"<>|' or ord(ch) < 32})
    if bad:
        raise DigestError(f"topic name {topic!r} contains characters not allowed in file names: "
                          + " ".join(repr(ch) for ch in bad))
    if topic.casefold() == "readme":
        raise DigestError("topic name 'README' would overwrite the index README.md; choose another")
    return topic


@dataclass(frozen=True, slots=True)
class DayFile:
    """One dated digest file found on disk."""

    topic: str
    day: date
    path: Path
    count: int | None  # from the file's total badge; None if the file has none


class MarkdownWriter:
    """Writes digests under `out_dir`: `<topic>/<date>.md`, `<topic>.md` (the latest day) and
    `README.md` (an index of every topic found on disk, so several topics share it).

    The README is rebuilt from the files on disk at every write; two processes writing different
    topics at the same instant may each miss the other's newest day until the next write (each
    file is still whole).

    `replace_file` is the rename step of every atomic write (default `os.replace`); it is a seam
    for tests that simulate a crash between writing and renaming.
    """

    def __init__(self, out_dir: str | os.PathLike[str], *, recent_days: int = 10,
                 replace_file: Callable[[str, str], None] = os.replace) -> None:
        if recent_days < 1:
            raise DigestError(f"recent_days must be at least 1, got {recent_days}")
        self.out_dir = Path(out_dir)
        self.recent_days = recent_days
        self._replace_file = replace_file

    def day_path(self, topic: str, day: date) -> Path:
        return self.out_dir / check_topic_name(topic) / f"{day.isoformat()}.md"

    def latest_path(self, topic: str) -> Path:
        return self.out_dir / f"{check_topic_name(topic)}.md"

    @property
    def index_path(self) -> Path:
        return self.out_dir / "README.md"

    def write(
        self,
        digest: Digest,
        topic: str | None = None,
        *,
        keywords: Sequence[str] = (),
        filters: Sequence[str] = (),
        open_abstracts: bool = False,
    ) -> list[Path]:
        """Write the digest's day file, the topic's latest file and the README; return the paths
        written.

        `topic` defaults to the digest's title. The latest file is rewritten whenever this day is
        the newest on disk, also when the day is empty (so it never shows a stale day); writing
        an older day (a backfill) leaves the newer latest file alone.
        """
        text = render_markdown(digest, keywords=keywords, filters=filters,
                               open_abstracts=open_abstracts)
        return self.write_text(digest.title if topic is None else topic, digest.day, text)

    def write_text(self, topic: str, day: date, text: str) -> list[Path]:
        """Write an already rendered day (`render_markdown`) as `write` does."""
        topic = check_topic_name(topic)
        day_file = self._write(self.day_path(topic, day), text)
        written = [day_file]
        newest = max((found.day for found in self.day_files(topic)), default=day)
        if day >= newest:
            written.append(self._write(self.latest_path(topic), text))
        else:
            log.info("%s: %s is older than the latest day %s; %s left as it is",
                     topic, day, newest, self.latest_path(topic).name)
        written.append(self._write(self.index_path, self.render_index()))
        return written

    def _write(self, path: Path, text: str) -> Path:
        return atomic_write_text(path, text, replace_file=self._replace_file)

    def topics(self) -> list[str]:
        """Topic folders on disk that hold at least one dated digest, sorted by name."""
        if not self.out_dir.is_dir():
            return []
        found = []
        for folder in self.out_dir.iterdir():
            if folder.is_dir() and not folder.name.startswith(".") and any(
                    _DAY_FILE.match(child.name) for child in folder.iterdir()):
                found.append(folder.name)
        return sorted(found, key=str.casefold)

    def day_files(self, topic: str) -> list[DayFile]:
        """The topic's dated digests on disk, newest first."""
        folder = self.out_dir / topic
        if not folder.is_dir():
            return []
        files = []
        for child in folder.iterdir():
            matched = _DAY_FILE.match(child.name)
            if not matched or not child.is_file():
                continue
            try:
                day = date.fromisoformat(matched.group(1))
            except ValueError:
                continue  # 2025-13-45.md is not ours
            files.append(DayFile(topic, day, child, _badge_count(child)))
        return sorted(files, key=lambda found: found.day, reverse=True)

    def render_index(self) -> str:
        """README.md: per topic the latest day and its count, then links to the recent days."""
        lines = ["# 📰 arXiv paper digests", ""]
        topics = [(topic, self.day_files(topic)) for topic in self.topics()]
        if not topics:
            lines += ["No digests yet.", ""]
            return "\n".join(lines)
        lines += ["| Topic | Latest day | Papers |", "| --- | --- | --- |"]
        for topic, files in topics:
            latest = files[0]
            lines.append(f"| [{_cell(topic)}]({_link(topic + '.md')}) "
                         f"| [{latest.day.isoformat()}]({_day_link(latest)}) "
                         f"| {_count_text(latest.count)} |")
        lines.append("")
        for topic, files in topics:
            lines += [f"## {escape_inline(topic)}", ""]
            for found in files[: self.recent_days]:
                lines.append(f"- [{found.day.isoformat()}]({_day_link(found)}) · "
                             f"{_count_text(found.count, words=True)}")
            older = len(files) - self.recent_days
            if older > 0:
                lines.append(f"- _{older} older day{'s' if older != 1 else ''} in "
                             f"[{escape_inline(topic)}/]({_link(topic)}/)_")
            lines.append("")
        return "\n".join(lines)


def _badge_count(path: Path) -> int | None:
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(4096)  # the badge is in the file's first lines
    except (OSError, UnicodeDecodeError):
        return None
    matched = _BADGE_COUNT.search(head)
    return int(matched.group(1)) if matched else None


def _count_text(count: int | None, *, words: bool = False) -> str:
    if count is None:
        return "?"
    return papers_count(count) if words else str(count)


def _link(path: str) -> str:
    return quote(path, safe="/.-_~")


def _day_link(found: DayFile) -> str:
    return _link(f"{found.topic}/{found.day.isoformat()}.md")


def _cell(text: str) -> str:
    # escape_inline already escapes `|`, which would otherwise split the table cell.
    return escape_inline(text)
