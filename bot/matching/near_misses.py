"""Near misses: papers a query almost matched, grouped by what kept them out (DESIGN.md §4).

A dry run (`/papers test`, `paperbot test-query`) shows up to five, taken in turn from each group,
so one common reason (say, papers left out for their announce type) cannot hide the others (the
papers a NOT term excluded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from bot.models import ANNOUNCE_TYPES, Paper

from .explain import Explanation
from .matcher import compile_subscriptions
from .query import Node, Or, Query, Term, evaluate, iter_terms
from .subscriptions import Subscription

NEAR_MISS_LIMIT = 5

# Reasons, in the order a paper is classified and the groups are shown.
EXCLUDED = "excluded"
MISSING_AND = "missing-and"
FIELD = "field"
ANNOUNCE_TYPE = "announce-type"
CATEGORY = "category"
REASON_TITLES = {
    EXCLUDED: "excluded by a NOT term",
    MISSING_AND: "missing one side of an AND",
    FIELD: "the term is there, but in another field",
    ANNOUNCE_TYPE: "left out by announce type",
    CATEGORY: "outside the subscription's categories",
}
_PROBE = "near-miss probe"
_TERM = "near-miss term "


@dataclass(frozen=True)
class NearMiss:
    paper: Paper
    reason: str          # one of REASON_TITLES
    explanation: Explanation

    @property
    def detail(self) -> str:
        """The first reason the explanation gives, e.g. `excluded by NOT robot (robot in title
        "Robots")`."""
        return self.explanation.reasons[0] if self.explanation.reasons else REASON_TITLES[self.reason]


@dataclass(frozen=True)
class NearMissGroup:
    reason: str
    items: tuple[NearMiss, ...]   # the ones shown
    total: int                    # how many papers the day had for this reason

    @property
    def title(self) -> str:
        return REASON_TITLES[self.reason]


@dataclass(frozen=True)
class NearMisses:
    groups: tuple[NearMissGroup, ...]

    @property
    def items(self) -> tuple[NearMiss, ...]:
        return tuple(item for group in self.groups for item in group.items)

    @property
    def total(self) -> int:
        return sum(group.total for group in self.groups)

    def text(self) -> str:
        """Plain text, one block per reason (for the CLI and chat fallbacks)."""
        if not self.groups:
            return "no near misses"
        lines = []
        for group in self.groups:
            more = f", {group.total - len(group.items)} more" if group.total > len(group.items) else ""
            lines.append(f"{group.title} ({len(group.items)} shown{more}):")
            for item in group.items:
                lines.append(f"  {item.paper.id}  {item.paper.title}")
                lines.append(f"    {item.detail}")
        return "\n".join(lines)


def find_near_misses(subscription: Subscription, papers: Iterable[Paper],
                     limit: int = NEAR_MISS_LIMIT) -> NearMisses:
    """Up to `limit` papers that one of the query's terms hit (in any field, any announce type)
    but that the subscription does not match, grouped by reason and taken in turn from each."""
    papers = list(papers)
    probe = near_miss_probe(subscription.query)
    if probe is None:
        return NearMisses(())
    # Which terms hit each paper, for the classification, come from the same pass as the
    # matches: every term (the query's own and the probe's) is also a subscription of its own,
    # matched whatever the announce type, which is what `CompiledMatcher.terms_hit` reports. One
    # pass normalises each paper once, where asking terms_hit per paper would do it twice more.
    terms = list(dict.fromkeys((*subscription.query.terms, *probe.terms)))
    term_of = {f"{_TERM}{n}": term for n, term in enumerate(terms)}
    matcher = compile_subscriptions([
        subscription, Subscription(_PROBE, probe, types=frozenset(ANNOUNCE_TYPES)),
        *(Subscription(term_id, Query(root=term, source=term.describe(), terms=(term,)),
                       types=frozenset(ANNOUNCE_TYPES)) for term_id, term in term_of.items())])
    matched: set[str] = set()
    probed = []
    terms_hit: dict[str, set[Term]] = {}
    for m in matcher.match(papers):
        if m.subscription_id == subscription.id:
            matched.add(m.paper.id)
        elif m.subscription_id == _PROBE:
            probed.append(m)
        else:
            terms_hit.setdefault(m.paper.id, set()).add(term_of[m.subscription_id])
    candidates = sorted((m for m in probed if m.paper.id not in matched),
                        key=lambda m: (-m.score, m.paper.id))
    own_terms = set(subscription.query.terms)
    probe_terms = set(probe.terms)
    by_reason: dict[str, list[Paper]] = {reason: [] for reason in REASON_TITLES}
    for candidate in candidates:
        paper = candidate.paper
        hit = terms_hit.get(paper.id, set())
        reason = _classify(subscription, frozenset(hit & own_terms), frozenset(hit & probe_terms),
                           paper)
        by_reason[reason].append(paper)
    # in turn from each reason, so no single reason fills the list
    chosen: dict[str, list[Paper]] = {reason: [] for reason in by_reason}
    remaining = limit
    depth = 0
    while remaining > 0 and any(len(found) > depth for found in by_reason.values()):
        for reason, found in by_reason.items():
            if remaining > 0 and len(found) > depth:
                chosen[reason].append(found[depth])
                remaining -= 1
        depth += 1
    groups = tuple(
        NearMissGroup(reason, tuple(NearMiss(paper, reason, matcher.explain(subscription.id, paper))
                                    for paper in chosen[reason]), len(by_reason[reason]))
        for reason in by_reason if chosen[reason])
    return NearMisses(groups)


def near_miss_probe(query: Query) -> Query | None:
    """Every positive text or author term of the query, in any text field: what a near miss has
    (None when the query has only categories). The papers it matches are all the near misses
    there can be, so a caller may narrow a day to them before `find_near_misses`."""
    terms: list[Term] = []
    for term in query.positive_terms:
        if term.field in ("cat", "primary"):
            continue
        terms.append(term if term.field == "au" else Term(term.text, None))
    terms = list(dict.fromkeys(terms))
    if not terms:
        return None
    root: Node = terms[0] if len(terms) == 1 else Or(tuple(terms))
    return Query(root=root, source=query.source, terms=tuple(terms))


def _classify(subscription: Subscription, hit: frozenset[Term], anywhere: frozenset[Term],
              paper: Paper) -> str:
    root = subscription.query.root
    negated = {term for term, is_negated in iter_terms(root) if is_negated}
    if evaluate(root, hit.__contains__):
        return ANNOUNCE_TYPE if not subscription.admits_type(paper) else CATEGORY
    if not negated.isdisjoint(hit) and evaluate(root, lambda t: t in hit and t not in negated):
        return EXCLUDED

    def in_any_field(term: Term) -> bool:
        if term in negated:
            return term in hit
        return term in hit or (term.field in ("ti", "abs") and Term(term.text, None) in anywhere)

    if evaluate(root, in_any_field):
        return FIELD
    return MISSING_AND

