"""Personal keywords on Discord, end to end with the fake: `/papers me ...` slash commands (a
subcommand group), the `/papers me edit` modal, mentions in the channel's daily thread and a DM
digest, all through the core's runner and ledger."""

from __future__ import annotations

import re

from bot.delivery.runner import DONE, PAUSED, DeliveryRunner
from bot.matching import Subscription, compile_subscriptions, parse_query
from tests.fakes.discord import FakeDiscord
from tests.platforms.discord.conftest import SEED_DAY
from tests.platforms.discord.test_delivery import buttons, subscribe, the_days_jobs

EPHEMERAL = 64


async def me(fake: FakeDiscord, sub: str, options: dict | None = None, *, user: dict) -> dict:
    interaction = await fake.slash_command("papers", f"me {sub}", options, user=user)
    reply = await fake.wait_for_callback(interaction)
    assert int(reply["data"].get("flags") or 0) & EPHEMERAL, reply  # nobody else sees it
    return reply["data"]


async def matched(store, query: str) -> list[str]:
    papers = await store.run(lambda s: s.papers.for_day(SEED_DAY))
    subscription = Subscription("x", parse_query(query), types=frozenset(("new", "cross")))
    return sorted({m.paper.id for m in compile_subscriptions([subscription]).match(papers)})


async def deliver(bot, store, clock):
    runner = DeliveryRunner(store, clock)
    return {destination.key: await runner.deliver(bot.sink, destination, digest)
            for destination, digest in await the_days_jobs(bot)}


async def test_me_is_a_private_subcommand_group(fake, store, bot):
    registered = fake.commands[None][0]
    [group] = [o for o in registered["options"] if o["name"] == "me"]
    assert group["type"] == 2
    assert [o["name"] for o in group["options"]] == ["add", "remove", "list", "deliver", "edit", "forget"]
    anna, ben = fake.add_person("anna"), fake.add_person("ben")
    added = await me(fake, "add", {"query": '"secret topic"'}, user=anna)
    assert "Added to your personal keywords" in added["content"]
    assert "secret topic" in str(await me(fake, "list", user=anna))
    for sub, options in (("list", None), ("remove", {"which": "1"}), ("remove", {"which": "all"})):
        assert "secret topic" not in str(await me(fake, sub, options, user=ben))
    assert "secret topic" in str(await me(fake, "list", user=anna))  # Ben changed nothing
    bad = await me(fake, "add", {"query": "diffusion AND"}, user=ben)
    assert "expected a term" in str(bad) and "Traceback" not in str(bad)


async def test_two_people_get_exactly_their_mentions_and_a_dm_person_a_digest(fake, store, bot, clock):
    await subscribe(fake, query="VLM")
    anna, ben, carol, dan = (fake.add_person(n) for n in ("anna", "ben", "carol", "dan"))
    for person, query in ((anna, "MLLM"), (ben, "diffusion"), (carol, "benchmark")):
        await me(fake, "add", {"query": query}, user=person)
    for person in (anna, ben, dan):  # Dan has no keywords: never mentioned
        reply = await me(fake, "deliver", {"how": "here"}, user=person)
        assert "mentioned in this channel's daily thread" in reply["content"]

    results = await deliver(bot, store, clock)
    channel_key = f"discord:{fake.guild.id}:{fake.guild.text_channel}"
    dm_key = f"discord-dm:{fake.guild.id}:{carol['id']}"
    assert set(results) == {channel_key, dm_key}
    assert {r.outcome for r in results.values()} == {DONE}

    [parent] = fake.messages[fake.guild.text_channel]
    thread = fake.thread_messages(int(parent["id"]))
    with_content = [m for m in thread if m["content"]]
    assert with_content == [thread[-1]]  # papers first, then exactly one mention message
    mention = thread[-1]
    assert re.findall(r"<@(\d+)>", mention["content"]) == [anna["id"], ben["id"]]
    assert sorted(str(u) for u in mention["allowed_mentions"]["users"]) == sorted([anna["id"], ben["id"]])
    assert mention["allowed_mentions"]["parse"] == []
    lines = mention["content"].splitlines()[1:]
    assert sorted(re.findall(r"arxiv\.org/abs/([\d.]+)", lines[0])) == await matched(store, "MLLM")
    assert sorted(re.findall(r"arxiv\.org/abs/([\d.]+)", lines[1])) == await matched(store, "diffusion")

    # Carol's DM: the parent, then her papers with Abstract buttons (same format as threads).
    dm = fake.dm_messages(carol["id"])
    assert dm[0]["content"].startswith("📰 **arXiv papers · 2025-04-21**")
    sent = sorted(cid.removeprefix("paperbot:abs:") for m in dm[1:] for cid in buttons(m))
    assert sent == await matched(store, "benchmark")
    assert not fake.dm_messages(anna["id"]) and not fake.dm_messages(dan["id"])

    # Again (a restart, or the next pass): nothing is posted twice, mentions included.
    before = len(fake.calls)
    again = await deliver(bot, store, clock)
    assert {r.outcome for r in again.values()} == {DONE}
    assert not [c for c in fake.calls[before:] if c.method == "POST"]


