"""Which of one day's papers a query could match, from an inverted index of the day (issue 12).

Commands (`/papers today <query>`, `test`, `subscribe`, personal keywords) each ask one small
question of the same day: a full matcher pass normalises all ~1,500 papers for it, most of which
no term of the query is in. A `DayIndex` is built once per day: every paper normalised the way
the matcher does it (`PaperState`), each field's tokens posted to a table from token to the set
of papers having it, plus the papers per category key and per announce type. Paper sets are
Python ints used as bitsets (bit i: the day's i-th paper), so a query's set operations are a few
C-level operations on 1,500-bit numbers.

A query is then answered in two steps:

1. **Candidates** (`candidates`): a superset of the papers it can match. A term hits a paper only
   when one of its automaton keys (`CompiledTerm.keys`: every word form, compound and spelling)
   occurs in a field the term searches; a key is a run of whole tokens (`" vision language "`), or
   ends with a token prefix (`" robot"` for `robot*`), so every token of it is in that field's
   postings. The papers having all of a key's tokens are therefore a superset of the papers the
   key hits (the index ignores adjacency and the checks the matcher makes on hits: capitals,
   camel case, given names). Category terms are exact. The query tree is bounded from above
   (`_upper`: AND intersects, OR unites) and from below (`_lower`: only category terms are known
   to hit), NOT turning one into the other; the announce types and categories the subscription
   admits narrow the set further.
2. **Confirmation** (`match`): the real matcher runs on the candidates only. Matching is per
   paper, so its matches over the candidates are exactly its matches over the whole day.

So results never depend on the index being clever, only on it never leaving a paper out; the
tests compare the two over many random queries.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from threading import Lock

from bot.models import Match, Paper

from .matcher import compile_subscriptions
from .papers import PaperState
from .query import And, Node, Not, Term
from .subscriptions import Subscription
from .terms import AUTHORS, ABSTRACT, TITLE, CompiledTerm

_REGIONS = (TITLE, ABSTRACT, AUTHORS)


class DayIndex:
    """One day's papers (in their order) indexed by token, category and announce type."""

    def __init__(self, papers: Iterable[Paper]):
        self.papers: tuple[Paper, ...] = tuple(papers)
        self._everything = (1 << len(self.papers)) - 1
        # region (TITLE, ABSTRACT, AUTHORS) -> normalised token -> papers having it there
        self._postings: tuple[dict[str, int], ...] = tuple({} for _ in _REGIONS)
        self._categories: dict[str, int] = {}   # "cat:cs.CV", "primary:cs" ... -> papers
        self._types: dict[str, int] = {}        # announce type -> papers
        for position, paper in enumerate(self.papers):
            bit = 1 << position
            state = PaperState(paper)
            for region, postings in zip(state.regions, self._postings):
                for token in set(region.stream.split(" ")):
                    postings[token] = postings.get(token, 0) | bit
            for key in state.category_keys:
                self._categories[key] = self._categories.get(key, 0) | bit
            self._types[paper.announce_type] = self._types.get(paper.announce_type, 0) | bit
        for postings in self._postings:
            postings.pop("", None)  # the empty pieces around a stream's outer spaces
        self._sorted_tokens: list[list[str] | None] = [None] * len(_REGIONS)
        self._term_bits: dict[tuple[str | None, str], int] = {}
        self._prefix_bits: dict[tuple[int, str], int] = {}
        # Built by one thread and read by others: the memo tables fill under this lock.
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self.papers)

    # -- candidates --

    def candidates(self, subscriptions: Iterable[Subscription]) -> list[Paper]:
        """The papers any of `subscriptions` could match (a superset of what they match), in
        the day's order."""
        return self.papers_of(self.candidate_bits(subscriptions))

    def candidate_bits(self, subscriptions: Iterable[Subscription]) -> int:
        """`candidates` as a bitset (bit i: the day's i-th paper)."""
        found = 0
        with self._lock:
            for subscription in subscriptions:
                found |= self._subscription_bits(subscription)
        return found

    def papers_of(self, bits: int) -> list[Paper]:
        """The papers of a bitset, in the day's order."""
        papers = self.papers
        # bin() lists bit i at position -1 - i; reversed, position i is paper i.
        return [papers[position] for position, bit in enumerate(reversed(bin(bits)[2:]))
                if bit == "1"]

    def match(self, subscriptions: Sequence[Subscription]) -> list[Match]:
        """Exactly what `compile_subscriptions(subscriptions).match(day's papers)` returns, with
        the matcher run on the candidates only."""
        subscriptions = list(subscriptions)
        return compile_subscriptions(subscriptions).match(self.candidates(subscriptions))

    def _subscription_bits(self, subscription: Subscription) -> int:
        bits = self._upper(subscription.query.root)
        types = 0
        for kind in subscription.admitted_types:
            types |= self._types.get(kind, 0)
        bits &= types
        if subscription.categories and bits:
            categories = 0
            for name in subscription.categories:
                categories |= self._categories.get(f"cat:{name}", 0)
            bits &= categories
        return bits

    def _upper(self, node: Node) -> int:
        """Papers on which `node` may be true (a superset)."""
        if isinstance(node, Term):
            return self._term(node)
        if isinstance(node, Not):
            return self._everything & ~self._lower(node.child)
        if isinstance(node, And):
            bits = self._everything
            for child in node.children:
                bits &= self._upper(child)
                if not bits:
                    break
            return bits
        bits = 0
        for child in node.children:
            bits |= self._upper(child)
        return bits

    def _lower(self, node: Node) -> int:
        """Papers on which `node` is certainly true (a subset): category terms are exact, a
        text term may fail the matcher's checks, so it is known nowhere."""
        if isinstance(node, Term):
            return self._term(node) if node.field in ("cat", "primary") else 0
        if isinstance(node, Not):
            return self._everything & ~self._upper(node.child)
        if isinstance(node, And):
            bits = self._everything
            for child in node.children:
                bits &= self._lower(child)
                if not bits:
                    break
            return bits
        bits = 0
        for child in node.children:
            bits |= self._lower(child)
        return bits

    def _term(self, term: Term) -> int:
        """Papers in which one of the term's keys may hit (categories: exactly those in it)."""
        signature = (term.field, term.text)
        bits = self._term_bits.get(signature)
        if bits is not None:
            return bits
        compiled = CompiledTerm(0, term)
        if compiled.category is not None:
            bits = self._categories.get(f"{compiled.kind}:{compiled.category}", 0)
        else:
            bits = 0
            for key, _check in compiled.keys:
                # " a b " is whole tokens a and b; " a b" (a prefix term) ends with a prefix of
                # a token. Either way each piece is one token of the field's stream (split on
                # its single spaces), and its last piece at least the start of one.
                pieces = key[1:].split(" ")
                whole = [piece for piece in pieces[:-1] if piece]
                prefix = pieces[-1]
                for region in compiled.regions:
                    postings = self._postings[region]
                    found = self._everything
                    for piece in whole:
                        found &= postings.get(piece, 0)
                        if not found:
                            break
                    if found and prefix:
                        found &= self._prefix(region, prefix)
                    bits |= found
        self._term_bits[signature] = bits
        return bits

    def _prefix(self, region: int, prefix: str) -> int:
        """Papers having a token that starts with `prefix` in `region`."""
        bits = self._prefix_bits.get((region, prefix))
        if bits is not None:
            return bits
        tokens = self._sorted_tokens[region]
        if tokens is None:
            tokens = self._sorted_tokens[region] = sorted(self._postings[region])
        postings = self._postings[region]
        bits = 0
        position = bisect_left(tokens, prefix)
        while position < len(tokens) and tokens[position].startswith(prefix):
            bits |= postings[tokens[position]]
            position += 1
        self._prefix_bits[(region, prefix)] = bits
        return bits
