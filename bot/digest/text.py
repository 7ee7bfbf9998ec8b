"""Text helpers every renderer shares (Markdown, Slack, Discord): one wording, one set of rules.

Nothing here knows a markup language; where markup is needed (bold, escaping) the caller passes
the platform's own function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from bot.digest.model import AnnounceCounts, DigestError, Span, merge_spans
from bot.models import Paper

ELLIPSIS = "…"
SEPARATOR = " · "
AUTHOR_LIMIT = 6  # the seed digests list six names, then "et al."


def _identity(text: str) -> str:
    return text


def author_line(authors: Sequence[str], limit: int = AUTHOR_LIMIT) -> str:
    """`A, B, C, D, E, F, et al.` when there are more than `limit` authors, else all of them.

    Empty author names are skipped; no authors gives an empty string.
    """
    if limit < 1:
        raise DigestError(f"the author limit must be at least 1, got {limit}")
    names = [name.strip() for name in authors if name and name.strip()]
    if len(names) > limit:
        return ", ".join(names[:limit]) + ", et al."
    return ", ".join(names)


def category_badges(categories: Sequence[str]) -> tuple[str, ...]:
    """The categories to show, in the paper's order (the primary is first): duplicates and blanks
    dropped, nothing re-sorted."""
    seen: dict[str, None] = {}
    for category in categories:
        category = category.strip()
        if category:
            seen.setdefault(category, None)
    return tuple(seen)


def bold_spans(
    text: str,
    spans: Iterable[Span],
    bold: Callable[[str], str] = lambda s: f"**{s}**",
    escape: Callable[[str], str] = _identity,
) -> str:
    """`text` with the character ranges `spans` wrapped by `bold`, every piece passed through
    `escape` first (escaping after bolding would escape the markers themselves).

    Overlapping and touching spans are merged so markers never nest or collide; spans are clipped
    to the text.
    """
    clipped = ((max(0, start), min(len(text), end)) for start, end in spans)
    pieces: list[str] = []
    position = 0
    for start, end in merge_spans(clipped):
        pieces.append(escape(text[position:start]))
        pieces.append(bold(escape(text[start:end])))
        position = end
    pieces.append(escape(text[position:]))
    return "".join(pieces)


def labels_text(labels: Iterable[str], separator: str = SEPARATOR) -> str:
    """`updated v2 · cross-list`, or an empty string for none."""
    return separator.join(label for label in labels if label)


def venue_text(paper: Paper) -> str:
    """The author's comment (often the venue: "Accepted at CVPR 2025") and the journal reference,
    when the API enrichment has supplied them; empty otherwise."""
    parts = []
    if paper.comment and paper.comment.strip():
        parts.append(" ".join(paper.comment.split()))
    if paper.journal_ref and paper.journal_ref.strip():
        parts.append("Journal ref: " + " ".join(paper.journal_ref.split()))
    return SEPARATOR.join(parts)


def truncate(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` cut to at most `limit` characters, at a word boundary, ending with `ellipsis`.

    Text that fits is returned unchanged. A single word longer than half the room is cut inside
    the word rather than leaving almost nothing. Limits count Python characters (code points),
    which is how Discord and Slack count their limits too.
    """
    if limit < len(ellipsis) + 1:
        raise DigestError(f"cannot truncate to {limit} characters: need room for at least one "
                          f"character and {ellipsis!r}")
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    # Look one character past the room: a space there means the word before it is whole.
    window = text[: room + 1]
    boundary = max(window.rfind(" "), window.rfind("\n"), window.rfind("\t"))
    cut = text[:boundary] if boundary >= room // 2 else text[:room]
    cut = cut.rstrip().rstrip(",;:-–—").rstrip()
    if not cut:
        cut = text[:room]
    return cut + ellipsis


def plural(count: int, word: str, plural_form: str | None = None) -> str:
    """`1 paper`, `3 papers`; `plural_form` for irregular words (`2 cross-lists` is regular)."""
    return f"{count} {word if count == 1 else (plural_form or word + 's')}"


def count_line(counts: AnnounceCounts, separator: str = SEPARATOR) -> str:
    """The day's counts as a reader says them: `12 new · 3 cross-lists · 2 updated`.

    Zero parts are left out; a day with nothing gives `No matching papers`.
    """
    parts = []
    if counts.new:
        parts.append(f"{counts.new} new")
    if counts.cross:
        parts.append(plural(counts.cross, "cross-list"))
    if counts.replace:
        parts.append(f"{counts.replace} updated")
    return separator.join(parts) if parts else "No matching papers"


def papers_count(count: int) -> str:
    """`1 paper`, `15 papers`."""
    return plural(count, "paper")
