"""`/papers` replies (neutral `Response`s) as Discord content and embeds, built from the paper
embeds of render.py so a paper looks the same in a reply as in the daily thread."""

from __future__ import annotations

import discord

from bot.commands.responses import (
    INTERNAL,
    INVALID,
    OK,
    REFUSED,
    UNAVAILABLE,
    DigestSection,
    Heading,
    Lines,
    PaperList,
    Preformatted,
    Response,
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


def _text_block(section) -> str | None:
    if isinstance(section, Heading):
        return f"**{escape(section.text)}**"
    if isinstance(section, Lines):
        return "\n".join(escape(line) for line in section.lines)
    if isinstance(section, Preformatted):
        caption = f"{escape(section.caption)}\n" if section.caption else ""
        return caption + code_block(section.text)
    return None


def render_response(response: Response) -> RenderedMessage:
    """A neutral command Response as content + embeds: the text as content, the text sections
    in a first embed (in order, whole blocks while they fit), then one embed per paper with an
    Abstract button, as many as fit; what was left out is said in the content."""
    colour = OUTCOME_COLOURS.get(response.outcome, discord.Colour.blurple())
    blocks: list[str] = []
    papers: list[tuple[DigestItem, str | None, str | None]] = []
    more = 0
    heading: str | None = None
    lists_seen = 0
    for section in response.sections:
        if isinstance(section, (PaperList, DigestSection)):
            if isinstance(section, PaperList):
                items, explanations, extra = section.items, section.explanations, section.more
            else:
                items, explanations, extra = section.digest.items, (), section.digest.truncated
            label = heading if lists_seen else None
            lists_seen += 1
            for position, item in enumerate(items):
                papers.append((item, explanations[position] if explanations else None, label))
            more += extra
            continue
        if isinstance(section, Heading):
            heading = section.text
        block = _text_block(section)
        if block:
            blocks.append(block)

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