async def test_a_mention_sent_but_not_recorded_is_read_back_from_the_thread(fake, store, bot, clock):
    await subscribe(fake, query="VLM")
    anna = fake.add_person("anna")
    await me(fake, "add", {"query": "MLLM"}, user=anna)
    await me(fake, "deliver", {"how": "here"}, user=anna)
    [(destination, digest)] = await the_days_jobs(bot)
    first = await DeliveryRunner(store, clock).deliver(bot.sink, destination, digest)
    assert first.outcome == DONE
    # Forget the mention in the ledger, as if the process died right after posting it.
    await store.run(lambda s: s.db.execute(
        "DELETE FROM delivered_papers WHERE paper_id LIKE 'mention:%'") and None)
    await store.run(lambda s: s.db.execute("UPDATE deliveries SET state = 'posting'") and None)
    second = await DeliveryRunner(store, clock).deliver(bot.sink, destination, digest)
    assert second.outcome == DONE and second.messages == 0
    [parent] = fake.messages[fake.guild.text_channel]
    assert len([m for m in fake.thread_messages(int(parent["id"])) if m["content"]]) == 1


async def test_closed_dms_pause_that_person_with_the_reason_in_me_list(fake, store, bot, clock):
    anna, ben = fake.add_person("anna"), fake.add_person("ben")
    await me(fake, "add", {"query": "MLLM"}, user=anna)
    await me(fake, "add", {"query": "benchmark"}, user=ben)
    fake.close_dms(anna["id"])
    results = await deliver(bot, store, clock)
    assert results[f"discord-dm:{fake.guild.id}:{anna['id']}"].outcome == PAUSED
    assert results[f"discord-dm:{fake.guild.id}:{ben['id']}"].outcome == DONE
    listed = await me(fake, "list", user=anna)
    assert "Cannot send messages to this user" in str(listed) and "50007" in str(listed)
    assert "paused" not in str(await me(fake, "list", user=ben)).lower()
    fake.closed_dms.clear()
    await me(fake, "deliver", {"how": "dm"}, user=anna)
    again = await deliver(bot, store, clock)
    assert again[f"discord-dm:{fake.guild.id}:{anna['id']}"].outcome == DONE
    assert fake.dm_messages(anna["id"])


async def test_me_edit_opens_a_form_and_saves_good_input_only(fake, store, bot):
    anna = fake.add_person("anna")
    await me(fake, "add", {"query": "robot"}, user=anna)
    opened = await fake.slash_command("papers", "me edit", user=anna)
    callback = await fake.wait_for_callback(opened)
    assert callback["type"] == 9  # a modal, prefilled with the current list
    [[text_input]] = [row["components"] for row in callback["data"]["components"]]
    assert text_input["value"] == "robot" and text_input["style"] == 2

    bad = await fake.submit_modal(opened, ["MLLM\ndiffusion AND"], user=anna)
    answer = (await fake.wait_for_callback(bad))["data"]
    assert int(answer["flags"]) & EPHEMERAL and "Nothing was saved: line 2" in str(answer)
    assert "1. robot" in str(await me(fake, "list", user=anna))

    reopened = await fake.slash_command("papers", "me edit", user=anna)
    await fake.wait_for_callback(reopened)
    good = await fake.submit_modal(reopened, ['MLLM\n"world model"'], user=anna)
    answer = (await fake.wait_for_callback(good))["data"]
    assert "Saved 2 personal keywords" in str(answer)
    listed = str(await me(fake, "list", user=anna))
    assert "1. MLLM" in listed and "world model" in listed and "robot" not in listed


async def test_me_edit_never_deletes_keywords_the_form_could_not_show(fake, store, bot):
    anna = fake.add_person("anna")
    long_queries = [" OR ".join(f"term{n}x{k}" for k in range(30)) for n in range(12)]   # ~12 x 390 chars
    for query in long_queries:
        await me(fake, "add", {"query": query}, user=anna)
    opened = await fake.slash_command("papers", "me edit", user=anna)
    callback = await fake.wait_for_callback(opened)
    [[text_input]] = [row["components"] for row in callback["data"]["components"]]
    shown = text_input["value"].splitlines()
    assert len(text_input["value"]) <= 4000 and 0 < len(shown) < len(long_queries)
    assert "kept" in text_input["label"]
    # The person edits what they see: drops the first line, adds one.
    edited = "\n".join(shown[1:] + ["MLLM"])
    saved = await fake.submit_modal(opened, [edited], user=anna)
    await fake.wait_for_callback(saved)
    listed = str(await me(fake, "list", user=anna))
    assert "MLLM" in listed and "term0x0 " not in listed
    for n in range(1, len(long_queries)):   # everything else, shown or not, is still there
        assert f"term{n}x0 " in listed, n
