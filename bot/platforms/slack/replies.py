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
    section_renderer,
)
from bot.digest.model import DigestItem
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
        blocks += section_blocks(part)
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


# One case per section type; tests/commands/test_responses.py checks none is missing.
section_blocks = section_renderer("Slack Block Kit")


@section_blocks.register
def _(part: Heading) -> list[Block]:
    return [header(part.text)]


@section_blocks.register
def _(part: Lines) -> list[Block]:
    return _lines_blocks(part.lines)


@section_blocks.register
def _(part: Preformatted) -> list[Block]:
    blocks = [context(escaped_within(part.caption, MAX_CONTEXT_TEXT))] if part.caption else []
    return blocks + [section(preformatted(part.text))]


@section_blocks.register
def _(part: PaperList) -> list[Block]:
    return _paper_blocks(part.items, part.explanations, part.more)


@section_blocks.register
def _(part: DigestSection) -> list[Block]:
    return _paper_blocks(part.digest.items, (), part.digest.truncated)


def _paper_blocks(items: Sequence[DigestItem], explanations: Sequence[str], more: int) -> list[Block]:
    blocks: list[Block] = []
    for position, item in enumerate(items):
        blocks += paper_blocks(item, explanations[position] if explanations else None)
    if more:
        blocks.append(context(f"… and {more} more"))
    return blocks
