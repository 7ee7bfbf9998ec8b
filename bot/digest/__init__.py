"""Digests: the neutral model (`model`), what a paper, a day's parent and a mention show
(`card`), and the text helpers every renderer shares (`text`). Renderers live with their platform
(`bot.platforms.markdown`, `.slack`, `.discord`) and only map cards to markup."""

from bot.digest.card import DayHeadline, PaperCard, PersonalMention, day_headline, paper_card
from bot.digest.model import (
    AnnounceCounts,
    Digest,
    DigestError,
    DigestItem,
    build_digest,
    merge_spans,
    paper_labels,
)

__all__ = [
    "AnnounceCounts",
    "DayHeadline",
    "PaperCard",
    "PersonalMention",
    "day_headline",
    "paper_card",
    "Digest",
    "DigestError",
    "DigestItem",
    "build_digest",
    "merge_spans",
    "paper_labels",
]
