"""All subscriptions compiled together and matched against a day's papers (DESIGN.md §4).

How a day is matched:

1. Each paper is normalised once per `match()` call: title, abstract and authors become token
   streams (`" tok tok tok "`, tokens folded, separated by single spaces; each author wrapped in
   `\\x04 ... \\x05` markers so family names can be anchored to the end of a name).
2. One Aho-Corasick automaton (pyahocorasick) holds every term of every subscription as a key in
   the same normalised form with a space on both sides, so only whole tokens and whole phrases can
   hit. Plural tolerance is two more keys per term (`" model "`, `" models "`, `" modeles "`), the
   closed compound of a hyphenated term another (`" multimodal "` for `multi-modal`).
3. The few checks the automaton cannot do run on the hits only: terms written in capitals must hit
   capital tokens (`MLLM` is not "mLLMs"), multi-word author names check the given name.
4. Indexes from terms to subscriptions, one set per announce type, find the matches. The common
   shapes need no evaluation per subscription: "any of these terms, none of those" (`VLM`,
   `VLM, MLLM`, `"world model" -robot`) lists the subscriptions under each term, and `a AND b`
   under the rarer-looking term keyed by the other, so a set intersection finds them. Any other
   query is indexed under one set of terms at least one of which must hit for it to be true, and
   evaluated only when one does.
5. Hits (terms with character spans) depend on the paper and the term, never on who subscribed:
   they are computed once per (paper, term) and the same tuple is shared by every Match that
   needs it; a match of several terms concatenates them in the query's order.

So the cost of a day grows with the papers' text and the matches found, not with the number of
subscriptions.

Updates: `add()` and `remove()` are incremental for terms, keys and the index (shared terms are
reference-counted); the automaton itself is finalised again lazily on the next `match()` or
`explain()` (pyahocorasick needs `make_automaton()` after any change: a C pass over all keys).
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate, chain, count, filterfalse, repeat
from operator import add, itemgetter
from typing import Callable, Iterable, Sequence

import ahocorasick

from bot.models import ANNOUNCE_TYPES, Hit, Match, Paper
from bot.taxonomy import archive_of, canonical_category, is_known_category

from .query import And, Node, Not, Or, Query, Term, describe_node, evaluate, iter_terms
from .text import JOINER, is_capitalised, term_tokens, token_pieces, tokenize

_AUTHOR_START = "\x04"
_AUTHOR_END = "\x05"
_PLURAL_SUFFIXES = ("", "s", "es")
_MAX_COMPOUND_HYPHENS = 4

# Score: a term counts once per field it hit; a few extra occurrences break ties between papers
# without ever outweighing another distinct term.
FIELD_WEIGHTS = {"title": 3.0, "abstract": 1.0, "authors": 2.0, "categories": 0.5}
_OCCURRENCE_BONUS = 0.1
_MAX_BONUS_OCCURRENCES = 5

_TITLE, _ABSTRACT, _AUTHORS = 0, 1, 2
_EMPTY_SET: frozenset = frozenset()
_REGION_FIELDS = ("title", "abstract", "authors")
DEFAULT_TYPES = frozenset({"new", "cross"})

# Match and Hit are tuple-backed records: `_new_record(Match, fields)` builds one in C, without
# the Python-level __new__ (a day makes a million matches).
_new_record = tuple.__new__
_hit_start = itemgetter(2)  # Hit.start, read from the tuple directly


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


# --- subscriptions ----------------------------------------------------------------------------


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
        return not self.categories or not self.categories.isdisjoint(_category_set(paper))


def _category_set(paper: Paper) -> set[str]:
    return set(paper.categories) | {archive_of(c) for c in paper.categories}


# --- compiled terms ---------------------------------------------------------------------------


class _CompiledTerm:
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
            self.regions = (_AUTHORS,)
            key = f" {self.tokens[-1]} {_AUTHOR_END}"
            # One family-name token needs no check; more tokens may hold a given name.
            self.keys.append((key, None if len(self.tokens) == 1 else ("author",)))
            return
        self.kind = "text"
        self.regions = {None: (_TITLE, _ABSTRACT), "ti": (_TITLE,), "abs": (_ABSTRACT,)}[term.field]
        for variant in _compound_variants(parts):
            folded = " ".join(token for token, _ in variant)
            capitals = tuple(capital for _, capital in variant)
            for suffix in _PLURAL_SUFFIXES:
                check = ("capitals", capitals, len(variant), len(suffix)) if any(capitals) else None
                self.keys.append((f" {folded}{suffix} ", check))


def _compound_variants(parts: list[tuple[str, str, bool]]) -> list[list[tuple[str, bool]]]:
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


def _author_name_matches(query: Sequence[str], author: Sequence[str]) -> bool:
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


# --- a paper, normalised once -----------------------------------------------------------------


class _Region:
    """One field's token stream plus token tables built on first use (only needed for hits)."""

    __slots__ = ("text", "pieces", "stream", "hits", "pids", "_tables", "_lasts")

    def __init__(self, text: str):
        self.text = text
        self.pieces, self.stream = token_pieces(text)
        self.hits: list[tuple[int, int]] = []
        self.pids: set[int] = _EMPTY_SET
        self._tables = None
        self._lasts = None

    def tables(self) -> tuple[dict[int, int], list[int], list[int]]:
        """(last token by stream end, token start, token end): a key hit reported at stream
        offset `end` (the space after its last token) covers tokens `last - n + 1 .. last`,
        whose characters in the text run from `starts[first]` to `stops[last]`."""
        tables = self._tables
        if tables is None:
            # The space after token i sits at sum(len(token j) + 1 for j <= i) in " a b c ".
            stream_ends = map(add, accumulate(map(len, self.stream[1:-1].split(" "))), count(1))
            last_token = dict(zip(stream_ends, count()))
            offsets = list(accumulate(map(len, self.pieces), initial=0))
            starts, stops = offsets[1::2], offsets[2::2]
            if "\\" in self.text or JOINER in self.text:
                # Markup glued to a token's end (`K{\"a}`) is not part of its span; joiners come
                # only from markup, which needs a backslash, or from the text itself.
                for index, written in enumerate(self.pieces[1::2]):
                    stops[index] -= len(written) - len(written.rstrip(JOINER))
            tables = self._tables = (last_token, starts, stops)
        return tables

    def written(self, index: int) -> str:
        """Token `index` as written in the (cleaned) text."""
        return self.pieces[2 * index + 1]

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Character span in the original text from token `first` to token `last`."""
        _, starts, stops = self.tables()
        return starts[first], stops[last]

    def lasts(self, pid: int) -> list[int]:
        """Last token index of each hit of key `pid`, in text order (grouped on first use)."""
        by_pid = self._lasts
        if by_pid is None:
            by_pid = self._lasts = {}
            last_token = self.tables()[0]
            lasts = map(last_token.__getitem__, map(itemgetter(0), self.hits))
            for found, last in zip(map(itemgetter(1), self.hits), lasts):
                if found in by_pid:
                    by_pid[found].append(last)
                else:
                    by_pid[found] = [last]
        return by_pid.get(pid, ())


class _AuthorRegion:
    """Authors as `\\x04 given family \\x05` segments; spans index into ", ".join(authors)."""

    __slots__ = ("names", "author_tokens", "segment_starts", "stream", "hits", "pids",
                 "_author_spans", "_ends")

    def __init__(self, authors: Sequence[str]):
        self.names = tuple(authors)
        self.author_tokens = [tokenize(author) for author in self.names]
        segments = [f" {_AUTHOR_START} {' '.join(tokens)} {_AUTHOR_END}"
                    for tokens in self.author_tokens]
        self.segment_starts = list(accumulate(map(len, segments), initial=0))
        self.stream = "".join(segments) + " " if segments else ""
        self.hits: list[tuple[int, int]] = []
        self.pids: set[int] = _EMPTY_SET
        self._author_spans = None
        self._ends = None

    @property
    def text(self) -> str:
        return ", ".join(self.names)

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
        """Stream offsets where key `pid` ended (hits grouped by key on first use)."""
        by_pid = self._ends
        if by_pid is None:
            by_pid = self._ends = {}
            for end, found in self.hits:
                if found in by_pid:
                    by_pid[found].append(end)
                else:
                    by_pid[found] = [end]
        return by_pid.get(pid, ())


_NO_AUTHORS = _AuthorRegion(())


class _PaperState:
    """A paper normalised once for a whole match() call, with its per-term hits cached."""

    __slots__ = ("paper", "regions", "category_keys", "category_set", "term_hits", "hit")

    def __init__(self, paper: Paper, with_authors: bool = True):
        self.paper = paper
        self.regions = (_Region(paper.title), _Region(paper.abstract),
                        _AuthorRegion(paper.authors) if with_authors else _NO_AUTHORS)
        categories = paper.categories
        self.category_set = _category_set(paper)
        keys = [f"cat:{name}" for name in self.category_set]
        if categories:
            keys += [f"primary:{categories[0]}", f"primary:{archive_of(categories[0])}"]
        self.category_keys = keys
        self.term_hits: dict[int, tuple[tuple[Hit, ...], float]] = {}
        self.hit: set[int] = set()


# --- compiled subscriptions -------------------------------------------------------------------

_ANY, _CONJUNCTION, _GENERAL = 0, 1, 2
# How match() reaches a subscription without a category restriction, fastest first: any of some
# terms and none of others (`VLM`, `VLM, MLLM`, `"world model" -robot`: a term hitting is the
# match unless an excluded one hits too), two terms that must both hit; anything else is a
# candidate of one of its necessary terms and is evaluated.
_ROUTE_ANY_OF, _ROUTE_PAIR, _ROUTE_GENERIC = 1, 2, 3


class _AnyOfEntry:
    """The any-of subscriptions listed under one term (for one announce type)."""

    __slots__ = ("single", "several", "excluded_by")

    def __init__(self):
        self.single: list[str] = []    # the term is their only positive term
        self.several: list[str] = []   # they have more: two may hit one paper, merge their hits
        self.excluded_by: dict[int, list[str]] = {}  # excluded term -> subscriptions it drops

    @property
    def empty(self) -> bool:
        return not self.single and not self.several

    def change(self, subscription_id: str, several: bool, excluded: frozenset[int],
               adding: bool) -> None:
        lists = [self.several if several else self.single]
        lists += [self.excluded_by.setdefault(term_id, []) for term_id in excluded]
        for ids in lists:
            if adding:
                ids.append(subscription_id)
            else:
                ids.remove(subscription_id)
        for term_id in excluded:
            if not self.excluded_by[term_id]:
                del self.excluded_by[term_id]
_EMPTY: frozenset[int] = frozenset()


def _negation_normal_form(node: Node, negate: bool = False) -> Node:
    """Push NOTs down to the terms, so `NOT (NOT a AND NOT b)` is seen as `a OR b`."""
    if isinstance(node, Term):
        return Not(node) if negate else node
    if isinstance(node, Not):
        return _negation_normal_form(node.child, not negate)
    children = tuple(_negation_normal_form(child, negate) for child in node.children)
    return And(children) if isinstance(node, And) != negate else Or(children)


def _term_cost(term: _CompiledTerm) -> float:
    """A guess at how often a term hits (no statistics needed): longer phrases are rarer,
    archives are common."""
    if term.kind == "text":
        return 1.0 / len(term.tokens)
    if term.kind == "author":
        return 0.3
    is_archive = "." not in term.category
    return (300.0 if is_archive else 30.0) / (3.0 if term.kind == "primary" else 1.0)


def _necessary_terms(node: Node, term_of: Callable[[Term], _CompiledTerm]
                     ) -> tuple[float, frozenset[int]] | None:
    """Terms of which at least one must hit for `node` (in negation normal form) to be true,
    preferring the cheapest choice among the parts of an AND."""
    if isinstance(node, Term):
        term = term_of(node)
        return _term_cost(term), frozenset({term.id})
    if isinstance(node, Not):
        return None
    parts = [_necessary_terms(child, term_of) for child in node.children]
    known = [part for part in parts if part is not None]
    if isinstance(node, And):
        return min(known, key=itemgetter(0)) if known else None
    if len(known) < len(parts):
        return None
    return sum(cost for cost, _ in known), frozenset().union(*(ids for _, ids in known))


def _evaluator(node: Node, id_of: Callable[[Term], int]) -> Callable[[set[int]], bool]:
    """A predicate on the set of hit term ids, for a tree in negation normal form."""
    if isinstance(node, Term):
        term_id = id_of(node)
        return lambda hit: term_id in hit
    if isinstance(node, Not):
        term_id = id_of(node.child)
        return lambda hit: term_id not in hit
    positive = frozenset(id_of(c) for c in node.children if isinstance(c, Term))
    negative = frozenset(id_of(c.child) for c in node.children if isinstance(c, Not))
    others = tuple(_evaluator(c, id_of) for c in node.children if isinstance(c, (And, Or)))
    if isinstance(node, And):
        return lambda hit: (positive <= hit and negative.isdisjoint(hit)
                            and all(part(hit) for part in others))
    return lambda hit: (not positive.isdisjoint(hit) or not negative <= hit
                        or any(part(hit) for part in others))


class _CompiledSubscription:
    __slots__ = ("subscription", "id", "slot", "types", "categories", "mode", "required",
                 "excluded", "evaluate", "positive", "single", "necessary", "term_ids",
                 "route", "route_terms", "route_key", "positive_order")

    def __init__(self, subscription: Subscription, slot: int, term_ids: dict[tuple, int],
                 terms: list[_CompiledTerm]):
        self.subscription = subscription
        self.id = subscription.id
        self.slot = slot
        self.term_ids = term_ids
        self.types = subscription.admitted_types
        self.categories = subscription.categories or None
        query = subscription.query
        id_of = lambda term: term_ids[(term.field, term.text)]  # noqa: E731
        root = _negation_normal_form(query.root)
        # the query's own order: a match's hits list its terms in the order the user wrote them
        self.positive_order = tuple(dict.fromkeys(id_of(term) for term in query.positive_terms))
        self.positive = frozenset(self.positive_order)
        # one positive term: its hits and score are the match's, shared through the paper's cache
        self.single = next(iter(self.positive)) if len(self.positive) == 1 else None
        self.required = self.excluded = _EMPTY
        self.evaluate = None
        children = root.children if isinstance(root, (And, Or)) else (root,)
        if isinstance(root, Term) or (isinstance(root, Or) and all(isinstance(c, Term) for c in children)):
            self.mode = _ANY  # being a candidate means one of its terms hit
        elif isinstance(root, And) and all(isinstance(c, (Term, Not)) for c in children):
            self.mode = _CONJUNCTION
            self.required = frozenset(id_of(c) for c in children if isinstance(c, Term))
            self.excluded = frozenset(id_of(c.child) for c in children if isinstance(c, Not))
        else:
            self.mode = _GENERAL
            self.evaluate = _evaluator(root, id_of)
        necessary = _necessary_terms(root, lambda term: terms[id_of(term)])
        # parse_query rejects queries that can be true with no term present, so this holds.
        assert necessary is not None, query.describe()
        self.necessary = necessary[1]
        self.route, self.route_terms, self.route_key = self._route(root, id_of)

    def _route(self, root: Node, id_of: Callable[[Term], int]) -> tuple[int, frozenset, object]:
        """How match() finds this subscription (see _ROUTE_*): (route, index terms, key)."""
        if self.categories is not None:
            return _ROUTE_GENERIC, self.necessary, None
        children = root.children if isinstance(root, And) else (root,)
        terms = [c for c in children if isinstance(c, Term)]
        unions = [c for c in children if isinstance(c, Or)]
        negations = [c for c in children if isinstance(c, Not)]
        simple = (len(terms) + len(unions) + len(negations) == len(children)
                  and all(isinstance(c, Term) for u in unions for c in u.children))
        excluded = frozenset(id_of(c.child) for c in negations)
        if simple and len(terms) + len(unions) == 1:
            # any of some terms, none of others: `VLM, MLLM`, `"world model" -robot`
            return _ROUTE_ANY_OF, self.positive, excluded
        if len(children) == 2 and len(terms) == 2 and len(self.positive) == 2:
            # `a AND b`, under the rarer-looking term, keyed by the other and the query's order
            first, second = sorted(self.positive, key=lambda term_id: term_id not in self.necessary)
            return _ROUTE_PAIR, frozenset({first}), (second, self.positive_order[0] == first)
        return _ROUTE_GENERIC, self.necessary, None

    def positives_in(self, hit: set[int]) -> tuple[int, ...]:
        """The positive terms that hit, in the query's order."""
        return tuple(term_id for term_id in self.positive_order if term_id in hit)

    def is_true(self, hit: set[int]) -> bool:
        if self.mode == _ANY:
            return not self.necessary.isdisjoint(hit)
        if self.mode == _CONJUNCTION:
            return self.required <= hit and self.excluded.isdisjoint(hit)
        return self.evaluate(hit)


