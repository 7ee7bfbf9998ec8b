"""Plain Paper / Match builders for the digest tests (the records are plain data)."""

from __future__ import annotations

import re

from bot.models import Hit, Match, Paper


def make_paper(paper_id: str = "2504.00001", *, title: str = "A Study of Things",
               abstract: str = "We study things.", authors=("Ada Lovelace", "Alan Turing"),
               categories=("cs.CV", "cs.AI"), announce_type: str = "new", version: int | None = 1,
               comment: str | None = None, journal_ref: str | None = None) -> Paper:
    return Paper(id=paper_id, title=title, abstract=abstract, authors=tuple(authors),
                 categories=tuple(categories), announce_type=announce_type, version=version,
                 comment=comment, journal_ref=journal_ref)


def hits_for(paper: Paper, term: str, pattern: str, field: str = "title") -> tuple[Hit, ...]:
    """Every whole-word occurrence of `pattern` (a regex) in the paper's field, as Hits."""
    text = getattr(paper, field)
    return tuple(Hit(term, field, m.start(), m.end())
                 for m in re.finditer(rf"(?<![\w]){pattern}", text, flags=re.IGNORECASE))


def make_match(paper: Paper, subscription_id: str = "sub-1", *, score: float = 1.0,
               hits: tuple[Hit, ...] = ()) -> Match:
    return Match(subscription_id=subscription_id, paper=paper, hits=hits, score=score)
