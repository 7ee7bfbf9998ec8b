"""The daily listing feeds of rss.arxiv.org (Atom by default, RSS too) parsed into `Paper` records.

`parse_listing` is blocking (feedparser needs ~1 s per 2000 entries): callers in async code run it
with `asyncio.to_thread`. It tells apart the four kinds of document arXiv serves with HTTP 200:
an announcement (papers), an empty feed (weekend, holiday: a valid `Listing` with no papers), an
error feed (`FeedError` naming the bad category) and a broken document (`MalformedFeed`).
"""

from __future__ import annotations

import io
import logging
import re
import time
import xml.sax
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import feedparser

from bot.arxiv.errors import FeedError, InvalidArxivId, MalformedFeed
from bot.arxiv.ids import split_versioned_id
from bot.models import Paper

log = logging.getLogger(__name__)

EASTERN = ZoneInfo("America/New_York")

_ERROR_TITLE_PREFIX = "feed error for query"
# "arXiv:2504.17830v1 Announce Type: new \nAbstract: We introduce ..."
_SUMMARY_HEAD = re.compile(
    r"^\s*(?:arXiv:(?P<id>\S+)\s+)?(?:Announce Type:\s*(?P<type>[\w-]+)\s+)?Abstract:\s*",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"'([^']+)'")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Listing:
    """One listing document. `feed_date` is the announcement's date in US Eastern time.

    `entry_count` counts the document's entries, including any skipped because they could not be
    read (`skipped` says which and why); it is what arXiv's 2000-item cap applies to.
    """

    title: str
    feed_date: date | None
    papers: list[Paper] = field(default_factory=list)
    entry_count: int = 0
    skipped: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """No announcement in this feed (weekend, holiday, or nothing in these categories)."""
        return self.entry_count == 0


def collapse_whitespace(text: str | None) -> str:
    """Every run of whitespace (line breaks included) becomes one space; ends are trimmed.

    A line break is a word boundary: replacing it (never deleting it) keeps "the\\ncurrent" as
    "the current", not the seed digests' "thecurrent".
    """
    return _WHITESPACE.sub(" ", text or "").strip()


def split_authors(names: Iterable[str]) -> tuple[str, ...]:
    """arXiv's `dc:creator` holds all authors in one comma-separated string; commas inside
    parentheses (affiliations) do not separate authors."""
    authors: list[str] = []
    for name in names:
        depth = 0
        current: list[str] = []
        for char in name:
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(0, depth - 1)
            if char == "," and depth == 0:
                authors.append("".join(current))
                current = []
            else:
                current.append(char)
        authors.append("".join(current))
    return tuple(a for a in (collapse_whitespace(a) for a in authors) if a)


_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


_ENTRY_START = re.compile(rb"(?=<(?:entry|item)[\s>])")