# --- explanations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TermReport:
    """One term of a query as seen in one paper."""

    term: str                      # canonical form, e.g. `ti:transformer`, `"world model"`
    excluding: bool                # the term sits under NOT
    hits: tuple[Hit, ...] = ()
    near_misses: tuple[str, ...] = ()  # e.g. a case mismatch on a term written in capitals


@dataclass(frozen=True)
class Explanation:
    """Why a paper matches a subscription, or what kept a near miss out."""

    subscription_id: str
    paper_id: str
    query: str
    matched: bool
    score: float
    terms: tuple[TermReport, ...]
    reasons: tuple[str, ...] = ()   # empty when matched
    field_texts: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def text(self) -> str:
        if self.matched:
            head = (f"{self.paper_id} matches subscription {self.subscription_id} "
                    f"(score {self.score:g}): {self.query}")
        else:
            head = f"{self.paper_id} does not match subscription {self.subscription_id}: {self.query}"
        lines = [head]
        for reason in self.reasons:
            lines.append(f"  why not: {reason}")
        for report in self.terms:
            label = f"NOT {report.term}" if report.excluding else report.term
            if report.hits:
                lines.append(f"  {label}: hit in {_describe_hits(report.hits, self.field_texts)}")
            else:
                lines.append(f"  {label}: no hit")
            for near in report.near_misses:
                lines.append(f"    near miss: {near}")
        return "\n".join(lines)


