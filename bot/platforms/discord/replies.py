"""`/papers` replies (neutral `Response`s) as Discord content and embeds, built from the paper
embeds of render.py so a paper looks the same in a reply as in the daily thread."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.commands.responses import (
    INTERNAL,
    INVALID,
    OK,
    REFUSED,
    UNAVAILABLE,
    Attachment,
    DigestSection,
    Heading,
    Lines,
    PaperList,
    Preformatted,
    Response,
    section_renderer,
)
from bot.digest.model import DigestItem
from bot.digest.text import truncate
from bot.platforms.discord.render import LIMITS, RenderedMessage, code_block, escape, paper_embed

OUTCOME_COLOURS = {
    OK: discord.Colour.blurple(),
    INVALID: discord.Colour.orange(),
    REFUSED: discord.Colour.red(),
    UNAVAILABLE: discord.Colour.dark_grey(),
    INTERNAL: discord.Colour.dark_grey(),
}


class _Parts:
    """What a reply's sections add up to: text blocks for the first embed, papers for the rest."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.papers: list[tuple[DigestItem, str | None, str | None]] = []
        self.more = 0
        self.heading: str | None = None
        self.lists_seen = 0

    def add_text(self, block: str) -> None:
        if block:
            self.blocks.append(block)

    def add_papers(self, items: Sequence[DigestItem], explanations: Sequence[str], more: int) -> None:
        # The first list goes without a label; later ones (near misses) carry their heading.
        label = self.heading if self.lists_seen else None
        self.lists_seen += 1
        for position, item in enumerate(items):
            self.papers.append((item, explanations[position] if explanations else None, label))
        self.more += more


# One case per section type; tests/commands/test_responses.py checks none is missing.
add_section = section_renderer("Discord embeds")


@add_section.register
def _(section: Heading, parts: _Parts) -> None:
    parts.heading = section.text
    parts.add_text(f"**{escape(section.text)}**")


@add_section.register
def _(section: Lines, parts: _Parts) -> None:
    parts.add_text("\n".join(escape(line) for line in section.lines))


@add_section.register
def _(section: Preformatted, parts: _Parts) -> None:
    caption = f"{escape(section.caption)}\n" if section.caption else ""
    parts.add_text(caption + code_block(section.text))


@add_section.register
def _(section: PaperList, parts: _Parts) -> None:
    parts.add_papers(section.items, section.explanations, section.more)


@add_section.register
def _(section: DigestSection, parts: _Parts) -> None:
    parts.add_papers(section.digest.items, (), section.digest.truncated)


def render_response(response: Response) -> RenderedMessage:
    """A neutral command Response as content + embeds: the text as content, the text sections
    in a first embed (in order, whole blocks while they fit), then one embed per paper with an
    Abstract button, as many as fit; what was left out is said in the content."""
    colour = OUTCOME_COLOURS.get(response.outcome, discord.Colour.blurple())
    parts = _Parts()
    for section in response.sections:
        add_section(section, parts)
    blocks, papers, more = parts.blocks, parts.papers, parts.more

    message = RenderedMessage()
    description = ""
    for block in blocks:
        candidate = f"{description}\n\n{block}" if description else block
        if len(candidate) > LIMITS.description:
            if not description:
                description = truncate(block, LIMITS.description)
            break
        description = candidate
    if description:
        message.embeds.append(discord.Embed(description=description, colour=colour))

    used = message.embed_characters
    shown = 0
    for item, explanation, label in papers:
        embed = paper_embed(item, abstract_chars=0, explanation=explanation, section=label)
        if len(message.embeds) >= LIMITS.embeds_per_message or used + len(embed) > LIMITS.embed_total:
            break
        message.embeds.append(embed)
        message.paper_ids.append(item.paper.id)
        used += len(embed)
        shown += 1
    left_out = more + len(papers) - shown
    note = f"\n({left_out} more not shown here.)" if left_out and shown < len(papers) else ""
    message.content = truncate(escape(response.text), LIMITS.content - len(note)) + note
    return message


MAX_TEXT_FOLLOWUPS = 14   # an interaction token takes followups for 15 minutes; a month's export fits


def attachment_contents(attachment: Attachment, reason: str) -> list[str]:
    """A file that could not be attached, as messages of at most 2000 characters: a line saying
    why, then the text in code blocks (cut where the attachment says: BibTeX between entries)."""
    head = f"{escape(attachment.filename)} ({escape(reason)}); here is its text:"
    room = LIMITS.content - len(code_block("")) - 20
    pieces = [code_block(piece) for piece in attachment.split(room)]
    if pieces and len(head) + 1 + len(pieces[0]) <= LIMITS.content:
        pieces[0] = f"{head}\n{pieces[0]}"
    else:
        pieces.insert(0, head)
    return [piece[:LIMITS.content] for piece in pieces]
