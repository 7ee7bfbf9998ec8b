"""A compiled matcher's keys in a few Aho-Corasick automata (ahocorasick_rs, a wrapper of the
Rust `aho-corasick` crate: about twice as fast as pyahocorasick over a day's papers with 400k keys,
its contiguous NFA being compact enough to stay in the CPU caches that pyahocorasick's node
objects miss).

Its automata are immutable, built from the whole list of their keys, and building one holds the
GIL (about a second at 400k keys). So keys live in generations: the keys compiled together in one
automaton built in the thread that compiles, and keys added later in smaller ones of at most
GENERATION_KEYS each, of which only the last is ever rebuilt: a subscribe rebuilds some thousand
keys (~30 ms), never the whole set. Keys are never removed (a matcher leaves a key no term uses
inert), so a key's id is its place in the order keys were added.

A scan gives the hits of a text as (key id, start, end) with `text[start:end]` the key, every
overlapping hit included. `scan_together` scans many texts in one call: the search releases the
GIL for its whole length, so a day's scan runs on another core while the matcher normalises the
next papers (a call per text would wait for the GIL after each of them).
"""

from __future__ import annotations

from functools import partial
from itertools import accumulate
from operator import itemgetter
from typing import Callable, Sequence

import numpy as np
from ahocorasick_rs import AhoCorasick, Implementation

Hit = tuple[int, int, int]   # (key id, start, end): text[start:end] is the key
hit_key = itemgetter(0)      # a hit's key id
hit_end = itemgetter(2)
Scan = Callable[[str], list[Hit]]

# Between the texts scanned together: no key contains it, so no hit spans two texts.
TEXT_SEPARATOR = "\n"

# Most keys an automaton built after compile time takes before a new one is started: bounds the
# GIL hold of rebuilding it on a subscribe against one more scan per paper field.
GENERATION_KEYS = 20_000


class _Generation:
    __slots__ = ("first_id", "keys", "automaton")

    def __init__(self, first_id: int):
        self.first_id = first_id
        self.keys: list[str] = []
        self.automaton: AhoCorasick | None = None

    def build(self) -> None:
        self.automaton = AhoCorasick(self.keys, implementation=Implementation.ContiguousNFA)

    def scan(self) -> Scan:
        find = partial(self.automaton.find_matches_as_indexes, overlapping=True)
        first_id = self.first_id
        if not first_id:
            return find
        return lambda text: [(key + first_id, start, end) for key, start, end in find(text)]


class KeyAutomata:
    """Keys numbered in the order added, found by `scans()` once `build()` ran."""

    def __init__(self) -> None:
        self._generations = [_Generation(0)]
        self._sealed = False   # True: the last generation takes no more keys
        self._dirty = False
        self._count = 0

    def add(self, key: str) -> int:
        """Add a key (found after the next `build()`); its id."""
        if self._sealed:
            self._generations.append(_Generation(self._count))
            self._sealed = False
        self._generations[-1].keys.append(key)
        self._dirty = True
        self._count += 1
        return self._count - 1

    def build(self, seal: bool = False) -> None:
        """Build the automaton of the keys added since the last build (rebuilding the last
        generation's). `seal`: later keys start a generation of their own (after the compile)."""
        if self._dirty:
            generation = self._generations[-1]
            generation.build()
            if seal or len(generation.keys) >= GENERATION_KEYS:
                self._sealed = True
            self._dirty = False
        elif seal and self._generations[-1].keys:
            self._sealed = True

    def scans(self) -> list[Scan]:
        """One scan per built automaton: a text's hits are the hits of them all."""
        return [generation.scan() for generation in self._generations
                if generation.automaton is not None]


def scan_together(scans: Sequence[Scan], texts: Sequence[str]) -> tuple[list[list[Hit]], list[int]]:
    """The hits of each text, found by scanning them all joined by TEXT_SEPARATOR: (hits per
    text, where each text starts in the joined text). A hit's positions are in the joined text:
    `start - base` is where it starts in its own text."""
    haystack = TEXT_SEPARATOR.join(texts)
    bases = list(accumulate((len(text) + 1 for text in texts), initial=0))
    per_text: list[list[Hit]] = [[] for _ in texts]
    for scan in scans:
        hits = scan(haystack)
        ends = np.fromiter(map(hit_end, hits), np.int64, len(hits))
        if len(ends) > 1 and (ends[1:] < ends[:-1]).any():
            # an overlapping search reports hits by where they end; sorted here, in case not
            order = np.argsort(ends, kind="stable")
            hits, ends = [hits[at] for at in order.tolist()], ends[order]
        # a text's hits end after its base and before the next text's
        cuts = np.searchsorted(ends, bases, side="right").tolist()
        if len(scans) == 1:
            return [hits[low:high] for low, high in zip(cuts, cuts[1:])], bases
        for found, low, high in zip(per_text, cuts, cuts[1:]):
            found.extend(hits[low:high])
    return per_text, bases
