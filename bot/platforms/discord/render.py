"""Digests and command replies as Discord messages: content, embeds and Abstract buttons.

discord.py checks none of Discord's size limits, so everything is measured and cut here
(`LIMITS`); a message over them would be refused with 400 / 50035 and the day would not post.

Choices worth knowing:
- An embed's title is the paper title, linked to the abs page (the embed `url`). Discord renders
  Markdown in embed titles too (`*`, `_`, `~~`, backticks), so the title is escaped like any
  other data (a LaTeX title such as `$O(n^*)$ ... $x_1$ and $y_2$` would otherwise lose
  characters to italics); the query's hit terms are shown bold in the description instead: in a
  "Matched" line and inside the abstract preview.
- The abstract is folded twice: a preview of `abstract_chars` characters as a spoiler (`||...||`,
  with any `|` inside escaped so the spoiler cannot be closed early), and the full text behind
  the persistent "Abstract" button, answered privately. A preview keeps about five papers per
  message; full abstracts inline would fit barely three and triple the messages per day.
- Titles, authors and abstracts are data: Discord Markdown is escaped and `@everyone`/`@here`
  defused; messages are also sent with `AllowedMentions.none()` (see sink.py), so nothing pings.
- The paper id is in the embed footer (`arXiv:<id>`) for readers and in the button's custom id
  (`paperbot:abs:<id>`) for the machine: that is how a restarted bot knows what a thread holds.

What a paper, the parent and a mention show is decided by the neutral cards
(`bot.digest.card`); this module only lays them out as Discord markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import discord

from bot.commands.votes import DOWN, UP
from bot.digest.card import (
    CROSS,
    MENTION_PAPERS_SHOWN,
    UPDATED,
    DayHeadline,
    PaperCard,
    day_headline,
    paper_card,
    personal_mention,
)
from bot.digest.model import Digest, DigestItem
from bot.digest.weekly import WeeklyBestOf
from bot.digest.text import (
    author_line,
    bold_spans,
    labels_text,
    papers_count,
    truncate,
)
from bot.models import Paper


@dataclass(frozen=True)
class Limits:
    """Discord's message limits (https://discord.com/developers/docs/resources/message)."""

    content: int = 2000
    embeds_per_message: int = 10
    embed_total: int = 6000          # all embeds of one message together
    title: int = 256
    description: int = 4096
    field_value: int = 1024
    footer: int = 2048
    author_name: int = 256
    thread_name: int = 100
    buttons_per_row: int = 5
    rows_per_message: int = 5
    button_label: int = 80
    custom_id: int = 100


LIMITS = Limits()
ABSTRACT_PREVIEW_CHARS = 700
TOP_TITLE_CHARS = 150
EXPLANATION_CHARS = 900
ABSTRACT_BUTTON_PREFIX = "paperbot:abs:"
# paperbot:up:<destination>:<paper id> / paperbot:down:...: the thread's ledger key and the paper
# ride in the custom id, so a click after a restart knows where it counts.
VOTE_BUTTON_PREFIXES = {UP: "paperbot:up:", DOWN: "paperbot:down:"}
# A daily-thread message holds one row of buttons per paper (Abstract, 👍, 👎), and Discord
# allows five rows a message: five papers a message (their embeds fit 6000 characters anyway).
PAPERS_PER_MESSAGE = 5

COLOUR_NEW = discord.Colour.blurple()
COLOUR_CROSS = discord.Colour.teal()
COLOUR_UPDATED = discord.Colour.orange()

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


# -- escaping ---------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Plain text for Discord Markdown: formatting characters escaped, @everyone/@here defused."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def escape_in_spoiler(text: str) -> str:
    """`escape`, plus every `|`: escape_markdown leaves a lone `|` alone, and next to our closing
    `||` it would end the spoiler early."""
    return _UNESCAPED_PIPE.sub(r"\\|", escape(text))


def code_block(text: str) -> str:
    """`text` in a fenced block; a ``` inside is broken with zero-width spaces so it cannot close it."""
    return "```\n" + text.replace("```", "`\u200b`\u200b`") + "\n```"


def _fit(render, raw: str, room: int) -> str:
    """`render(truncate(raw, n))` for the largest n whose rendering fits `room` characters
    (escaping lengthens text, so the raw cut is shrunk until the escaped result fits)."""
    budget = min(len(raw), room)
    while budget > 1:
        rendered = render(truncate(raw, budget) if budget < len(raw) else raw)
        if len(rendered) <= room:
            return rendered
        budget -= max(1, len(rendered) - room)
    return ""


