"""Neutral replies and digests as Slack Block Kit (DESIGN.md §5), always with a text fallback.

Every string that comes from data (titles, abstracts, authors, queries) goes through
`escape_mrkdwn`, so `& < >` never reach Slack raw: `<!channel>`, `<@U123>` or a link can only come
from the markup this module writes itself. Mentions of people are only written for user ids the
digest names in `Digest.mentions`, and only when they look like Slack user ids.

Block Kit limits (checked by Slack, which answers `invalid_blocks` otherwise): at most 50 blocks a
message, 3000 characters a section text, 150 a header, 2000 a button value. `pack_items` groups
papers into messages within them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.digest.model import Digest, DigestItem, Span
from bot.digest.text import (
    ELLIPSIS,
    SEPARATOR,
    author_line,
    bold_spans,
    category_badges,
    count_line,
    labels_text,
    papers_count,
    truncate,
    venue_text,
)
from bot.models import Paper

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 2000
MAX_BUTTON_VALUE = 2000
# Slack truncates `text` beyond 40,000 characters and advises staying under 4,000.
MAX_FALLBACK_TEXT = 4000

ABSTRACT_ACTION = "paperbot_abstract"
METADATA_EVENT = "paperbot_digest"

PAPERS_PER_MESSAGE = 10   # readable in one screen; Slack's own limits allow more
MESSAGE_TEXT_BUDGET = 12_000  # all texts of one message together, so a thread stays scrollable
TOP_TITLES = 3            # titles previewed in the parent message

TITLE_LIMIT = 400
AUTHORS_LIMIT = 500
VENUE_LIMIT = 300
SUBSCRIPTIONS_LIMIT = 600
MENTIONS_PER_MESSAGE = 40      # one section each, well within 50 blocks
MENTION_PAPERS_SHOWN = 5       # links per person; the rest are counted ("+3 more")
MENTION_TITLE_LIMIT = 100      # 5 links even of all-"&" titles (escaped 5x) fit a 3000 section

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def escape_mrkdwn(text: str) -> str:
    """Make data inert in Slack mrkdwn: `&`, `<`, `>` as entities (Slack's own rule), so no
    link, mention or special command (`<!here>`) can be formed from it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _bold(text: str) -> str:
    return f"*{text}*"


def _word_spans(text: str, spans: Iterable[Span]) -> list[Span]:
    """Widen spans to whole words: Slack only honours `*bold*` markers at word boundaries."""
    widened = []
    for start, end in spans:
        start, end = max(0, start), min(len(text), end)
        if start >= end:
            continue
        while start > 0 and text[start - 1].isalnum():
            start -= 1
        while end < len(text) and text[end].isalnum():
            end += 1
        widened.append((start, end))
    return widened


def _plain_text(text: str, limit: int) -> dict[str, Any]:
    # plain_text is shown literally by Slack (no mentions, no links), so it is not escaped.
    return {"type": "plain_text", "text": truncate(text, limit) if text else " ", "emoji": True}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str, **extra: Any) -> Block:
    if len(text) > MAX_SECTION_TEXT:
        raise ValueError(f"section text of {len(text)} characters (Slack allows {MAX_SECTION_TEXT})")
    return {"type": "section", "text": _mrkdwn(text or " "), **extra}


def context(text: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text[:MAX_CONTEXT_TEXT] or " ")]}


def header(text: str) -> Block:
    return {"type": "header", "text": _plain_text(text, MAX_HEADER_TEXT)}


