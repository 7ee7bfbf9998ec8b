"""ChannelSubscriptions: what /papers stored, as destinations and subscriptions for the scheduler."""

from __future__ import annotations

import logging
from datetime import time

from bot.config import ScheduleSettings
from bot.destinations.channels import ChannelSubscriptions, channel_destination_key
from bot.daily import digest_for, match_day
from bot.destinations import DestinationDirectory
from bot.matching import Subscription, compile_subscriptions, parse_query
from bot.store.subscriptions import ChannelRef

from .conftest import NOW, SEED_DAY, context

LAB = context(channel="C0001", channel_name="ml-papers")
ROBOTS = context(channel="C0002", channel_name=None)
GUILD = context(platform="discord", workspace="9001", channel="42", channel_name="papers")


def row_ids(directory) -> list[str]:
    return [s.id for s in directory.subscriptions]


async def test_one_destination_per_channel_with_its_settings(executor, store):
    await executor.execute(LAB, "subscribe MLLM")
    await executor.execute(LAB, 'subscribe "world model" -robot')
    await executor.execute(LAB, "settings time 09:00 tz Europe/Berlin max 20 empty note types new,replace")
    await executor.execute(ROBOTS, "subscribe cat:cs.RO")
    await executor.execute(GUILD, "subscribe VLM")
    await executor.execute(context(channel="C0003"), "settings max 3")  # settings alone: no destination

    slack: DestinationDirectory = ChannelSubscriptions(store, "slack")  # the scheduler's seam
    directory = await slack.load()
    rows = await store.run(lambda s: s.channels.all_subscriptions("slack"))
    lab, robots = directory.destinations
    assert lab.key == "slack:T0001:C0001" == channel_destination_key(ChannelRef("slack", "T0001", "C0001"))
    assert (lab.platform, lab.address, lab.title) == ("slack", "C0001", "ml-papers")
    assert (lab.post_time, lab.timezone, lab.max_papers, lab.empty_note) == (time(9, 0), "Europe/Berlin", 20, True)
    assert lab.subscription_ids == (f"chan:{rows[0].id}", f"chan:{rows[1].id}")
    assert lab.subscriptions_text == ("MLLM", '"world model" AND NOT robot')
    assert lab.options == {"workspace": "T0001", "channel": "C0001", "channel_name": "ml-papers"}
    # An untouched channel gets the defaults, titled by its id.
    assert (robots.key, robots.title, robots.post_time, robots.timezone, robots.max_papers, robots.empty_note) == (
        "slack:T0001:C0002", "C0002", None, "America/New_York", None, False)
    by_id = {s.id: s for s in directory.subscriptions}
    assert set(by_id) == {f"chan:{row.id}" for row in rows}
    assert by_id[lab.subscription_ids[0]].types == frozenset({"new", "replace"})
    assert by_id[robots.subscription_ids[0]].types == frozenset({"new", "cross"})
    assert by_id[lab.subscription_ids[0]].query == parse_query("MLLM")

    [guild] = (await ChannelSubscriptions(store, "discord").load()).destinations
    assert (guild.key, guild.address, guild.title) == ("discord:9001:42", "42", "papers")


async def test_the_schedule_configuration_fills_unset_settings(executor, store):
    await executor.execute(LAB, "subscribe MLLM")
    await executor.execute(ROBOTS, "subscribe VLM")
    await executor.execute(ROBOTS, "settings tz Asia/Tokyo")
    schedule = ScheduleSettings(post_time="07:30", timezone="Europe/London")
    lab, robots = (await ChannelSubscriptions(store, "slack", schedule=schedule).load()).destinations
    assert (lab.post_time, lab.timezone) == (time(7, 30), "Europe/London")
    assert (robots.post_time, robots.timezone) == (time(7, 30), "Asia/Tokyo")


async def test_the_scheduler_path_delivers_the_channels_matches(executor, store, synthetic_listing):
    await executor.execute(LAB, "subscribe MLLM")
    await executor.execute(LAB, "subscribe transformer")
    directory = await ChannelSubscriptions(store, "slack").load()
    by_subscription = await match_day(store, SEED_DAY, directory.subscriptions)
    digest = digest_for(directory.destinations[0], SEED_DAY, by_subscription)
    check = compile_subscriptions([Subscription("a", parse_query("MLLM")), Subscription("b", parse_query("transformer"))])
    expected = {m.paper.id for m in check.match(synthetic_listing.papers)}
    assert set(digest.paper_ids) == expected and digest.destination == "slack:T0001:C0001"
    # What `/papers today` shows privately is what the daily thread will hold.
    today = await executor.execute(LAB, "today")
    assert set(today.sections[-1].digest.paper_ids) == set(digest.paper_ids)


async def test_changes_reach_the_next_load(executor, store):
    directory = ChannelSubscriptions(store, "slack")
    assert (await directory.load()).destinations == ()
    await executor.execute(LAB, "subscribe MLLM")
    assert len((await directory.load()).destinations) == 1
    await executor.execute(LAB, "unsubscribe all")
    loaded = await directory.load()
    assert loaded.destinations == () and loaded.subscriptions == ()


async def test_a_row_that_no_longer_parses_is_skipped_not_fatal(executor, store, caplog):
    await executor.execute(LAB, "subscribe MLLM")
    # Written around the command layer, as an older version's query language might have.
    broken = await store.run(lambda s: s.channels.add_subscription(LAB.channel_ref, "VLM AND", now=NOW))
    with caplog.at_level(logging.WARNING, logger="bot.destinations.channels"):
        [lab] = (await ChannelSubscriptions(store, "slack").load()).destinations
    assert len(lab.subscription_ids) == 1 and f"chan:{broken.id}" not in lab.subscription_ids
    assert f"skipping stored subscription {broken.id} of slack:T0001:C0001 ('VLM AND')" in caplog.text
    assert (await executor.execute(LAB, "today")).outcome == "ok"


async def test_the_directory_is_kept_until_the_store_counts_a_change(executor, store):
    directory = ChannelSubscriptions(store, "slack")
    await executor.execute(LAB, "subscribe MLLM")
    first = await directory.load()
    # Nothing changed: the same directory, not a reload.
    assert await directory.load() is first
    # A settings change written around the command layer still counts (the store counts writes).
    await store.run(lambda s: s.channels.update_channel_settings(LAB.channel_ref, {"max_papers": 3}))
    changed = await directory.load()
    assert changed is not first and changed.destinations[0].max_papers == 3
    await store.run(lambda s: s.people.add_personal(LAB.person, "world model", now=NOW))
    with_person = await directory.load()
    assert {s.id.split(":")[0] for s in with_person.subscriptions} == {"chan", "me"}
