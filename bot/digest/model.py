"""The platform-neutral digest: one destination's matched papers for one announcement day.

Renderers (Markdown here, Slack and Discord in `bot.platforms`) only translate a `Digest`; every
decision about what is in it, in which order and how it is counted is taken once, here.

Merging rule (`build_digest`): when several subscriptions of one destination match the same
paper, the paper appears once. Its hits are the union of all the matches' hits (duplicates
dropped, first-seen order), its hit terms the union of their terms, and its score the *maximum*
of their scores. Max rather than sum: a channel that subscribed to near-synonyms ("VLM" and
"vision language model") should not see a paper float to the top merely because the synonyms
overlap; a paper is as relevant as its best reason to be there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from datetime import date, datetime
from itertools import chain
from types import MappingProxyType

from bot.matching.table import MatchTable
from bot.models import Hit, Match, Paper

log = logging.getLogger(__name__)

Span = tuple[int, int]


class DigestError(ValueError):
    """A digest could not be built or written; the message says what was wrong."""


@dataclass(frozen=True, slots=True)
class AnnounceCounts:
    """How many of a digest's papers arrived as new, cross-listed or updated papers.

    `replace` covers both `replace` and `replace-cross` (a reader cares that it is an update);
    `cross` counts only first-time cross-lists, so the three add up to the total.
    """

    new: int = 0
    cross: int = 0
    replace: int = 0

    @property
    def total(self) -> int:
        return self.new + self.cross + self.replace

    @classmethod
    def of(cls, papers: Iterable[Paper]) -> "AnnounceCounts":
        new = cross = replace = 0
        for paper in papers:
            if paper.is_update:
                replace += 1
            elif paper.is_cross_list:
                cross += 1
            else:
                # Unknown announce types are counted as new rather than lost from the total.
                new += 1
        return cls(new=new, cross=cross, replace=replace)


def paper_labels(paper: Paper) -> tuple[str, ...]:
    """What a reader should know about how the paper was announced: `updated v2`, `cross-list`.

    A brand-new paper gets no label (it is the normal case).
    """
    labels: list[str] = []
    if paper.is_update:
        labels.append(f"updated v{paper.version}" if paper.version else "updated")
    if paper.is_cross_list:
        labels.append("cross-list")
    return tuple(labels)


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One paper in a digest, with why it is there.

    `title_spans` / `abstract_spans` are merged, sorted, non-overlapping character ranges of the
    paper's title / abstract that a query term hit (renderers bold them).
    """

    paper: Paper
    hit_terms: tuple[str, ...] = ()
    title_spans: tuple[Span, ...] = ()
    abstract_spans: tuple[Span, ...] = ()
    score: float = 0.0
    labels: tuple[str, ...] = ()
    subscription_ids: tuple[str, ...] = ()
    hits: tuple[Hit, ...] = ()

    @property
    def paper_id(self) -> str:
        return self.paper.id


@dataclass(frozen=True, slots=True)
class Digest:
    """One destination's papers for one announcement day.

    `items` are ordered by (-score, paper id), or by learned relevance first (`build_digest`'s
    `order`), and may be cut by `max_items`; `truncated` says how
    many matched papers were left out, and `counts` always describes *all* matched papers, so
    `counts.total == len(items) + truncated`. `folded` holds the papers cut (in the same order;
    `len(folded) == truncated`), which a chat thread lists as links in one final "N more papers"
    message. `mentions` maps a user id to the ids of the papers
    to mention them on (personal keywords); empty unless that feature fills it. `mention_items`
    holds those papers (each once, in digest order), which need not be among `items`.
    """

    destination: str
    title: str
    day: date
    items: tuple[DigestItem, ...] = ()
    counts: AnnounceCounts = field(default_factory=AnnounceCounts)
    subscriptions: tuple[str, ...] = ()
    truncated: int = 0
    mentions: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False)
    mention_items: tuple[DigestItem, ...] = ()
    folded: tuple[Paper, ...] = ()

    def __post_init__(self) -> None:
        # A read-only copy, so a frozen digest cannot be changed through the caller's dict.
        frozen = MappingProxyType({str(user): tuple(ids) for user, ids in self.mentions.items()})
        object.__setattr__(self, "mentions", frozen)

    @property
    def total(self) -> int:
        """Every matched paper, including those cut by `max_items`."""
        return self.counts.total

    @property
    def is_empty(self) -> bool:
        return self.total == 0

    @property
    def has_thread(self) -> bool:
        """Whether the day's thread has anything in it: the channel's papers, or mentions."""
        return not self.is_empty or bool(self.mentions)

    @property
    def paper_ids(self) -> tuple[str, ...]:
        return tuple(item.paper.id for item in self.items)


