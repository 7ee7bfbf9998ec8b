"""Term tables: each distinct term of every subscription compiled into automaton keys.

A key is a term in the papers' normalised form (folded tokens, single spaces) with a space on both
sides, so only whole tokens and whole phrases can hit. A key may carry a check the automaton cannot
do (capitals, a given name), run on the hits only.
"""

from __future__ import annotations

from typing import Sequence

from .query import Term
from .tokens import JOINER, is_capitalised, term_tokens

AUTHOR_START = "\x04"
AUTHOR_END = "\x05"
_PLURAL_SUFFIXES = ("", "s", "es")
_MAX_COMPOUND_HYPHENS = 4

# Regions of a paper a term can search (see papers.PaperState.regions).
TITLE, ABSTRACT, AUTHORS = 0, 1, 2


class CompiledTerm:
    """One distinct (field, text) across all subscriptions, with its automaton keys."""

    __slots__ = ("id", "term", "display", "kind", "regions", "keys", "tokens", "category",
                 "users", "pid_checks")

    def __init__(self, term_id: int, term: Term):
        self.id = term_id
        self.term = term
        self.display = term.text
        self.users = 0
        self.keys: list[tuple[str, tuple]] = []   # (key, check) where check is per-key data
        self.pid_checks: list[tuple[int, tuple | None]] = []  # the same, keys as automaton ids
        self.category = None
        if term.field in ("cat", "primary"):
            self.kind = term.field
            self.regions = ()
            self.category = term.text
            self.tokens = ()
            return
        parts = term_tokens(term.text)
        self.tokens = tuple(folded for folded, _, _ in parts)
        if term.field == "au":
            self.kind = "author"
            self.regions = (AUTHORS,)
            key = f" {self.tokens[-1]} {AUTHOR_END}"
            # One family-name token needs no check; more tokens may hold a given name.
            self.keys.append((key, None if len(self.tokens) == 1 else ("author",)))
            return
        self.kind = "text"
        self.regions = {None: (TITLE, ABSTRACT), "ti": (TITLE,), "abs": (ABSTRACT,)}[term.field]
        for variant in compound_variants(parts):
            folded = " ".join(token for token, _ in variant)
            capitals = tuple(capital for _, capital in variant)
            for suffix in _PLURAL_SUFFIXES:
                check = ("capitals", capitals, len(variant), len(suffix)) if any(capitals) else None
                self.keys.append((f" {folded}{suffix} ", check))


def compound_variants(parts: list[tuple[str, str, bool]]) -> list[list[tuple[str, bool]]]:
    """Token sequences a term matches: as split, and with hyphenated pieces closed up."""
    hyphens = [index for index, (_, _, joined) in enumerate(parts) if joined]
    if len(hyphens) > _MAX_COMPOUND_HYPHENS:
        choices = [(), tuple(hyphens)]
    else:
        choices = [tuple(h for bit, h in enumerate(hyphens) if mask >> bit & 1)
                   for mask in range(1 << len(hyphens))]
    variants = []
    for closed in choices:
        tokens: list[tuple[str, bool]] = []
        folded, written = "", ""
        for index, (part_folded, part_written, _) in enumerate(parts):
            folded += part_folded
            written += part_written
            if index not in closed:
                tokens.append((folded, is_capitalised(written)))
                folded, written = "", ""
        variants.append(tokens)
    return variants


def author_name_matches(query: Sequence[str], author: Sequence[str]) -> bool:
    """Family name (a suffix of the author's tokens), optionally after a given name or initial."""
    if len(query) <= len(author) and tuple(author[len(author) - len(query):]) == tuple(query):
        return True
    if len(query) >= 2 and len(author) >= len(query):
        given, family = query[0], query[1:]
        if tuple(author[len(author) - len(family):]) != tuple(family):
            return False
        first = author[0]
        return (first == given or (len(given) == 1 and first.startswith(given))
                or (len(first) == 1 and given.startswith(first)))
    return False



def capitals_hold(region, first: int, check: tuple) -> bool:
    """Tokens the term writes in capitals must be capitals in the text (a plural suffix aside)."""
    _, capitals, count, suffix_length = check
    for offset, capital in enumerate(capitals):
        if not capital:
            continue
        written = region.written(first + offset)
        if offset == count - 1 and suffix_length:
            written = written.rstrip(JOINER)[:-suffix_length]
        if not is_capitalised(written):
            return False
    return True

