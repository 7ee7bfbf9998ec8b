"""Block Kit rendering: escaping, hit terms in bold, the paper layout, limits and packing."""

from __future__ import annotations

import dataclasses

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import Heading, Lines, PaperList, Preformatted, Response
from bot.commands.votes import Tally
from bot.digest.model import build_digest
from bot.matching import Subscription, compile_subscriptions, parse_query
from bot.models import ANNOUNCE_TYPES, Match, Paper
from bot.platforms.slack import render, replies
from tests.fakes.slack_server import block_errors
from tests.platforms.slack.conftest import all_texts

DAY = date(2025, 4, 21)

INJECTIONS = [
    "<!channel> look at this",
    "<!here|here> and <!everyone>",
    "ping <@U123> and <@W0ADMIN|admin>",
    "<#C0GENERAL> & friends",
    "R&D <script>alert(1)</script>",
    "<https://evil.example|click me> > < &amp;",
    "&lt;!channel&gt; pre-escaped",
]


def paper(n: int, **changes) -> Paper:
    fields = dict(id=f"2504.{10000 + n}", title=f"Paper {n} about VLMs", abstract="We study VLMs.",
                  authors=tuple(f"Author {i}" for i in range(8)), categories=("cs.CV", "cs.AI"),
                  announce_type="new", version=1, announced=DAY)
    fields.update(changes)
    return Paper(**fields)


def digest_of(papers, query: str = "VLM, Paper", mentions=None):
    matcher = compile_subscriptions([Subscription("s", parse_query(query), types=frozenset(ANNOUNCE_TYPES))])
    matches = matcher.match(papers)
    assert {m.paper.id for m in matches} == {p.id for p in papers}, "every test paper should match"
    return build_digest("slack:T1:C1", "ml-papers", DAY, matches, subscriptions_text=(query,),
                        mentions=mentions)


def _no_control_sequences(text: str) -> None:
    """Every `<` in rendered paper text must open one of our own arXiv links."""
    for match in re.finditer(r"<([^>]*)>", text):
        inner = match.group(1)
        assert inner.startswith("https://arxiv.org/abs/"), f"unexpected control sequence <{inner}> in {text!r}"
    assert "<!" not in text and "<@" not in text and "<#" not in text


@pytest.mark.parametrize("title", INJECTIONS)
def test_injected_titles_authors_and_comments_render_inert(title):
    evil = paper(1, title=title + " VLM", authors=(title, "B"), comment=title, journal_ref=title)
    digest = digest_of([evil], "VLM")
    for message in (render.items_message(digest, digest.items), render.parent_message(digest)):
        for text in all_texts(message.blocks) + [message.text]:
            _no_control_sequences(text)
    _no_control_sequences(render.items_plain_text(digest, digest.items))
    shown = render.paper_text(digest.items[0])
    assert title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in shown


@given(st.text(alphabet=st.sampled_from("<>&!@#|*_ `aZ9\u00e9"), min_size=1, max_size=80))
@settings(max_examples=150, deadline=None)
def test_any_title_renders_inert(title):
    item = build_digest("k", "t", DAY, [Match("s", paper(1, title=title))]).items[0]
    _no_control_sequences(render.paper_text(item))


def test_abstracts_are_escaped_and_never_cut():
    abstract = ("We <!channel> study & compare <@U1> models. " * 120).strip()  # ~5,400 characters
    message = render.abstract_message(paper(1, abstract=abstract))
    assert block_errors(message.blocks) == []
    body = "".join(all_texts(message.blocks)[1:-1])
    assert body.replace(" ", "") == render.escape_mrkdwn(abstract).replace(" ", "")
    for text in all_texts(message.blocks):
        _no_control_sequences(text)
        assert len(text) <= render.MAX_SECTION_TEXT


def test_hit_terms_are_bold_as_whole_words_inside_the_link():
    p = paper(1, title="Efficient VLMs for vision-language model tasks")
    digest = digest_of([p], 'VLM, "vision language model"')
    text = render.paper_text(digest.items[0])
    assert text.startswith("<https://arxiv.org/abs/2504.10001|Efficient *VLMs* for *vision-language model* tasks>")


def test_paper_layout_authors_categories_labels_venue():
    p = paper(2, authors=tuple(f"A{i}" for i in range(9)), categories=("cs.CL", "cs.CV", "cs.CL"),
              announce_type="replace-cross", version=3, comment="Accepted at CVPR 2025",
              journal_ref="J. Vis. 12 (2025)")
    text = render.paper_text(digest_of([p]).items[0])
    lines = text.split("\n")
    assert lines[1] == "_A0, A1, A2, A3, A4, A5, et al._"
    assert lines[2].startswith("`arXiv:2504.10002` `cs.CL` `cs.CV`")  # primary first, no duplicate
    assert "_updated v3 · cross-list_" in lines[2]
    assert lines[3] == ":memo: Accepted at CVPR 2025 · Journal ref: J. Vis. 12 (2025)"


