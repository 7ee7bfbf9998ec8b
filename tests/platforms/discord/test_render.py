"""Rendering digests and replies for Discord: limits, escaping, spoilers, packing."""

from __future__ import annotations

import re
from datetime import date

import discord
import pytest

from bot.commands import DigestSection, Heading, Lines, PaperList, Preformatted, Response
from bot.digest.model import build_digest
from bot.models import Hit, Match, Paper
from bot.platforms.discord.replies import render_response
from bot.platforms.discord.render import (
    LIMITS,
    abstract_embed,
    escape_in_spoiler,
    pack_embeds,
    paper_embed,
    paper_id_of,
    abstract_custom_id,
    parent_content,
    parent_heading,
    thread_name,
)

DAY = date(2025, 4, 21)
NASTY_TITLE = "*Bold* claims_about_ VLMs || @everyone <@123456789012345678> `code` " + "long " * 60
NASTY_ABSTRACT = ("We study VLM safety. ||not a spoiler|| a|b pipe, *stars*, __under__, "
                  "@here and <@&987654321098765432>. " + "Filler sentence about models. " * 200 + "end|")


def nasty_paper(n: int = 0, **changes) -> Paper:
    values = dict(id=f"2504.{20000 + n}", title=NASTY_TITLE, abstract=NASTY_ABSTRACT,
                  authors=tuple(f"Author {i}" for i in range(10)), categories=("cs.CV", "cs.AI", "cs.CL"),
                  announce_type="replace-cross", version=3, announced=DAY,
                  comment="Accepted at CVPR 2025 *oral*")
    values.update(changes)
    return Paper(**values)


def digest_of(papers, **kw):
    matches = [Match("s", p, (Hit("VLM", "abstract", p.abstract.find("VLM"), p.abstract.find("VLM") + 3),),
                     float(len(papers) - i)) for i, p in enumerate(papers)]
    return build_digest("discord:G:C", "ml-papers", DAY, matches, **kw)


def unescaped(text: str, token: str) -> int:
    """How many times `token` occurs not preceded by a backslash."""
    return len(re.findall(r"(?<!\\)" + re.escape(token), text))


def test_paper_embed_respects_limits_and_escapes_everything():
    item = digest_of([nasty_paper()]).items[0]
    embed = paper_embed(item)
    assert len(embed.title) <= LIMITS.title and embed.title.endswith("…")
    # Discord renders Markdown in embed titles: every formatting character is escaped.
    for token in ("*", "_", "`", "||"):
        assert unescaped(embed.title, token) == 0, token
    assert embed.url == "https://arxiv.org/abs/2504.20000"
    assert len(embed.description) <= LIMITS.description
    assert len(embed) <= LIMITS.embed_total
    description = embed.description
    lines = description.split("\n")
    assert lines[0] == "Author 0, Author 1, Author 2, Author 3, Author 4, Author 5, et al."
    assert lines[1].startswith("`cs.CV` `cs.AI` `cs.CL`") and "updated v3" in lines[1] and "cross\\-list" not in lines[1]
    assert "Accepted at CVPR 2025 \\*oral\\*" in lines[2]
    assert lines[3] == "Matched: **VLM**"
    spoiler = lines[4]
    # One spoiler, opened and closed by us only: every other pipe in it is escaped.
    assert spoiler.startswith("||") and spoiler.endswith("||")
    assert unescaped(spoiler[2:-2], "|") == 0
    assert "We study **VLM** safety." in spoiler
    assert "@\u200bhere" in spoiler and "@here" not in spoiler.replace("@\u200bhere", "")
    assert "\\*stars\\*" in spoiler
    assert len(spoiler) <= 700 + 4 and "…" in spoiler
    assert embed.footer.text == "arXiv:2504.20000"


def test_spoiler_escaping_cannot_be_closed_early():
    for text in ("a|", "|a", "a||b", "a\\|b", "|||", "x | y || z |"):
        escaped = escape_in_spoiler(text)
        assert unescaped(escaped, "|") == 0, (text, escaped)


def test_abstract_reply_holds_the_whole_abstract_when_it_fits():
    paper = nasty_paper(abstract="Short abstract with a | pipe and *stars*.")
    embed = abstract_embed(paper)
    assert embed.description == "Short abstract with a \\| pipe and \\*stars\\*."
    long = abstract_embed(nasty_paper())
    assert len(long.description) <= LIMITS.description and long.description.endswith("…")


