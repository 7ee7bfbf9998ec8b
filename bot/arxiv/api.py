"""Responses of the arXiv API (export.arxiv.org/api/query) parsed into `Enrichment` records.

Both the current output format and the pre-2025 one (namespaces declared per element, http links)
are plain Atom with the same namespace URIs, so one namespace-aware parser reads both. The API is
only asked for metadata the listing lacks: the primary category, comment, journal ref and DOI.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from bot.arxiv.errors import ApiError, InvalidArxivId, MalformedFeed
from bot.arxiv.feeds import collapse_whitespace
from bot.arxiv.ids import split_versioned_id
from bot.models import Paper

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"


@dataclass(frozen=True, slots=True)
class Enrichment:
    """What the API says about one paper. `categories` start with the primary category."""

    id: str
    version: int | None
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None


def parse_api_response(body: bytes) -> list[Enrichment]:
    """Parse an API response (bytes). Zero entries is an empty list (unknown ids are simply absent).

    Raises `ApiError` for arXiv's `Error` entry and `MalformedFeed` for a broken document.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError("parse_api_response takes the response body as bytes")
    if not body.strip():
        raise MalformedFeed("empty API response")
    try:
        root = ET.fromstring(bytes(body))
    except ET.ParseError as exc:
        line, column = exc.position
        raise MalformedFeed(f"API response is not well-formed XML at line {line}, column {column}: {exc.msg}") from None
    if root.tag != f"{_ATOM}feed":
        raise MalformedFeed(f"API response is not an Atom feed (root element {root.tag!r})")

    enrichments: list[Enrichment] = []
    for entry in root.iterfind(f"{_ATOM}entry"):
        _raise_if_error_entry(entry)
        enrichments.append(_enrichment_from_entry(entry))
    return enrichments


def apply_enrichment(paper: Paper, enrichment: Enrichment) -> Paper:
    """The paper with the API's comment, journal ref and DOI, and the API's primary category first.

    The listing's own categories and version are kept: the listing says what was announced today.
    """
    categories = list(paper.categories)
    primary = enrichment.primary_category
    if primary:
        if primary in categories:
            categories.remove(primary)
        categories.insert(0, primary)
    return paper.with_changes(
        categories=tuple(categories),
        comment=enrichment.comment if enrichment.comment is not None else paper.comment,
        journal_ref=enrichment.journal_ref if enrichment.journal_ref is not None else paper.journal_ref,
        doi=enrichment.doi if enrichment.doi is not None else paper.doi,
    )


def _text(element: ET.Element, tag: str) -> str | None:
    child = element.find(tag)
    if child is None:
        return None
    text = collapse_whitespace("".join(child.itertext()))
    return text or None


def _raise_if_error_entry(entry: ET.Element) -> None:
    # An error is an ordinary-looking entry: title "Error", id .../api/errors#..., message in summary.
    entry_id = _text(entry, f"{_ATOM}id") or ""
    if _text(entry, f"{_ATOM}title") == "Error" or "/api/errors" in entry_id:
        message = _text(entry, f"{_ATOM}summary") or entry_id or "unspecified error"
        raise ApiError(message)


def _enrichment_from_entry(entry: ET.Element) -> Enrichment:
    raw_id = _text(entry, f"{_ATOM}id")
    try:
        paper_id, version = split_versioned_id(raw_id or "")
    except InvalidArxivId:
        raise MalformedFeed(f"API entry with an unreadable id {raw_id!r}") from None

    categories = [c.get("term", "").strip() for c in entry.iterfind(f"{_ATOM}category")]
    primary_element = entry.find(f"{_ARXIV}primary_category")
    primary = (primary_element.get("term") or "").strip() if primary_element is not None else ""
    ordered = ([primary] if primary else []) + [c for c in categories if c and c != primary]

    authors = tuple(
        name for name in (
            collapse_whitespace(author.findtext(f"{_ATOM}name")) for author in entry.iterfind(f"{_ATOM}author")
        ) if name
    )
    return Enrichment(
        id=paper_id,
        version=version,
        title=_text(entry, f"{_ATOM}title") or "",
        abstract=_text(entry, f"{_ATOM}summary") or "",
        authors=authors,
        categories=tuple(dict.fromkeys(ordered)),
        comment=_text(entry, f"{_ARXIV}comment"),
        journal_ref=_text(entry, f"{_ARXIV}journal_ref"),
        doi=_text(entry, f"{_ARXIV}doi"),
    )
