"""Explanations: which terms hit in which field, or what kept a paper out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from bot.models import Hit

from .query import Node, Not, Or, Term, describe_node, evaluate, iter_terms


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
                lines.append(f"  {label}: hit in {describe_hits(report.hits, self.field_texts)}")
            else:
                lines.append(f"  {label}: no hit")
            for near in report.near_misses:
                lines.append(f"    near miss: {near}")
        return "\n".join(lines)


def describe_hits(hits: Sequence[Hit], field_texts: dict[str, str], limit: int = 3) -> str:
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


def why_false(node: Node, is_hit: Callable[[Term], bool],
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
            reasons.extend(why_false(child, is_hit, describe_hits))
        else:
            reasons.append(f"missing AND part: {describe_node(child, nested=True)}")
    return reasons