def test_pack_fills_messages_to_the_limits_in_order():
    papers = [nasty_paper(i) for i in range(23)]
    embeds = [paper_embed(item) for item in digest_of(papers).items]
    groups = pack_embeds(embeds)
    assert [i for group in groups for i in group] == list(range(23))
    for number, group in enumerate(groups):
        size = sum(len(embeds[i]) for i in group)
        assert len(group) <= 10 and size <= 6000
        if number + 1 < len(groups):   # greedy: the next embed would not have fitted
            following = embeds[groups[number + 1][0]]
            assert len(group) == 10 or size + len(following) > 6000
    assert len(groups) > 23 // 10   # the character limit, not the count, decides here

    small = [discord.Embed(title=str(i), description="x") for i in range(25)]
    assert [len(g) for g in pack_embeds(small)] == [10, 10, 5]


def test_custom_id_round_trip_including_old_style_ids():
    for paper_id in ("2504.13365", "hep-th/9901001"):
        assert paper_id_of(abstract_custom_id(paper_id)) == paper_id
    assert paper_id_of("other:thing") is None


def test_parent_message_and_thread_name_fit_and_escape():
    papers = [nasty_paper(i) for i in range(5)]
    digest = digest_of(papers, max_items=4)
    content = parent_content(digest)
    assert content.startswith(parent_heading(DAY)) and len(content) <= LIMITS.content
    assert "**5 papers**" in content and "The top 4 are in the thread" in content
    assert "@everyone" not in content.replace("@\u200beveryone", "")
    assert content.count("• ") == 3
    name = thread_name(build_digest("d", "x" * 200, DAY, []))
    assert len(name) <= LIMITS.thread_name and name.startswith("arXiv 2025-04-21 · 0 papers")
    empty = parent_content(build_digest("d", "t", DAY, []))
    assert "No paper announced today matched" in empty


def test_response_rendering_keeps_within_one_message():
    papers = [nasty_paper(i) for i in range(15)]
    digest = digest_of(papers)
    response = Response(text="15 papers match @everyone.", sections=(
        Heading("Papers for 2025-04-21"), Preformatted("a ``` b", caption="Read as:"),
        Lines(("one", "two")), DigestSection(digest)))
    message = render_response(response)
    assert len(message.embeds) == 10 and message.embed_characters <= 6000
    assert message.content.startswith("15 papers match @\u200beveryone.")
    assert message.content.endswith("(6 more not shown here.)")
    assert message.paper_ids == [item.paper.id for item in digest.items[:9]]
    info = message.embeds[0].description
    assert info.startswith("**Papers for 2025\\-04\\-21**") or info.startswith("**Papers for 2025-04-21**")
    assert "```\na `\u200b`\u200b` b\n```" in info


def test_second_paper_list_is_labelled_with_its_heading():
    items = digest_of([nasty_paper(1), nasty_paper(2)]).items
    response = Response(text="Dry run", sections=(
        PaperList(items[:1], ("title: VLM",)), Heading("Near misses"), PaperList(items[1:], ("excluded",))))
    message = render_response(response)
    assert message.embeds[1].author.name is None
    assert message.embeds[2].author.name == "Near misses"
    assert "```\ntitle: VLM\n```" in message.embeds[1].description


@pytest.mark.parametrize("outcome", ["ok", "invalid", "refused", "unavailable", "internal"])
def test_every_outcome_renders(outcome):
    message = render_response(Response(text="x" * 3000, outcome=outcome))
    assert len(message.content) <= LIMITS.content and not message.embeds


def test_a_latex_title_reads_as_unicode_and_stays_literal_in_the_embed_title():
    title = r"$O(n^*)$ bounds for $x_1$ and $y_2$ in ~~VLMs~~"
    item = digest_of([nasty_paper(title=title)]).items[0]
    embed = paper_embed(item)
    assert embed.title.replace("\\", "") == "O(n^*) bounds for x₁ and y₂ in ~~VLMs~~"
    assert unescaped(embed.title, "_") == 0 and unescaped(embed.title, "*") == 0