# -- the Abstract button's id ----------------------------------------------------------------


def abstract_custom_id(paper_id: str) -> str:
    custom_id = ABSTRACT_BUTTON_PREFIX + paper_id
    if len(custom_id) > LIMITS.custom_id:
        raise ValueError(f"paper id too long for a button: {paper_id!r}")
    return custom_id


def paper_id_of(custom_id: str) -> str | None:
    if custom_id.startswith(ABSTRACT_BUTTON_PREFIX) and len(custom_id) > len(ABSTRACT_BUTTON_PREFIX):
        return custom_id[len(ABSTRACT_BUTTON_PREFIX):]
    return None


def vote_custom_id(direction: int, destination: str, paper_id: str) -> str | None:
    """The custom id of a paper's 👍 or 👎 button, None when it would not fit Discord's 100
    characters (the paper then shows its Abstract button only)."""
    custom_id = f"{VOTE_BUTTON_PREFIXES[direction]}{destination}:{paper_id}"
    return custom_id if len(custom_id) <= LIMITS.custom_id else None


def read_vote_custom_id(custom_id: str) -> tuple[int, str, str] | None:
    """(direction, destination, paper id) of a vote button's custom id, or None."""
    for direction, prefix in VOTE_BUTTON_PREFIXES.items():
        if custom_id.startswith(prefix):
            destination, _, paper_id = custom_id[len(prefix):].rpartition(":")
            if destination and paper_id:
                return direction, destination, paper_id
    return None


def abstract_button_label(paper_id: str) -> str:
    return truncate(f"Abstract · {paper_id}", LIMITS.button_label)


# -- one paper --------------------------------------------------------------------------------


def _colour(paper: Paper | PaperCard) -> discord.Colour:
    if isinstance(paper, PaperCard):
        return {UPDATED: COLOUR_UPDATED, CROSS: COLOUR_CROSS}.get(paper.kind, COLOUR_NEW)
    if paper.is_update:
        return COLOUR_UPDATED
    if paper.is_cross_list:
        return COLOUR_CROSS
    return COLOUR_NEW


def _clip_spans(spans: Sequence[tuple[int, int]], kept: int) -> list[tuple[int, int]]:
    return [(start, min(end, kept)) for start, end in spans if start < kept]


def _abstract_preview(card: PaperCard, room: int, chars: int) -> str:
    abstract = card.abstract
    if not abstract or room < 8:
        return ""

    def render(cut: str) -> str:
        kept = len(cut) if cut == abstract else len(cut) - 1   # the ellipsis is not the abstract's
        spans = _clip_spans(card.abstract_spans, kept)
        body = bold_spans(cut[:kept], spans, escape=escape_in_spoiler) + cut[kept:]
        return f"||{body}||"

    return _fit(render, abstract, min(room, chars + 4))


def paper_description(item: DigestItem | PaperCard, *, abstract_chars: int = ABSTRACT_PREVIEW_CHARS,
                      explanation: str | None = None) -> str:
    """A paper card's authors, categories (primary first) and labels, venue, hit terms, then the
    abstract preview as a spoiler or an explanation as a code block; within Discord's
    description limit."""
    card = paper_card(item)
    lines = []
    if card.authors:
        lines.append(escape(truncate(card.authors, 600)))
    tags = " ".join(f"`{badge}`" for badge in card.categories[:8])
    labels = labels_text(card.labels)
    if labels:
        tags = f"{tags} · *{escape(labels)}*" if tags else f"*{escape(labels)}*"
    if tags:
        lines.append(tags)
    if card.venue:
        lines.append(f"*{escape(truncate(card.venue, 300))}*")
    if card.hit_terms:
        terms = ", ".join(f"**{escape(term)}**" for term in card.hit_terms[:12])
        lines.append(truncate(f"Matched: {terms}", 600) if len(terms) < 590 else
                     f"Matched: {papers_count(len(card.hit_terms)).replace('paper', 'term')}")
    head = "\n".join(lines)
    room = LIMITS.description - len(head) - 1
    if explanation:
        tail = _fit(lambda cut: code_block(cut), explanation, min(room, EXPLANATION_CHARS))
    else:
        tail = _abstract_preview(card, room, abstract_chars) if abstract_chars > 0 else ""
    return "\n".join(part for part in (head, tail) if part)[: LIMITS.description]