def test_every_paper_has_show_abstract_and_vote_buttons_in_its_actions_block():
    digest = digest_of([paper(n) for n in range(3)])
    message = render.items_message(digest, digest.items)
    rows = [b for b in message.blocks if b["type"] == "actions"]
    assert [b["block_id"] for b in rows] == [f"paperbot_paper:{item.paper.id}" for item in digest.items]
    for row, item in zip(rows, digest.items):
        abstract, up, down = row["elements"]
        assert (abstract["action_id"], abstract["value"]) == ("paperbot_abstract", item.paper.id)
        assert abstract["text"]["text"] == "Show abstract"
        assert (up["action_id"], up["text"]["text"]) == ("paperbot_vote_up", "👍")
        assert (down["action_id"], down["text"]["text"]) == ("paperbot_vote_down", "👎")
        assert render.read_vote_value(up["value"]) == ("slack:T1:C1", DAY, item.paper.id)
    assert render.shown_paper_ids(message.blocks) == [item.paper.id for item in digest.items]


def test_vote_counts_change_only_the_vote_labels():
    digest = digest_of([paper(n) for n in range(3)])
    blocks = render.items_message(digest, digest.items).blocks
    first, second = digest.items[0].paper.id, digest.items[1].paper.id
    updated = render.with_vote_counts(blocks, {first: Tally(3, 0), second: Tally(0, 0)})
    labels = [[e["text"]["text"] for e in b["elements"]] for b in updated if b["type"] == "actions"]
    assert labels == [["Show abstract", "👍 3", "👎"], ["Show abstract", "👍", "👎"],
                      ["Show abstract", "👍", "👎"]]
    changed = [n for n, (old, new) in enumerate(zip(blocks, updated)) if old != new]
    assert changed == [1]   # only the first paper's actions block
    assert render.voted_papers(updated) == ("slack:T1:C1", DAY, [i.paper.id for i in digest.items])


def test_replies_to_commands_have_no_vote_buttons():
    assert render.thread_votes(build_digest("preview", "preview", DAY, [])) is None
    blocks = render.paper_blocks(digest_of([paper(1)]).items[0])
    assert "accessory" in blocks[0] and all(b["type"] != "actions" for b in blocks)


def test_parent_has_date_counts_and_top_three_titles():
    papers = [paper(n) for n in range(4)] + [paper(9, announce_type="cross")]
    digest = digest_of(papers)
    message = render.parent_message(digest)
    assert message.blocks[0] == {"type": "header", "text": {"type": "plain_text",
                                                             "text": "arXiv papers for 2025-04-21", "emoji": True}}
    texts = all_texts(message.blocks)
    assert "*5 papers: 4 new · 1 cross-list*" in texts
    top = next(t for t in texts if t.startswith("• "))
    assert top.count("• <https://arxiv.org/abs/") == 3 and "… and 2 more in the thread" in top
    assert message.text == "arXiv papers for 2025-04-21: 5 papers: 4 new · 1 cross-list"
    assert block_errors(message.blocks) == []


def test_empty_day_parent_says_so():
    digest = build_digest("slack:T1:C1", "ml", DAY, [], subscriptions_text=("VLM",))
    message = render.parent_message(digest)
    assert "No new papers matched" in message.text and block_errors(message.blocks) == []


def test_mentions_only_for_intended_well_formed_user_ids():
    papers = [paper(1), paper(2)]
    digest = digest_of(papers, mentions={"U0REAL1": [papers[0].id], "U1> <!channel": [papers[0].id],
                                         "U0OTHER": ["2504.99999"]})
    digest = dataclasses.replace(digest, mention_items=digest.items)
    # Paper messages never mention anyone; the one message after them does, once per person.
    items_text = " ".join(all_texts(render.items_message(digest, digest.items).blocks))
    assert "<@" not in items_text and "<@" not in render.items_plain_text(digest, digest.items)
    users = render.mentionable_users(digest)
    assert users == ["U0REAL1", "U0OTHER"]
    [batch] = render.pack_mentions(digest, [*digest.mentions])
    message = render.mentions_message(digest, batch)
    text = " ".join(all_texts(message.blocks))
    assert re.findall(r"<@([^>]+)>", text) == ["U0REAL1", "U0OTHER"]
    assert "<!channel" not in text + message.text and block_errors(message.blocks) == []
    assert papers[0].abs_url in text  # links to the person's papers; U0OTHER's is not in the day


