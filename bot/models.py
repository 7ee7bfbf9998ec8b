"""Neutral records shared by every part of paperbot (no I/O, no platform code)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

AnnounceType = Literal["new", "cross", "replace", "replace-cross"]
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


@dataclass(frozen=True, slots=True)
class Hit:
    """A query term found in a paper: which term, in which field, where (character span)."""

    term: str
    field: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Match:
    """A paper selected by one subscription, with what hit and how strongly."""

    subscription_id: str
    paper: Paper
    hits: tuple[Hit, ...] = field(default_factory=tuple)
    score: float = 0.0

    @property
    def hit_terms(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for hit in self.hits:
            seen.setdefault(hit.term, None)
        return tuple(seen)
