"""`/papers` replies (neutral `Response`s) as Slack Block Kit, built from the paper blocks of
render.py so a paper looks the same in a reply as in the daily thread."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.responses import (
    DigestSection,
    Heading,
    Lines,
    PaperList,
    Preformatted,
    Response,
    Section,
)
from bot.platforms.slack.render import (
    MAX_BLOCKS,
    MAX_CONTEXT_TEXT,
    MAX_FALLBACK_TEXT,
    MAX_SECTION_TEXT,
    Block,
    Message,
    context,
    escaped_within,
    header,
    paper_blocks,
    preformatted,
    section,
)

def response_message(response: Response) -> Message:
    """A `/papers` reply as Block Kit: a leading heading, the reply's text, then lines as mrkdwn,
    monospace as code, papers with their Show abstract buttons. Over 50 blocks, the rest is cut
    with a note."""
    text = escaped_within(response.text, MAX_FALLBACK_TEXT)
    blocks: list[Block] = []
    sections = list(response.sections)
    if sections and isinstance(sections[0], Heading):
        blocks.append(header(sections.pop(0).text))
    # Slack shows the blocks instead of `text`, so the summary line goes in as a block too,
    # unless a section already says exactly that.
    if not any(isinstance(part, Lines) and response.text in part.lines for part in sections):
        blocks.append(section(escaped_within(response.text, MAX_SECTION_TEXT)))
    for part in sections:
        blocks += _section_blocks(part)
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[:MAX_BLOCKS - 1] + [context("… the rest of this reply did not fit in one message.")]
    return Message(text=text, blocks=blocks)


def _lines_blocks(lines: Sequence[str]) -> list[Block]:
    blocks: list[Block] = []
    current: list[str] = []
    size = 0
    for line in lines:
        escaped = escaped_within(line, MAX_SECTION_TEXT)
        if current and size + 1 + len(escaped) > MAX_SECTION_TEXT:
            blocks.append(section("\n".join(current)))
            current, size = [], 0
        current.append(escaped)
        size += len(escaped) + 1
    if current:
        blocks.append(section("\n".join(current)))
    return blocks


def _section_blocks(part: Section) -> list[Block]:
    if isinstance(part, Heading):
        return [header(part.text)]
    if isinstance(part, Lines):
        return _lines_blocks(part.lines)
    if isinstance(part, Preformatted):
        blocks = [context(escaped_within(part.caption, MAX_CONTEXT_TEXT))] if part.caption else []
        return blocks + [section(preformatted(part.text))]
    if isinstance(part, PaperList):
        blocks = []
        for position, item in enumerate(part.items):
            explanation = part.explanations[position] if part.explanations else None
            blocks += paper_blocks(item, explanation)
        if part.more:
            blocks.append(context(f"… and {part.more} more"))
        return blocks
    if isinstance(part, DigestSection):
        blocks = []
        for item in part.digest.items:
            blocks += paper_blocks(item)
        if part.digest.truncated:
            blocks.append(context(f"… and {part.digest.truncated} more"))
        return blocks
    raise TypeError(f"not a response section: {part!r}")