def merge_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Sort spans and merge those that overlap or touch: [(0, 3), (2, 5), (5, 6)] -> [(0, 6)].

    Touching spans are merged too, so a renderer never emits two emphasis markers back to back.
    Empty or reversed spans are dropped.
    """
    merged: list[list[int]] = []
    for start, end in sorted((s, e) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def _field_spans(hits: Iterable[Hit], field_name: str, text: str, paper_id: str) -> tuple[Span, ...]:
    spans = []
    for hit in hits:
        if hit.field != field_name:
            continue
        if 0 <= hit.start < hit.end <= len(text):
            spans.append((hit.start, hit.end))
        else:
            # A matcher bug should cost one highlight, not the whole day's digest.
            log.warning("ignoring out-of-range %s hit %r [%d:%d] on %s (length %d)",
                        field_name, hit.term, hit.start, hit.end, paper_id, len(text))
    return merge_spans(spans)


class _Accumulator:
    """Everything the matches say about one paper, merged."""

    __slots__ = ("paper", "hit_groups", "score", "subscription_ids")

    def __init__(self, paper: Paper, score: float) -> None:
        self.paper = paper
        # each match's hits, once per distinct object (matches share them): the matcher computes
        # spans lazily, so they are only looked at for the items the digest keeps
        self.hit_groups: dict[int, Iterable[Hit]] = {}
        self.score = score
        self.subscription_ids: dict[str, None] = {}

    def add(self, match: Match) -> None:
        self.hit_groups.setdefault(id(match.hits), match.hits)
        self.subscription_ids.setdefault(match.subscription_id, None)
        self.score = max(self.score, match.score)

    def add_hits(self, subscription_id: str, hits: Iterable[Hit]) -> None:
        """One more match's hits (its score is already merged)."""
        self.hit_groups.setdefault(id(hits), hits)
        self.subscription_ids.setdefault(subscription_id, None)

    def item(self) -> DigestItem:
        paper = self.paper
        hits = tuple(dict.fromkeys(chain.from_iterable(self.hit_groups.values())))
        terms = tuple(dict.fromkeys(hit.term for hit in hits))
        return DigestItem(
            paper=paper,
            hit_terms=terms,
            title_spans=_field_spans(hits, "title", paper.title, paper.id),
            abstract_spans=_field_spans(hits, "abstract", paper.abstract, paper.id),
            score=self.score,
            labels=paper_labels(paper),
            subscription_ids=tuple(self.subscription_ids),
            hits=hits,
        )


def build_digest(
    destination: str,
    title: str,
    day: date,
    matches: Iterable[Match],
    *,
    subscriptions_text: Sequence[str] = (),
    max_items: int | None = None,
    mentions: Mapping[str, Sequence[str]] | None = None,
    papers: Mapping[str, Paper] | None = None,
    order: Mapping[str, float] | None = None,
) -> Digest:
    """Merge one destination's matches for `day` into a `Digest` (see the module doc for merging).

    `papers` (id -> Paper) is the record to show for a matched paper when it is newer than the
    match's own (enriched after matching); a paper missing from it is shown as matched.

    Items are ordered by (-score, paper id), or, given `order` (paper id -> relevance, from the
    destination's learned model), by descending relevance first (papers it does not rank last),
    then as before. `max_items` keeps the first N of that order and records how many were cut in
    `Digest.truncated` and which in `Digest.folded`; None keeps all. No matches is a valid,
    empty digest ("no matching papers today").
    """
    subscriptions_text = _checked_arguments(destination, day, max_items, subscriptions_text)
    by_id: dict[str, _Accumulator] = {}
    for match in matches:
        if not isinstance(match, Match):
            raise DigestError(f"build_digest takes Match records, got {type(match).__name__}")
        acc = by_id.get(match.paper.id)
        if acc is None:
            # The first match's Paper stands for the paper (all matches of one day come from
            # the same listing, so their records agree), unless the lookup holds a newer one.
            paper = papers.get(match.paper.id, match.paper) if papers else match.paper
            acc = by_id[match.paper.id] = _Accumulator(paper, match.score)
        acc.add(match)

    kept = sorted(by_id.values(), key=lambda acc: (-acc.score, acc.paper.id))
    kept, folded = _order_and_cut(kept, lambda acc: acc.paper, order, max_items)
    return Digest(
        destination=destination,
        title=title,
        day=day,
        items=tuple(acc.item() for acc in kept),
        counts=AnnounceCounts.of(acc.paper for acc in by_id.values()),
        subscriptions=tuple(str(text) for text in subscriptions_text),
        truncated=len(folded),
        folded=folded,
        mentions=MappingProxyType({user: tuple(ids) for user, ids in (mentions or {}).items()}),
    )


