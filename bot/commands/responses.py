"""Neutral command replies that each adapter renders natively (Block Kit, embeds) or as plain text.

A `Response` is a short `text` (the notification / fallback line) plus ordered `sections`. Every
string in it is plain text, never markup: user queries and paper titles are data, so adapters
escape them for their platform. `plain_text()` renders the whole reply without any markup, for
platforms or logs that take only text.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Sequence
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
SECTION_TYPES: tuple[type, ...] = typing.get_args(Section)


def section_renderer(name: str):
    """A `functools.singledispatch` function with one implementation per section type, to be
    registered by the renderer (`@render.register`); a type nobody registered raises TypeError
    naming the renderer instead of rendering nothing."""

    @functools.singledispatch
    def render(section):
        raise TypeError(f"the {name} renderer has no case for {type(section).__name__}: {section!r}")

    render.renderer_name = name  # type: ignore[attr-defined]
    return render


def unhandled_section_types(renderer) -> list[str]:
    """Section types `renderer` (made by `section_renderer`) has no case for (tests use this)."""
    return [kind.__name__ for kind in SECTION_TYPES if renderer.dispatch(kind) is renderer.dispatch(object)]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that goes with a reply (an export). An adapter uploads it where the platform lets
    it; where it cannot, it shows `text` in code blocks, cut by `pieces` within its own limits."""

    filename: str
    text: str
    title: str = ""
    pieces: "typing.Callable[[str, int], list[str]] | None" = None  # (text, limit) -> parts

    def split(self, limit: int) -> list[str]:
        if self.pieces is not None:
            return self.pieces(self.text, limit)
        return [self.text[n:n + limit] for n in range(0, len(self.text), limit)] or [""]


@dataclass(frozen=True, slots=True)
class Response:
    """One reply. `ephemeral` replies are seen only by the person who typed the command.
    `attachment`: a file that belongs to the reply (see `Attachment`)."""

    text: str
    sections: tuple[Section, ...] = ()
    ephemeral: bool = True
    outcome: Outcome = OK
    attachment: Attachment | None = None

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


def _paper_lines(items: Sequence[DigestItem], explanations: Sequence[str], more: int) -> str:
    lines = []
    for position, item in enumerate(items):
        lines.append(_paper_line(item))
        if explanations:
            lines.extend("    " + line for line in explanations[position].splitlines())
    if more:
        lines.append(f"... and {more} more")
    return "\n".join(lines)


# One renderer per section type, for every platform alike: `section_renderer()` makes the
# registry, and tests/commands/test_responses.py checks each registry covers SECTION_TYPES, so a
# new section type cannot be silently forgotten by one of them.
_plain = section_renderer("plain text")


@_plain.register
def _(section: Heading) -> str:
    return section.text


@_plain.register
def _(section: Lines) -> str:
    return "\n".join(section.lines)


@_plain.register
def _(section: Preformatted) -> str:
    return f"{section.caption}\n{section.text}" if section.caption else section.text


@_plain.register
def _(section: PaperList) -> str:
    return _paper_lines(section.items, section.explanations, section.more)


@_plain.register
def _(section: DigestSection) -> str:
    return _paper_lines(section.digest.items, (), section.digest.truncated)


PLAIN_TEXT_RENDERER = _plain


def error_response(message: str, *, outcome: Outcome = INVALID,
                   sections: tuple[Section, ...] = ()) -> Response:
    """A private reply saying what went wrong."""
    return Response(text=message, sections=sections, ephemeral=True, outcome=outcome)


# The sentences several places answer with, said once here.
DATABASE_UNAVAILABLE = ("I cannot reach my database just now, so I could not do that. "
                        "Please try again in a minute.")
INTERNAL_ERROR = ("Sorry, something went wrong on my side while doing that; it has been logged "
                  "for whoever runs paperbot.")
NOTHING_SAVED = "Nothing was saved."


def unavailable_response() -> Response:
    """The database could not be reached (locked, full, closed): try again later."""
    return error_response(DATABASE_UNAVAILABLE, outcome=UNAVAILABLE)


def internal_error_response(*, nothing_saved: bool = False) -> Response:
    """A bug (logged with its traceback by the caller): an apology, never the traceback."""
    text = f"{INTERNAL_ERROR} {NOTHING_SAVED}" if nothing_saved else INTERNAL_ERROR
    return error_response(text, outcome=INTERNAL)


def refused_response(action: str, who_may: str) -> Response:
    """Understood, but this person may not do it here; `who_may` says who may."""
    return error_response(f"You cannot {action} here. {who_may}", outcome=REFUSED)


def missing_paper_response(paper_id: str) -> Response:
    """An Abstract button of a paper the store no longer has: its arXiv page instead."""
    return error_response(f"I no longer have arXiv:{paper_id} stored; it is at "
                          f"https://arxiv.org/abs/{paper_id}", outcome=INVALID)
