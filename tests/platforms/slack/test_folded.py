"""`/papers settings max N` in a Slack thread: the top N papers, then ONE final "N more papers"
message listing the rest as links (split only by Slack's limits), through the ledger."""

from __future__ import annotations

import dataclasses

from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.runner import DONE, FAILED, DeliveryRunner
from bot.digest.model import build_digest
from bot.matching import Subscription, compile_subscriptions, parse_query
from bot.models import ANNOUNCE_TYPES
from bot.platforms.slack import SlackSink
from bot.platforms.slack.render import compose_folded
from tests.platforms.slack.conftest import CHANNEL, SEED_DAY, all_texts
from tests.platforms.slack.test_sink import (  # noqa: F401 - fixtures
    assert_within_block_kit_limits,
    client,
    clock,
    destination,
    posted_ids,
    sink,
    synthetic,
)


def capped_digest(dest, papers, max_items):
    matcher = compile_subscriptions([Subscription("s", parse_query("VLM"), types=frozenset(ANNOUNCE_TYPES))])
    return build_digest(dest.key, dest.title, SEED_DAY, matcher.match(papers), subscriptions_text=("VLM",),
                        max_items=max_items)


def kinds(slack, parent_ts):
    return [m["metadata"]["event_payload"]["kind"] for m in slack.thread(CHANNEL, parent_ts)[1:]]


async def test_the_top_n_then_one_final_message_with_the_rest_as_links(slack, store, sink, clock):
    dest = dataclasses.replace(destination(slack), max_papers=12)
    digest = capped_digest(dest, synthetic(30), 12)
    assert len(digest.items) == 12 and digest.truncated == 18 and len(digest.folded) == 18
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert result.outcome == DONE and result.messages == 1 + 2 + 1
    [parent] = slack.top_level(CHANNEL)
    assert "(the top 12 in the thread, the other 18 as links at its end)" in parent["text"]
    replies = slack.thread(CHANNEL, parent["ts"])[1:]
    assert kinds(slack, parent["ts"]) == ["papers", "papers", "folded"]
    final = replies[-1]
    texts = all_texts(final["blocks"])
    assert texts[0].startswith("*18 more papers* matched today, over this channel's daily maximum of 12")
    for paper in digest.folded:
        assert f"<https://arxiv.org/abs/{paper.id}|" in "\n".join(texts)
    # Titles are data: escaped, never markup; no Show abstract buttons on the folded papers.
    assert "<b>" not in "\n".join(texts) and "&lt;b&gt;" in "\n".join(texts)
    assert all("accessory" not in block for block in final["blocks"])
    assert posted_ids(slack, parent["ts"]) == [*digest.paper_ids, *(p.id for p in digest.folded)]
    delivered = await store.run(lambda s: s.ledger.delivered_paper_ids(dest.key, SEED_DAY))
    assert set(delivered) == {*digest.paper_ids, *(p.id for p in digest.folded)}
    assert_within_block_kit_limits(slack)


async def test_no_fold_message_without_a_maximum_or_under_it(slack, store, sink, clock):
    dest = destination(slack)
    digest = capped_digest(dest, synthetic(5), 12)
    assert digest.folded == ()
    await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    [parent] = slack.top_level(CHANNEL)
    assert kinds(slack, parent["ts"]) == ["papers"]


def test_many_long_folded_titles_split_within_block_kit_limits():
    dest = destination(type("S", (), {"team_id": "T1"})())
    digest = capped_digest(dest, synthetic(400, huge=True), 1)
    messages = compose_folded(digest, digest.folded)
    assert len(messages) > 1
    assert [pid for m in messages for pid in m.paper_ids] == [p.id for p in digest.folded]  # each once, in order
    for number, folded in enumerate(messages):
        message = folded.message
        assert len(folded.plain_text) <= 4000 and folded.plain_text.count("<https://arxiv.org/abs/") >= 1
        assert len(message.blocks) <= 50
        assert all(len(text) <= 3000 for text in all_texts(message.blocks))
        heading = message.blocks[0]["text"]["text"]
        assert heading.startswith("*399 more papers* matched" if number == 0 else "*More papers* over the daily maximum (continued)")


async def test_a_crash_inside_the_fold_resumes_without_listing_a_paper_twice(slack, store, sink, clock):
    dest = dataclasses.replace(destination(slack), max_papers=1)
    digest = capped_digest(dest, synthetic(400, huge=True), 1)
    parts = len(compose_folded(digest, digest.folded))
    assert parts >= 2
    # Slack stores the first fold message but its answer is lost (the process may as well have died).
    seen = []
    slack.lose_answer(when=lambda call: "folded" in str(call.params.get("metadata")) and seen.append(1) is None
                      and len(seen) == 1)
    first = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert first.outcome == FAILED
    restarted = SlackSink(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[]),
                          slack.team_id)
    second = await DeliveryRunner(store, clock).deliver(restarted, dest, digest)
    assert second.outcome == DONE
    [parent] = slack.top_level(CHANNEL)
    listed = posted_ids(slack, parent["ts"])
    assert sorted(listed) == sorted([*digest.paper_ids, *(p.id for p in digest.folded)])  # none twice
    resumed = slack.thread(CHANNEL, parent["ts"])[-1]
    assert resumed["blocks"][0]["text"]["text"].endswith("(continued):")


async def test_refused_blocks_post_the_same_links_as_plain_text(slack, store, sink, clock):
    dest = dataclasses.replace(destination(slack), max_papers=2)
    digest = capped_digest(dest, synthetic(6), 2)
    slack.fail("chat.postMessage", "invalid_blocks", when=lambda call: "folded" in str(call.params.get("metadata")))
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert result.outcome == DONE
    [parent] = slack.top_level(CHANNEL)
    final = slack.thread(CHANNEL, parent["ts"])[-1]
    assert "blocks" not in final and final["text"].startswith("4 more papers matched today")
    assert all(f"<https://arxiv.org/abs/{p.id}|" in final["text"] for p in digest.folded)
