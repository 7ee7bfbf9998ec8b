"""Neutral records shared by every part of paperbot (no I/O, no platform code)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from operator import itemgetter
from typing import Literal

ANNOUNCE_TYPES: tuple[str, ...] = ("new", "cross", "replace", "replace-cross")

# Field names a query term can hit; spans in a Hit refer to the text of that field.
Field = Literal["title", "abstract", "authors", "categories"]


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper as announced on one day.

    `id` is versionless (`2504.13365`, `hep-th/9901001`); `categories` keep the paper's own
    order with the primary first. `announce_type` and `announced` describe the listing the paper
    came from. The enrichment fields stay None until the API has been asked.
    """

    id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    announce_type: str = "new"
    version: int | None = None
    announced: date | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    # One per author ("" when none was given), or () when the source gave none: the feeds write
    # "Jane Doe (University of X)", and the name alone is the author. Optional and not part of
    # equality, so papers read back from a store that does not keep it still compare equal.
    affiliations: tuple[str, ...] = field(default=(), compare=False)

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def is_update(self) -> bool:
        return self.announce_type in ("replace", "replace-cross")

    @property
    def is_cross_list(self) -> bool:
        return self.announce_type in ("cross", "replace-cross")

    def with_changes(self, **changes) -> "Paper":
        return replace(self, **changes)


class _Record(tuple):
    """An immutable record stored as a tuple, for the records the matcher makes by the million.

    A frozen dataclass pays a Python-level `object.__setattr__` per field; a tuple is built in C
    (`tuple.__new__(Match, fields)`, see `Match.from_fields`), ten times cheaper at a day's 10^6
    matches. Subclasses list `_fields` and expose them as read-only properties. Equality and
    hashing are by field values between records of the same class only (a record never equals a
    plain tuple), and records do not order, as with the dataclasses they replace.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    @classmethod
    def from_fields(cls, fields: tuple):
        """The record for a tuple of all its fields, in `_fields` order, with no checks (the
        matcher's fast path: `map(tuple.__new__, repeat(Match), rows)` does the same in C)."""
        return tuple.__new__(cls, fields)

    def __getnewargs__(self):  # pickle and copy call __new__ with the fields as arguments
        return tuple(self)

    # Answering (not NotImplemented) matters: Python would otherwise fall back to the plain
    # tuple's comparison, which accepts any tuple subclass.
    def __eq__(self, other):
        return other.__class__ is self.__class__ and tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __lt__(self, other):
        raise TypeError(f"{type(self).__name__} records have no order; sort by a key")

    __le__ = __gt__ = __ge__ = __lt__

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"{type(self).__name__}({values})"

    def _replace(self, **changes):
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        return type(self)(**{name: changes.get(name, value) for name, value in zip(self._fields, self)})


class Hit(_Record):
    """A query term found in a paper: which term, in which field, where (character span)."""

    __slots__ = ()
    _fields = ("term", "field", "start", "end")

    def __new__(cls, term: str, field: str, start: int, end: int) -> "Hit":
        return tuple.__new__(cls, (term, field, start, end))

    term: str = property(itemgetter(0), doc="the term as the query wrote it")  # type: ignore[assignment]
    field: str = property(itemgetter(1), doc="title, abstract, authors or categories")  # type: ignore[assignment]
    start: int = property(itemgetter(2), doc="span start in the field's text")  # type: ignore[assignment]
    end: int = property(itemgetter(3), doc="span end in the field's text")  # type: ignore[assignment]


class Match(_Record):
    """A paper selected by one subscription, with what hit and how strongly.

    `hits` is often the very tuple other matches of the same paper hold (hits depend on the
    paper and the terms, not on who subscribed); records are immutable, so sharing is safe.
    """

    __slots__ = ()
    _fields = ("subscription_id", "paper", "hits", "score")

    def __new__(cls, subscription_id: str, paper: Paper, hits: tuple[Hit, ...] = (),
                score: float = 0.0) -> "Match":
        return tuple.__new__(cls, (subscription_id, paper, hits, score))

    subscription_id: str = property(itemgetter(0))  # type: ignore[assignment]
    paper: Paper = property(itemgetter(1))  # type: ignore[assignment]
    hits: tuple[Hit, ...] = property(itemgetter(2))  # type: ignore[assignment]
    score: float = property(itemgetter(3))  # type: ignore[assignment]

    @property
    def hit_terms(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for hit in self.hits:
            seen.setdefault(hit.term, None)
        return tuple(seen)
