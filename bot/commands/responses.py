"""Neutral command replies that each adapter renders natively (Block Kit, embeds) or as plain text.

A `Response` is a short `text` (the notification / fallback line) plus ordered `sections`. Every
string in it is plain text, never markup: user queries and paper titles are data, so adapters
escape them for their platform. `plain_text()` renders the whole reply without any markup, for
platforms or logs that take only text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

from bot.digest.model import Digest, DigestItem

# What kind of answer this is, so adapters can style it and tests can tell a refusal from a crash.
OK = "ok"
INVALID = "invalid"          # the user's input could not be used (bad command, bad query)
REFUSED = "refused"          # understood, but not allowed (permission, a limit)
UNAVAILABLE = "unavailable"  # the bot cannot answer right now (database busy or broken)
INTERNAL = "internal"        # a bug; logged with its traceback, the user sees an apology
Outcome = Literal["ok", "invalid", "refused", "unavailable", "internal"]


@dataclass(frozen=True, slots=True)
class Heading:
    text: str


@dataclass(frozen=True, slots=True)
class Lines:
    """Short paragraphs or list lines, one per entry."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Preformatted:
    """Monospace text where columns matter: a query as read, a caret under an error, an
    explanation. `caption` is an optional plain line shown before it."""

    text: str
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class PaperList:
    """Papers to show (title, authors, categories, hit terms from each DigestItem).

    `explanations`, when not empty, holds one text per item (why it matched), shown with it.
    `more` counts matching papers left out of `items` to keep the reply short.
    """

    items: tuple[DigestItem, ...]
    explanations: tuple[str, ...] = ()
    more: int = 0

    def __post_init__(self) -> None:
        if self.explanations and len(self.explanations) != len(self.items):
            raise ValueError(f"{len(self.explanations)} explanations for {len(self.items)} papers")


@dataclass(frozen=True, slots=True)
class DigestSection:
    """A whole digest (for `today`): its items, counts and how many were cut (`truncated`)."""

    digest: Digest


Section = Union[Heading, Lines, Preformatted, PaperList, DigestSection]


@dataclass(frozen=True, slots=True)
class Response:
    """One reply. `ephemeral` replies are seen only by the person who typed the command."""

    text: str
    sections: tuple[Section, ...] = ()
    ephemeral: bool = True
    outcome: Outcome = OK

    @property
    def is_error(self) -> bool:
        return self.outcome != OK

    def plain_text(self) -> str:
        """The whole reply as unformatted text."""
        blocks = [self.text]
        for section in self.sections:
            rendered = _plain(section)
            if rendered:
                blocks.append(rendered)
        return "\n\n".join(blocks)


def _paper_line(item: DigestItem) -> str:
    paper = item.paper
    labels = f" [{', '.join(item.labels)}]" if item.labels else ""
    categories = f" ({' '.join(paper.categories)})" if paper.categories else ""
    return f"- {paper.title} — arXiv:{paper.id}{categories}{labels}\n  {paper.abs_url}"


def _plain(section: Section) -> str:
    if isinstance(section, Heading):
        return section.text
    if isinstance(section, Lines):
        return "\n".join(section.lines)
    if isinstance(section, Preformatted):
        return f"{section.caption}\n{section.text}" if section.caption else section.text
    if isinstance(section, PaperList):
        lines = []
        for position, item in enumerate(section.items):
            lines.append(_paper_line(item))
            if section.explanations:
                lines.extend("    " + line for line in section.explanations[position].splitlines())
        if section.more:
            lines.append(f"... and {section.more} more")
        return "\n".join(lines)
    digest = section.digest
    lines = [_paper_line(item) for item in digest.items]
    if digest.truncated:
        lines.append(f"... and {digest.truncated} more")
    return "\n".join(lines)


def error_response(message: str, *, outcome: Outcome = INVALID,
                   sections: tuple[Section, ...] = ()) -> Response:
    """A private reply saying what went wrong."""
    return Response(text=message, sections=sections, ephemeral=True, outcome=outcome)
