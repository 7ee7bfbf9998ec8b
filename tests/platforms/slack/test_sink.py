"""The daily thread through the real DeliveryRunner and SlackSink against the fake Slack: the
parent and packed replies within Block Kit limits, metadata, resume without duplicates, pauses,
the plain-text fallback, rate limits."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.runner import DONE, FAILED, PAUSED, DeliveryRunner
from bot.delivery.sink import ThreadSink
from bot.destinations import Destination
from bot.digest.model import build_digest
from bot.matching import Subscription, compile_subscriptions, parse_query
from bot.models import ANNOUNCE_TYPES, Paper
from bot.platforms.slack import SlackSink
from bot.store import ledger
from tests.fakes.clock import FakeClock
from tests.fakes.slack_server import block_errors
from tests.platforms.slack.conftest import CHANNEL, SEED_DAY, all_texts, start_http

QUERY = 'VLM, MLLM, "vision language model", multimodal'


@pytest.fixture
def clock(slack):
    clock = FakeClock(datetime(2025, 4, 21, 15, tzinfo=timezone.utc))
    slack.follow(clock)   # Slack sees the time the runner's pace waits on this clock
    return clock


@pytest.fixture
def client(slack):
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])


@pytest.fixture
def sink(client, slack):
    return SlackSink(client, slack.team_id)


def destination(slack, channel: str = CHANNEL) -> Destination:
    return Destination(key=f"slack:{slack.team_id}:{channel}", platform="slack", address=channel,
                       title="ml-papers", subscription_ids=("s",), subscriptions_text=(QUERY,),
                       options={"workspace": slack.team_id, "channel": channel})


def digest_for_papers(dest: Destination, papers, query: str = QUERY):
    matcher = compile_subscriptions([Subscription("s", parse_query(query), types=frozenset(ANNOUNCE_TYPES))])
    return build_digest(dest.key, dest.title, SEED_DAY, matcher.match(papers), subscriptions_text=(query,))


def synthetic(n: int, *, huge: bool = False) -> list[Paper]:
    papers = []
    for i in range(n):
        title = f"Paper {i} on VLM & <b>robustness</b>" + (" with a very long title" * 30 if huge else "")
        authors = tuple(f"Author {j} & Co" * (8 if huge else 1) for j in range(12 if huge else 3))
        papers.append(Paper(id=f"2504.{20000 + i}", title=title, abstract="About VLMs. " * (100 if huge else 1),
                            authors=authors, categories=("cs.CV", "cs.CL"), announce_type="new", version=1,
                            announced=SEED_DAY, comment=("<!channel> accepted " * 40) if huge else None))
    return papers


def posted_ids(slack, parent_ts: str) -> list[str]:
    return [pid for m in slack.thread(CHANNEL, parent_ts)
            for pid in m.get("metadata", {}).get("event_payload", {}).get("paper_ids", [])]


def assert_within_block_kit_limits(slack) -> None:
    for call in slack.calls_to("chat.postMessage"):
        blocks = call.params.get("blocks") or []
        assert len(blocks) <= 50
        assert all(len(text) <= 3000 for text in all_texts(blocks))
        assert block_errors(blocks) == []


def test_slack_sink_is_a_thread_sink(sink):
    assert isinstance(sink, ThreadSink) and sink.platform == "slack" and sink.pace.per_destination_interval == 1.0


async def test_daily_thread_parent_then_packed_replies_with_metadata(slack, store, sink, clock, seed_papers):
    dest = destination(slack)
    digest = digest_for_papers(dest, seed_papers)
    assert digest.total >= 10
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest)

    batches = math.ceil(digest.total / 10)
    assert result.outcome == DONE and result.papers == digest.total and result.messages == 1 + batches
    [parent] = slack.top_level(CHANNEL)
    assert parent["metadata"] == {"event_type": "paperbot_digest", "event_payload": {
        "destination": dest.key, "day": "2025-04-21", "kind": "parent", "paper_ids": []}}
    assert parent["text"].startswith(f"arXiv papers for 2025-04-21: {digest.total} papers")
    replies = slack.thread(CHANNEL, parent["ts"])[1:]
    assert len(replies) == batches and all(r["thread_ts"] == parent["ts"] for r in replies)
    assert posted_ids(slack, parent["ts"]) == list(digest.paper_ids)  # each once, in digest order
    assert len(slack.calls_to("chat.postMessage")) == 1 + batches  # ≤ 1 + ceil(papers / per message)
    assert_within_block_kit_limits(slack)
    for call in slack.calls_to("chat.postMessage"):
        assert call.params["unfurl_links"] is False and "link_names" not in call.params
    # The ledger knows every paper and the thread; the core paced at ~1 message/s.
    delivered = await store.run(lambda s: s.ledger.delivered_paper_ids(dest.key, SEED_DAY))
    assert sorted(delivered) == sorted(digest.paper_ids)
    record = await store.run(lambda s: s.ledger.get_delivery(dest.key, SEED_DAY))
    assert record.parent_ref == parent["ts"] and record.state == ledger.DONE
    assert clock.sleeps and all(0 < s <= 1.0 for s in clock.sleeps)


async def test_big_day_is_packed_within_block_kit_limits(slack, store, sink, clock):
    dest = destination(slack)
    digest = digest_for_papers(dest, synthetic(57, huge=True), "VLM")
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert result.outcome == DONE and result.papers == 57
    [parent] = slack.top_level(CHANNEL)
    assert sorted(posted_ids(slack, parent["ts"])) == sorted(digest.paper_ids)
    replies = slack.thread(CHANNEL, parent["ts"])[1:]
    assert 57 / 10 <= len(replies) < 57  # several huge papers a message, all within limits
    assert_within_block_kit_limits(slack)
    for message in replies:
        for text in all_texts(message["blocks"]):
            assert "<!channel>" not in text and "<b>" not in text


async def test_resume_after_a_lost_answer_posts_no_duplicate(slack, store, sink, clock):
    dest = destination(slack)
    digest = digest_for_papers(dest, synthetic(35), "VLM")
    # Slack stores the third reply but the answer never arrives (the process may as well have died).
    replies_seen = []
    slack.lose_answer(when=lambda call: bool(call.params.get("thread_ts")) and replies_seen.append(1) is None
                      and len(replies_seen) == 3)
    first = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert first.outcome == FAILED and "TransientDeliveryError" in first.detail
    [parent] = slack.top_level(CHANNEL)
    assert len(posted_ids(slack, parent["ts"])) == 30  # the lost answer's papers are in Slack

    fresh_sink = SlackSink(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[]),
                           slack.team_id)  # a restarted process
    second = await DeliveryRunner(store, clock).deliver(fresh_sink, dest, digest)
    assert second.outcome == DONE and second.papers == 5
    assert sorted(posted_ids(slack, parent["ts"])) == sorted(digest.paper_ids)  # none twice
    assert len(slack.top_level(CHANNEL)) == 1
    assert slack.calls_to("conversations.replies")  # reconciled from Slack's thread metadata


async def test_lost_answer_to_the_parent_finds_it_again_in_the_history(slack, store, sink, clock):
    dest = destination(slack)
    digest = digest_for_papers(dest, synthetic(4), "VLM")
    # Another message of ours from the day before, and chatter, must not be mistaken for it.
    slack.messages[CHANNEL] += [
        {"type": "message", "ts": f"{slack.epoch - 5000 + n}.000000", "text": "chatter", "user": "U0READER"}
        for n in range(450)]
    slack.lose_answer(when=lambda call: not call.params.get("thread_ts"))
    first = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert first.outcome == FAILED
    second = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert second.outcome == DONE and second.papers == 4
    ours = [m for m in slack.top_level(CHANNEL) if m.get("metadata")]
    assert len(ours) == 1
    assert sorted(posted_ids(slack, ours[0]["ts"])) == sorted(digest.paper_ids)
    history = slack.calls_to("conversations.history")
    assert history and all(c.params["include_all_metadata"] in ("1", "true") for c in history)


@pytest.mark.parametrize("setup, code, needle", [
    (lambda slack: slack.add_channel("C0GONE", member=False), "not_in_channel", "/invite @paperbot"),
    (lambda slack: None, "channel_not_found", "does not exist"),
    (lambda slack: slack.add_channel("C0GONE", archived=True), "is_archived", "archived"),
])
async def test_lost_channels_pause_with_a_reason_shown_by_papers_list(slack, store, clock, seed_papers,
                                                                      setup, code, needle):
    setup(slack)
    running = await start_http(slack, store)
    try:
        subscribed = await running.command("subscribe VLM", channel="C0GONE")
        assert "Subscribed" in subscribed["text"]
        directory = await running.runtime.directory.load()
        [dest] = directory.destinations
        digest = digest_for_papers(dest, seed_papers, "VLM")
        result = await DeliveryRunner(store, clock).deliver(running.runtime.sink, dest, digest)
        assert result.outcome == PAUSED and needle in result.detail and code in result.detail

        listed = await running.command("list", channel="C0GONE")
        assert listed["text"].startswith("Daily posts to this channel are paused")
        assert needle in " ".join(all_texts(listed["blocks"]))
        # Other channels are untouched.
        other = await running.command("list")
        assert "paused" not in other["text"]
        again = await DeliveryRunner(store, clock).deliver(running.runtime.sink, dest, digest)
        assert again.outcome == PAUSED and not slack.messages.get("C0GONE")
    finally:
        await running.runtime.close()


async def test_missing_scope_pauses_naming_the_scope(slack, store, sink, clock):
    # A fresh day posts before reading history; an app installed without chat:write fails there.
    slack.fail("chat.postMessage", "missing_scope", needed="chat:write")
    dest = destination(slack)
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest_for_papers(dest, synthetic(2), "VLM"))
    assert result.outcome == PAUSED and "chat:write" in result.detail


async def test_refused_blocks_are_posted_again_as_plain_text(slack, store, sink, clock):
    slack.fail("chat.postMessage", "invalid_blocks", times=2,
               when=lambda call: bool(call.params.get("thread_ts")) and "blocks" in call.params)
    dest = destination(slack)
    digest = digest_for_papers(dest, synthetic(25), "VLM")
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert result.outcome == DONE and result.papers == 25
    [parent] = slack.top_level(CHANNEL)
    replies = slack.thread(CHANNEL, parent["ts"])[1:]
    assert ["blocks" in r for r in replies] == [False, False, True]
    plain = replies[0]["text"]
    assert "<https://arxiv.org/abs/2504.20000|Paper 0 on VLM &amp; &lt;b&gt;robustness&lt;/b&gt;>" in plain
    assert sorted(posted_ids(slack, parent["ts"])) == sorted(digest.paper_ids)  # metadata kept


async def test_rate_limit_is_waited_out_by_the_core(slack, store, sink, clock):
    slack.fail("chat.postMessage", "ratelimited", retry_after=7,
               when=lambda call: bool(call.params.get("thread_ts")))
    dest = destination(slack)
    digest = digest_for_papers(dest, synthetic(12), "VLM")
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert result.outcome == DONE and result.papers == 12
    assert 7.0 in clock.sleeps  # the core saw the 429 and slept its Retry-After (fake time)
    [parent] = slack.top_level(CHANNEL)
    assert sorted(posted_ids(slack, parent["ts"])) == sorted(digest.paper_ids)
    refused = [c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert len(refused) == 3  # 2 batches + the one refused


async def test_server_errors_fail_the_attempt_and_the_next_pass_finishes(slack, store, sink, clock):
    slack.fail("chat.postMessage", "", status=503, when=lambda call: bool(call.params.get("thread_ts")))
    dest = destination(slack)
    digest = digest_for_papers(dest, synthetic(3), "VLM")
    first = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert first.outcome == FAILED and "503" in first.detail
    second = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert second.outcome == DONE
    [parent] = slack.top_level(CHANNEL)
    assert sorted(posted_ids(slack, parent["ts"])) == sorted(digest.paper_ids)


async def test_a_destination_of_another_workspace_is_paused_not_posted(slack, store, sink, clock):
    dest = Destination(key="slack:T0OTHER:C1", platform="slack", address=CHANNEL, title="x",
                       subscription_ids=("s",), options={"workspace": "T0OTHER"})
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest_for_papers(dest, synthetic(1), "VLM"))
    assert result.outcome == PAUSED and "T0OTHER" in result.detail
    assert slack.calls_to("chat.postMessage") == []


async def test_an_empty_day_with_empty_note_posts_only_the_parent(slack, store, sink, clock):
    dest = Destination(key=f"slack:{slack.team_id}:{CHANNEL}", platform="slack", address=CHANNEL,
                       title="x", subscription_ids=("s",), empty_note=True)
    digest = build_digest(dest.key, "x", SEED_DAY, [])
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert result.outcome == DONE and result.messages == 1
    [parent] = slack.top_level(CHANNEL)
    assert "No new papers matched" in parent["text"]


async def test_why_the_web_client_gets_no_retry_handlers(slack):
    """slack_sdk's default connection-error retry re-sends a chat.postMessage whose answer was
    lost: Slack then holds the message twice. Hence `retry_handlers=[]`, and the core reconciles
    from the thread's metadata instead (test_resume_after_a_lost_answer_posts_no_duplicate)."""
    slack.lose_answer()
    # The default handler, with its 0.5 s backoff cut to 0 to keep the test fast.
    default = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[
        AsyncConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0))])
    await default.chat_postMessage(channel=CHANNEL, text="hello")
    assert [m["text"] for m in slack.top_level(CHANNEL)] == ["hello", "hello"]