def escaped_within(text: str, limit: int) -> str:
    """`text` escaped, cut (with `truncate`, before escaping) so the escaped form fits `limit`."""
    escaped = escape_mrkdwn(text)
    room = min(limit, len(text))
    while len(escaped) > limit:
        if room <= 2:
            return ELLIPSIS[:limit]
        room = max(2, room * 3 // 4)
        escaped = escape_mrkdwn(truncate(text, room))
    return escaped


# -- papers ------------------------------------------------------------------------------------


def title_link(paper: Paper, spans: Sequence[Span] = (), limit: int = TITLE_LIMIT) -> str:
    """`<https://arxiv.org/abs/ID|Title with *hit* terms bold>`: title cut to `limit` characters,
    escaped; the link target is ours, never the data's."""
    title = " ".join(paper.title.split()) or "(untitled)"
    spans = tuple(spans) if title == paper.title else ()  # spans index the original title
    cut = truncate(title, limit)
    if cut != title:
        spans = tuple((s, min(e, len(cut) - 1)) for s, e in spans if s < len(cut) - 1)
    label = bold_spans(cut, _word_spans(cut, spans), bold=_bold, escape=escape_mrkdwn)
    return f"<{escape_mrkdwn(paper.abs_url)}|{label}>"


def mentionable_users(digest: Digest) -> list[str]:
    """The people `digest.mentions` names who have papers, and whose ids look like Slack user
    ids (anything else could form markup, so it is never written)."""
    return [user for user, ids in digest.mentions.items() if ids and _USER_ID.match(user)]


def mention_line(digest: Digest, user: str) -> str:
    """`<@U1>: <link|Title> · <link|Title> (+2 more)`: one person, links to their papers only."""
    items = {item.paper.id: item for item in digest.mention_items}
    ids = [pid for pid in digest.mentions.get(user, ()) if pid in items]
    shown = ids[:MENTION_PAPERS_SHOWN]
    links = SEPARATOR.join(title_link(items[pid].paper, (), MENTION_TITLE_LIMIT) for pid in shown)
    more = f" (+{len(ids) - len(shown)} more)" if len(ids) > len(shown) else ""
    return f"<@{user}>: {links}{more}"


def pack_mentions(digest: Digest, users: Sequence[str]) -> list[list[str]]:
    """People to mention, in messages of at most MENTIONS_PER_MESSAGE (one section each)."""
    users = [user for user in users if _USER_ID.match(user)]
    return [users[n:n + MENTIONS_PER_MESSAGE] for n in range(0, len(users), MENTIONS_PER_MESSAGE)]


def mentions_message(digest: Digest, users: Sequence[str]) -> Message:
    """The message after the day's papers naming each of `users` once (personal keywords)."""
    lines = [mention_line(digest, user) for user in users if _USER_ID.match(user)]
    blocks: list[Block] = [context("Personal matches for people who asked for them here "
                                   "(/papers me deliver here):")]
    blocks += [section(line) for line in lines]
    text = f"Personal matches for {digest.day.isoformat()}: " + " ".join(
        f"<@{user}>" for user in users if _USER_ID.match(user))
    return Message(text=text[:MAX_FALLBACK_TEXT], blocks=blocks)


def paper_text(item: DigestItem, *, title_limit: int = TITLE_LIMIT,
               authors_limit: int = AUTHORS_LIMIT, venue_limit: int = VENUE_LIMIT) -> str:
    """One paper as mrkdwn: linked title, authors (6, et al.), id and categories primary first,
    labels, venue comment. Always at most MAX_SECTION_TEXT characters."""
    while True:
        text = _paper_text(item, title_limit, authors_limit, venue_limit)
        if len(text) <= MAX_SECTION_TEXT:
            return text
        # Only pathological data (thousands of `&`) gets here: shrink every part and retry.
        title_limit, authors_limit, venue_limit = (max(20, title_limit // 2), max(20, authors_limit // 2),
                                                   max(20, venue_limit // 2))


def _paper_text(item: DigestItem, title_limit: int, authors_limit: int, venue_limit: int) -> str:
    paper = item.paper
    lines = [title_link(paper, item.title_spans, title_limit)]
    authors = author_line(paper.authors)
    if authors:
        lines.append("_" + escape_mrkdwn(truncate(authors, authors_limit)) + "_")
    badges = [f"`arXiv:{escape_mrkdwn(paper.id)}`"]
    badges += [f"`{escape_mrkdwn(truncate(category, 40))}`" for category in category_badges(paper.categories)[:8]]
    line = " ".join(badges)
    labels = labels_text(item.labels)
    if labels:
        line += "  _" + escape_mrkdwn(labels) + "_"
    lines.append(line)
    venue = venue_text(paper)
    if venue:
        lines.append(":memo: " + escape_mrkdwn(truncate(venue, venue_limit)))
    return "\n".join(lines)


def abstract_button(paper_id: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": ABSTRACT_ACTION,
        "text": {"type": "plain_text", "text": "Show abstract", "emoji": True},
        "value": paper_id[:MAX_BUTTON_VALUE],
    }


def paper_blocks(item: DigestItem, explanation: str | None = None) -> list[Block]:
    """A paper: one section with its details and the Show abstract button, and optionally an
    explanation (why it matched) in monospace."""
    blocks = [section(paper_text(item), accessory=abstract_button(item.paper.id))]
    if explanation:
        blocks.append(section(preformatted(explanation)))
    return blocks


def preformatted(text: str) -> str:
    """A monospace block; a ``` inside the data would end it early, so it is defused."""
    body = text.replace("```", "'''")
    return "```" + escaped_within(body, MAX_SECTION_TEXT - 8) + "```"


# -- digests -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """What chat.postMessage needs: a text fallback (notifications, screen readers, clients
    without Block Kit) and the blocks."""

    text: str
    blocks: list[Block]

    @property
    def size(self) -> int:
        return len(self.text) + sum(_block_text_size(block) for block in self.blocks)


def _block_text_size(block: Block) -> int:
    size = len(block.get("text", {}).get("text", ""))
    for element in block.get("elements", ()):
        size += len(element.get("text", "")) if isinstance(element.get("text"), str) else 0
    return size


def digest_metadata(digest: Digest, paper_ids: Sequence[str], kind: str) -> dict[str, Any]:
    """Message metadata that lets a restarted bot find its thread and the papers in it."""
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {
            "destination": digest.destination,
            "day": digest.day.isoformat(),
            "kind": kind,
            "paper_ids": list(paper_ids),
        },
    }


def parent_message(digest: Digest) -> Message:
    """The thread's parent: the date, the counts and the first few titles."""
    day = digest.day.isoformat()
    blocks: list[Block] = [header(f"arXiv papers for {day}")]
    if digest.is_empty:
        text = f"No new papers matched this channel's subscriptions on {day}."
        if digest.mentions:
            text += " Personal matches are in the thread."
        blocks.append(section(escape_mrkdwn(text)))
    else:
        summary = f"{papers_count(digest.total)}: {count_line(digest.counts)}"
        if digest.truncated:
            summary += f" (the top {len(digest.items)} are in the thread)"
        text = f"arXiv papers for {day}: {summary}"
        blocks.append(section("*" + escape_mrkdwn(summary) + "*"))
        top = digest.items[:TOP_TITLES]
        if top:
            lines = ["• " + title_link(item.paper, item.title_spans, 200) for item in top]
            if len(digest.items) > len(top):
                lines.append(f"… and {len(digest.items) - len(top)} more in the thread")
            blocks.append(section("\n".join(lines)))
    notes = []
    if digest.subscriptions:
        notes.append("Matching: " + escaped_within("; ".join(digest.subscriptions), SUBSCRIPTIONS_LIMIT))
    if not digest.is_empty:
        notes.append("Papers are in the thread; *Show abstract* reveals one to you only.")
    if notes:
        blocks.append(context("\n".join(notes)))
    return Message(text=truncate(text, MAX_FALLBACK_TEXT), blocks=blocks)


def items_message(digest: Digest, items: Sequence[DigestItem]) -> Message:
    """One reply in the day's thread holding `items`."""
    blocks: list[Block] = []
    for item in items:
        blocks += paper_blocks(item)
    return Message(text=_items_fallback_line(digest, items), blocks=blocks)


def _items_fallback_line(digest: Digest, items: Sequence[DigestItem]) -> str:
    titles = "; ".join(" ".join(item.paper.title.split()) for item in items)
    return escaped_within(f"{papers_count(len(items))} for {digest.day.isoformat()}: {titles}", 300)


def items_plain_text(digest: Digest, items: Sequence[DigestItem]) -> str:
    """The same papers without blocks: the fallback when Slack refuses the blocks."""
    header_line = f"arXiv papers for {digest.day.isoformat()}:"
    room = max(200, (MAX_FALLBACK_TEXT - len(header_line)) // max(1, len(items)) - 2)
    chunks = [header_line]
    for item in items:
        paper = item.paper
        details = SEPARATOR.join(part for part in (
            f"arXiv:{paper.id}", " ".join(category_badges(paper.categories)[:8]),
            labels_text(item.labels)) if part)
        line = f"• <{escape_mrkdwn(paper.abs_url)}|{escaped_within(' '.join(paper.title.split()), room // 2)}>"
        rest = escaped_within(f"{details}\n  {author_line(paper.authors)}", room - len(line))
        chunks.append(f"{line}\n  {rest}")
    return "\n".join(chunks)[:MAX_FALLBACK_TEXT]


def fits(message: Message) -> bool:
    return (len(message.blocks) <= MAX_BLOCKS and message.size <= MESSAGE_TEXT_BUDGET
            and all(_block_text_size(b) <= MAX_SECTION_TEXT for b in message.blocks))


def pack_items(digest: Digest, items: Sequence[DigestItem],
               papers_per_message: int = PAPERS_PER_MESSAGE) -> list[list[DigestItem]]:
    """Split items, in order, into messages that each stay within Slack's limits (50 blocks,
    3000 characters a section) and this bot's budget (`papers_per_message`, total text)."""
    batches: list[list[DigestItem]] = []
    current: list[DigestItem] = []
    for item in items:
        candidate = current + [item]
        if current and (len(candidate) > papers_per_message
                        or not fits(items_message(digest, candidate))):
            batches.append(current)
            candidate = [item]
        current = candidate
    if current:
        batches.append(current)
    return batches


# -- the abstract button -----------------------------------------------------------------------


def abstract_message(paper: Paper) -> Message:
    """The full abstract (never cut: split over several sections if it is long)."""
    blocks: list[Block] = [section(title_link(paper, limit=600))]
    abstract = " ".join(paper.abstract.split()) or "(This paper has no abstract.)"
    for chunk in _chunks(abstract, MAX_SECTION_TEXT):
        blocks.append(section(chunk))
    authors = author_line(paper.authors, limit=max(1, len(paper.authors)))
    if authors:
        blocks.append(context(escaped_within(authors, MAX_CONTEXT_TEXT)))
    blocks = blocks[:MAX_BLOCKS]
    text = escaped_within(f"Abstract of arXiv:{paper.id}: {' '.join(paper.title.split())}", 300)
    return Message(text=text, blocks=blocks)


def _chunks(text: str, limit: int) -> list[str]:
    """`text` escaped, in pieces of at most `limit` characters, cut between words (or inside an
    absurdly long word), never inside an entity like `&amp;`."""
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        escaped = escape_mrkdwn(word)
        if len(escaped) > limit:
            for char in word:
                entity = escape_mrkdwn(char)
                if len(current) + len(entity) > limit:
                    pieces.append(current)
                    current = ""
                current += entity
            continue
        joined = f"{current} {escaped}" if current else escaped
        if len(joined) > limit:
            pieces.append(current)
            joined = escaped
        current = joined
    if current:
        pieces.append(current)
    return pieces


def missing_paper_message(paper_id: str) -> Message:
    text = (f"I no longer have arXiv:{paper_id} stored, so I cannot show its abstract here; "
            f"it is at https://arxiv.org/abs/{paper_id}")
    return Message(text=escape_mrkdwn(text), blocks=[section(escaped_within(text, MAX_SECTION_TEXT))])
