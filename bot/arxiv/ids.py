"""arXiv identifiers as they appear in feeds, the API and links, reduced to (versionless id, version).

New style `YYMM.NNNN` / `YYMM.NNNNN` (since 2007), old style `archive[.SC]/YYMMNNN`
(`hep-th/9901001`, `math.GT/0309136`). Either may carry a version suffix `vN`.
"""

from __future__ import annotations

import re

from bot.arxiv.errors import InvalidArxivId

# Wrappers around the bare id seen in listing guids, API entry ids and abs/pdf links.
_PREFIXES = re.compile(
    r"^(?:oai:arxiv\.org:|arxiv:|https?://(?:export\.|www\.)?arxiv\.org/(?:abs|pdf)/)",
    re.IGNORECASE,
)
_NEW_STYLE = re.compile(r"^(\d{2})(\d{2})\.(\d{4,5})(?:v(\d+))?$")
_OLD_STYLE = re.compile(r"^([a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]{2})?/\d{7})(?:v(\d+))?$")


def split_versioned_id(raw: str) -> tuple[str, int | None]:
    """`"oai:arXiv.org:2504.13365v2"` -> `("2504.13365", 2)`; `"astro-ph/0601001"` -> `(..., None)`.

    Raises `InvalidArxivId` for anything else.
    """
    if not isinstance(raw, str):
        raise InvalidArxivId(raw)
    text = _PREFIXES.sub("", raw.strip())
    text = text.removesuffix(".pdf")
    new = _NEW_STYLE.match(text)
    if new:
        month = int(new.group(2))
        if not 1 <= month <= 12:
            raise InvalidArxivId(raw)
        version = new.group(4)
        return f"{new.group(1)}{new.group(2)}.{new.group(3)}", int(version) if version else None
    old = _OLD_STYLE.match(text)
    if old:
        version = old.group(2)
        return old.group(1), int(version) if version else None
    raise InvalidArxivId(raw)


def versionless_id(raw: str) -> str:
    """The id without wrapper or version: `"arXiv:2504.13365v2"` -> `"2504.13365"`."""
    return split_versioned_id(raw)[0]


def is_arxiv_id(raw: str) -> bool:
    try:
        split_versioned_id(raw)
    except InvalidArxivId:
        return False
    return True
