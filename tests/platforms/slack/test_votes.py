"""👍/👎 in the daily thread, driven through the real bolt app in HTTP mode against the fake Slack:
the thread goes out through the real DeliveryRunner and SlackSink, clicks are built by the fake
from the message as it is (only buttons it shows can be clicked), and the answer is a chat.update
of that message (strict: the bot's own message, found by channel and ts, blocks checked)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest

from bot.delivery.runner import DONE, DeliveryRunner
from bot.destinations import Destination
from bot.digest.model import build_digest
from bot.matching import Subscription, compile_subscriptions, parse_query
from bot.models import ANNOUNCE_TYPES
from bot.platforms.slack import render
from bot.store.personal import PersonRef
from bot.store.votes import VoteCounts
from tests.fakes.clock import FakeClock
from tests.platforms.slack.conftest import CHANNEL, SEED_DAY, USER, all_texts, start_http

QUERY = "VLM, MLLM, multimodal, vision, language"
VOTERS = ("U0READER", "U0ALAN", "U0GRACE", "U0EMMY")


def labels(message: dict) -> dict[str, list[str]]:
    """paper id -> the labels of its buttons, as the message shows them now."""
    return {block["block_id"].split(":", 1)[1]: [e["text"]["text"] for e in block["elements"]]
            for block in message.get("blocks") or [] if block["type"] == "actions"}


class Thread:
    def __init__(self, slack, channel: str, parent_ts: str) -> None:
        self.slack, self.channel, self.parent_ts = slack, channel, parent_ts

    @property
    def replies(self) -> list[dict]:
        return self.slack.thread(self.channel, self.parent_ts)[1:]

    def message_of(self, paper_id: str) -> dict:
        return next(m for m in self.replies if paper_id in labels(m))

    def papers(self) -> list[str]:
        return [pid for m in self.replies for pid in render.shown_paper_ids(m.get("blocks") or [])]


async def post_thread(slack, store, runtime, *, channel: str = CHANNEL, key: str | None = None,
                      options: dict | None = None) -> Thread:
    clock = FakeClock(datetime(2025, 4, 21, 15, tzinfo=timezone.utc))
    slack.follow(clock)
    key = key or f"slack:{slack.team_id}:{channel}"
    dest = Destination(key=key, platform="slack", address=channel, title="ml-papers",
                       subscription_ids=("s",), subscriptions_text=(QUERY,),
                       options=options or {"workspace": slack.team_id, "channel": channel})
    papers = await store.run(lambda s: s.papers.for_day(SEED_DAY))
    matcher = compile_subscriptions([Subscription("s", parse_query(QUERY), types=frozenset(ANNOUNCE_TYPES))])
    digest = build_digest(dest.key, dest.title, SEED_DAY, matcher.match(papers)[:12], subscriptions_text=(QUERY,))
    result = await DeliveryRunner(store, clock).deliver(runtime.sink, dest, digest)
    assert result.outcome == DONE
    posted_in = slack.dm_channel(channel) if (options or {}).get("direct") else channel
    [parent] = [m for m in slack.top_level(posted_in)
                if m.get("metadata", {}).get("event_payload", {}).get("destination") == key]
    return Thread(slack, posted_in, parent["ts"])


async def click(http_slack, thread: Thread, paper_id: str, action: str, user: str = USER,
                payload_changes=None) -> None:
    message = thread.message_of(paper_id)
    payload = http_slack.fake.click_payload(thread.channel, message["ts"], user, action,
                                            block_id=f"{render.PAPER_ACTIONS_BLOCK}{paper_id}",
                                            response=f"vote-{user}-{len(http_slack.fake.deliveries)}")
    if payload_changes:
        payload_changes(payload)
    status, body = await http_slack.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200 and body == ""          # acknowledged in the request, within 3 s
    assert http_slack.fake.deliveries[-1].error is None, http_slack.fake.user_errors


UP, DOWN = render.VOTE_ACTIONS[1], render.VOTE_ACTIONS[-1]


@pytest.fixture
async def thread(http_slack, slack, store):
    return await post_thread(slack, store, http_slack.runtime)


async def test_up_withdraw_switch_show_counts_on_that_papers_buttons_only(http_slack, slack, thread):
    first, second = thread.papers()[:2]
    before = thread.message_of(first)
    assert labels(before)[first] == ["Show abstract", "👍", "👎"]
    metadata = before["metadata"]

    await click(http_slack, thread, first, UP)
    await slack.wait_for(lambda: labels(thread.message_of(first))[first] == ["Show abstract", "👍 1", "👎"])
    after = thread.message_of(first)
    assert labels(after)[second] == ["Show abstract", "👍", "👎"]   # the neighbour is unchanged
    assert [b for b in after["blocks"] if b["type"] != "actions"] == \
        [b for b in before["blocks"] if b["type"] != "actions"]
    assert after["metadata"] == metadata      # a restart still reads the thread back from it

    await click(http_slack, thread, first, UP)          # the same again: withdrawn
    await slack.wait_for(lambda: labels(thread.message_of(first))[first][1] == "👍")
    await click(http_slack, thread, first, UP)
    await slack.wait_for(lambda: labels(thread.message_of(first))[first][1] == "👍 1")
    await click(http_slack, thread, first, DOWN)        # switched
    await slack.wait_for(lambda: labels(thread.message_of(first))[first][1:] == ["👍", "👎 1"])
    assert slack.ephemerals == [] and not [r for r in slack.responses if r["name"].startswith("vote")]
    # Privacy: nothing anywhere says who voted.
    for update in slack.updates:
        assert USER not in json.dumps(update)


async def test_people_clicking_at_once_are_all_counted(http_slack, slack, thread):
    first, second = thread.papers()[:2]
    assert thread.message_of(first) is thread.message_of(second)   # one message, two papers
    await asyncio.gather(*(click(http_slack, thread, first, UP, user=user) for user in VOTERS),
                         *(click(http_slack, thread, second, DOWN, user=user) for user in VOTERS[:3]))
    await slack.wait_for(lambda: labels(thread.message_of(first))[first][1] == "👍 4"
                         and labels(thread.message_of(first))[second][2] == "👎 3")
    # Counts only grow here, and the update that runs last read them last: what the message shows
    # once it reached 4 and 3 stays so, whatever update was still in flight.
    message = thread.message_of(first)
    assert (labels(message)[first], labels(message)[second]) == (
        ["Show abstract", "👍 4", "👎"], ["Show abstract", "👍", "👎 3"])
    assert len(slack.updates) <= len(VOTERS) + 3


async def test_counts_survive_a_restart(http_slack, slack, store, thread):
    first = thread.papers()[0]
    await click(http_slack, thread, first, UP, user="U0ALAN")
    await slack.wait_for(lambda: labels(thread.message_of(first))[first][1] == "👍 1")
    await http_slack.runtime.close()

    restarted = await start_http(slack, store)     # a new app, client and command layer
    try:
        await click(restarted, thread, first, UP, user="U0GRACE")
        await slack.wait_for(lambda: labels(thread.message_of(first))[first][1] == "👍 2")
    finally:
        await restarted.runtime.close()
    tallies = await store.run(lambda s: s.votes.counts(f"slack:{slack.team_id}:{CHANNEL}", [first]))
    assert tallies[first].up == 2


async def test_votes_in_a_personal_digest_count_for_that_persons_dm(http_slack, slack, store):
    key = f"slack-dm:{slack.team_id}:{USER}"
    thread = await post_thread(slack, store, http_slack.runtime, channel=USER, key=key,
                               options={"workspace": slack.team_id, "direct": True, "user": USER})
    paper = thread.papers()[0]
    await click(http_slack, thread, paper, DOWN)
    await slack.wait_for(lambda: labels(thread.message_of(paper))[paper][2] == "👎 1")
    assert (await store.run(lambda s: s.votes.counts(key, [paper])))[paper].down == 1


async def test_a_tampered_button_is_refused_privately_and_counts_nothing(http_slack, slack, store, thread):
    paper = thread.papers()[0]

    def elsewhere(payload):
        value = json.loads(payload["actions"][0]["value"])
        payload["actions"][0]["value"] = json.dumps({**value, "d": f"slack:{slack.team_id}:C0OTHER"})

    await click(http_slack, thread, paper, UP, payload_changes=elsewhere)
    answer = await slack.wait_for(lambda: slack.ephemerals)
    assert "did not count" in answer[-1]["text"] and answer[-1]["user"] == USER
    assert slack.updates == []
    assert await store.run(lambda s: s.votes.by_person(PersonRef("slack", slack.team_id, USER))) == []


async def test_a_vote_where_the_bot_lost_the_channel_is_kept_and_said_privately(http_slack, slack, store, thread):
    paper = thread.papers()[0]
    slack.channels[CHANNEL].member = False      # paperbot was removed from the channel
    await click(http_slack, thread, paper, UP)
    # chat.update and chat.postEphemeral both fail there; the response_url still reaches the person.
    reply = await slack.wait_for(lambda: next((r for r in slack.responses if r["name"].startswith("vote")), None))
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "Your 👍 is counted" in reply["text"] and "not_in_channel" in reply["text"]
    tallies = await store.run(lambda s: s.votes.counts(f"slack:{slack.team_id}:{CHANNEL}", [paper]))
    assert tallies[paper].up == 1                  # nothing lost
    assert labels(thread.message_of(paper))[paper][1] == "👍"   # the message could not change


async def test_a_vote_on_a_message_slack_no_longer_has_is_kept_and_said(http_slack, slack, store, thread):
    paper = thread.papers()[0]
    message = thread.message_of(paper)
    payload = slack.click_payload(thread.channel, message["ts"], USER, UP,
                                  block_id=f"{render.PAPER_ACTIONS_BLOCK}{paper}")
    slack.messages[thread.channel].remove(message)   # deleted meanwhile: a stale message
    status, _ = await http_slack.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    answer = await slack.wait_for(lambda: slack.ephemerals)
    assert "message_not_found" in answer[-1]["text"] and "counted" in answer[-1]["text"]
    tallies = await store.run(lambda s: s.votes.counts(f"slack:{slack.team_id}:{CHANNEL}", [paper]))
    assert tallies[paper] == VoteCounts(up=1, down=0)


async def test_me_forget_asks_then_deletes_and_answers_privately(http_slack, slack, store, thread):
    first, second = thread.papers()[:2]
    await click(http_slack, thread, first, UP)
    await click(http_slack, thread, second, DOWN)
    await click(http_slack, thread, first, UP, user="U0ALAN")
    await slack.wait_for(lambda: labels(thread.message_of(first))[first][1] == "👍 2")

    asked = await http_slack.command("me forget")
    assert asked["response_type"] == "ephemeral" and "2 votes" in asked["text"]
    done = await http_slack.command("me forget confirm")
    assert done["response_type"] == "ephemeral" and "Deleted 2 votes" in done["text"]
    assert "2 votes" in " ".join(all_texts(done["blocks"]))
    key = f"slack:{slack.team_id}:{CHANNEL}"
    assert await store.run(lambda s: s.votes.counts(key, [first, second])) == {first: VoteCounts(1, 0)}
    # The next vote on that message shows the counts without the forgotten ones.
    await click(http_slack, thread, second, UP, user="U0GRACE")
    await slack.wait_for(lambda: labels(thread.message_of(second))[second][1:] == ["👍 1", "👎"])
    assert labels(thread.message_of(first))[first][1] == "👍 1"

