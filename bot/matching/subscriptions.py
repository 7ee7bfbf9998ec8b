"""Subscriptions: a query plus options (announce types, categories), validated once."""

from __future__ import annotations

from dataclasses import dataclass

from bot.taxonomy import archive_of, canonical_category, is_known_category
from bot.models import ANNOUNCE_TYPES, Paper

from .query import Query

DEFAULT_TYPES = frozenset({"new", "cross"})


@dataclass(frozen=True)
class Subscription:
    """A query plus options: announce types to admit and an optional category restriction.

    `types`: "new" and "cross" by default; "replace" also admits "replace-cross".
    `categories`: when not empty, the paper must be in one of them (categories or archives).
    """

    id: str
    query: Query
    types: frozenset[str] = DEFAULT_TYPES
    categories: frozenset[str] = frozenset()

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"a subscription id must be non-empty text, not {self.id!r}")
        if not isinstance(self.query, Query):
            raise ValueError(f'subscription "{self.id}": query must be a parsed Query '
                             f"(use parse_query), not {type(self.query).__name__}")
        types = self.types
        if isinstance(types, str):
            types = [part.strip() for part in types.split(",") if part.strip()]
        types = frozenset(types)
        unknown = sorted(types - set(ANNOUNCE_TYPES))
        if unknown:
            raise ValueError(f'subscription "{self.id}": unknown announce type "{unknown[0]}" '
                             f"(known: {', '.join(ANNOUNCE_TYPES)})")
        if not types:
            raise ValueError(f'subscription "{self.id}": no announce types selected')
        categories = self.categories
        if isinstance(categories, str):
            categories = [categories]
        canonical = set()
        for name in categories:
            known = canonical_category(name)
            if known is None and is_known_category(name.lower()):
                known = name.lower()
            if known is None:
                raise ValueError(f'subscription "{self.id}": unknown category "{name}"')
            canonical.add(known)
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "categories", frozenset(canonical))

    @property
    def admitted_types(self) -> frozenset[str]:
        if "replace" in self.types:
            return self.types | {"replace-cross"}
        return self.types

    def admits_type(self, paper: Paper) -> bool:
        return paper.announce_type in self.admitted_types

    def admits_categories(self, paper: Paper) -> bool:
        return not self.categories or not self.categories.isdisjoint(category_set(paper))


def category_set(paper: Paper) -> set[str]:
    return set(paper.categories) | {archive_of(c) for c in paper.categories}

