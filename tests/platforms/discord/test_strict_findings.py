"""What the strict fake Discord revealed about the bot (issue 13), now fixed: each test states the
behaviour Discord's documented rules call for, through the real bot as the other tests here do."""

from __future__ import annotations


from bot.delivery.runner import DONE, PAUSED, DeliveryRunner, deliver_all
from tests.fakes.discord import MANAGER, READ_MESSAGE_HISTORY, REQUIRE_TAG, FakeDiscord
from tests.platforms.discord.conftest import running_bot
from tests.platforms.discord.test_delivery import deliver_all_days, subscribe, the_days_jobs
from tests.platforms.discord.test_personal import me


async def test_recovery_does_not_trust_an_unreadable_history(fake, store, bot, clock):
    await subscribe(fake)
    result, _ = (await deliver_all_days(bot, clock))[str(fake.guild.text_channel)]
    assert result.outcome == DONE
    key = result.destination
    thread = int(fake.messages[fake.guild.text_channel][-1]["id"])
    # A crash between Discord accepting the papers and the ledger recording them...
    await store.run(lambda s: s.db.execute("DELETE FROM delivered_papers WHERE destination = ?", [key]))
    await store.run(lambda s: s.db.execute("UPDATE deliveries SET state = 'posting' WHERE destination = ?", [key]))
    # ...and a server where the bot may post but not read back.
    fake.deny_bot(fake.guild.text_channel, READ_MESSAGE_HISTORY)
    posts_before = len(fake.calls_to("POST", rf"/channels/{thread}/messages"))
    await deliver_all_days(bot, clock)
    assert len(fake.calls_to("POST", rf"/channels/{thread}/messages")) == posts_before


async def test_a_forum_that_requires_a_tag_pauses_with_a_reason(fake, store, bot, clock):
    forum = fake.add_text_channel(fake.guild, "tagged-forum", forum=True, flags=REQUIRE_TAG)
    await subscribe(fake, channel_id=forum)
    result, _ = (await deliver_all_days(bot, clock))[str(forum)]
    assert result.outcome == PAUSED and "tag" in result.detail.lower()


async def test_opening_dms_too_fast_backs_off_instead_of_pausing(fake, store, bot, clock):
    fake.dm_openings_limit = 1
    anna, ben = fake.add_person("anna"), fake.add_person("ben")
    await me(fake, "add", {"query": "MLLM"}, user=anna)
    await me(fake, "add", {"query": "benchmark"}, user=ben)
    runner = DeliveryRunner(store, clock)
    results = [await runner.deliver(bot.sink, destination, digest)
               for destination, digest in await the_days_jobs(bot)]
    assert PAUSED not in [r.outcome for r in results]


async def test_unsubscribe_all_survives_25_subscriptions(fake, store, bot):
    for n in range(25):
        await subscribe_quietly(fake, f"topic{n}")
    interaction = await fake.autocomplete("papers", "unsubscribe", {"which": ""}, "which",
                                          permissions=MANAGER)
    choices = (await fake.wait_for_callback(interaction))["data"]["choices"]
    assert len(choices) <= 25 and "all" in [c["value"] for c in choices]


async def subscribe_quietly(fake: FakeDiscord, query: str) -> None:
    interaction = await fake.slash_command("papers", "subscribe", {"query": query}, permissions=MANAGER)
    await fake.wait_for_callback(interaction)


async def test_a_fan_out_stays_under_discords_global_limit(store, clock):
    # Real time on Discord's side (the limit is per real second); per-route limits out of the way.
    async with FakeDiscord(route_limits=()) as fake:
        channels = [fake.add_text_channel(fake.guild, f"papers-{n}") for n in range(40)]
        async with running_bot(fake, store) as bot:
            for channel in channels:
                await subscribe(fake, channel_id=channel, query="MLLM")
            jobs = [(bot.sink, destination, digest) for destination, digest in await the_days_jobs(bot)]
            results = await deliver_all(DeliveryRunner(store, clock), jobs)
        assert {r.outcome for r in results} == {DONE}
        assert [scope for scope, _, _ in fake.rate_limits.refused if scope == "global"] == []


async def test_a_long_slowmode_is_waited_out_not_counted_as_a_failed_attempt(fake, store, bot, clock):
    await subscribe(fake)
    # discord.py waits out short limits itself; a slowmode longer than its 30 s comes back to the
    # core, which waits on its clock and carries on.
    fake.fail("POST", r"/channels/\d+/messages", code=20016, retry_after=120, after=1)
    result, _ = (await deliver_all_days(bot, clock))[str(fake.guild.text_channel)]
    assert result.outcome == DONE
    assert any(s >= 120 for s in clock.sleeps)


async def test_a_channel_that_cannot_hold_threads_pauses_with_a_reason(fake, store, bot, clock):
    await subscribe(fake)
    fake.fail("POST", r"/channels/\d+/messages", code=50008)
    result, _ = (await deliver_all_days(bot, clock))[str(fake.guild.text_channel)]
    assert result.outcome == PAUSED and "text or forum channel" in result.detail
