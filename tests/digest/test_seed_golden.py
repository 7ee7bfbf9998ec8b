"""Golden test: the seed-derived feed through the whole pipeline (parse, store, match, render)
reproduces the seed digest paper by paper, with the seed's defects fixed."""

from __future__ import annotations

import html
import re

from bot.config import Settings, TopicSettings
from bot.oneshot import DigestRequest, make_digests
from tests.conftest import shared_path
from tests.platforms.markdown.test_render import SEED_AUTHORS, read_seed, seed_keywords

OUR_HEADER = re.compile(
    r"^- \*\*\[(?P<title>.+)\]\(https://arxiv\.org/abs/(?P<id>[^)\s]+)\)\*\*  `arXiv:(?P=id)`  "
    r"(?P<cats>`[^`]+`(?: `[^`]+`)*)(?P<labels>(?:  `[^`]+`)*)  $")


def plain_title(markdown_title: str) -> str:
    """Our title text without the hit emphasis and Markdown escapes."""
    return re.sub(r"\\(.)", r"\1", markdown_title.replace("***", ""))


def read_ours(text: str) -> dict[str, dict]:
    lines = text.split("\n")
    papers = {}
    for i, line in enumerate(lines):
        header = OUR_HEADER.match(line)
        if not header:
            continue
        authors = SEED_AUTHORS.match(lines[i + 1])
        assert authors, lines[i + 1]
        details = i + 2 if lines[i + 2].startswith("  <details") else i + 3  # a comment line may sit between
        assert lines[details] == "  <details><summary>Abstract</summary>", lines[details]
        assert lines[details + 2] == "  </details>"
        papers[header.group("id")] = dict(
            title=plain_title(header.group("title")),
            categories=tuple(re.findall(r"`([^`]+)`", header.group("cats"))),
            labels=tuple(re.findall(r"`([^`]+)`", header.group("labels"))),
            authors=authors.group("authors"),
            abstract=html.unescape(lines[details + 1][2:]),
            emphasised=header.group("title"),
        )
    return papers


async def test_seed_feed_reproduces_the_seed_digest(tmp_path):
    feed = shared_path("fixtures", "arxiv-listing", "seed-mllm-2025-04-21.atom.xml")
    preamble, seed_entries = read_seed(shared_path("seeds", "mllm-2025-04-20.md"))
    keywords = seed_keywords(preamble)
    settings = Settings(
        storage={"path": str(tmp_path / "p.db")},
        topics={"MLLM": TopicSettings(keywords=keywords, filters=[], types=["new", "cross", "replace"],
                                      markdown=str(tmp_path / "digests"))},
    )
    assert await make_digests(settings, DigestRequest(feed_file=str(feed))) == 0
    text = (tmp_path / "digests" / "MLLM" / "2025-04-21.md").read_text(encoding="utf-8")
    ours = read_ours(text)

    expected = {e.paper_id: e for e in seed_entries if e.paper_id != "2504.11829"}
    assert set(ours) == set(expected), "the same papers as the seed, less the multilingual 'mLLMs' one"
    assert f"Papers-{len(expected)}-2688EB" in text
    for paper_id, seed in expected.items():
        mine = ours[paper_id]
        assert mine["title"] == seed.title
        assert mine["categories"] == seed.categories  # primary first, the seed's order
        assert mine["authors"] == ", ".join(seed.authors)
        assert mine["abstract"] == seed.abstract  # nothing glued, nothing dropped
        # Older ids were re-announced (replace, v2 in the derived feed): labelled as updates.
        if not paper_id.startswith("2504."):
            assert "updated v2" in mine["labels"]
        assert "***" in mine["emphasised"] or not re.search(
            r"\b(VLMs?|MLLMs?|MLMs?|vision[- ]language models?|multi-?modal language models?)\b",
            seed.title, re.I), f"a title hit in {paper_id} is not emphasised"
    assert "**Keywords**: `VLM` `MLM` `MLLM` `Multi-Modal Language Model` `Multimodal Language Model` `Vision Language Model`  " in text
    assert "**Filter**: `None`" in text
    assert "img.shields.io/badge/dynamic" not in text  # the seed's badge about another repository
