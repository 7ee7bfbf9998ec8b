"""The daily thread on Discord with the real pieces: a subscription made by a slash command, the
stored listing day matched by `match_day`, the digest from `digest_for`, delivered by the core's
`DeliveryRunner` through `DiscordSink` into the fake Discord, checked on the recorded REST calls."""

from __future__ import annotations

import dataclasses

import re

import pytest

from bot.daily import digest_for, match_day
from bot.delivery.runner import DONE, FAILED, PAUSED, DeliveryRunner
from bot.digest.model import build_digest
from bot.models import Match
from tests.fakes.discord import MANAGER, FakeDiscord, embed_length
from tests.platforms.discord.conftest import SEED_DAY, running_bot

QUERY = 'VLM, MLLM, "vision language model", multimodal'


async def subscribe(fake: FakeDiscord, channel_id: int | None = None, query: str = QUERY) -> None:
    interaction = await fake.slash_command("papers", "subscribe", {"query": query},
                                           permissions=MANAGER, channel_id=channel_id)
    reply = await fake.wait_for_callback(interaction)
    assert reply["data"]["content"].startswith("Subscribed"), reply


async def the_days_jobs(runtime):
    """What the scheduler does for one day: load the directory, match once, one digest each."""
    directory = await runtime.directory.load()
    by_subscription = await match_day(runtime.client.commands.store, SEED_DAY, directory.subscriptions)
    return [(destination, digest_for(destination, SEED_DAY, by_subscription))
            for destination in directory.destinations]


async def deliver_all_days(runtime, clock):
    runner = DeliveryRunner(runtime.client.commands.store, clock)
    return {destination.address: (await runner.deliver(runtime.sink, destination, digest), digest)
            for destination, digest in await the_days_jobs(runtime)}


def buttons(message: dict) -> list[str]:
    """The custom ids of a message's Abstract buttons (each paper's row also holds 👍 and 👎)."""
    return [b["custom_id"] for row in message.get("components", []) for b in row["components"]
            if b["custom_id"].startswith("paperbot:abs:")]


def thread_papers(fake: FakeDiscord, thread_id: int) -> list[str]:
    return [cid.removeprefix("paperbot:abs:") for m in fake.thread_messages(thread_id) for cid in buttons(m)]


def check_within_limits(body: dict) -> None:
    embeds = body.get("embeds") or []
    assert 1 <= len(embeds) <= 10
    assert sum(embed_length(e) for e in embeds) <= 6000
    for embed in embeds:
        assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert body["allowed_mentions"] == {"parse": []}


async def test_subscribe_leads_to_the_days_thread_with_packed_embeds(fake, store, bot, clock):
    await subscribe(fake)
    results = await deliver_all_days(bot, clock)
    result, digest = results[str(fake.guild.text_channel)]
    assert result.outcome == DONE and digest.total > 5

    text = fake.guild.text_channel
    parent_call, thread_call, *item_calls = [c for c in fake.calls if c.method == "POST"
                                             and c.path.startswith("/channels/")
                                             and "/interactions/" not in c.path]
    assert parent_call.path == f"/channels/{text}/messages"
    assert parent_call.json["content"].startswith("📰 **arXiv papers · 2025-04-21**")
    assert f"**{digest.total} papers**" in parent_call.json["content"]
    assert parent_call.json["allowed_mentions"] == {"parse": []}
    parent_id = fake.messages[text][-1]["id"]
    assert thread_call.path == f"/channels/{text}/messages/{parent_id}/threads"
    assert thread_call.json["name"] == f"arXiv 2025-04-21 · {digest.total} papers · ml-papers"
    thread = int(parent_id)
    assert fake.channels[thread]["parent_id"] == str(text)

    # Every paper once, in the digest's order, each embed with its own Abstract button.
    assert thread_papers(fake, thread) == [item.paper.id for item in digest.items]
    assert {c.path for c in item_calls} == {f"/channels/{thread}/messages"}
    for call in item_calls:
        check_within_limits(call.json)
        footers = [e["footer"]["text"].removeprefix("arXiv:") for e in call.json["embeds"]]
        assert buttons(call.json) == [f"paperbot:abs:{pid}" for pid in footers]
        for embed in call.json["embeds"]:
            spoiler = embed["description"].split("\n")[-1]
            assert spoiler.startswith("||") and spoiler.endswith("||")
            assert not re.search(r"(?<!\\)\|", spoiler[2:-2])
    # Packed: messages are full (the next embed would not have fitted), and the core paced them.
    sizes = [[embed_length(e) for e in call.json["embeds"]] for call in item_calls]
    for current, following in zip(sizes, sizes[1:]):
        # Five papers a message: one row of buttons each, and Discord allows five rows.
        assert len(current) == 5 or sum(current) + following[0] > 6000
    assert result.messages == 1 + len(item_calls) and len(item_calls) < digest.total
    assert clock.sleeps and all(s <= 1.0 for s in clock.sleeps)

    # The next pass finds the day done: nothing more is sent.
    before = len(fake.calls)
    again = await deliver_all_days(bot, clock)
    assert again[str(text)][0].detail == "already delivered" and len(fake.calls) == before