def test_mention_message_fits_for_many_people_with_many_huge_titles():
    papers = [paper(n, title="&" * 900) for n in range(12)]
    people = {f"U0P{n:04d}": [p.id for p in papers] for n in range(95)}
    digest = digest_of(papers, mentions=people)
    digest = dataclasses.replace(digest, mention_items=digest.items)
    batches = render.pack_mentions(digest, [*digest.mentions])
    assert [user for batch in batches for user in batch] == list(people)
    for batch in batches:
        message = render.mentions_message(digest, batch)
        assert block_errors(message.blocks) == [] and len(message.blocks) <= 50
        assert "(+7 more)" in all_texts(message.blocks)[1]


def test_huge_papers_stay_within_block_kit_limits_and_pack_several_per_message():
    huge = [paper(n, title=("Huge & <title> VLM " * 60), authors=tuple("&<>" * 30 for _ in range(20)),
                  comment="<!here> " * 200, journal_ref="&" * 900) for n in range(23)]
    digest = digest_of(huge)
    batches = render.pack_items(digest, digest.items)
    assert [item for batch in batches for item in batch] == list(digest.items)
    assert len(batches) < len(huge)  # several papers a message
    for batch in batches:
        message = render.items_message(digest, batch)
        assert len(message.blocks) <= 50 and block_errors(message.blocks) == []
        assert all(len(t) <= 3000 for t in all_texts(message.blocks))


def test_pack_respects_papers_per_message_and_fifty_blocks():
    digest = digest_of([paper(n) for n in range(95)])
    assert [len(b) for b in render.pack_items(digest, digest.items)] == [10] * 9 + [5]
    many = render.pack_items(digest, digest.items, papers_per_message=500)
    assert all(len(render.items_message(digest, b).blocks) <= 50 for b in many)
    # Two blocks a paper (details, then its buttons): 25 papers fill 50 blocks.
    assert sum(len(b) for b in many) == 95 and len(many) == 4


def test_response_rendering_headings_lines_preformatted_and_papers():
    digest = digest_of([paper(1)])
    response = Response(text="Dry run <!channel> & co", sections=(
        Heading("Dry run on 2025-04-21"), Preformatted("a ``` b <@U1>", caption="Read as:"),
        Lines(("one & two", "three")), PaperList(digest.items, explanations=("title: VLM",), more=4)))
    message = replies.response_message(response)
    assert message.text == "Dry run &lt;!channel&gt; &amp; co"
    kinds = [b["type"] for b in message.blocks]
    assert kinds == ["header", "section", "context", "section", "section", "section", "section", "context"]
    assert message.blocks[1]["text"]["text"] == "Dry run &lt;!channel&gt; &amp; co"
    texts = all_texts(message.blocks)
    assert "```a ''' b &lt;@U1&gt;```" in texts
    assert "one &amp; two\nthree" in texts
    assert "```title: VLM```" in texts and "… and 4 more" in texts
    assert block_errors(message.blocks) == []


def test_long_replies_are_cut_at_fifty_blocks_with_a_note():
    response = Response(text="many", sections=tuple(Heading(f"h{n}") for n in range(80)))
    message = replies.response_message(response)
    assert len(message.blocks) == 50 and "did not fit" in message.blocks[-1]["elements"][0]["text"]
    long_lines = replies.response_message(Response(text="x", sections=(Lines(("y" * 2000,) * 5),)))
    assert block_errors(long_lines.blocks) == [] and len(long_lines.blocks) == 1 + 5
    said_once = replies.response_message(Response(text="Removed all.", sections=(Lines(("Removed all.",)),)))
    assert all_texts(said_once.blocks) == ["Removed all."]


@pytest.mark.parametrize("limit", [1, 5, 12, 300])
def test_escaped_within_always_fits_and_ends(limit):
    for text in ("&" * 1000, "<>" * 10, "plain words " * 50, ""):
        assert len(render.escaped_within(text, limit)) <= limit


def test_pathological_categories_and_authors_still_fit_a_section():
    evil = paper(1, categories=tuple("&" * 900 + str(i) for i in range(12)), authors=("&" * 5000,) * 7,
                 comment="&" * 5000)
    text = render.paper_text(build_digest("k", "t", DAY, [Match("s", evil)]).items[0])
    assert len(text) <= 3000
