"""The weekly best-of on Discord: one message in the channel (no thread), posted once through the
ledger; a crash between posting and recording finds it again in the channel's history."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.delivery.runner import DONE, DeliveryRunner
from bot.store.personal import PersonRef
from bot.weekly import WeeklyBestOfPoster, latest_due
from tests.fakes.discord import MANAGER
from tests.platforms.discord.conftest import SEED_DAY
from tests.platforms.discord.test_delivery import subscribe


async def turn_weekly_on(fake):
    interaction = await fake.slash_command("papers", "settings", {"weekly": "on thu 18:30", "tz": "UTC"},
                                           permissions=MANAGER)
    reply = await fake.wait_for_callback(interaction)
    assert reply["data"]["content"].startswith("Settings changed"), reply
    assert "weekly best-of on Thursdays" in reply["data"]["content"]


async def test_one_best_of_message_once_a_week(fake, store, bot, clock, synthetic_listing):
    await subscribe(fake)
    await turn_weekly_on(fake)
    [destination] = (await bot.directory.load()).destinations
    assert destination.weekly_day == 3
    papers = synthetic_listing.papers[:6]
    stamp = datetime(2025, 4, 22, 9, tzinfo=timezone.utc)
    await store.run(lambda s: (
        s.ledger.record_papers(destination.key, SEED_DAY, [p.id for p in papers], "1", stamp),
        s.votes.cast(destination.key, papers[4].id, PersonRef("discord", "1", "7"), 1, stamp)))
    clock.set(datetime(2025, 4, 24, 18, 31, tzinfo=timezone.utc))
    assert latest_due(destination, clock.now()) == datetime(2025, 4, 24, 18, 30, tzinfo=timezone.utc)

    poster, runner = WeeklyBestOfPoster(store), DeliveryRunner(store, clock)
    results, wakes = await poster.deliver_due(clock.now(), [destination], {"discord": bot.sink}, runner)
    assert [r.outcome for r in results] == [DONE]
    assert min(wakes) == datetime(2025, 5, 1, 18, 30, tzinfo=timezone.utc)
    text = fake.guild.text_channel
    best = [m for m in fake.messages[text] if m["content"].startswith("🏆 **Best of the week")]
    assert len(best) == 1 and "thread" not in best[0]
    content = best[0]["content"]
    assert content.startswith("🏆 **Best of the week · 2025-04-18 – 2025-04-24**\n**Most voted here**\n")
    assert f"<https://arxiv.org/abs/{papers[4].id}> · 👍 1" in content
    assert f"<https://arxiv.org/abs/{papers[0].id}>" in content and len(content) <= 2000

    # A crash right after Discord took it: the ledger never heard; the next pass finds it.
    key = destination.key + "#weekly"
    await store.run(lambda s: s.db.execute("UPDATE deliveries SET state = 'posting', parent_ref = NULL"
                                           " WHERE destination = ?", [key]))
    clock.set(clock.now() + timedelta(minutes=5))
    again, _ = await poster.deliver_due(clock.now(), [destination], {"discord": bot.sink},
                                        DeliveryRunner(store, clock))
    assert again[0].outcome == DONE and again[0].messages == 0
    assert len([m for m in fake.messages[text] if m["content"].startswith("🏆")]) == 1
