"""The gateway side of the runtime: shards as Discord recommends, fatal closes said clearly, and
/healthz turning unhealthy when the configured Discord bot is no longer connected."""

from __future__ import annotations

from datetime import datetime, timezone

import aiohttp
import pytest

from bot.ops import DatabaseHealth, OpsServer
from bot.platforms.discord import DiscordStartError, ShardedPaperbotClient
from tests.conftest import eventually
from tests.fakes.discord import FakeDiscord
from tests.platforms.discord.conftest import discord_settings, running_bot
from tests.test_ops import free_port, get_health


async def test_shards_as_discord_recommends_when_none_are_configured(store):
    # Two servers, one a session: an unsharded bot would be closed with 4011 Sharding required.
    async with FakeDiscord(max_guilds_per_session=1) as fake:
        fake.add_guild("Second server", guild_id=((fake.guild.id >> 22) + 1) << 22)   # the other shard
        async with running_bot(fake, store) as runtime:
            assert isinstance(runtime.client, ShardedPaperbotClient)
            assert runtime.client.shard_count == 2 and fake.gateway_closes == []
            assert sorted(i["shard"][0] for i in fake.identifies) == [0, 1]
            assert runtime.connected and runtime.problem is None


async def test_too_few_configured_shards_is_one_clear_message(store):
    async with FakeDiscord(max_guilds_per_session=0) as fake:
        with pytest.raises(DiscordStartError) as failed:
            async with running_bot(fake, store, discord_settings(fake, shards=1)):
                pass
        assert "4011" in str(failed.value) and "remove discord.shards" in str(failed.value)


async def test_healthz_is_unhealthy_once_the_discord_bot_stops(fake, store):
    async with running_bot(fake, store) as runtime:
        health = DatabaseHealth(store, interval=3600)
        await health.check_integrity()
        await health.refresh()
        port = free_port()
        ops = OpsServer(store, scheduler_alive=lambda: True, last_poll=lambda: None,
                        now=lambda: datetime.now(timezone.utc), port=port, database=health,
                        platforms=[runtime])
        await ops.start()
        try:
            async with aiohttp.ClientSession() as http:
                status, body = await get_health(http, port)
                assert status == 200 and body["platforms"] == {
                    "discord": {"connected": True, "problem": None}}
                # The token is reset in the Developer Portal: Discord closes with 4004.
                await fake.close_gateway(4004)
                await eventually(lambda: not runtime.running, what="the Discord client ended")
                status, body = await get_health(http, port)
                assert status == 503 and body["platforms"]["discord"]["connected"] is False
                assert "DISCORD_TOKEN" in body["platforms"]["discord"]["problem"]
        finally:
            await ops.close()
