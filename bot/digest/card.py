"""What a paper, a day's parent message and a personal mention SHOW, decided once for every
platform. Renderers (Markdown, Slack Block Kit, Discord embeds) only map these cards to their
markup, within their own limits and escaping rules; they never decide which facts a paper line
carries, which titles the parent previews or which papers a mention links.

- `PaperCard`: title, link, id, categories primary first, the author line (6 then "et al."),
  abstract, labels (`updated v2`, `cross-list`), venue comment, and why it matched (hit terms and
  the spans of the title and abstract to emphasise).
- `DayHeadline`: the parent message of a destination's day: date, counts, the top titles, the
  subscriptions that fed it.
- `PersonalMention`: one person named in the day's thread, with the first papers of theirs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.digest.model import AnnounceCounts, Digest, DigestItem, Span
from bot.digest.text import author_line, category_badges, count_line, papers_count, venue_text
from bot.matching import readable_text

TOP_TITLES = 3              # titles previewed in a day's parent message
MENTION_PAPERS_SHOWN = 5    # papers linked per person in a mention; the rest are counted

NEW, CROSS, UPDATED = "new", "cross", "updated"


@dataclass(frozen=True, slots=True)
class PaperCard:
    """One paper as every platform shows it (raw text: each renderer escapes for its markup)."""

    id: str
    title: str
    url: str
    categories: tuple[str, ...]     # primary first, duplicates and blanks dropped
    authors: str                    # "A, B, C, D, E, F, et al." (empty when none)
    abstract: str
    labels: tuple[str, ...]         # "updated v2", "cross-list"; none for a plain new paper
    venue: str                      # comment and journal reference (empty until enriched)
    kind: str                       # NEW, CROSS or UPDATED: how the paper was announced
    hit_terms: tuple[str, ...] = ()
    title_spans: tuple[Span, ...] = ()
    abstract_spans: tuple[Span, ...] = ()


def paper_card(item: DigestItem | PaperCard, *, readable: bool = True) -> PaperCard:
    """The card of a digest item (a card is returned as it is).

    `readable`: titles and abstracts with their LaTeX shown as Unicode (`MoS$_2$` -> "MoS₂",
    `$\\gamma$-ray` -> "γ-ray"), the emphasis spans moved with the text. Chat shows that; the
    Markdown digest passes False and keeps `$…$`, which GitHub renders as math.
    """
    if isinstance(item, PaperCard):
        return item
    paper = item.paper
    kind = UPDATED if paper.is_update else CROSS if paper.is_cross_list else NEW
    title, title_spans = paper.title, item.title_spans
    abstract, abstract_spans = paper.abstract, item.abstract_spans
    if readable:
        title, title_spans = readable_with_spans(title, title_spans)
        abstract, abstract_spans = readable_with_spans(abstract, abstract_spans)
    return PaperCard(
        id=paper.id,
        title=title,
        url=paper.abs_url,
        categories=category_badges(paper.categories),
        authors=author_line(paper.authors),
        abstract=abstract,
        labels=item.labels,
        venue=venue_text(paper),
        kind=kind,
        hit_terms=item.hit_terms,
        title_spans=title_spans,
        abstract_spans=abstract_spans,
    )


def paper_cards(items: Iterable[DigestItem | PaperCard], *, readable: bool = True) -> list[PaperCard]:
    return [paper_card(item, readable=readable) for item in items]


def readable_with_spans(text: str, spans: Sequence[Span]) -> tuple[str, tuple[Span, ...]]:
    """`readable_text` of `text`, converted piece by piece between the span boundaries so each
    span still covers the same words afterwards (the matcher widens a hit to a whole `$…$`, so a
    boundary never cuts a formula)."""
    converted = readable_text(text)
    if converted == text:
        return text, tuple(spans)
    pieces: list[str] = []
    moved: list[Span] = []
    length = position = 0
    for start, end in spans:
        before = readable_text(text[position:start])
        inside = readable_text(text[start:end])
        pieces += [before, inside]
        length += len(before)
        moved.append((length, length + len(inside)))
        length += len(inside)
        position = end
    pieces.append(readable_text(text[position:]))
    return "".join(pieces), tuple(moved)


@dataclass(frozen=True, slots=True)
class DayHeadline:
    """A destination's day in one message: what the thread's parent says."""

    day: date
    title: str
    total: int                      # every matched paper, also those cut by the daily maximum
    counts: AnnounceCounts
    shown: int                      # papers the thread holds
    truncated: int                  # matched but over the destination's daily maximum
    top: tuple[PaperCard, ...]      # the first TOP_TITLES papers of the thread
    subscriptions: tuple[str, ...]
    has_mentions: bool              # people are mentioned in the thread (even on an empty day)

    @property
    def is_empty(self) -> bool:
        return self.total == 0

    @property
    def more_in_thread(self) -> int:
        """Papers in the thread beyond the previewed top titles."""
        return self.shown - len(self.top)

    @property
    def count_line(self) -> str:
        """`12 new · 3 cross-lists · 2 updated`."""
        return count_line(self.counts)

    @property
    def summary(self) -> str:
        """`17 papers: 12 new · 3 cross-lists · 2 updated`."""
        return f"{papers_count(self.total)}: {self.count_line}"


def day_headline(digest: Digest, cards: Sequence[PaperCard] | None = None,
                 top: int = TOP_TITLES) -> DayHeadline:
    """The parent message's content. `cards` are the digest's item cards when already built
    (composition builds each card once); otherwise the top ones are built here."""
    top_cards = tuple(cards[:top]) if cards is not None else tuple(paper_cards(digest.items[:top]))
    return DayHeadline(
        day=digest.day,
        title=digest.title,
        total=digest.total,
        counts=digest.counts,
        shown=len(digest.items),
        truncated=digest.truncated,
        top=top_cards,
        subscriptions=digest.subscriptions,
        has_mentions=bool(digest.mentions),
    )


@dataclass(frozen=True, slots=True)
class PersonalMention:
    """One person named in the day's thread (`/papers me deliver here`): links to the first of
    their papers, never their keywords."""

    user: str
    papers: tuple[PaperCard, ...]
    more: int                       # their further papers, counted ("+3 more")


def personal_mention(digest: Digest, user: str, shown: int = MENTION_PAPERS_SHOWN) -> PersonalMention:
    items = {item.paper.id: item for item in digest.mention_items}
    ids = [pid for pid in digest.mentions.get(user, ()) if pid in items]
    return PersonalMention(user=user, papers=tuple(paper_card(items[pid]) for pid in ids[:shown]),
                           more=max(0, len(ids) - shown))


def personal_mentions(digest: Digest, users: Iterable[str],
                      shown: int = MENTION_PAPERS_SHOWN) -> list[PersonalMention]:
    return [personal_mention(digest, user, shown) for user in users]
