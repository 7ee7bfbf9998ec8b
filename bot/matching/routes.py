"""Routes: how a day's matches of each compiled subscription are found from the term postings
(`table.resolve`), and its boolean form on hit sets."""

from __future__ import annotations

from operator import itemgetter
from typing import Callable

from bot.models import ANNOUNCE_TYPES

from .query import And, Node, Not, Or, Term
from .subscriptions import Subscription
from .terms import CompiledTerm

ANY, CONJUNCTION, GENERAL = 0, 1, 2
# How a subscription without a category restriction is resolved (table.resolve), fastest
# first: any of some terms and none of others (`VLM`, `VLM, MLLM`, `"world model" -robot`: a
# term hitting is the match unless an excluded one hits too), two terms that must both hit;
# anything else is a candidate of one of its necessary terms and is evaluated.
ROUTE_ANY_OF, ROUTE_PAIR, ROUTE_GENERIC = 1, 2, 3


_EMPTY: frozenset[int] = frozenset()


def negation_normal_form(node: Node, negate: bool = False) -> Node:
    """Push NOTs down to the terms, so `NOT (NOT a AND NOT b)` is seen as `a OR b`."""
    if isinstance(node, Term):
        return Not(node) if negate else node
    if isinstance(node, Not):
        return negation_normal_form(node.child, not negate)
    children = tuple(negation_normal_form(child, negate) for child in node.children)
    return And(children) if isinstance(node, And) != negate else Or(children)


def _term_cost(term: CompiledTerm) -> float:
    """A guess at how often a term hits (no statistics needed): longer phrases are rarer,
    archives are common."""
    if term.kind == "text":
        return 1.0 / len(term.tokens)
    if term.kind == "author":
        return 0.3
    is_archive = "." not in term.category
    return (300.0 if is_archive else 30.0) / (3.0 if term.kind == "primary" else 1.0)


def _necessary_terms(node: Node, term_of: Callable[[Term], CompiledTerm]
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


class CompiledSubscription:
    __slots__ = ("subscription", "id", "slot", "types", "kinds", "categories", "mode", "required",
                 "excluded", "evaluate", "positive", "single", "necessary", "term_ids",
                 "route", "any_of_excluded", "positive_order", "shared_rows")

    def __init__(self, subscription: Subscription, slot: int, term_ids: dict[tuple, int],
                 terms: list[CompiledTerm]):
        self.subscription = subscription
        self.id = subscription.id
        self.slot = slot
        self.term_ids = term_ids
        self.types = subscription.admitted_types
        self.kinds = tuple(kind for kind in ANNOUNCE_TYPES if kind in self.types)
        self.categories = subscription.categories or None
        query = subscription.query
        id_of = lambda term: term_ids[(term.field, term.text)]  # noqa: E731
        root = negation_normal_form(query.root)
        # the query's own order: a match's hits list its terms in the order the user wrote them
        self.positive_order = tuple(dict.fromkeys(id_of(term) for term in query.positive_terms))
        self.positive = frozenset(self.positive_order)
        # one positive term: its hits and score are the match's, shared through the paper's cache
        self.single = next(iter(self.positive)) if len(self.positive) == 1 else None
        self.required = self.excluded = _EMPTY
        self.evaluate = None
        children = root.children if isinstance(root, (And, Or)) else (root,)
        if isinstance(root, Term) or (isinstance(root, Or) and all(isinstance(c, Term) for c in children)):
            self.mode = ANY  # being a candidate means one of its terms hit
        elif isinstance(root, And) and all(isinstance(c, (Term, Not)) for c in children):
            self.mode = CONJUNCTION
            self.required = frozenset(id_of(c) for c in children if isinstance(c, Term))
            self.excluded = frozenset(id_of(c.child) for c in children if isinstance(c, Not))
        else:
            self.mode = GENERAL
            self.evaluate = _evaluator(root, id_of)
        necessary = _necessary_terms(root, lambda term: terms[id_of(term)])
        # parse_query rejects queries that can be true with no term present, so this holds.
        assert necessary is not None, query.describe()
        self.necessary = necessary[1]
        self.route, self.any_of_excluded = self._route(root, id_of)
        # One term and nothing else: its matches are the term's postings for these announce
        # types, the same for every such subscription (see table.resolve).
        self.shared_rows = ((self.single, self.kinds) if self.route == ROUTE_ANY_OF
                            and self.single is not None and not self.any_of_excluded else None)

    def _route(self, root: Node, id_of: Callable[[Term], int]) -> tuple[int, object]:
        """How table.resolve finds this subscription's matches (see ROUTE_*): (route, the
        excluded terms of ROUTE_ANY_OF, None for the other routes)."""
        if self.categories is not None:
            return ROUTE_GENERIC, None
        children = root.children if isinstance(root, And) else (root,)
        terms = [c for c in children if isinstance(c, Term)]
        unions = [c for c in children if isinstance(c, Or)]
        negations = [c for c in children if isinstance(c, Not)]
        simple = (len(terms) + len(unions) + len(negations) == len(children)
                  and all(isinstance(c, Term) for u in unions for c in u.children))
        excluded = frozenset(id_of(c.child) for c in negations)
        if simple and len(terms) + len(unions) == 1:
            # any of some terms, none of others: `VLM, MLLM`, `"world model" -robot`
            return ROUTE_ANY_OF, excluded
        if len(children) == 2 and len(terms) == 2 and len(self.positive) == 2:
            return ROUTE_PAIR, None   # `a AND b`: the two terms' postings intersected
        return ROUTE_GENERIC, None

    def positives_in(self, hit: set[int]) -> tuple[int, ...]:
        """The positive terms that hit, in the query's order."""
        return tuple(term_id for term_id in self.positive_order if term_id in hit)

    def is_true(self, hit: set[int]) -> bool:
        if self.mode == ANY:
            return not self.necessary.isdisjoint(hit)
        if self.mode == CONJUNCTION:
            return self.required <= hit and self.excluded.isdisjoint(hit)
        return self.evaluate(hit)