def _repair_utf8(body: bytes) -> bytes:
    """A listing declared UTF-8 that is not valid UTF-8 everywhere: feedparser would fall back to
    windows-1252 for the WHOLE document and garble every non-ASCII character of the day. Decode
    per entry instead: a valid entry stays as it is; an entry holding no valid multi-byte UTF-8 at
    all is Latin-1/windows-1252 text (mislabelled) and is read as that; an entry mixing both keeps
    its valid text, each invalid byte replaced (U+FFFD)."""
    declared = _XML_ENCODING.match(body[:200])
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return body
    try:
        body.decode("utf-8")
        return body
    except UnicodeDecodeError:
        pass
    repaired: list[str] = []
    replaced = recoded = 0
    for chunk in _ENTRY_START.split(body):
        try:
            repaired.append(chunk.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        lenient = chunk.decode("utf-8", "replace")
        if all(ord(c) < 128 or c == "\ufffd" for c in lenient):
            repaired.append(chunk.decode("cp1252", "replace"))
            recoded += 1
        else:
            repaired.append(lenient)
            replaced += 1
    log.warning("the listing is not valid UTF-8: %d part(s) read as windows-1252, %d with invalid bytes "
                "replaced; the rest kept as it was", recoded, replaced)
    return "".join(repaired).encode("utf-8")


_AFFILIATION = re.compile(r"^(?P<name>[^()]*?)\s*\((?P<affiliation>.*)\)\s*$", re.DOTALL)


def split_affiliation(author: str) -> tuple[str, str]:
    """An author as arXiv's feeds write it, as (name, affiliation): "Jane Doe (University of
    Somewhere, United Kingdom)" -> ("Jane Doe", "University of Somewhere, United Kingdom");
    ("Jane Doe", "") when no affiliation follows the name."""
    found = _AFFILIATION.match(author)
    if found is None or not found.group("name").strip():
        return author, ""
    return collapse_whitespace(found.group("name")), collapse_whitespace(found.group("affiliation"))


def parse_listing(body: bytes) -> Listing:
    """Parse a listing document (Atom or RSS, as bytes).

    Raises `FeedError` for arXiv's error feed and `MalformedFeed` for anything that is not a
    complete RSS/Atom document.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError("parse_listing takes the response body as bytes")
    if not body.strip():
        raise MalformedFeed("empty response body")
    body = _repair_utf8(bytes(body))
    # A file-like object, so feedparser never mistakes a short body for a file name or URL.
    # Sanitizing is off because arXiv's RSS <description> is plain text typed as HTML: the
    # sanitizer would eat "$a<b$" as a tag. Titles and abstracts are data; renderers escape them.
    parsed = feedparser.parse(io.BytesIO(bytes(body)), sanitize_html=False, resolve_relative_uris=False)
    _reject_malformed(parsed)

    feed = parsed.feed
    title = collapse_whitespace(feed.get("title"))
    if title.lower().startswith(_ERROR_TITLE_PREFIX):
        raise _feed_error(title, collapse_whitespace(feed.get("subtitle") or feed.get("description")))

    feed_date = _feed_date(parsed)
    papers: list[Paper] = []
    skipped: list[str] = []
    for position, entry in enumerate(parsed.entries, start=1):
        try:
            papers.append(_paper_from_entry(entry, feed_date))
        except _UnreadableEntry as exc:
            reason = f"entry {position}: {exc}"
            log.warning("skipping an unreadable listing entry (%s)", reason)
            skipped.append(reason)
    return Listing(title=title, feed_date=feed_date, papers=papers, entry_count=len(parsed.entries),
                   skipped=tuple(skipped))


def _reject_malformed(parsed: feedparser.FeedParserDict) -> None:
    # feedparser sets `bozo` for harmless things too (a charset declared differently from the
    # HTTP header, a missing content type). What matters is whether the XML parsed to the end:
    # a SAX error means feedparser fell back to its lenient parser and the result may be partial.
    error = parsed.get("bozo_exception")
    if isinstance(error, xml.sax.SAXParseException):
        raise MalformedFeed(
            f"not well-formed XML at line {error.getLineNumber()}, column {error.getColumnNumber()}: "
            f"{error.getMessage()}"
        )
    if isinstance(error, feedparser.CharacterEncodingUnknown):
        raise MalformedFeed(f"cannot decode the document ({error})")
    if not parsed.get("version"):
        raise MalformedFeed("not an RSS or Atom document")
    if error is not None:
        log.info("feedparser flagged a listing that parsed completely: %s", error)


def _feed_error(title: str, description: str) -> FeedError:
    # "Bad archive 'astroph'. Valid archive names are: ..." names the culprit in quotes; the
    # title "Feed error for query: http://rss.arxiv.org/rss/astroph" holds the whole query.
    reason = description.split("Valid", 1)[0]
    named = _QUOTED.findall(reason)
    if not named:
        query = title.split(":", 1)[1].strip() if ":" in title else ""
        named = [c for c in query.rstrip("/").rsplit("/", 1)[-1].split("+") if c]
    return FeedError(named, description or title)


def _eastern_date(parsed_time: time.struct_time | None) -> date | None:
    if not parsed_time:
        return None
    # feedparser normalises every date to a UTC struct_time.
    return datetime(*parsed_time[:6], tzinfo=timezone.utc).astimezone(EASTERN).date()


def _feed_date(parsed: feedparser.FeedParserDict) -> date | None:
    for entry in parsed.entries:
        announced = _eastern_date(entry.get("published_parsed"))
        if announced:
            return announced
    feed = parsed.feed
    # RSS <pubDate> is the announcement date; Atom has only <updated>, the build time.
    return _eastern_date(feed.get("published_parsed")) or _eastern_date(feed.get("updated_parsed"))


class _UnreadableEntry(Exception):
    pass


def _paper_from_entry(entry: feedparser.FeedParserDict, feed_date: date | None) -> Paper:
    summary = entry.get("summary") or ""
    head = _SUMMARY_HEAD.match(summary)
    abstract = summary[head.end():] if head else summary

    raw_id = entry.get("id") or (head.group("id") if head and head.group("id") else None) or entry.get("link")
    if not raw_id:
        raise _UnreadableEntry("no arXiv id")
    try:
        paper_id, version = split_versioned_id(raw_id)
    except InvalidArxivId as exc:
        raise _UnreadableEntry(str(exc)) from None

    announce_type = entry.get("arxiv_announce_type") or (head.group("type") if head else None) or "new"
    categories = tuple(dict.fromkeys(
        tag["term"].strip() for tag in entry.get("tags", []) if tag.get("term", "").strip()
    ))
    # `entry.author` is only the last dc:creator; `entry.authors` has them all.
    # "Jane Doe (University of X, UK)": the name is the author, the affiliation is kept apart
    named = [split_affiliation(author)
             for author in split_authors(a.get("name", "") for a in entry.get("authors", []))]
    authors = tuple(name for name, _ in named)
    affiliations = tuple(affiliation for _, affiliation in named)
    return Paper(
        id=paper_id,
        version=version,
        title=collapse_whitespace(entry.get("title")),
        abstract=collapse_whitespace(abstract),
        authors=authors,
        categories=categories,
        announce_type=announce_type.strip().lower(),
        announced=feed_date or _eastern_date(entry.get("published_parsed")),
        affiliations=affiliations if any(affiliations) else (),
    )
