"""A paper normalised once per match() call: token streams per field, spans on demand."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from functools import lru_cache
from itertools import accumulate, count
from operator import add, itemgetter
from typing import Sequence

from bot.taxonomy import archive_of
from bot.models import Hit, Paper

from .subscriptions import category_set
from .terms import AUTHOR_END, AUTHOR_START
from .tokens import math_spans, plain_pieces, token_stream, tokenize

_EMPTY_SET: frozenset = frozenset()

# Normalising a field depends on its text only, and the same texts come back: commands ask many
# questions of the latest day's papers (issue 12), a day is matched again once enriched. The
# latest ones are kept (token stream and LaTeX map, about the text's size: ~10 MB when full), so
# a paper asked about again is not normalised again.
NORMALISED_FIELDS_KEPT = 8192
_normalised = lru_cache(maxsize=NORMALISED_FIELDS_KEPT)(token_stream)


def field_text(paper: Paper, field_name: str) -> str:
    """The text a Hit's span indexes into: title and abstract as they are, authors joined with
    ", ", categories joined with " "."""
    if field_name == "title":
        return paper.title
    if field_name == "abstract":
        return paper.abstract
    if field_name == "authors":
        return ", ".join(paper.authors)
    if field_name == "categories":
        return " ".join(paper.categories)
    raise ValueError(f'unknown field "{field_name}" (title, abstract, authors, categories)')



class Region:
    """One field's token stream plus token tables built on first use (only needed for hits)."""

    __slots__ = ("text", "plain_text", "stream", "plain", "written_stream", "hits", "offset",
                 "_pids", "_pieces", "_tables", "_lasts", "_counts")

    def __init__(self, text: str):
        self.text = text
        self.plain_text, self.stream, self.plain, self.written_stream = _normalised(text)
        self._pieces = None
        self._counts = None
        self.hits: list[tuple[int, int, int]] = []   # (key id, start, end) in the stream
        # where the stream starts in the text its hits' positions are in (see scan_together)
        self.offset = 0
        self._pids: set[int] | None = None
        self._tables = None
        self._lasts = None

    @property
    def pids(self) -> set[int]:
        """The keys that hit (from `hits`, on first use)."""
        return _pids(self)

    def raw_stream(self) -> str | None:
        """The token stream as written (not folded) at the same offsets as `stream`, so a key
        hit's tokens as written are a slice of it (cheaper than the token tables); None when
        folding changed a token's length."""
        return self.written_stream or None

    def written_at(self, raw: str, start: int, end: int) -> str:
        """The tokens, as written and space-separated, of a key hit at `stream[start:end]`
        (positions in the stream, not offset; a key ending inside a token, `robot*`, takes the
        whole token)."""
        stop = end - 1 if raw[end - 1] == " " else raw.find(" ", end)
        return raw[start + 1:stop]

    @property
    def pieces(self) -> list[str]:
        """Separator/token pieces of the plain text (split on first use: only hits need them)."""
        pieces = self._pieces
        if pieces is None:
            # the split alone: a check reading separators needs no token tables (a tenth of it)
            pieces = self._pieces = plain_pieces(self.plain_text)
        return pieces

    def tables(self) -> tuple[dict[int, int], list[int], list[int]]:
        """(last token by hit end, token start, token end): a key hit ending at stream offset
        `end` (just after the space after its last token) covers tokens `last - n + 1 .. last`,
        whose characters in the text run from `starts[first]` to `stops[last]`."""
        tables = self._tables
        if tables is None:
            self._pieces, tables = _field_tables(self.text)
            self._tables = tables
        return tables

    def written(self, index: int) -> str:
        """Token `index` as written (after LaTeX conversion)."""
        return self.pieces[2 * index + 1]

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Character span in the original text from token `first` to token `last`."""
        _, starts, stops = self.tables()
        return starts[first], stops[last]

    def counts(self) -> dict[int, int]:
        """How many times each key hit (counted on first use; no token tables needed)."""
        counts = self._counts
        if counts is None:
            counts = self._counts = Counter(map(itemgetter(0), self.hits))
        return counts

    def lasts(self, pid: int) -> list[int]:
        """Last token index of each hit of key `pid`, in text order (grouped on first use)."""
        by_pid = self._lasts
        if by_pid is None:
            by_pid = self._lasts = {}
            last_token = self.tables()[0]
            ends = map(itemgetter(2), self.hits)
            if self.offset:
                ends = [end - self.offset for end in ends]
            lasts = list(map(last_token.get, ends))
            if None in lasts:
                # a prefix key (`robot*`) ends inside its token: the token ends at the next space
                stream = self.stream
                lasts = [last_token[stream.index(" ", end - self.offset) + 1] if last is None
                         else last for (_, _, end), last in zip(self.hits, lasts)]
            for found, last in zip(map(itemgetter(0), self.hits), lasts):
                if found in by_pid:
                    by_pid[found].append(last)
                else:
                    by_pid[found] = [last]
        return by_pid.get(pid, ())


def _pids(region) -> set[int]:
    pids = region._pids
    if pids is None:
        pids = region._pids = set(map(itemgetter(0), region.hits)) if region.hits else _EMPTY_SET
    return pids


_AFFILIATION = re.compile(r"\s*\([^()]*\)\s*$")


# A field's pieces and token tables are needed where a key with a check hit (capitals, camel
# case) or a hit's span is shown. They depend on the text only, so the latest ones are kept too,
# fewer (about 20 KB for an abstract): a paper a command asks about again reuses them.
FIELD_TABLES_KEPT = 1024


@lru_cache(maxsize=FIELD_TABLES_KEPT)
def _field_tables(text: str) -> tuple[list[str], tuple[dict[int, int], list[int], list[int]]]:
    """(pieces, (last token by stream end, token start, token end)) of a field's text, see
    Region.pieces and Region.tables. Shared by the Regions of equal texts: read only."""
    plain_text, stream, plain, _ = _normalised(text)
    pieces = plain_pieces(plain_text)
    # The space after token i sits at sum(len(token j) + 1 for j <= i) in " a b c "; a key hit
    # whose last token is i ends just after it.
    stream_ends = map(add, accumulate(map(len, stream[1:-1].split(" "))), count(2))
    last_token = dict(zip(stream_ends, count()))
    offsets = list(accumulate(map(len, pieces), initial=0))
    starts, stops = offsets[1::2], offsets[2::2]
    if plain is not None:
        # the pieces are of the text with its LaTeX converted: map back to the original
        starts = list(map(plain.start, starts))
        stops = list(map(plain.end, stops))
        if "$" in text:
            starts, stops = _whole_math(text, starts, stops)
    return pieces, (last_token, starts, stops)


def author_name(author: str) -> str:
    """An author's name without an affiliation in parentheses after it ("Jane Doe (University of
    Somewhere, UK)" -> "Jane Doe"): papers stored before the feed parser split them still have
    them, and a family name is never the last word of an affiliation."""
    if "(" not in author:
        return author
    return _AFFILIATION.sub("", author) or author


def _whole_math(text: str, starts: list[int], stops: list[int]) -> tuple[list[int], list[int]]:
    """Spans widened to whole `$...$` pieces, so a highlighted hit never cuts math in half
    (`MoS$_2$`, not `MoS$_2`)."""
    maths = [(m.start(), m.end()) for m in math_spans(text)]
    if not maths:
        return starts, stops
    opens = [start for start, _ in maths]

    def widen(position: int, is_start: bool) -> int:
        index = bisect_right(opens, position - (0 if is_start else 1)) - 1
        if index >= 0:
            open_at, close_at = maths[index]
            if open_at < position < close_at:
                return open_at if is_start else close_at
        return position

    return [widen(p, True) for p in starts], [widen(p, False) for p in stops]


class AuthorRegion:
    """Authors as `\\x04 given family \\x05` segments; spans index into ", ".join(authors)."""

    __slots__ = ("names", "author_tokens", "segment_starts", "stream", "hits", "offset", "_pids",
                 "_author_spans", "_ends")

    def __init__(self, authors: Sequence[str]):
        self.names = tuple(authors)
        self.author_tokens = [tokenize(author_name(author)) for author in self.names]
        segments = [f" {AUTHOR_START} {' '.join(tokens)} {AUTHOR_END}"
                    for tokens in self.author_tokens]
        self.segment_starts = list(accumulate(map(len, segments), initial=0))
        self.stream = "".join(segments) + " " if segments else ""
        self.hits: list[tuple[int, int, int]] = []   # (key id, start, end) in the stream
        self.offset = 0   # as Region.offset
        self._pids: set[int] | None = None
        self._author_spans = None
        self._ends = None

    @property
    def text(self) -> str:
        return ", ".join(self.names)

    @property
    def pids(self) -> set[int]:
        """The keys that hit (from `hits`, on first use)."""
        return _pids(self)

    def author_at(self, stream_offset: int) -> int:
        return bisect_right(self.segment_starts, stream_offset) - 1

    def author_span(self, index: int) -> tuple[int, int]:
        if self._author_spans is None:
            spans, offset = [], 0
            for name in self.names:
                spans.append((offset, offset + len(name)))
                offset += len(name) + 2
            self._author_spans = spans
        return self._author_spans[index]

    def ends(self, pid: int) -> list[int]:
        """Stream offsets of the last character of each hit of key `pid` (the family name's
        end marker; hits grouped by key on first use)."""
        by_pid = self._ends
        if by_pid is None:
            by_pid = self._ends = {}
            before = self.offset + 1
            for found, _, end in self.hits:
                if found in by_pid:
                    by_pid[found].append(end - before)
                else:
                    by_pid[found] = [end - before]
        return by_pid.get(pid, ())


NO_AUTHORS = AuthorRegion(())


class PaperState:
    """A paper normalised once for a whole match() call, with its per-term hits cached."""

    __slots__ = ("paper", "regions", "category_keys", "category_set", "term_hits", "hit")

    def __init__(self, paper: Paper, with_authors: bool = True):
        self.paper = paper
        self.regions = (Region(paper.title), Region(paper.abstract),
                        AuthorRegion(paper.authors) if with_authors else NO_AUTHORS)
        categories = paper.categories
        self.category_set = category_set(paper)
        keys = [f"cat:{name}" for name in self.category_set]
        if categories:
            keys += [f"primary:{categories[0]}", f"primary:{archive_of(categories[0])}"]
        self.category_keys = keys
        self.term_hits: dict[int, tuple[tuple[Hit, ...], float]] = {}
        self.hit: set[int] = set()

