"""The neutral Response: plain-text fallback and its small invariants."""

from __future__ import annotations

import pytest

from bot.commands.responses import (
    INVALID,
    SECTION_TYPES,
    Heading,
    Lines,
    PaperList,
    Preformatted,
    Response,
    error_response,
    section_renderer,
    unhandled_section_types,
)
from bot.digest.model import DigestItem, paper_labels
from bot.models import Paper

PAPER = Paper(id="2403.08857", title="DialogGen: <b>Multi-modal</b> & more", abstract="...",
              authors=("A. Author",), categories=("cs.CV", "cs.AI"), announce_type="replace", version=2)


def test_plain_text_keeps_data_as_data_in_section_order():
    item = DigestItem(PAPER, labels=paper_labels(PAPER))
    reply = Response(text="Dry run", sections=(
        Heading("Dry run on 2025-04-21"),
        Preformatted("VLM AND\n       ^", caption="Where:"),
        Lines(("one", "two")),
        PaperList((item,), explanations=("score 1\nMLLM: hit",), more=2),
    ))
    assert reply.plain_text() == (
        "Dry run\n\nDry run on 2025-04-21\n\nWhere:\nVLM AND\n       ^\n\none\ntwo\n\n"
        "- DialogGen: <b>Multi-modal</b> & more — arXiv:2403.08857 (cs.CV cs.AI) [updated v2]\n"
        "  https://arxiv.org/abs/2403.08857\n    score 1\n    MLLM: hit\n... and 2 more")
    assert reply.ephemeral and not reply.is_error


def test_explanations_must_pair_with_papers():
    with pytest.raises(ValueError, match="1 explanations for 0 papers"):
        PaperList((), explanations=("why",))


def test_error_responses_are_private():
    reply = error_response("nope")
    assert reply.ephemeral and reply.outcome == INVALID and reply.is_error


@pytest.mark.parametrize("renderer", ["plain", "slack", "discord"])
def test_every_renderer_has_a_case_for_every_section_type(renderer):
    """A new section type must be rendered by every platform, not silently dropped by one."""
    if renderer == "plain":
        from bot.commands.responses import PLAIN_TEXT_RENDERER as dispatch
    elif renderer == "slack":
        from bot.platforms.slack.replies import section_blocks as dispatch
    else:
        from bot.platforms.discord.replies import add_section as dispatch
    assert unhandled_section_types(dispatch) == []


def test_a_section_nobody_renders_is_an_error_naming_the_renderer():
    render = section_renderer("test")
    with pytest.raises(TypeError, match="the test renderer has no case for Heading"):
        render(Heading("x"))
    assert unhandled_section_types(render) == [kind.__name__ for kind in SECTION_TYPES]