async def test_a_forum_channel_gets_one_forum_post_per_day(fake, store, bot, clock):
    post = fake.add_thread(fake.guild.forum_channel, "what to follow")
    await subscribe(fake, post)
    result, digest = (await deliver_all_days(bot, clock))[str(fake.guild.forum_channel)]
    assert result.outcome == DONE
    [create] = fake.calls_to("POST", rf"/channels/{fake.guild.forum_channel}/threads")
    assert create.json["name"].startswith("arXiv 2025-04-21 · ")
    assert create.json["message"]["content"].startswith("📰 **arXiv papers · 2025-04-21**")
    assert create.json["message"]["allowed_mentions"] == {"parse": []}
    [forum_post] = [t for t in fake.threads_of(fake.guild.forum_channel)
                    if t["owner_id"] == fake.bot_user["id"]]
    assert thread_papers(fake, int(forum_post["id"])) == [item.paper.id for item in digest.items]
    assert fake.calls_to("POST", rf"/channels/{fake.guild.forum_channel}/messages") == []


@pytest.mark.parametrize("status, code, message, reason", [
    (403, 50013, "Missing Permissions", "lacks a permission in #ml-papers"),
    (403, 50001, "Missing Access", "cannot see #ml-papers"),
    (404, 10003, "Unknown Channel", "no longer exists"),
])
async def test_a_lost_channel_pauses_and_list_says_why(fake, store, bot, clock, status, code, message, reason):
    await subscribe(fake)
    await subscribe(fake, fake.add_thread(fake.guild.forum_channel, "post"))
    fake.fail("POST", rf"/channels/{fake.guild.text_channel}/messages", status=status, code=code,
              message=message)
    results = await deliver_all_days(bot, clock)
    paused, _ = results[str(fake.guild.text_channel)]
    assert paused.outcome == PAUSED and reason in paused.detail and f"({code})" in paused.detail
    assert results[str(fake.guild.forum_channel)][0].outcome == DONE   # the other one is untouched

    interaction = await fake.slash_command("papers", "list")
    listing = (await fake.wait_for_callback(interaction))["data"]
    assert listing["content"].startswith("Daily posts to this channel are paused (")
    assert message in listing["content"] and reason in listing["content"]
    assert "/papers resume starts them again" in listing["embeds"][0]["description"]
    # Paused stays paused: the next pass sends nothing to that channel.
    before = len(fake.calls_to("POST", rf"/channels/{fake.guild.text_channel}/messages"))
    again = await deliver_all_days(bot, clock)
    assert again[str(fake.guild.text_channel)][0].outcome == PAUSED
    assert len(fake.calls_to("POST", rf"/channels/{fake.guild.text_channel}/messages")) == before


