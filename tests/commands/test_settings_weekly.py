"""`/papers settings order ...`, `max N` and `weekly on|off`: stored, shown, validated, and what
the channel's Destination carries to delivery."""

from __future__ import annotations

from datetime import time

from bot.commands.responses import INVALID, OK, REFUSED
from bot.destinations.channels import ChannelSubscriptions
from tests.commands.test_execute import LAB, VISITOR, lines_of


async def settings_of(store):
    return await store.run(lambda s: s.channels.get_channel_settings(LAB.channel_ref))


async def test_weekly_on_off_and_its_defaults(executor, store):
    await executor.execute(LAB, "subscribe VLM")
    on = await executor.execute(LAB, "settings weekly on")
    assert on.outcome == OK and on.text == ("Settings changed: weekly best-of on Fridays, weekly best-of "
                                            "at 16:00.")
    record = await settings_of(store)
    assert (record.weekly_day, record.weekly_time) == (4, "16:00")   # schedule.weekly_day / weekly_time
    changed = await executor.execute(LAB, "settings weekly on Mon 08:30 tz Europe/Berlin")
    assert "Weekly best-of: Mondays at 08:30 (Europe/Berlin)" in lines_of(changed)
    [destination] = (await ChannelSubscriptions(store, "slack").load()).destinations
    assert (destination.weekly_day, destination.weekly_time, destination.timezone) == (0, time(8, 30), "Europe/Berlin")

    off = await executor.execute(LAB, "settings weekly off")
    assert off.text == "Settings changed: weekly best-of off."
    assert (await settings_of(store)).weekly_day == -1
    assert "Weekly best-of: off (turn it on with /papers settings weekly on)" in lines_of(off)
    [destination] = (await ChannelSubscriptions(store, "slack").load()).destinations
    assert destination.weekly_day is None and destination.weekly_time is None


async def test_order_is_stored_and_shown(executor, store):
    changed = await executor.execute(LAB, "settings order listing")
    assert changed.text == "Settings changed: papers in listing order."
    assert (await settings_of(store)).paper_order == "listing"
    assert "Paper order: best keyword match first (as listed), whatever the votes" in lines_of(changed)
    back = await executor.execute(LAB, "settings order relevance")
    assert ("Paper order: by this channel's votes (👍/👎) once it has enough of them, best keyword match "
            "first until then") in lines_of(back)


async def test_bad_values_and_visitors_change_nothing(executor, store):
    before = await settings_of(store)
    for text, message in (("settings max 0", "max 0 would post no papers at all"),
                          ("settings order best", 'order must be "relevance"'),
                          ("settings weekly on someday", '"someday" is not a day of the week'),
                          ("settings weekly on fri 7pm", '"7pm" is not a time of day for the weekly post')):
        reply = await executor.execute(LAB, text)
        assert reply.outcome == INVALID and message in reply.text and "Usage: /papers settings" in reply.text
    assert (await executor.execute(VISITOR, "settings weekly on")).outcome == REFUSED
    assert await settings_of(store) == before
