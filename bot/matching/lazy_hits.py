"""Hits whose spans are worked out only when someone looks at them (DESIGN.md §4, issue 12).

A day at 100k subscriptions makes over a million matches, and most of them are never shown one
by one: materialising every span up front cost more than finding the matches. A Match's `hits`
is therefore a `LazyHits`: a read-only sequence of `Hit` that computes its tuple on first use
(iterating, indexing, comparing) and keeps it. The score never needs the spans (it counts hits
per field), so matching computes it eagerly and leaves the spans for the few matches shown.
"""

from __future__ import annotations

from itertools import chain
from typing import Callable, Iterator

from bot.models import Hit


class LazyHits:
    """A tuple of Hit computed on first use by `compute(*args)`; compares equal to that tuple."""

    __slots__ = ("_compute", "_args", "_hits")

    def __init__(self, compute: Callable[..., tuple[Hit, ...]], *args):
        self._compute = compute
        self._args = args
        self._hits: tuple[Hit, ...] | None = None

    @property
    def resolved(self) -> tuple[Hit, ...]:
        hits = self._hits
        if hits is None:
            hits = self._hits = tuple(self._compute(*self._args))
            self._compute = self._args = None  # the paper's normalised text can go
        return hits

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.resolved)

    def __len__(self) -> int:
        return len(self.resolved)

    def __bool__(self) -> bool:
        return bool(self.resolved)

    def __getitem__(self, index):
        return self.resolved[index]

    def __contains__(self, hit) -> bool:
        return hit in self.resolved

    def __eq__(self, other) -> bool:
        if isinstance(other, LazyHits):
            other = other.resolved
        return self.resolved == other

    def __ne__(self, other) -> bool:
        return not self == other

    def __lt__(self, other):
        return self.resolved < tuple(other)

    def __le__(self, other):
        return self.resolved <= tuple(other)

    def __gt__(self, other):
        return self.resolved > tuple(other)

    def __ge__(self, other):
        return self.resolved >= tuple(other)

    def __hash__(self) -> int:
        return hash(self.resolved)

    def __add__(self, other):
        return self.resolved + tuple(other)

    def __radd__(self, other):
        return tuple(other) + self.resolved

    def __reduce__(self):
        return tuple, (self.resolved,)  # pickles (and copies) as the plain tuple

    def __repr__(self) -> str:
        return repr(self.resolved)


def _concatenated(parts) -> Iterator[Hit]:
    return chain.from_iterable(parts)


def concatenated(parts: list) -> tuple[Hit, ...] | LazyHits:
    """Several terms' hits one after the other, lazily when any part is lazy."""
    if not any(isinstance(part, LazyHits) for part in parts):
        return tuple(chain.from_iterable(parts))
    return LazyHits(_concatenated, parts)
