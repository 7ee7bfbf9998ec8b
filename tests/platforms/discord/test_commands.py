"""`/papers` as Discord slash commands: INTERACTION_CREATE through the fake gateway, answered by
the real discord.py client through interaction callbacks recorded by the fake REST API."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from bot.commands import CommandExecutor
from bot.config import Settings
from bot.matching import Subscription, compile_subscriptions, parse_query
from bot.destinations.channels import ChannelSubscriptions
from bot.platforms.discord import (
    BOT_PERMISSIONS,
    DiscordStartError,
    ShardedPaperbotClient,
    application_id_from_token,
    invite_url,
    start_discord,
)
from tests.conftest import eventually
from tests.fakes.discord import MANAGER, MEMBER, FakeDiscord
from tests.platforms.discord.conftest import SEED_DAY, discord_settings, running_bot

EPHEMERAL = 64
CHANNEL_MESSAGE = 4
DEFERRED = 5
AUTOCOMPLETE_RESULT = 8


def is_ephemeral(callback: dict) -> bool:
    return bool(int(callback["data"].get("flags") or 0) & EPHEMERAL)


async def command(fake: FakeDiscord, sub: str, options: dict | None = None, **kw) -> dict:
    interaction = await fake.slash_command("papers", sub, options, **kw)
    return await fake.wait_for_callback(interaction)


async def matched_ids(store, *queries: str) -> list[str]:
    """What the real matcher says about the stored day (new and cross-lists, the default)."""
    papers = await store.run(lambda s: s.papers.for_day(SEED_DAY))
    subscriptions = [Subscription(f"q{n}", parse_query(q), types=frozenset({"new", "cross"}))
                     for n, q in enumerate(queries)]
    return sorted({m.paper.id for m in compile_subscriptions(subscriptions).match(papers)})


async def stored_queries(store, fake: FakeDiscord, channel: int | None = None) -> list[str]:
    directory = await ChannelSubscriptions(store, "discord").load()
    key = f"discord:{fake.guild.id}:{channel or fake.guild.text_channel}"
    return [text for d in directory.destinations if d.key == key for text in d.subscriptions_text]


async def test_subscribe_and_list_through_the_gateway(fake, store, bot):
    assert fake.command_puts == [None]   # no guild configured: registered globally, once
    registered = fake.commands[None][0]
    assert registered["name"] == "papers" and registered["contexts"] == [0]
    assert [o["name"] for o in registered["options"]] == [
        "today", "subscribe", "unsubscribe", "list", "test", "search", "settings", "export", "resume",
        "help", "me"]

    reply = await command(fake, "subscribe", {"query": 'VLM, MLLM, "vision language model"'},
                          permissions=MANAGER)
    assert reply["type"] == CHANNEL_MESSAGE and not is_ephemeral(reply)
    assert reply["data"]["content"].startswith("Subscribed this channel to VLM OR MLLM OR")
    assert reply["data"]["allowed_mentions"] == {"parse": []}
    expected = await matched_ids(store, 'VLM, MLLM, "vision language model"')
    assert 3 < len(expected) < 15
    assert (f"would have matched {len(expected)} papers of 20"
            in reply["data"]["embeds"][0]["description"])
    assert await stored_queries(store, fake) == ['VLM OR MLLM OR "vision language model"']
    # The preview papers carry Abstract buttons whose ids are the embeds' papers.
    previews = [e["footer"]["text"].removeprefix("arXiv:") for e in reply["data"]["embeds"][1:]]
    buttons = [b["custom_id"] for row in reply["data"]["components"] for b in row["components"]]
    assert buttons == [f"paperbot:abs:{pid}" for pid in previews] and len(previews) == 3

    listing = await command(fake, "list")
    assert is_ephemeral(listing)
    assert listing["data"]["content"] == "This channel has 1 subscription (at most 25)."
    assert '1. VLM, MLLM, "vision language model"' in listing["data"]["embeds"][0]["description"]


async def test_subscribe_is_refused_without_manage_channels(fake, store, bot):
    reply = await command(fake, "subscribe", {"query": "VLM"}, permissions=MEMBER)
    assert is_ephemeral(reply)
    assert reply["data"]["content"] == ("You cannot add subscriptions here. Only members with the "
                                        "Manage Channels permission may change a channel's papers.")
    assert not reply["data"].get("embeds")
    assert await stored_queries(store, fake) == []
    # Looking is for everyone.
    assert is_ephemeral(await command(fake, "list", permissions=MEMBER))


async def test_the_configured_manager_role_may_subscribe(fake, store):
    curators = fake.add_role(fake.guild, "Paper Curators")
    settings = discord_settings(fake, manager_role="paper curators")
    async with running_bot(fake, store, settings):
        refused = await command(fake, "unsubscribe", {"which": "all"}, permissions=MEMBER)
        assert "Manage Channels permission or the paper curators role" in refused["data"]["content"]
        reply = await command(fake, "subscribe", {"query": "diffusion"}, permissions=MEMBER,
                              roles=[curators])
        assert not is_ephemeral(reply) and reply["data"]["content"].startswith("Subscribed")
    assert await stored_queries(store, fake) == ["diffusion"]


async def test_unsubscribe_with_autocompleted_numbers(fake, store, bot):
    for query in ("VLM", "diffusion AND video"):
        await command(fake, "subscribe", {"query": query}, permissions=MANAGER)
    interaction = await fake.autocomplete("papers", "unsubscribe", {"which": ""}, "which",
                                          permissions=MANAGER)
    choices = (await fake.wait_for_callback(interaction))
    assert choices["type"] == AUTOCOMPLETE_RESULT
    assert choices["data"]["choices"] == [
        {"name": "1. VLM", "value": "1"}, {"name": "2. diffusion AND video", "value": "2"},
        {"name": "all (2 subscriptions)", "value": "all"}]
    reply = await command(fake, "unsubscribe", {"which": "1"}, permissions=MANAGER)
    assert reply["data"]["content"] == "Removed subscription 1 of this channel: VLM"
    assert await stored_queries(store, fake) == ["diffusion AND video"]


async def test_settings_with_time_zone_autocomplete(fake, store, bot):
    interaction = await fake.autocomplete("papers", "settings", {"tz": "berl"}, "tz")
    names = [c["value"] for c in (await fake.wait_for_callback(interaction))["data"]["choices"]]
    assert "Europe/Berlin" in names and len(names) <= 25
    reply = await command(fake, "settings", {"time": "9:05", "tz": "europe/berlin", "types": "new, cross",
                                             "max": 20, "empty": "note"}, permissions=MANAGER)
    assert not is_ephemeral(reply)
    assert reply["data"]["content"] == ("Settings changed: daily post at 09:05, time zone Europe/Berlin, "
                                        "announce types new, cross, at most 20 papers a day, a short note "
                                        "on days without matches.")
    bad = await command(fake, "settings", {"time": "25:00"}, permissions=MANAGER)
    assert is_ephemeral(bad) and '"25:00" is not a time of day' in bad["data"]["content"]


async def test_a_paused_channel_is_resumed_by_a_manager_only(fake, store, bot):
    await command(fake, "subscribe", {"query": "VLM"}, permissions=MANAGER)
    key = f"discord:{fake.guild.id}:{fake.guild.text_channel}"
    reason = "paperbot lacks a permission in #ml-papers (50013)"
    await store.run(lambda s: s.ledger.pause_destination(key, reason, datetime.now(timezone.utc)))
    listing = await command(fake, "list", permissions=MEMBER)
    assert "/papers resume" in listing["data"]["embeds"][0]["description"]

    refused = await command(fake, "resume", permissions=MEMBER)
    assert is_ephemeral(refused)
    assert refused["data"]["content"] == ("You cannot resume daily posts here. Only members with "
                                          "the Manage Channels permission may change a channel's "
                                          "papers.")
    assert await store.run(lambda s: s.ledger.paused_reason(key)) == reason

    resumed = await command(fake, "resume", permissions=MANAGER)
    assert resumed["type"] == CHANNEL_MESSAGE and not is_ephemeral(resumed)
    assert resumed["data"]["content"].startswith("Daily posts to this channel are resumed")
    assert resumed["data"]["allowed_mentions"] == {"parse": []}
    assert await store.run(lambda s: s.ledger.paused_reason(key)) is None
    listing = await command(fake, "list", permissions=MEMBER)
    assert "paused" not in listing["data"]["content"]


async def test_a_bad_query_is_answered_with_where_and_why(fake, store, bot):
    reply = await command(fake, "test", {"query": "diffusion AND"})
    assert is_ephemeral(reply)
    assert reply["data"]["content"].startswith("I could not read that query:")
    assert "```" in reply["data"]["embeds"][0]["description"]


async def test_today_test_search_and_help_answer_privately_within_limits(fake, store, bot):
    await command(fake, "subscribe", {"query": "VLM, MLLM"}, permissions=MANAGER)
    for sub, options in (("today", None), ("today", {"query": "hallucination"}),
                         ("test", {"query": "VLM NOT robot"}), ("search", {"text": "vision language"}),
                         ("help", None), ("help", {"topic": "query"})):
        reply = await command(fake, sub, options)
        data = reply["data"]
        assert reply["type"] == CHANNEL_MESSAGE and is_ephemeral(reply), sub
        assert len(data["content"]) <= 2000 and len(data.get("embeds", [])) <= 10
        assert data["allowed_mentions"] == {"parse": []}
    today = await command(fake, "today")
    expected = await matched_ids(store, "VLM, MLLM")
    assert today["data"]["content"].startswith(
        f"{len(expected)} papers of 20 on 2025-04-21 match this channel's")
    shown = [e["footer"]["text"].removeprefix("arXiv:") for e in today["data"]["embeds"][1:]]
    assert sorted(shown) == expected


async def test_a_command_typed_in_a_forum_post_is_about_the_forum(fake, store, bot):
    post = fake.add_thread(fake.guild.forum_channel, "What should we follow?")
    reply = await command(fake, "subscribe", {"query": "world model"}, permissions=MANAGER, channel_id=post)
    assert reply["data"]["content"].startswith("Subscribed")
    assert await stored_queries(store, fake, fake.guild.forum_channel) == ['"world model"']


async def test_slow_commands_are_deferred_then_edited(fake, store):
    async with running_bot(fake, store, defer_after=0.0):
        interaction = await fake.slash_command("papers", "subscribe", {"query": "VLM"}, permissions=MANAGER)
        callback = await fake.wait_for_callback(interaction)
        # Deferred privately (a refusal must never be shown to the whole channel); the public
        # answer comes as a followup and the private "thinking..." is removed.
        assert callback["type"] == DEFERRED and int(callback["data"]["flags"]) & EPHEMERAL
        await eventually(lambda: fake._interactions[interaction].get("original_deleted"),
                         what="the private thinking... removed")
        [followup] = fake.followups[interaction]
        assert followup["content"].startswith("Subscribed this channel to VLM")
        assert not int(followup.get("flags") or 0) & EPHEMERAL
        private = await fake.slash_command("papers", "list")
        assert (await fake.wait_for_callback(private))["data"]["flags"] & EPHEMERAL
        assert (await fake.wait_for_edit(private))["content"].startswith("This channel has 1 subscription")


async def test_guild_sync_happens_only_when_the_commands_change(fake, store, tmp_path):
    settings = discord_settings(fake, guild_ids=[fake.guild.id])
    state = tmp_path / "sync.json"
    async with running_bot(fake, store, settings, sync_state_path=state) as runtime:
        # A first start also removes any global /papers, which would show twice in the server.
        assert fake.command_puts == [None, fake.guild.id] and runtime.client.synced
        assert fake.commands.get(None) == []
        assert [c["name"] for c in fake.commands[fake.guild.id]] == ["papers"]
        reply = await command(fake, "help")
        assert reply["data"]["content"].startswith("/papers commands")
    async with running_bot(fake, store, settings, sync_state_path=state) as runtime:
        assert fake.command_puts == [None, fake.guild.id] and runtime.client.synced == []
    second = fake.add_guild("Reading Group")
    settings = discord_settings(fake, guild_ids=[fake.guild.id, second.id])
    async with running_bot(fake, store, settings, sync_state_path=state):
        assert fake.command_puts == [None, fake.guild.id, second.id]


async def test_sharded_client_when_shards_are_configured(fake, store):
    async with running_bot(fake, store, discord_settings(fake, shards=1)) as runtime:
        assert isinstance(runtime.client, ShardedPaperbotClient)
        assert fake.identifies[-1]["shard"] == [0, 1]
        reply = await command(fake, "list")
        assert reply["data"]["content"].startswith("This channel has no subscriptions yet")


async def test_no_token_no_bot(store):
    commands = CommandExecutor(store, Settings())
    assert await start_discord(Settings(), commands, environ={}) is None
    assert await start_discord(Settings(), commands, environ={"DISCORD_TOKEN": "  "}) is None


async def test_a_rejected_token_is_a_clear_error_that_never_shows_the_token(fake, store, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "wrong-token-do-not-print"
    settings = discord_settings(fake)
    runtime = await start_discord(settings, CommandExecutor(store, settings), environ={"DISCORD_TOKEN": secret},
                                  guild_ready_timeout=0.02)
    with pytest.raises(DiscordStartError) as raised:
        await runtime.start(timeout=10)
    assert "Discord rejected DISCORD_TOKEN (401 Unauthorized)" in str(raised.value)
    assert secret not in str(raised.value) and secret not in repr(runtime)
    assert secret not in caplog.text


def test_invite_url_asks_for_exactly_what_the_bot_uses():
    url = invite_url(1234567890)
    assert url == ("https://discord.com/oauth2/authorize?client_id=1234567890"
                   "&scope=bot+applications.commands&permissions=309237763072")
    granted = {name for name, on in BOT_PERMISSIONS if on}
    # discord.py names View Channel's bit `read_messages`
    assert granted == {"read_messages", "send_messages", "send_messages_in_threads",
                       "create_public_threads", "embed_links", "attach_files", "read_message_history"}
    with pytest.raises(ValueError, match="application id is a number"):
        invite_url("my-bot")


async def test_the_application_id_comes_from_the_token(fake):
    assert await application_id_from_token(fake.api_url, fake.token) == fake.application_id
    with pytest.raises(DiscordStartError, match="Discord rejected DISCORD_TOKEN"):
        await application_id_from_token(fake.api_url, "nope")
    assert fake.identifies == []   # REST only


async def test_a_slow_refusal_is_deferred_privately_and_stays_private(fake, store):
    async with running_bot(fake, store, defer_after=0.0):
        interaction = await fake.slash_command("papers", "subscribe", {"query": "VLM"}, permissions=MEMBER)
        callback = await fake.wait_for_callback(interaction)
        assert callback["type"] == DEFERRED and int(callback["data"]["flags"]) & EPHEMERAL
        edit = await fake.wait_for_edit(interaction)
        assert "Manage Channels" in edit["content"]
        assert interaction not in fake.followups   # nothing was shown to the channel


async def test_going_global_removes_the_server_commands_so_nothing_shows_twice(fake, store, tmp_path):
    state = tmp_path / "sync.json"
    async with running_bot(fake, store, discord_settings(fake, guild_ids=[fake.guild.id]),
                           sync_state_path=state):
        assert [c["name"] for c in fake.commands[fake.guild.id]] == ["papers"]
    async with running_bot(fake, store, discord_settings(fake), sync_state_path=state):
        assert fake.commands[fake.guild.id] == []
        [papers] = fake.commands[None]
        # Installed to servers only, usable in servers only.
        assert papers["integration_types"] == [0] and papers["contexts"] == [0]
