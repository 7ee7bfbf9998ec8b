"""Neutral replies and digests as Slack Block Kit (DESIGN.md §5), always with a text fallback.

Every string that comes from data (titles, abstracts, authors, queries) goes through
`escape_mrkdwn`, so `& < >` never reach Slack raw: `<!channel>`, `<@U123>` or a link can only come
from the markup this module writes itself. Mentions of people are only written for user ids the
digest names in `Digest.mentions`, and only when they look like Slack user ids.

Block Kit limits (checked by Slack, which answers `invalid_blocks` otherwise): at most 50 blocks a
message, 3000 characters a section text, 150 a header, 2000 a button value. `compose_items` groups
papers into messages within them, rendering each paper once.

What a paper, the parent and a mention show is decided by the neutral cards
(`bot.digest.card`); this module only lays them out as Block Kit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.commands.votes import DOWN, UP, Tally, button_label, destination_parts
from bot.digest.card import (
    MENTION_PAPERS_SHOWN,
    DayHeadline,
    PaperCard,
    day_headline,
    paper_card,
    paper_cards,
    personal_mentions,
)
from bot.digest.model import Digest, DigestItem, Span
from bot.digest.weekly import WeeklyBestOf
from bot.digest.text import (
    ELLIPSIS,
    SEPARATOR,
    author_line,
    bold_spans,
    labels_text,
    papers_count,
    truncate,
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
VOTE_ACTIONS = {UP: "paperbot_vote_up", DOWN: "paperbot_vote_down"}
PAPER_ACTIONS_BLOCK = "paperbot_paper:"   # + paper id: the block_id of a paper's buttons
METADATA_EVENT = "paperbot_digest"

PAPERS_PER_MESSAGE = 10   # readable in one screen; Slack's own limits allow more
MESSAGE_TEXT_BUDGET = 12_000  # all texts of one message together, so a thread stays scrollable

TITLE_LIMIT = 400
AUTHORS_LIMIT = 500
VENUE_LIMIT = 300
SUBSCRIPTIONS_LIMIT = 600
MENTIONS_PER_MESSAGE = 40      # one section each, well within 50 blocks
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


def title_link(paper: Paper | PaperCard, spans: Sequence[Span] = (), limit: int = TITLE_LIMIT) -> str:
    """`<https://arxiv.org/abs/ID|Title with *hit* terms bold>`: the label, escaped and with its
    bold markers, is at most `limit` characters (a title of `&<>` grows 4-5x when escaped, so it is
    cut further until it fits); the link target is ours, never the data's."""
    url = paper.url if isinstance(paper, PaperCard) else paper.abs_url
    title = " ".join(paper.title.split()) or "(untitled)"
    spans = tuple(spans) if title == paper.title else ()  # spans index the original title
    room = min(limit, len(title))
    while True:
        cut = title if room >= len(title) else truncate(title, max(2, room))
        kept = spans if cut == title else tuple(
            (s, min(e, len(cut) - 1)) for s, e in spans if s < len(cut) - 1)
        label = bold_spans(cut, _word_spans(cut, kept), bold=_bold, escape=escape_mrkdwn)
        if len(label) <= limit or room <= 2:
            break
        room = max(2, min(room - 1, room * limit // len(label)))
    return f"<{escape_mrkdwn(url)}|{label[:limit] if len(label) > limit else label}>"


def mentionable_users(digest: Digest) -> list[str]:
    """The people `digest.mentions` names who have papers, and whose ids look like Slack user
    ids (anything else could form markup, so it is never written)."""
    return [user for user, ids in digest.mentions.items() if ids and _USER_ID.match(user)]


def mention_line(digest: Digest, user: str) -> str:
    """`<@U1>: <link|Title> · <link|Title> (+2 more)`: one person, links to their papers only."""
    [mention] = personal_mentions(digest, [user], MENTION_PAPERS_SHOWN)
    links = SEPARATOR.join(title_link(card, (), MENTION_TITLE_LIMIT) for card in mention.papers)
    more = f" (+{mention.more} more)" if mention.more else ""
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


def paper_text(item: DigestItem | PaperCard, *, title_limit: int = TITLE_LIMIT,
               authors_limit: int = AUTHORS_LIMIT, venue_limit: int = VENUE_LIMIT) -> str:
    """One paper card as mrkdwn: linked title, authors (6, et al.), id and categories primary
    first, labels, venue comment. Always at most MAX_SECTION_TEXT characters."""
    card = paper_card(item)
    while True:
        text = _paper_text(card, title_limit, authors_limit, venue_limit)
        if len(text) <= MAX_SECTION_TEXT:
            return text
        # Only pathological data (thousands of `&`) gets here: shrink every part and retry.
        title_limit, authors_limit, venue_limit = (max(20, title_limit // 2), max(20, authors_limit // 2),
                                                   max(20, venue_limit // 2))


def _paper_text(card: PaperCard, title_limit: int, authors_limit: int, venue_limit: int) -> str:
    lines = [title_link(card, card.title_spans, title_limit)]
    if card.authors:
        lines.append("_" + escape_mrkdwn(truncate(card.authors, authors_limit)) + "_")
    badges = [f"`arXiv:{escape_mrkdwn(card.id)}`"]
    badges += [f"`{escape_mrkdwn(truncate(category, 40))}`" for category in card.categories[:8]]
    line = " ".join(badges)
    labels = labels_text(card.labels)
    if labels:
        line += "  _" + escape_mrkdwn(labels) + "_"
    lines.append(line)
    venue = card.venue
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


@dataclass(frozen=True, slots=True)
class VoteButtons:
    """What a paper's 👍/👎 buttons need: the thread (its ledger key), the day (to rebuild the
    message's metadata on an update) and the counts to show."""

    destination: str
    day: date
    tally: Tally = Tally()


def vote_value(destination: str, day: date, paper_id: str) -> str:
    return json.dumps({"d": destination, "day": day.isoformat(), "p": paper_id}, separators=(",", ":"))


def read_vote_value(value: object) -> tuple[str, date, str] | None:
    """(destination, day, paper id) from a vote button's value, None if it is not ours."""
    try:
        data = json.loads(value) if isinstance(value, str) else None
        if isinstance(data, dict) and all(isinstance(data.get(k), str) for k in ("d", "day", "p")):
            return data["d"], date.fromisoformat(data["day"]), data["p"]
    except ValueError:
        pass
    return None


def vote_button(direction: int, votes: VoteButtons, paper_id: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": VOTE_ACTIONS[direction],
        "text": {"type": "plain_text", "text": button_label(direction, votes.tally), "emoji": True},
        "value": vote_value(votes.destination, votes.day, paper_id),
    }


def paper_actions(paper_id: str, votes: VoteButtons) -> Block:
    """A paper's buttons: Show abstract, 👍, 👎 (block_id names the paper)."""
    return {"type": "actions", "block_id": (PAPER_ACTIONS_BLOCK + paper_id)[:255],
            "elements": [abstract_button(paper_id), vote_button(UP, votes, paper_id),
                         vote_button(DOWN, votes, paper_id)]}


def paper_blocks(item: DigestItem | PaperCard, explanation: str | None = None,
                 votes: VoteButtons | None = None) -> list[Block]:
    """A paper: one section with its details and the Show abstract button, and optionally an
    explanation (why it matched) in monospace. With `votes` (a daily thread or personal digest),
    the buttons go in an actions block under the section: Show abstract, 👍, 👎."""
    card = paper_card(item)
    if votes is not None:
        blocks = [section(paper_text(card)), paper_actions(card.id, votes)]
    else:
        blocks = [section(paper_text(card), accessory=abstract_button(card.id))]
    if explanation:
        blocks.append(section(preformatted(explanation)))
    return blocks


def shown_paper_ids(blocks: Iterable[Block]) -> list[str]:
    """The papers a message's blocks show, in order (from their Show abstract buttons)."""
    found = []
    for block in blocks:
        buttons = [block["accessory"]] if "accessory" in block else block.get("elements") or []
        found += [b["value"] for b in buttons if isinstance(b, dict) and b.get("action_id") == ABSTRACT_ACTION]
    return found


def voted_papers(blocks: Iterable[Block]) -> tuple[str, date, list[str]] | None:
    """The thread, day and papers of a message's vote buttons, or None when it has none."""
    destination, day, papers = None, None, []
    for block in blocks:
        for element in block.get("elements") or () if block.get("type") == "actions" else ():
            if isinstance(element, dict) and element.get("action_id") == VOTE_ACTIONS[UP]:
                read = read_vote_value(element.get("value"))
                if read is not None:
                    destination, day = read[0], read[1]
                    papers.append(read[2])
    return (destination, day, papers) if destination is not None and day is not None else None


def with_vote_counts(blocks: Sequence[Block], tallies: Mapping[str, Tally]) -> list[Block]:
    """`blocks` (a message as Slack returned it) with every vote button's label set from
    `tallies` (paper id -> counts); everything else unchanged."""
    updated = []
    for block in blocks:
        if block.get("type") == "actions":
            elements = []
            for element in block.get("elements") or []:
                direction = next((d for d, action in VOTE_ACTIONS.items()
                                  if isinstance(element, dict) and element.get("action_id") == action), None)
                read = read_vote_value(element.get("value")) if direction is not None else None
                if read is not None and read[2] in tallies:
                    element = {**element, "text": {"type": "plain_text", "emoji": True,
                                                   "text": button_label(direction, tallies[read[2]])}}
                elements.append(element)
            block = {**block, "elements": elements}
        updated.append(block)
    return updated


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
    return thread_metadata(digest.destination, digest.day, paper_ids, kind)


def thread_metadata(destination: str, day: date, paper_ids: Sequence[str], kind: str) -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT,
        "event_payload": {
            "destination": destination,
            "day": day.isoformat(),
            "kind": kind,
            "paper_ids": list(paper_ids),
        },
    }


def parent_message(digest: Digest | DayHeadline) -> Message:
    """The thread's parent: the date, the counts and the first few titles (`DayHeadline`)."""
    headline = digest if isinstance(digest, DayHeadline) else day_headline(digest)
    day = headline.day.isoformat()
    blocks: list[Block] = [header(f"arXiv papers for {day}")]
    if headline.is_empty:
        text = f"No new papers matched this channel's subscriptions on {day}."
        if headline.has_mentions:
            text += " Personal matches are in the thread."
        blocks.append(section(escape_mrkdwn(text)))
    else:
        summary = headline.summary
        if headline.truncated:
            summary += (f" (the top {headline.shown} in the thread, the other {headline.truncated} "
                        "as links at its end)")
        text = f"arXiv papers for {day}: {summary}"
        blocks.append(section("*" + escape_mrkdwn(summary) + "*"))
        if headline.top:
            lines = ["• " + title_link(card, card.title_spans, 200) for card in headline.top]
            more = [f"… and {headline.more_in_thread} more in the thread"] if headline.more_in_thread > 0 else []
            while len(lines) > 1 and len("\n".join(lines + more)) > MAX_SECTION_TEXT:
                lines.pop()  # cannot happen with a few 200-character labels; kept as a guard
            blocks.append(section("\n".join(lines + more)))
    notes = []
    if headline.subscriptions:
        notes.append("Matching: " + escaped_within("; ".join(headline.subscriptions), SUBSCRIPTIONS_LIMIT))
    if not headline.is_empty:
        notes.append("Papers are in the thread; *Show abstract* reveals one to you only; "
                     "👍/👎 tell paperbot what this channel wants (only counts are shown).")
    if notes:
        blocks.append(context("\n".join(notes)))
    return Message(text=truncate(text, MAX_FALLBACK_TEXT), blocks=blocks)


@dataclass(frozen=True, slots=True)
class RenderedPaper:
    """One paper's blocks, rendered once and measured, ready to be packed into a message."""

    card: PaperCard
    blocks: tuple[Block, ...]
    size: int


def render_paper(item: DigestItem | PaperCard, votes: VoteButtons | None = None) -> RenderedPaper:
    card = paper_card(item)
    blocks = tuple(paper_blocks(card, votes=votes))
    return RenderedPaper(card, blocks, sum(_block_text_size(block) for block in blocks))


def thread_votes(digest: Digest) -> VoteButtons | None:
    """Vote buttons for the papers of `digest`'s thread: every chat thread and personal digest
    has them (a new day's papers start at zero)."""
    return VoteButtons(digest.destination, digest.day) if destination_parts(digest.destination) else None


def items_message(digest: Digest, items: Sequence[DigestItem | PaperCard]) -> Message:
    """One reply in the day's thread holding `items`."""
    votes = thread_votes(digest)
    return _message_of(digest, [render_paper(item, votes) for item in items])


def _message_of(digest: Digest, rendered: Sequence[RenderedPaper]) -> Message:
    blocks: list[Block] = [block for paper in rendered for block in paper.blocks]
    return Message(text=_items_fallback_line(digest, [paper.card for paper in rendered]), blocks=blocks)


def _items_fallback_line(digest: Digest, cards: Sequence[PaperCard]) -> str:
    titles = "; ".join(" ".join(card.title.split()) for card in cards)
    return escaped_within(f"{papers_count(len(cards))} for {digest.day.isoformat()}: {titles}", 300)


def items_plain_text(digest: Digest, items: Sequence[DigestItem | PaperCard]) -> str:
    """The same papers without blocks: the fallback when Slack refuses the blocks."""
    cards = paper_cards(items)
    header_line = f"arXiv papers for {digest.day.isoformat()}:"
    room = max(200, (MAX_FALLBACK_TEXT - len(header_line)) // max(1, len(cards)) - 2)
    chunks = [header_line]
    for card in cards:
        details = SEPARATOR.join(part for part in (
            f"arXiv:{card.id}", " ".join(card.categories[:8]), labels_text(card.labels)) if part)
        line = f"• <{escape_mrkdwn(card.url)}|{escaped_within(' '.join(card.title.split()), room // 2)}>"
        rest = escaped_within(f"{details}\n  {card.authors}", room - len(line))
        chunks.append(f"{line}\n  {rest}")
    return "\n".join(chunks)[:MAX_FALLBACK_TEXT]


def fits(message: Message) -> bool:
    return (len(message.blocks) <= MAX_BLOCKS and message.size <= MESSAGE_TEXT_BUDGET
            and all(_block_text_size(b) <= MAX_SECTION_TEXT for b in message.blocks))


@dataclass(frozen=True, slots=True)
class PapersMessage:
    """A packed reply: its papers (cards, for the plain-text fallback) and its Block Kit message."""

    cards: tuple[PaperCard, ...]
    message: Message


def compose_items(digest: Digest, items: Sequence[DigestItem | PaperCard],
                  papers_per_message: int = PAPERS_PER_MESSAGE) -> list[PapersMessage]:
    """Split items, in order, into messages that each stay within Slack's limits (50 blocks,
    3000 characters a section) and this bot's budget (`papers_per_message`, total text).

    Each paper is rendered once and its size kept; a batch grows while its block count and text
    (blocks plus the fallback line) stay within the limits."""
    messages: list[PapersMessage] = []
    current: list[RenderedPaper] = []
    blocks = size = 0

    def close() -> None:
        message = _message_of(digest, current)
        messages.append(PapersMessage(tuple(paper.card for paper in current), message))

    votes = thread_votes(digest)
    for paper in (render_paper(item, votes) for item in items):
        if current:
            fallback = len(_items_fallback_line(digest, [p.card for p in current] + [paper.card]))
            if (len(current) + 1 > papers_per_message or blocks + len(paper.blocks) > MAX_BLOCKS
                    or size + paper.size + fallback > MESSAGE_TEXT_BUDGET):
                close()
                current, blocks, size = [], 0, 0
        current.append(paper)
        blocks += len(paper.blocks)
        size += paper.size
    if current:
        close()
    return messages


def pack_items(digest: Digest, items: Sequence[DigestItem],
               papers_per_message: int = PAPERS_PER_MESSAGE) -> list[list[DigestItem]]:
    """`items` grouped as `compose_items` packs them into messages."""
    remaining = iter(items)
    return [[next(remaining) for _ in packed.cards]
            for packed in compose_items(digest, items, papers_per_message)]



# -- the final "N more papers" message ----------------------------------------------------------

FOLDED_TITLE_LIMIT = 200
FOLDED_EVENT_KIND = "folded"


def folded_heading(digest: Digest, continued: bool) -> str:
    more = digest.truncated
    if continued:
        return "*More papers* over the daily maximum (continued):"
    return (f"*{more} more {'paper' if more == 1 else 'papers'}* matched today, over this channel's "
            f"daily maximum of {len(digest.items)} (/papers settings max):")


@dataclass(frozen=True, slots=True)
class FoldedMessage:
    """One "more papers" message: the ids it lists (its ledger markers), its Block Kit message,
    and the same links as plain text, for when Slack refuses the blocks."""

    paper_ids: tuple[str, ...]
    message: Message
    plain_text: str


def compose_folded(digest: Digest, papers: Sequence[Paper | PaperCard],
                   continued: bool = False) -> list[FoldedMessage]:
    """The papers over the daily maximum as links, one line each, in as few messages as Slack's
    limits allow (sections of at most 3000 characters, 50 blocks and this bot's text budget a
    message). Each message comes with the ids it lists (its ledger markers). `continued`: the
    first message is not the first of the day's fold (a resumed delivery), so it says so."""
    cards = [card if isinstance(card, PaperCard) else _folded_card(card) for card in papers]
    messages: list[FoldedMessage] = []
    ids: list[str] = []
    titles: list[str] = []
    links: list[str] = []
    sections: list[str] = []
    lines: list[str] = []
    size = 0

    def close() -> None:
        nonlocal ids, titles, links, sections, lines, size
        if lines:
            sections.append("\n".join(lines))
        heading = folded_heading(digest, continued or bool(messages))
        blocks = [section(heading)] + [section(text) for text in sections]
        fallback = escaped_within(f"{papers_count(len(ids))} more for {digest.day.isoformat()}: "
                                  + "; ".join(titles), 300)
        plain = heading.replace("*", "") + "\n" + "\n".join(links)
        if len(plain) > MAX_FALLBACK_TEXT:
            plain = plain[:plain.rfind("\n", 0, MAX_FALLBACK_TEXT)]
        messages.append(FoldedMessage(tuple(ids), Message(text=fallback, blocks=blocks), plain))
        ids, titles, links, sections, lines, size = [], [], [], [], [], 0

    for card in cards:
        line = "• " + title_link(card, (), FOLDED_TITLE_LIMIT) + f" `arXiv:{escape_mrkdwn(card.id)}`"
        section_size = sum(len(text) + 1 for text in lines)
        if lines and section_size + len(line) > MAX_SECTION_TEXT:
            sections.append("\n".join(lines))
            lines = []
        if ids and (len(sections) + 2 > MAX_BLOCKS or size + len(line) > MESSAGE_TEXT_BUDGET - 1000):
            close()
        lines.append(line)
        ids.append(card.id)
        titles.append(" ".join(card.title.split()))
        links.append(f"• <{escape_mrkdwn(card.url)}|{escaped_within(' '.join(card.title.split()), 120)}>")
        size += len(line) + 1
    if ids:
        close()
    return messages


def _folded_card(paper: Paper) -> PaperCard:
    return paper_card(DigestItem(paper=paper))


# -- the weekly best-of ------------------------------------------------------------------------

WEEKLY_TITLE_LIMIT = 200


def _votes_text(up: int, down: int) -> str:
    return f"👍 {up}" + (f" · 👎 {down}" if down else "")


def weekly_message(week: WeeklyBestOf) -> Message:
    """The weekly best-of as one message: the most-voted papers, then the best-ranked papers
    nobody voted on, each a linked title (at most 10 lines: well within one section each)."""
    blocks: list[Block] = [header(f"Best of the week · {week.span}")]
    if week.voted:
        lines = [f"• {title_link(v.paper, (), WEEKLY_TITLE_LIMIT)}  {_votes_text(v.up, v.down)}"
                 for v in week.voted]
        blocks.append(section("*Most voted here*\n" + "\n".join(lines)))
    if week.unvoted:
        how = ("ranked by what this channel votes for" if week.ranked_by_votes
               else "best keyword match first")
        lines = [f"• {title_link(paper, (), WEEKLY_TITLE_LIMIT)}" for paper in week.unvoted]
        blocks.append(section(f"*Worth a look: nobody voted on these yet* ({how})\n" + "\n".join(lines)))
    blocks.append(context(f"From {papers_count(week.received)} this channel received this week. Vote "
                          "with 👍/👎 on papers in the daily threads; /papers export bibtex gives the "
                          "👍 papers as BibTeX."))
    titles = "; ".join(" ".join(p.title.split()) for p in week.papers)
    return Message(text=escaped_within(f"Best of the week {week.span}: {titles}", 300), blocks=blocks)


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
