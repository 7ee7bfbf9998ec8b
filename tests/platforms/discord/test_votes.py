"""👍/👎 on Discord with the real runtime against the fake Discord: the day's thread goes out
through the real DeliveryRunner and DiscordSink, clicks arrive over the gateway, the bot
acknowledges with DEFERRED_UPDATE_MESSAGE and then edits the clicked message through the
interaction webhook (strict: types 6/7 only for components, 10062 for a dead interaction, 10008
for a deleted message, 5 rows of 5 buttons, custom ids within 100 characters)."""

from __future__ import annotations

import asyncio

from bot.platforms.discord.render import paper_id_of
from bot.store.personal import PersonRef
from tests.fakes.discord import MANAGER
from tests.platforms.discord.conftest import running_bot
from tests.platforms.discord.test_delivery import deliver_all_days, subscribe

DEFERRED_UPDATE_MESSAGE = 6


def rows(message: dict) -> dict[str, list[str]]:
    """paper id -> the labels of its row (Abstract, 👍, 👎), as the message shows them now."""
    found = {}
    for row in message.get("components", []):
        paper = next((paper_id_of(b["custom_id"]) for b in row["components"] if paper_id_of(b["custom_id"])), None)
        if paper:
            found[paper] = [b["label"] for b in row["components"]]
    return found


def vote_id(message: dict, paper: str, way: str) -> str:
    row = next(r for r in message["components"] if paper in rows({"components": [r]}))
    return next(b["custom_id"] for b in row["components"] if b["custom_id"].startswith(f"paperbot:{way}:"))


async def posted_thread(fake, bot, clock) -> list[dict]:
    await subscribe(fake)
    result, _ = (await deliver_all_days(bot, clock))[str(fake.guild.text_channel)]
    thread = int(fake.messages[fake.guild.text_channel][-1]["id"])
    return fake.thread_messages(thread)


async def vote(fake, message: dict, paper: str, way: str, user: dict | None = None) -> int:
    interaction = await fake.click(message, vote_id(message, paper, way), user=user)
    callback = await fake.wait_for_callback(interaction)
    assert callback["type"] == DEFERRED_UPDATE_MESSAGE   # acknowledged first, nothing shown yet
    return interaction


async def shows(fake, message: dict, paper: str, labels: list[str]) -> None:
    await fake._wait(lambda: rows(message)[paper] == labels, 5.0, f"{paper} showing {labels}")


async def test_each_paper_has_its_own_row_and_at_most_five_rows_a_message(fake, store, bot, clock):
    messages = await posted_thread(fake, bot, clock)
    assert len(messages) > 1
    for message in messages:
        assert 1 <= len(message["components"]) <= 5 and len(message["embeds"]) == len(message["components"])
        for paper, labels in rows(message).items():
            assert labels == [f"Abstract · {paper}", "👍", "👎"]
        for row in message["components"]:
            assert all(len(b["custom_id"]) <= 100 for b in row["components"])


async def test_up_withdraw_switch_edit_only_that_papers_labels(fake, store, bot, clock):
    message = (await posted_thread(fake, bot, clock))[0]
    first, second = list(rows(message))[:2]
    embeds = list(message["embeds"])
    await vote(fake, message, first, "up")
    await shows(fake, message, first, [f"Abstract · {first}", "👍 1", "👎"])
    assert rows(message)[second] == [f"Abstract · {second}", "👍", "👎"]
    assert message["embeds"] == embeds          # the papers themselves are untouched
    await vote(fake, message, first, "up")      # again: withdrawn
    await shows(fake, message, first, [f"Abstract · {first}", "👍", "👎"])
    await vote(fake, message, first, "up")
    await shows(fake, message, first, [f"Abstract · {first}", "👍 1", "👎"])
    await vote(fake, message, first, "down")    # switched
    await shows(fake, message, first, [f"Abstract · {first}", "👍", "👎 1"])
    assert not fake.followups                   # the counts say it all; nothing private needed
    # Privacy: no edit names anyone.
    for edits in fake._edits.values():
        assert fake.user["id"] not in str(edits)


async def test_people_clicking_at_once_are_all_counted(fake, store, bot, clock):
    message = (await posted_thread(fake, bot, clock))[0]
    first, second = list(rows(message))[:2]
    people = [fake.add_person(name) for name in ("anna", "ben", "carol", "dan")]
    await asyncio.gather(*(vote(fake, message, first, "up", user=p) for p in people),
                         *(vote(fake, message, second, "down", user=p) for p in people[:3]))
    await shows(fake, message, first, [f"Abstract · {first}", "👍 4", "👎"])
    await shows(fake, message, second, [f"Abstract · {second}", "👍", "👎 3"])


