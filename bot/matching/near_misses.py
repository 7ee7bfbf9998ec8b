"""Near misses: papers a query almost matched, grouped by what kept them out (DESIGN.md §4).

A dry run (`/papers test`, `paperbot test-query`) shows up to five, taken in turn from each group,
so one common reason (say, papers left out for their announce type) cannot hide the others (the
papers a NOT term excluded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from bot.models import ANNOUNCE_TYPES, Match, Paper

from .explain import Explanation
from .matcher import compile_subscriptions
from .query import And, Node, Or, Query, Term, evaluate, iter_terms
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
# Subscription ids of the questions near_miss_questions adds (the probe, one per term).
PROBE_ID = "near-miss probe"
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
    questions = near_miss_questions(subscription)
    if not questions:
        return NearMisses(())
    matcher = compile_subscriptions([subscription, *questions])
    return near_misses_among(subscription, matcher.match(papers), matcher.explain, limit)


def near_miss_questions(subscription: Subscription) -> tuple[Subscription, ...]:
    """What `near_misses_among` needs matched besides `subscription` itself (none when its query
    has only categories): the probe (`near_miss_probe`: the papers a term of the query hit in
    any field, of any announce type, which are all the near misses there can be), and for each
    term of the query and of the probe `term AND probe`: on a paper the probe matches, whether
    the term hit (in the fields it searches), which is what the classification asks.

    A caller matching other questions over the same papers (the command worker) asks these
    along with them, so classifying costs no pass of its own; a paper the probe does not match
    is never a near miss, so the papers may be narrowed to the probe's (bot.matching.day_index)."""
    probe = near_miss_probe(subscription.query)
    if probe is None:
        return ()
    every_type = frozenset(ANNOUNCE_TYPES)
    questions = [Subscription(PROBE_ID, probe, types=every_type)]
    for n, term in enumerate(_classified_terms(subscription.query, probe)):
        terms = tuple(dict.fromkeys((term, *probe.terms)))
        questions.append(Subscription(f"{_TERM}{n}", Query(
            root=And((term, probe.root)), source=term.describe(), terms=terms), types=every_type))
    return tuple(questions)


def near_misses_among(subscription: Subscription, matches: Iterable[Match],
                      explain: Callable[[str, Paper], Explanation],
                      limit: int = NEAR_MISS_LIMIT) -> NearMisses:
    """`find_near_misses` from matches already made: those of `subscription` and of
    `near_miss_questions(subscription)` over some papers (others are ignored), and `explain`,
    the matcher's explanation of `subscription` for a paper."""
    probe = near_miss_probe(subscription.query)
    if probe is None:
        return NearMisses(())
    term_of = {f"{_TERM}{n}": term
               for n, term in enumerate(_classified_terms(subscription.query, probe))}
    matched: set[str] = set()
    probed = []
    terms_hit: dict[str, set[Term]] = {}
    for m in matches:
        if m.subscription_id == subscription.id:
            matched.add(m.paper.id)
        elif m.subscription_id == PROBE_ID:
            probed.append(m)
        elif m.subscription_id in term_of:
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
        NearMissGroup(reason, tuple(NearMiss(paper, reason, explain(subscription.id, paper))
                                    for paper in chosen[reason]), len(by_reason[reason]))
        for reason in by_reason if chosen[reason])
    return NearMisses(groups)


def _classified_terms(query: Query, probe: Query) -> list[Term]:
    """The terms whose hits classify a near miss: the query's own and the probe's."""
    return list(dict.fromkeys((*query.terms, *probe.terms)))


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