KeptT = TypeVar("KeptT")


def _order_and_cut(kept: list[KeptT], paper_of: Callable[[KeptT], Paper],
                   order: Mapping[str, float] | None,
                   max_items: int | None) -> tuple[list[KeptT], tuple[Paper, ...]]:
    """`kept` (already in match order) reordered by the learned `order`, if any, then cut to
    `max_items`; returns what stays and the papers folded away (only their papers: the hits of
    a cut match are never computed, the fold lists titles)."""
    if order:
        unranked = float("-inf")
        kept.sort(key=lambda one: -order.get(paper_of(one).id, unranked))  # stable: ties keep the match order
    if max_items is None or len(kept) <= max_items:
        return kept, ()
    return kept[:max_items], tuple(paper_of(one) for one in kept[max_items:])


def _checked_arguments(destination: str, day: date, max_items: int | None,
                       subscriptions_text: Sequence[str]) -> Sequence[str]:
    if not isinstance(destination, str) or not destination.strip():
        raise DigestError("a digest needs a destination key (got an empty one)")
    if isinstance(day, datetime) or not isinstance(day, date):
        raise DigestError(f"a digest's day must be a date like 2025-04-20, got {day!r}")
    if max_items is not None and (isinstance(max_items, bool) or not isinstance(max_items, int)
                                  or max_items < 0):
        raise DigestError(f"max_items must be a whole number of papers >= 0 or None, got {max_items!r}")
    if isinstance(subscriptions_text, str):
        # A bare string would be split into characters; it is one subscription's text.
        subscriptions_text = (subscriptions_text,)
    return subscriptions_text


def digest_from_table(
    destination: str,
    title: str,
    day: date,
    table: MatchTable,
    subscription_ids: Iterable[str],
    *,
    subscriptions_text: Sequence[str] = (),
    max_items: int | None = None,
    papers: Mapping[str, Paper] | None = None,
    order: Mapping[str, float] | None = None,
) -> Digest:
    """`build_digest` for the matches of `subscription_ids` in a day's MatchTable, without a
    Match record per match: scores are merged from the table's rows (the same rule: a paper
    once, its best score), and hits are looked up only for the items kept (after `max_items`).
    Hits and subscription ids of an item are in the order of `subscription_ids`; `order` as in
    build_digest."""
    subscriptions_text = _checked_arguments(destination, day, max_items, subscriptions_text)
    score_of: dict[int, float] = {}
    matched_by: dict[int, list[str]] = {}
    for subscription_id in dict.fromkeys(subscription_ids):
        for chunk in table.rows(subscription_id):
            for index, score in chunk.items():
                best = score_of.get(index)
                if best is None:
                    score_of[index] = score
                    matched_by[index] = [subscription_id]
                else:
                    if score > best:
                        score_of[index] = score
                    # (a subscription's chunks may share a paper: see MatchTable.rows)
                    if matched_by[index][-1] != subscription_id:
                        matched_by[index].append(subscription_id)
    listed = table.papers
    shown = ({index: papers.get(listed[index].id, listed[index]) for index in score_of}
             if papers else {index: listed[index] for index in score_of})
    # (-score, paper id), as build_digest: by id, then (stable) by score, highest first
    kept = sorted(score_of, key=lambda index: shown[index].id)
    kept.sort(key=score_of.__getitem__, reverse=True)
    kept, folded = _order_and_cut(kept, shown.__getitem__, order, max_items)
    items = []
    for index in kept:
        accumulator = _Accumulator(shown[index], score_of[index])
        for subscription_id in matched_by[index]:
            accumulator.add_hits(subscription_id, table.hits(subscription_id, index))
        items.append(accumulator.item())
    return Digest(
        destination=destination,
        title=title,
        day=day,
        items=tuple(items),
        counts=AnnounceCounts.of(shown.values()),
        subscriptions=tuple(str(text) for text in subscriptions_text),
        truncated=len(folded),
        folded=folded,
    )
