"""One injection corpus through all three renderers: paper text is data and renders inert.

Each payload goes into the title, the abstract, an author name and the venue comment of a paper,
and the day's digest is rendered for Markdown, Slack (parent + items) and Discord (parent +
embeds). Whatever the payload, no output may ping anyone, open or close our structure, or carry
active markup.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from bot.platforms.markdown.render import render_markdown
from bot.digest.model import build_digest
from bot.models import Hit, Match, Paper
from bot.platforms.discord import render as discord_render
from bot.platforms.slack import render as slack_render

CORPUS = [
    "@everyone look", "@here now", "<!channel> alert", "<!here>", "<!everyone>", "<@U123> hi",
    "<@123456789012345678>", "<@&987654321098765432> role", "<#C024BE7LR>",
    "||spoiler|| out", "a || b", "```code fence```", "`tick`", "*bold* _it_ ~strike~",
    "<script>alert(1)</script>", "</details><details open>", "[x](javascript:alert(1))",
    "<https://evil.example|click me>", "&amp; &lt; &gt;", "# heading\n- list",
    "\\*escaped\\*", "**VLM**", "<img src=x onerror=alert(1)>",
]

DAY = date(2025, 4, 21)


def digest_with(payload: str):
    title = f"A VLM study {payload}"
    paper = Paper(id="2504.00001", title=title, abstract=f"We study VLMs. {payload} The end.",
                  authors=(f"Ann {payload}", "Bo Writer"), categories=("cs.CV", "cs.AI"),
                  announce_type="replace", version=2, announced=DAY, comment=f"CVPR {payload}")
    hit = Hit("VLM", "title", title.index("VLM"), title.index("VLM") + 3)
    other = Paper(id="2504.00002", title="Plain paper on VLMs", abstract="Nothing odd.", authors=("C D",),
                  categories=("cs.CV",), announce_type="new", version=1, announced=DAY)
    return build_digest("test:dest", f"Topic {payload}", DAY,
                        [Match("s", paper, (hit,), 3.0), Match("s", other, (), 1.0)])


def all_strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in all_strings(v)]
    return []


@pytest.mark.parametrize("payload", CORPUS)
def test_markdown_keeps_its_structure(payload):
    """Parsed by GitHub's own cmark with raw HTML allowed (the worst case before sanitising)."""
    cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm (GitHub's cmark) not installed")
    from cmarkgfm.cmark import Options

    text = render_markdown(digest_with(payload), keywords=["VLM"], filters=[])
    html = cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)
    tags = set(re.findall(r"<(/?[a-z0-9]+)", html))
    assert tags <= {"h1", "/h1", "h2", "/h2", "p", "/p", "a", "/a", "img", "hr", "ul", "/ul", "li", "/li",
                    "strong", "/strong", "em", "/em", "code", "/code", "br", "details", "/details",
                    "summary", "/summary"}, tags
    assert html.count("<details>") == html.count("</details>") == 2  # ours, one per paper
    # GFM turns a bare URL into a link to itself (label == address); nothing from paper text may
    # become a link that says one thing and goes elsewhere, nor a javascript: link.
    for href, label in re.findall(r'<a href="([^"]*)">(.*?)</a>', html):
        assert not href.startswith("javascript:")
        if href and "arxiv.org/abs/" not in href and "img.shields.io" not in href:
            assert re.sub(r"<[^>]+>", "", label).replace("&amp;", "&") in href.replace("%5C", "\\").replace("%7C", "|")


@pytest.mark.parametrize("payload", CORPUS)
def test_slack_never_pings_and_never_links_from_paper_text(payload):
    digest = digest_with(payload)
    messages = [slack_render.parent_message(digest), slack_render.items_message(digest, digest.items)]
    for message in messages:
        texts = all_strings(message.blocks) + [message.text]
        for text in texts:
            assert not re.search(r"<[!@#]", text), text  # <!channel>, <@U…>, <#C…>: Slack control sequences
            assert "<script" not in text and "<https://evil" not in text
        # Our own link (the title) is the only `<url|…>` and points at arXiv.
        links = re.findall(r"<(https?://[^|>]+)\|", json.dumps(message.blocks))
        assert links and all(url.startswith("https://arxiv.org/abs/") for url in links)


@pytest.mark.parametrize("payload", CORPUS)
def test_discord_never_pings_and_spoilers_stay_closed(payload):
    digest = digest_with(payload)
    texts = [discord_render.parent_content(digest)]
    for item in digest.items:
        embed = discord_render.paper_embed(item).to_dict()
        # An embed title is shown literally by Discord (no markdown, no mentions); everything
        # else that renders markdown must carry the text escaped. (No message can ping anyway:
        # the sink sends allowed_mentions=none; tested in tests/platforms/discord.)
        texts += all_strings({k: v for k, v in embed.items() if k != "title"})
        description = embed.get("description", "")
        unescaped = re.findall(r"(?<!\\)\|\|", description)
        assert len(unescaped) % 2 == 0 and len(unescaped) <= 2, description
    for text in texts:
        assert "@everyone" not in text and "@here" not in text
        assert not re.search(r"<@[!&]?\d+>", text), text
        assert "```" not in text or text.count("```") % 2 == 0