async def test_a_long_rate_limit_is_waited_out_on_the_core_clock(fake, store, bot, clock):
    await subscribe(fake)
    fake.fail("POST", r"/channels/\d+/messages", status=429, retry_after=120)       # discord.py gives up (>30 s)
    fake.fail("POST", r"/channels/\d+/messages", status=429, retry_after=7, via=False)  # "Cloudflare" 429
    result, digest = (await deliver_all_days(bot, clock))[str(fake.guild.text_channel)]
    assert result.outcome == DONE
    assert 120 in clock.sleeps and 7 in clock.sleeps
    thread = int(fake.messages[fake.guild.text_channel][-1]["id"])
    assert thread_papers(fake, thread) == [item.paper.id for item in digest.items]


async def test_server_errors_resume_the_same_thread_without_duplicates(fake, store, bot, clock):
    await subscribe(fake)
    text = fake.guild.text_channel
    # Pass 1: the parent goes out, then creating its thread meets a 503.
    fake.fail("POST", r"/channels/\d+/messages/\d+/threads", status=503)
    first, digest = (await deliver_all_days(bot, clock))[str(text)]
    assert first.outcome == FAILED and "Service Unavailable" in first.detail
    [parent] = fake.messages[text]
    assert "thread" not in parent
    record = await store.run(lambda s: s.ledger.get_delivery(first.destination, SEED_DAY))
    assert record.parent_ref is None    # the ledger never heard of the parent

    # Pass 2: the parent is found in the channel's history and its thread created; the first
    # batch of papers goes out, the second meets a 503.
    fake.fail("POST", rf"/channels/{parent['id']}/messages", status=503, after=1)
    second, _ = (await deliver_all_days(bot, clock))[str(text)]
    assert second.outcome == FAILED and "thread" in parent
    thread = int(parent["id"])
    posted_in_pass_two = len(thread_papers(fake, thread))
    assert 0 < posted_in_pass_two < digest.total

    # Pass 3: the rest, in the same thread; one parent ever, every paper once, in order.
    third, _ = (await deliver_all_days(bot, clock))[str(text)]
    assert third.outcome == DONE and third.papers == digest.total - posted_in_pass_two
    assert fake.messages[text] == [parent]
    assert thread_papers(fake, thread) == [item.paper.id for item in digest.items]


async def test_papers_posted_but_not_recorded_are_not_posted_again(fake, store, bot, clock):
    """A crash between Discord accepting a message and the ledger recording it: the thread's
    Abstract buttons say which papers are there."""
    await subscribe(fake)
    result, digest = (await deliver_all_days(bot, clock))[str(fake.guild.text_channel)]
    assert result.outcome == DONE
    key, day = result.destination, SEED_DAY
    thread = int(fake.messages[fake.guild.text_channel][-1]["id"])
    # Forget everything after the parent: papers and the finished state, as if we crashed.
    await store.run(lambda s: s.db.execute("DELETE FROM delivered_papers WHERE destination = ?", [key]))
    await store.run(lambda s: s.db.execute("UPDATE deliveries SET state = 'posting' WHERE destination = ?", [key]))
    posts_before = len(fake.calls_to("POST", rf"/channels/{thread}/messages"))
    again = (await deliver_all_days(bot, clock))[str(fake.guild.text_channel)][0]
    assert again.outcome == DONE and again.papers == 0
    assert len(fake.calls_to("POST", rf"/channels/{thread}/messages")) == posts_before
    recorded = await store.run(lambda s: s.ledger.delivered_paper_ids(key, day))
    assert sorted(recorded) == sorted(item.paper.id for item in digest.items)


