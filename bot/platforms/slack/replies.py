"""`/papers` replies (neutral `Response`s) as Slack Block Kit, built from the paper blocks of
render.py so a paper looks the same in a reply as in the daily thread."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.responses import (
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
from bot.platforms.slack.render import (
    MAX_BLOCKS,
    MAX_CONTEXT_TEXT,
    MAX_FALLBACK_TEXT,
    MAX_SECTION_TEXT,
    Block,
    Message,
    context,
    escape_mrkdwn,
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


ATTACHMENT_PIECE = MAX_SECTION_TEXT - 100   # room for the fences and a few escaped characters


def attachment_pieces(attachment: Attachment) -> list[str]:
    """The attachment's text in pieces that each fit one code-block section once escaped (cut
    where the attachment says: BibTeX between entries)."""
    pieces: list[str] = []
    pending = attachment.split(ATTACHMENT_PIECE)
    while pending:
        piece = pending.pop(0)
        if len(preformatted_body(piece)) <= MAX_SECTION_TEXT - 8 or len(piece) <= 1:
            pieces.append(piece)
        else:   # many `&<>` grew it when escaped: cut it smaller
            half = max(1, len(piece) // 2)
            pending[:0] = [part for part in Attachment("", piece, pieces=attachment.pieces).split(half) if part]
    return pieces


def preformatted_body(text: str) -> str:
    return escape_mrkdwn(text.replace("```", "'''"))


def attachment_messages(response: Response, reason: str) -> list[Message]:
    """An attachment that could not be uploaded, as code blocks: messages of at most 49 code
    sections each, the first saying why it is text (`reason`)."""
    attachment = response.attachment
    if attachment is None:
        return []
    sections = [section("```" + preformatted_body(piece) + "```") for piece in attachment_pieces(attachment)]
    messages = []
    for start in range(0, len(sections), MAX_BLOCKS - 1):
        note = (f"{attachment.filename} ({reason}):" if not start
                else f"{attachment.filename}, continued:")
        blocks = [context(escaped_within(note, MAX_CONTEXT_TEXT))] + sections[start:start + MAX_BLOCKS - 1]
        messages.append(Message(text=escaped_within(note, MAX_FALLBACK_TEXT), blocks=blocks))
    return messages


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