def _describe_hits(hits: Sequence[Hit], field_texts: dict[str, str], limit: int = 3) -> str:
    by_field: dict[str, list[Hit]] = {}
    for hit in hits:
        by_field.setdefault(hit.field, []).append(hit)
    parts = []
    for field_name, field_hits in by_field.items():
        text = field_texts.get(field_name, "")
        quoted = list(dict.fromkeys(f'"{text[h.start:h.end]}"' for h in field_hits))
        shown = ", ".join(quoted[:limit]) + (", ..." if len(quoted) > limit else "")
        count = f" ({len(field_hits)} times)" if len(field_hits) > 1 else ""
        parts.append(f"{field_name} {shown}{count}")
    return "; ".join(parts)


# --- the matcher ------------------------------------------------------------------------------


class CompiledMatcher:
    """Every subscription compiled together; see the module docstring for how."""

    def __init__(self, subscriptions: Iterable[Subscription] = ()):
        self._automaton = ahocorasick.Automaton()
        self._dirty = False
        self._pid_of_key: dict[str, int] = {}
        self._key_length: list[int] = []
        self._key_tokens: list[int] = []
        self._key_entries: list[list[tuple[int, tuple | None]]] = []
        self._plain: tuple[list, list, list] = ([], [], [])
        self._checked: tuple[list, list, list] = ([], [], [])
        self._checked_pids: tuple[set, set, set] = (set(), set(), set())
        self._terms: list[_CompiledTerm | None] = []
        self._term_id: dict[tuple, int] = {}
        self._category_terms: dict[str, list[int]] = {}
        # One index per route (see _ROUTE_*) and per announce type a subscription admits, so
        # a paper only ever looks up subscriptions that take its type. Keyed by term id:
        #   any-of:  term -> _AnyOfEntry (one-term subscriptions, those with more terms, and
        #            which of them an excluded term drops)
        #   pair:    rarer term -> {other term: [subscription id]}
        #   generic: necessary term -> {slot}
        self._any_of_index: dict[str, dict[int, _AnyOfEntry]] = {kind: {} for kind in ANNOUNCE_TYPES}
        self._pair_index = {kind: {} for kind in ANNOUNCE_TYPES}
        self._index = {kind: {} for kind in ANNOUNCE_TYPES}
        self._subscriptions: list[_CompiledSubscription | None] = []
        self._slot_of: dict[str, int] = {}
        self._free_slots: list[int] = []
        self._author_keys = 0  # no author stream is built while no term searches authors
        collecting = gc.isenabled()
        gc.disable()  # as in match(): many small objects, no cycles worth collecting meanwhile
        try:
            for subscription in subscriptions:
                self.add(subscription)
        finally:
            if collecting:
                gc.enable()

    # -- building --

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, subscription_id: str) -> bool:
        return subscription_id in self._slot_of

    @property
    def subscription_ids(self) -> list[str]:
        return list(self._slot_of)

    def subscription(self, subscription_id: str) -> Subscription:
        return self._compiled(subscription_id).subscription

    def add(self, subscription: Subscription) -> None:
        """Add one subscription (incremental; the automaton is finalised on next use)."""
        if not isinstance(subscription, Subscription):
            raise ValueError(f"expected a Subscription, not {type(subscription).__name__}")
        if subscription.id in self._slot_of:
            raise ValueError(f'a subscription with id "{subscription.id}" is already compiled')
        term_ids = {(term.field, term.text): self._acquire_term(term)
                    for term in subscription.query.terms}
        slot = self._free_slots.pop() if self._free_slots else len(self._subscriptions)
        compiled = _CompiledSubscription(subscription, slot, term_ids, self._terms)
        if slot == len(self._subscriptions):
            self._subscriptions.append(compiled)
        else:
            self._subscriptions[slot] = compiled
        self._slot_of[subscription.id] = slot
        for kind in compiled.types:
            self._route_entries(compiled, kind, adding=True)

    def remove(self, subscription_id: str) -> None:
        """Remove one subscription; terms no other subscription uses are dropped."""
        compiled = self._compiled(subscription_id)
        for kind in compiled.types:
            self._route_entries(compiled, kind, adding=False)
        for term_id in compiled.term_ids.values():
            self._release_term(term_id)
        self._subscriptions[compiled.slot] = None
        self._free_slots.append(compiled.slot)
        del self._slot_of[subscription_id]

    def _route_entries(self, compiled: _CompiledSubscription, kind: str, adding: bool) -> None:
        """Enter (or withdraw) a subscription in its route's index for one announce type."""
        route = compiled.route
        if route == _ROUTE_GENERIC:
            index = self._index[kind]
            for term_id in compiled.route_terms:
                if adding:
                    index.setdefault(term_id, set()).add(compiled.slot)
                else:
                    index[term_id].discard(compiled.slot)
                    if not index[term_id]:
                        del index[term_id]
            return
        if route == _ROUTE_ANY_OF:
            index = self._any_of_index[kind]
            for term_id in compiled.route_terms:
                entry = index.get(term_id)
                if entry is None:
                    entry = index[term_id] = _AnyOfEntry()
                entry.change(compiled.id, len(compiled.positive) > 1, compiled.route_key, adding)
                if entry.empty:
                    del index[term_id]
            return
        (term_id,) = compiled.route_terms
        other, written_first = compiled.route_key
        index = self._pair_index[kind]
        # [subscriptions writing `term AND other`, those writing `other AND term`]
        by_order = index.setdefault(term_id, {}).setdefault(other, ([], []))
        ids = by_order[0 if written_first else 1]
        if adding:
            ids.append(compiled.id)
            return
        ids.remove(compiled.id)
        if not by_order[0] and not by_order[1]:
            del index[term_id][other]
            if not index[term_id]:
                del index[term_id]

    def _compiled(self, subscription_id: str) -> _CompiledSubscription:
        slot = self._slot_of.get(subscription_id)
        if slot is None:
            raise KeyError(f'no subscription "{subscription_id}" is compiled')
        return self._subscriptions[slot]

    def _acquire_term(self, term: Term) -> int:
        signature = (term.field, term.text)
        term_id = self._term_id.get(signature)
        if term_id is None:
            term_id = len(self._terms)
            compiled = _CompiledTerm(term_id, term)
            self._terms.append(compiled)
            self._term_id[signature] = term_id
            if compiled.category is not None:
                self._category_terms.setdefault(f"{compiled.kind}:{compiled.category}", []).append(term_id)
            for key, check in compiled.keys:
                pid = self._pid_for(key)
                compiled.pid_checks.append((pid, check))
                self._key_entries[pid].append((term_id, check))
                self._refresh_key(pid)
            if compiled.kind == "author":
                self._author_keys += 1
        self._terms[term_id].users += 1
        return term_id

    def _release_term(self, term_id: int) -> None:
        term = self._terms[term_id]
        term.users -= 1
        if term.users:
            return
        self._terms[term_id] = None
        del self._term_id[(term.term.field, term.term.text)]
        if term.kind == "author":
            self._author_keys -= 1
        if term.category is not None:
            key = f"{term.kind}:{term.category}"
            self._category_terms[key].remove(term_id)
            if not self._category_terms[key]:
                del self._category_terms[key]
        for key, _ in term.keys:
            pid = self._pid_of_key[key]
            entries = [entry for entry in self._key_entries[pid] if entry[0] != term_id]
            self._key_entries[pid] = entries
            self._refresh_key(pid)
            if not entries:
                self._automaton.remove_word(key)
                del self._pid_of_key[key]
                self._dirty = True

    def _pid_for(self, key: str) -> int:
        pid = self._pid_of_key.get(key)
        if pid is None:
            pid = len(self._key_entries)
            self._pid_of_key[key] = pid
            self._automaton.add_word(key, pid)
            self._dirty = True
            self._key_length.append(len(key))
            self._key_tokens.append(key.count(" ") - 1)
            self._key_entries.append([])
            for region in range(3):
                self._plain[region].append(())
                self._checked[region].append(())
        return pid

    def _refresh_key(self, pid: int) -> None:
        entries = self._key_entries[pid]
        for region in range(3):
            plain = tuple(term_id for term_id, check in entries
                          if check is None and region in self._terms[term_id].regions)
            checked = tuple((term_id, check) for term_id, check in entries
                            if check is not None and region in self._terms[term_id].regions)
            self._plain[region][pid] = plain
            self._checked[region][pid] = checked
            if checked:
                self._checked_pids[region].add(pid)
            else:
                self._checked_pids[region].discard(pid)

    def _finalise(self) -> None:
        if self._dirty:
            if len(self._automaton):
                self._automaton.make_automaton()
            self._dirty = False

    # -- matching --

    def match(self, papers: Iterable[Paper]) -> list[Match]:
        """Every (subscription, paper) pair that matches, grouped by paper in input order;
        callers sort a digest by (-score, paper id)."""
        self._finalise()
        # A day allocates millions of small acyclic objects; with the compiled tables in memory,
        # the cyclic collector's passes over them would cost more than the matching itself.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._match(papers)
        finally:
            if collecting:
                gc.enable()

    def _match(self, papers: Iterable[Paper]) -> list[Match]:
        subscriptions = self._subscriptions
        term_hits = self._term_hits
        scored_hits = self._scored_hits
        with_authors = self._author_keys > 0
        matches: list[Match] = []
        extend = matches.extend
        append = matches.append
        for paper in papers:
            state = _PaperState(paper, with_authors)
            hit = self._find_hits(state)
            if not hit:
                continue
            announce_type = paper.announce_type
            if announce_type not in self._index:
                continue  # no subscription takes it
            cache = state.term_hits
            any_of = self._any_of_index[announce_type]
            any_of_hit = any_of.keys() & hit
            if any_of_hit:
                self._match_any_of(state, any_of, any_of_hit, matches)
            pairs = self._pair_index[announce_type]
            for term_id in pairs.keys() & hit:
                others = pairs[term_id]
                for other in others.keys() & hit:
                    in_order, reversed_order = others[other]
                    for ids, terms in ((in_order, (term_id, other)), (reversed_order, (other, term_id))):
                        if ids:
                            hits, score = scored_hits(state, terms)
                            extend(map(_new_record, repeat(Match), zip(
                                ids, repeat(paper), repeat(hits), repeat(score))))
            index = self._index[announce_type]
            candidates = set().union(*map(index.get, index.keys() & hit))
            if not candidates:
                continue
            category_set = state.category_set
            for slot in candidates:
                compiled = subscriptions[slot]
                if compiled.categories is not None and compiled.categories.isdisjoint(category_set):
                    continue
                mode = compiled.mode
                if mode == _CONJUNCTION:
                    if not (compiled.required <= hit and compiled.excluded.isdisjoint(hit)):
                        continue
                elif mode == _GENERAL and not compiled.evaluate(hit):
                    continue
                single = compiled.single
                if single is not None:
                    hits, score = cache.get(single) or term_hits(state, single)
                else:
                    hits, score = scored_hits(state, compiled.positives_in(hit))
                append(_new_record(Match, (compiled.id, paper, hits, score)))
        return matches

    def _match_any_of(self, state: _PaperState, any_of: dict[int, _AnyOfEntry],
                      any_of_hit: set[int], matches: list[Match]) -> None:
        """Matches of the subscriptions that want any of some terms and none of others."""
        paper = state.paper
        hit = state.hit
        cache = state.term_hits
        term_hits = self._term_hits
        extend = matches.extend
        several_hit = []
        for term_id in any_of_hit:
            entry = any_of[term_id]
            hits, score = cache.get(term_id) or term_hits(state, term_id)
            single, several, excluded_by = entry.single, entry.several, entry.excluded_by
            if excluded_by and not excluded_by.keys().isdisjoint(hit):
                dropped = set(chain.from_iterable(map(excluded_by.__getitem__, excluded_by.keys() & hit)))
                single = list(filterfalse(dropped.__contains__, single))
                several = list(filterfalse(dropped.__contains__, several))
            if single:
                extend(map(_new_record, repeat(Match), zip(
                    single, repeat(paper), repeat(hits), repeat(score))))
            if several:
                several_hit.append((several, hits, score))
        if not several_hit:
            return
        twice = _EMPTY_SET
        if len(several_hit) > 1:
            listed = list(chain.from_iterable(map(itemgetter(0), several_hit)))
            if len(set(listed)) < len(listed):  # a subscription two of whose terms hit
                twice = {sid for sid, times in Counter(listed).items() if times > 1}
        for ids, hits, score in several_hit:
            if twice:
                ids = list(filterfalse(twice.__contains__, ids))
            extend(map(_new_record, repeat(Match), zip(
                ids, repeat(paper), repeat(hits), repeat(score))))
        for subscription_id in twice:
            compiled = self._subscriptions[self._slot_of[subscription_id]]
            hits, score = self._scored_hits(state, compiled.positives_in(hit))
            matches.append(_new_record(Match, (subscription_id, paper, hits, score)))

    def _find_hits(self, state: _PaperState, near_misses: dict | None = None) -> set[int]:
        """Ids of the terms that hit this paper (in a field the term searches)."""
        hit = state.hit
        if len(self._automaton):
            scan = self._automaton.iter
            for region_index, region in enumerate(state.regions):
                if not region.stream:
                    continue
                region.hits = found = list(scan(region.stream))
                if not found:
                    continue
                region.pids = pids = set(map(itemgetter(1), found))
                hit.update(chain.from_iterable(map(self._plain[region_index].__getitem__, pids)))
                to_check = pids & self._checked_pids[region_index]
                if not to_check:
                    continue
                checked = self._checked[region_index]
                for pid in to_check:
                    for term_id, check in checked[pid]:
                        if term_id in hit and near_misses is None:
                            continue
                        if self._occurrences(state, region_index, pid, term_id, check, near_misses,
                                             first_only=near_misses is None):
                            hit.add(term_id)
        category_terms = self._category_terms
        for key in state.category_keys:
            term_ids = category_terms.get(key)
            if term_ids:
                hit.update(term_ids)
        return hit

    def _occurrences(self, state: _PaperState, region_index: int, pid: int, term_id: int,
                     check: tuple | None, near_misses: dict | None = None,
                     first_only: bool = False) -> list[tuple[int, int]]:
        """Spans (into the field's text) where key `pid` hit for this term, checks applied."""
        region = state.regions[region_index]
        spans = []
        for position in region.ends(pid) if region_index == _AUTHORS else region.lasts(pid):
            if region_index == _AUTHORS:
                author = region.author_at(position)
                if check is not None and not _author_name_matches(
                        self._terms[term_id].tokens, region.author_tokens[author]):
                    continue
                spans.append(region.author_span(author))
            else:
                last = position
                first = last - self._key_tokens[pid] + 1
                if check is not None and not _capitals_hold(region, first, check):
                    if near_misses is not None:
                        start, stop = region.span(first, last)
                        near_misses.setdefault(term_id, []).append(
                            (_REGION_FIELDS[region_index], region.text[start:stop]))
                    continue
                spans.append(region.span(first, last))
            if first_only:
                break
        return spans

    def _term_hits(self, state: _PaperState, term_id: int) -> tuple[tuple[Hit, ...], float]:
        """All hits of one term in one paper, with the term's share of the score (cached)."""
        cached = state.term_hits.get(term_id)
        if cached is not None:
            return cached
        term = self._terms[term_id]
        hits: list[Hit] = []
        if term.category is not None:
            offset = 0
            for position, name in enumerate(state.paper.categories):
                if term.kind == "primary" and position > 0:
                    break
                if name == term.category or archive_of(name) == term.category:
                    hits.append(Hit(term.display, "categories", offset, offset + len(name)))
                offset += len(name) + 1
        elif term.kind == "author":
            for pid, check in term.pid_checks:
                if pid in state.regions[_AUTHORS].pids:
                    for start, end in self._occurrences(state, _AUTHORS, pid, term_id, check):
                        hits.append(Hit(term.display, "authors", start, end))
        else:
            display = term.display
            key_tokens = self._key_tokens
            for region_index in term.regions:
                region = state.regions[region_index]
                pids = region.pids
                if not pids:
                    continue
                field_name = _REGION_FIELDS[region_index]
                found_before = len(hits)
                keys_found = 0
                for pid, check in term.pid_checks:
                    if pid not in pids:
                        continue
                    keys_found += 1
                    _, starts, stops = region.tables()
                    extra = key_tokens[pid] - 1
                    for last in region.lasts(pid):
                        if check is None or _capitals_hold(region, last - extra, check):
                            hits.append(_new_record(
                                Hit, (display, field_name, starts[last - extra], stops[last])))
                if keys_found > 1 and len(hits) - found_before > 1:
                    # each key's hits are in text order; several keys (plurals, compounds) merge
                    hits[found_before:] = sorted(hits[found_before:], key=_hit_start)
        if not hits:
            score = 0.0
        elif len(hits) == 1:
            score = FIELD_WEIGHTS[hits[0].field]
        else:
            score = sum(FIELD_WEIGHTS[f] for f in {h.field for h in hits})
            score = round(score + _OCCURRENCE_BONUS * min(len(hits) - 1, _MAX_BONUS_OCCURRENCES), 3)
        result = (tuple(hits), score)
        state.term_hits[term_id] = result
        return result

    def _scored_hits(self, state: _PaperState, term_ids: Sequence[int]
                     ) -> tuple[tuple[Hit, ...], float]:
        """Hits and score of several terms of one query, in the query's order."""
        if len(term_ids) == 1:
            (term_id,) = term_ids
            return state.term_hits.get(term_id) or self._term_hits(state, term_id)
        all_hits: list[Hit] = []
        total = 0.0
        for term_id in term_ids:
            hits, score = state.term_hits.get(term_id) or self._term_hits(state, term_id)
            all_hits.extend(hits)
            total += score
        return tuple(all_hits), round(total, 3)

    # -- explaining --

    def explain(self, subscription_id: str, paper: Paper) -> Explanation:
        """Which terms hit in which field, or what excluded the paper."""
        self._finalise()
        compiled = self._compiled(subscription_id)
        subscription = compiled.subscription
        state = _PaperState(paper)
        near_misses: dict[int, list[tuple[str, str]]] = {}
        hit = self._find_hits(state, near_misses)
        query = subscription.query
        id_of = lambda term: compiled.term_ids[(term.field, term.text)]  # noqa: E731

        def describe_term_hits(term: Term) -> str:
            hits, _ = self._term_hits(state, id_of(term))
            return _describe_hits(hits, texts)

        texts = {name: field_text(paper, name) for name in ("title", "abstract", "authors", "categories")}
        reasons: list[str] = []
        if not subscription.admits_type(paper):
            reasons.append(f'announce type "{paper.announce_type}" is not selected (this '
                           f"subscription takes {', '.join(sorted(subscription.admitted_types))})")
        if not subscription.admits_categories(paper):
            reasons.append(f"not in the subscription's categories "
                           f"({', '.join(sorted(subscription.categories))}); the paper is in "
                           f"{', '.join(paper.categories) or 'no category'}")
        if not compiled.is_true(hit):
            reasons.extend(_why_false(query.root, lambda term: id_of(term) in hit, describe_term_hits))
        matched = not reasons
        reports = []
        positive = set(query.positive_terms)
        for term in query.terms:
            term_id = id_of(term)
            hits = self._term_hits(state, term_id)[0] if term_id in hit else ()
            near = tuple(
                f'{field_name} has "{seen}", but {term.text} is written in capitals and matches '
                "only capitals"
                for field_name, seen in dict.fromkeys(near_misses.get(term_id, ())))
            reports.append(TermReport(term.describe(), term not in positive, hits, near))
        score = self._scored_hits(state, compiled.positives_in(hit))[1] if matched else 0.0
        return Explanation(subscription_id, paper.id, query.describe(), matched, score,
                           tuple(reports), tuple(reasons), texts)