async def test_the_abstract_button_answers_privately_after_a_restart(fake, store, clock):
    async with running_bot(fake, store) as first:
        await subscribe(fake)
        result, digest = (await deliver_all_days(first, clock))[str(fake.guild.text_channel)]
        assert result.outcome == DONE
    thread = int(fake.messages[fake.guild.text_channel][-1]["id"])
    message = fake.thread_messages(thread)[-1]
    paper = digest.items[-1].paper
    assert buttons(message)[-1] == f"paperbot:abs:{paper.id}"

    # A new process: new client, same Discord, same database.
    async with running_bot(fake, store):
        assert len(fake.identifies) == 2 and fake.command_puts == [None]   # no re-sync either
        interaction = await fake.click(message, f"paperbot:abs:{paper.id}")
        reply = await fake.wait_for_callback(interaction)
    assert reply["type"] == 4 and reply["data"]["flags"] & 64
    [embed] = reply["data"]["embeds"]
    assert embed["url"] == paper.abs_url and embed["footer"]["text"].startswith(f"arXiv:{paper.id}")
    plain = re.sub(r"\\(.)", r"\1", embed["description"]).replace("@\u200b", "@")
    assert plain == paper.abstract
    assert reply["data"]["allowed_mentions"] == {"parse": []}


async def test_an_unknown_paper_gets_a_link_instead(fake, store, bot):
    message = fake.store_message(fake.guild.text_channel, {
        "content": "old", "components": [{"type": 1, "components": [
            {"type": 2, "style": 2, "label": "Abstract", "custom_id": "paperbot:abs:hep-th/9901001"}]}]})
    interaction = await fake.click(message, "paperbot:abs:hep-th/9901001")
    reply = await fake.wait_for_callback(interaction)
    assert reply["data"]["flags"] & 64
    assert reply["data"]["content"] == ("I no longer have arXiv:hep-th/9901001 stored; it is at "
                                        "https://arxiv.org/abs/hep-th/9901001")


async def test_an_empty_day_posts_only_the_note_when_asked(fake, store, bot, clock):
    await subscribe(fake, query="quantum AND gravity AND cooking")
    interaction = await fake.slash_command("papers", "settings", {"empty": "note"}, permissions=MANAGER)
    await fake.wait_for_callback(interaction)
    result, digest = (await deliver_all_days(bot, clock))[str(fake.guild.text_channel)]
    assert result.outcome == DONE and digest.is_empty
    [note] = fake.messages[fake.guild.text_channel]
    assert note["content"] == ("📰 **arXiv papers · 2025-04-21**\n"
                               "No paper announced today matched this channel's subscriptions.")
    assert "thread" not in note and fake.threads_of(fake.guild.text_channel) == []


async def test_personal_mentions_ping_exactly_the_intended_people(fake, store, bot, clock):
    await subscribe(fake)
    [(destination, digest)] = await the_days_jobs(bot)
    wanted = digest.items[0].paper.id
    person = "123456789012345678"
    digest = build_digest(destination.key, destination.title, SEED_DAY,
                          [Match("s", item.paper, item.hits, item.score) for item in digest.items],
                          mentions={person: [wanted], "not-a-user-id": [wanted]})
    digest = dataclasses.replace(digest, mention_items=digest.items[:1])
    result = await DeliveryRunner(store, clock).deliver(bot.sink, destination, digest)
    assert result.outcome == DONE
    thread = int(fake.messages[fake.guild.text_channel][-1]["id"])
    *papers, last = fake.calls_to("POST", rf"/channels/{thread}/messages")
    # The papers ping nobody; one message after them names the person once, with the link.
    assert papers and all(call.json["allowed_mentions"] == {"parse": []} and not call.json.get("content")
                          for call in papers)
    assert last.json["content"].splitlines()[1].startswith(f"<@{person}>: **")
    assert f"<https://arxiv.org/abs/{wanted}>" in last.json["content"]
    assert "not-a-user-id" not in last.json["content"]
    mentions = last.json["allowed_mentions"]
    assert mentions["parse"] == [] and [str(user) for user in mentions["users"]] == [person]