async def test_counts_survive_a_restart(fake, store, clock):
    async with running_bot(fake, store) as first_run:
        message = (await posted_thread(fake, first_run, clock))[0]
        paper = list(rows(message))[0]
        await vote(fake, message, paper, "up", user=fake.add_person("anna"))
        await shows(fake, message, paper, [f"Abstract · {paper}", "👍 1", "👎"])
    async with running_bot(fake, store):        # a new process: new client, same database
        await vote(fake, message, paper, "up", user=fake.add_person("ben"))
        await shows(fake, message, paper, [f"Abstract · {paper}", "👍 2", "👎"])


async def test_a_dead_interaction_counts_nothing(fake, store, bot, clock):
    """Discord answers 10062 when the acknowledgement comes too late: the person saw the click
    fail and will click again, so the vote must not have been recorded (a second click would
    otherwise withdraw it)."""
    message = (await posted_thread(fake, bot, clock))[0]
    paper = list(rows(message))[0]
    fake.fail("POST", r"/interactions/\d+/[^/]+/callback", code=10062)
    interaction = await fake.click(message, vote_id(message, paper, "up"))
    await fake._wait(lambda: any(c.path.startswith(f"/interactions/{interaction}/") for c in fake.calls),
                     5.0, "the bot's acknowledgement")
    assert not fake._edits.get(interaction)
    # The person clicks again, in time: one 👍 (had the dead click counted, this would withdraw it).
    await vote(fake, message, paper, "up")
    await shows(fake, message, paper, [f"Abstract · {paper}", "👍 1", "👎"])


async def test_a_message_deleted_meanwhile_keeps_the_vote_and_says_so_privately(fake, store, bot, clock):
    message = (await posted_thread(fake, bot, clock))[0]
    paper = list(rows(message))[0]
    fake.fail("PATCH", r"/webhooks/\d+/[^/]+/messages/@original", code=10008)
    interaction = await vote(fake, message, paper, "up")
    await fake._wait(lambda: fake.followups.get(interaction), 5.0, "a private answer")
    [followup] = fake.followups[interaction]
    assert followup["flags"] & 64 and "Your 👍 is counted" in followup["content"]
    assert "Unknown Message" in followup["content"] or "10008" in followup["content"]
    key = f"discord:{fake.guild.id}:{fake.guild.text_channel}"
    assert (await store.run(lambda s: s.votes.counts(key, [paper])))[paper].up == 1


async def test_a_button_of_an_unknown_thread_is_refused_privately(fake, store, bot, clock):
    channel = fake.guild.text_channel
    message = fake.store_message(channel, {"content": "an old message", "components": [
        {"type": 1, "components": [
            {"type": 2, "style": 2, "label": "Abstract", "custom_id": "paperbot:abs:2504.90001"},
            {"type": 2, "style": 2, "label": "👍", "custom_id": f"paperbot:up:discord:{fake.guild.id}:{channel}:2504.90001"},
        ]}]})
    interaction = await fake.click(message, f"paperbot:up:discord:{fake.guild.id}:{channel}:2504.90001")
    await fake._wait(lambda: fake.followups.get(interaction), 5.0, "a private answer")
    [followup] = fake.followups[interaction]
    assert followup["flags"] & 64 and "did not count" in followup["content"]
    assert await store.run(lambda s: s.votes.by_person(
        PersonRef("discord", str(fake.guild.id), fake.user["id"]))) == []


async def test_votes_in_a_personal_digest_and_me_forget(fake, store, bot, clock):
    carol = fake.add_person("carol")
    added = await fake.slash_command("papers", "me add", {"query": "benchmark"}, user=carol)
    await fake.wait_for_callback(added)
    await deliver_all_days(bot, clock)
    dm = fake.dm_messages(carol["id"])
    message = dm[1]
    paper = list(rows(message))[0]
    await vote(fake, message, paper, "up", user=carol)
    await shows(fake, message, paper, [f"Abstract · {paper}", "👍 1", "👎"])
    dm_key = f"discord-dm:{fake.guild.id}:{carol['id']}"
    assert (await store.run(lambda s: s.votes.counts(dm_key, [paper])))[paper].up == 1

    asked = await fake.slash_command("papers", "me forget", {}, user=carol)
    await fake.wait_for_callback(asked)
    reply = fake.interaction_reply(asked)
    assert reply["flags"] & 64 and "1 vote" in reply["content"] and "confirm" in reply["content"]
    done = await fake.slash_command("papers", "me forget", {"confirm": "confirm"}, user=carol,
                                    permissions=MANAGER)
    await fake.wait_for_callback(done)
    reply = fake.interaction_reply(done)
    assert reply["flags"] & 64 and "Deleted 1 vote" in reply["content"]
    assert await store.run(lambda s: s.votes.counts(dm_key, [paper])) == {}