def paper_embed(item: DigestItem | PaperCard, *, abstract_chars: int = ABSTRACT_PREVIEW_CHARS,
                explanation: str | None = None, section: str | None = None) -> discord.Embed:
    card = paper_card(item)
    embed = discord.Embed(
        title=_fit(escape, card.title or "(untitled)", LIMITS.title),
        url=card.url,
        description=paper_description(card, abstract_chars=abstract_chars, explanation=explanation),
        colour=_colour(card),
    )
    if section:
        embed.set_author(name=truncate(section, LIMITS.author_name))
    embed.set_footer(text=f"arXiv:{card.id}")
    return embed


def abstract_embed(paper: Paper) -> discord.Embed:
    """The private answer to an Abstract click: the whole abstract (cut only at Discord's limit)."""
    abstract = paper.abstract or "(no abstract)"
    embed = discord.Embed(
        title=_fit(escape, paper.title or "(untitled)", LIMITS.title),
        url=paper.abs_url,
        description=_fit(escape, abstract, LIMITS.description),
        colour=_colour(paper),
    )
    authors = author_line(paper.authors)
    footer = f"arXiv:{paper.id}" + (f" · {authors}" if authors else "")
    embed.set_footer(text=truncate(footer, LIMITS.footer))
    return embed


# -- the day's parent message -----------------------------------------------------------------


def parent_heading(day: date) -> str:
    """The first line of a day's parent message; `find_parent` looks for it, so it is stable."""
    return f"📰 **arXiv papers · {day.isoformat()}**"


def parent_content(digest: Digest | DayHeadline, *, forum: bool = False) -> str:
    """The day's parent message (or forum post): heading, counts, the top titles (`DayHeadline`)."""
    headline = digest if isinstance(digest, DayHeadline) else day_headline(digest)
    lines = [parent_heading(headline.day)]
    if headline.is_empty:
        lines.append("No paper announced today matched this channel's subscriptions.")
        if headline.has_mentions:
            lines.append("Personal matches are in the thread below.")
        return "\n".join(lines)
    lines.append(f"**{papers_count(headline.total)}** · {headline.count_line}")
    if headline.truncated:
        lines.append(f"The top {headline.shown} are in the thread (this channel's daily maximum); "
                     f"the other {headline.truncated} are listed as links at its end.")
    top = headline.top
    if top:
        lines.append("Top: " if len(top) == 1 else "Top papers:")
        lines += [f"• {escape(truncate(card.title or '(untitled)', TOP_TITLE_CHARS))}"
                  for card in top]
    lines.append("Every paper is in the thread below; press Abstract for the full text."
                 if not forum else "Every paper is in this post; press Abstract for the full text.")
    return truncate("\n".join(lines), LIMITS.content)


MENTION_HEADING = "🔔 **Personal matches** (people who chose /papers me deliver here):"
MENTION_TITLE_CHARS = 90


def mention_line(digest: Digest, user: str) -> str:
    """`<@id>: **Title** <https://arxiv.org/abs/ID> · ...`: one person, links to their papers
    only (never their keywords); angle brackets keep Discord from unfurling every link."""
    mention = personal_mention(digest, user, MENTION_PAPERS_SHOWN)
    links = " · ".join(f"**{escape(truncate(card.title or '(untitled)', MENTION_TITLE_CHARS))}** "
                       f"<{card.url}>" for card in mention.papers)
    more = f" (+{mention.more} more)" if mention.more else ""
    return f"<@{user}>: {links}{more}"


def pack_mentions(digest: Digest, users: Sequence[str]) -> list[list[str]]:
    """Each person (a Discord user id) on one line, lines packed into messages of at most
    2000 characters with the heading; nobody appears twice."""
    batches: list[list[str]] = []
    size = 0
    for user in users:
        if not user.isdigit():
            continue
        length = len(mention_line(digest, user)) + 1
        if not batches or size + length > LIMITS.content:
            batches.append([])
            size = len(MENTION_HEADING)
        batches[-1].append(user)
        size += length
    return batches


def mentions_content(digest: Digest, users: Sequence[str]) -> str:
    return "\n".join([MENTION_HEADING, *(mention_line(digest, user) for user in users)])


FOLDED_HEADING = "📚 **More papers**"
FOLDED_TITLE_CHARS = 120
_ABS_LINK = re.compile(r"<https://arxiv\.org/abs/([^>\s]+)>")


def folded_intro(digest: Digest, continued: bool) -> str:
    """The first line of a "more papers" message; `FOLDED_HEADING` starts it, so a restarted bot
    recognises the message (and reads its papers back from the links)."""
    if continued:
        return f"{FOLDED_HEADING} (continued):"
    more = digest.truncated
    return (f"{FOLDED_HEADING}: {more} more {'paper' if more == 1 else 'papers'} matched today, "
            f"over this channel's daily maximum of {len(digest.items)} (/papers settings max):")


