"""The neutral cards: what a paper, a day's parent and a personal mention show, for every platform."""

from __future__ import annotations

import dataclasses
from datetime import date

from bot.digest.card import (
    CROSS,
    NEW,
    UPDATED,
    day_headline,
    paper_card,
    personal_mention,
)
from bot.digest.model import build_digest
from bot.models import Hit, Match, Paper

DAY = date(2025, 4, 21)


def paper(n: int, **changes) -> Paper:
    values = dict(id=f"2504.{10000 + n}", title=f"Paper {n} about VLMs", abstract="We study VLMs.",
                  authors=tuple(f"Author {i}" for i in range(8)), categories=("cs.CV", "cs.AI", "cs.CV"),
                  announce_type="new", version=1, announced=DAY)
    values.update(changes)
    return Paper(**values)


def test_a_card_carries_what_every_platform_shows_of_a_paper():
    p = paper(1, announce_type="replace-cross", version=3, comment="Accepted at CVPR 2025",
              journal_ref="J. Vis. 12")
    hit = Hit("VLM", "title", p.title.index("VLM"), p.title.index("VLM") + 3)
    item = build_digest("k", "t", DAY, [Match("s", p, (hit,), 2.0)]).items[0]
    card = paper_card(item)
    assert (card.id, card.title, card.url) == (p.id, p.title, "https://arxiv.org/abs/2504.10001")
    assert card.categories == ("cs.CV", "cs.AI")  # primary first, each once
    assert card.authors == "Author 0, Author 1, Author 2, Author 3, Author 4, Author 5, et al."
    assert card.labels == ("updated v3", "cross-list") and card.kind == UPDATED
    assert card.venue == "Accepted at CVPR 2025 · Journal ref: J. Vis. 12"
    assert card.hit_terms == ("VLM",) and card.title_spans == ((hit.start, hit.end),)
    assert paper_card(card) is card


def test_card_kind_follows_the_announce_type():
    kinds = [paper_card(build_digest("k", "t", DAY, [Match("s", paper(1, announce_type=t))]).items[0]).kind
             for t in ("new", "cross", "replace")]
    assert kinds == [NEW, CROSS, UPDATED]


def test_day_headline_counts_top_titles_and_cut_papers():
    papers = [paper(n, announce_type="cross" if n == 4 else "new") for n in range(5)]
    digest = build_digest("k", "t", DAY, [Match("s", p, (), float(10 - n)) for n, p in enumerate(papers)],
                          subscriptions_text=("VLM",), max_items=4)
    headline = day_headline(digest)
    assert headline.total == 5 and headline.shown == 4 and headline.truncated == 1
    assert [card.id for card in headline.top] == [p.id for p in papers[:3]]
    assert headline.more_in_thread == 1 and headline.subscriptions == ("VLM",)
    assert headline.summary == "5 papers: 4 new · 1 cross-list"
    assert not headline.is_empty and not headline.has_mentions
    empty = day_headline(build_digest("k", "t", DAY, []))
    assert empty.is_empty and empty.top == () and empty.count_line == "No matching papers"


def test_a_personal_mention_links_the_first_five_papers_and_counts_the_rest():
    papers = [paper(n) for n in range(8)]
    digest = build_digest("k", "t", DAY, [Match("s", p) for p in papers],
                          mentions={"U1": [p.id for p in papers] + ["2504.99999"]})
    digest = dataclasses.replace(digest, mention_items=digest.items)
    mention = personal_mention(digest, "U1")
    assert [card.id for card in mention.papers] == [p.id for p in papers[:5]] and mention.more == 3
    assert personal_mention(digest, "nobody").papers == ()


def test_chat_cards_show_latex_as_unicode_and_keep_the_emphasis_on_the_same_words():
    from bot.digest.card import paper_card
    from bot.matching import Subscription, compile_subscriptions, parse_query
    from tests.digest.helpers import make_paper

    paper = make_paper(title=r"Strain in MoS$_2$ flakes seen by $\gamma$-ray imaging",
                       abstract=r"We image $\Lambda$CDM halos in MoS$_2$ with gamma-ray detectors.")
    matcher = compile_subscriptions([Subscription("s", parse_query('"gamma-ray"'))])
    [match] = matcher.match([paper])
    item = build_digest("d", "D", date(2025, 4, 21), [match]).items[0]

    chat = paper_card(item)
    assert chat.title == "Strain in MoS₂ flakes seen by γ-ray imaging"
    assert "ΛCDM" in chat.abstract and "$" not in chat.abstract
    assert [chat.title[a:b] for a, b in chat.title_spans] == ["γ-ray"]
    assert [chat.abstract[a:b] for a, b in chat.abstract_spans] == ["gamma-ray"]

    markdown = paper_card(item, readable=False)  # GitHub renders the math itself
    assert markdown.title == paper.title and markdown.title_spans == item.title_spans


def test_plain_titles_are_untouched_by_the_readable_form():
    from bot.digest.card import readable_with_spans

    assert readable_with_spans("Vision Language Models", ((7, 15),)) == ("Vision Language Models", ((7, 15),))