def _capitals_hold(region: _Region, first: int, check: tuple) -> bool:
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


def _why_false(node: Node, is_hit: Callable[[Term], bool],
               describe_hits: Callable[[Term], str]) -> list[str]:
    """Readable reasons a (sub)query is false for a paper."""
    if isinstance(node, Term):
        return [f"{node.describe()} did not hit"]
    if isinstance(node, Not):
        hit_terms = [term for term, negated in iter_terms(node.child) if is_hit(term)]
        where = "; ".join(f"{term.describe()} in {describe_hits(term)}" for term in hit_terms)
        return [f"excluded by NOT {describe_node(node.child, nested=True)}"
                + (f" ({where})" if where else "")]
    if isinstance(node, Or):
        return [f"none of {', '.join(describe_node(c, nested=True) for c in node.children)} hit"]
    reasons = []
    for child in node.children:
        if evaluate(child, is_hit):
            continue
        if isinstance(child, Not):
            reasons.extend(_why_false(child, is_hit, describe_hits))
        else:
            reasons.append(f"missing AND part: {describe_node(child, nested=True)}")
    return reasons


def compile_subscriptions(subscriptions: Iterable[Subscription]) -> CompiledMatcher:
    """Compile every subscription into one matcher (see CompiledMatcher.add/remove for updates)."""
    return CompiledMatcher(subscriptions)
