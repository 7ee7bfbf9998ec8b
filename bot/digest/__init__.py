"""Digests: the neutral model (`model`), shared text helpers (`text`), the Markdown renderer and
writer (`markdown`)."""

from bot.digest.markdown import MarkdownWriter, render_markdown
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
    "MarkdownWriter",
    "build_digest",
    "merge_spans",
    "paper_labels",
    "render_markdown",
]