def folded_line(card: PaperCard) -> str:
    title = escape(truncate(" ".join(card.title.split()) or "(untitled)", FOLDED_TITLE_CHARS))
    return f"• {title} <{card.url}>"


def pack_folded(digest: Digest, cards: Sequence[PaperCard], continued: bool = False) -> list[tuple[tuple[str, ...], str]]:
    """The papers over the daily maximum as one line each (title and link, the link in angle
    brackets so Discord does not unfurl it), packed into messages of at most 2000 characters;
    each with the ids it lists."""
    messages: list[tuple[tuple[str, ...], str]] = []
    lines: list[str] = []
    ids: list[str] = []
    for card in cards:
        line = folded_line(card)
        if ids and len("\n".join(lines)) + 1 + len(line) > LIMITS.content:
            messages.append((tuple(ids), "\n".join(lines)))
            lines, ids = [], []
        if not lines:
            lines.append(folded_intro(digest, continued or bool(messages)))
        lines.append(line)
        ids.append(card.id)
    if ids:
        messages.append((tuple(ids), "\n".join(lines)))
    return messages


def folded_paper_ids(content: str) -> list[str]:
    """The paper ids a "more papers" message lists (for resuming), [] for any other message."""
    if not content.startswith(FOLDED_HEADING):
        return []
    return _ABS_LINK.findall(content)


WEEKLY_TITLE_CHARS = 150


def weekly_heading(week: WeeklyBestOf) -> str:
    """The first line of a weekly best-of; `find_weekly` looks for it, so it is stable."""
    return f"🏆 **Best of the week · {week.span}**"


def weekly_thread_name(week: WeeklyBestOf) -> str:
    return truncate(f"Best of the week · {week.span}", LIMITS.thread_name)


def weekly_content(week: WeeklyBestOf) -> str:
    """The weekly best-of in one message of at most 2000 characters: the most-voted papers, then
    the best-ranked ones nobody voted on, each a title and its link (no unfurling)."""

    def line(paper: Paper, votes: str = "") -> str:
        title = escape(truncate(" ".join(paper.title.split()) or "(untitled)", WEEKLY_TITLE_CHARS))
        return f"• **{title}** <{paper.abs_url}>" + (f" · {votes}" if votes else "")

    lines = [weekly_heading(week)]
    if week.voted:
        lines.append("**Most voted here**")
        lines += [line(v.paper, f"👍 {v.up}" + (f" 👎 {v.down}" if v.down else "")) for v in week.voted]
    if week.unvoted:
        how = "ranked by what this channel votes for" if week.ranked_by_votes else "best keyword match first"
        lines.append(f"**Worth a look: nobody voted on these yet** ({how})")
        lines += [line(paper) for paper in week.unvoted]
    footer = (f"From {papers_count(week.received)} this channel received this week. Vote with 👍/👎 "
              "in the daily threads; /papers export bibtex gives the 👍 papers as BibTeX.")
    while len("\n".join(lines + [footer])) > LIMITS.content and len(lines) > 2:
        lines.pop()   # only pathological data: ten 150-character titles fit easily
    return truncate("\n".join(lines + [footer]), LIMITS.content)


def thread_name(digest: Digest) -> str:
    name = f"arXiv {digest.day.isoformat()} · {papers_count(digest.total)}"
    if digest.title:
        name += f" · {digest.title}"
    return truncate(name, LIMITS.thread_name)


# -- packing ----------------------------------------------------------------------------------


def pack_embeds(embeds: Sequence[discord.Embed], *, room: int = LIMITS.embed_total,
                count: int = LIMITS.embeds_per_message) -> list[list[int]]:
    """Indices of `embeds` grouped into messages, in order, each within Discord's limits."""
    groups: list[list[int]] = []
    current: list[int] = []
    used = 0
    for index, embed in enumerate(embeds):
        size = len(embed)
        if size > room:
            raise ValueError(f"an embed of {size} characters cannot fit any message ({room})")
        if current and (len(current) >= count or used + size > room):
            groups.append(current)
            current, used = [], 0
        current.append(index)
        used += size
    if current:
        groups.append(current)
    return groups


@dataclass
class RenderedMessage:
    """One Discord message: escaped content, embeds, and the papers its Abstract buttons open."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    paper_ids: list[str] = field(default_factory=list)

    @property
    def embed_characters(self) -> int:
        return sum(len(embed) for embed in self.embeds)
