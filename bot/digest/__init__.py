"""Digests: the neutral model (`model`) and the text helpers every renderer shares (`text`).
Renderers live with their platform (`bot.platforms.markdown`, `.slack`, `.discord`)."""

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
    "Digest",
    "DigestError",
    "DigestItem",
    "build_digest",
    "merge_spans",
    "paper_labels",
]
