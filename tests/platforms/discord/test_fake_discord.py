"""The fake Discord's documented behaviour, pinned with discord.py itself as the client, so the
bot's tests fail where real Discord would refuse."""

from __future__ import annotations

import aiohttp
import discord
import pytest
from discord.gateway import DiscordWebSocket

from bot.platforms.discord import EndpointError, use_endpoints
from bot.platforms.discord.endpoints import DEFAULT_API_URL
from tests.platforms.discord.conftest import running_bot


@pytest.fixture
async def client(fake):
    restore = use_endpoints(fake.api_url, fake.gateway_url)
    client = discord.Client(intents=discord.Intents.none())
    await client.login(fake.token)
    try:
        yield client
    finally:
        await client.close()
        restore()


async def test_messages_over_discords_limits_are_refused(fake, client):
    channel = client.get_partial_messageable(fake.guild.text_channel)
    # (discord.py itself checks the count of 10 embeds, and nothing else)
    too_long = [discord.Embed(description="x" * 4000), discord.Embed(description="y" * 2001)]
    long_title = [discord.Embed(title="t" * 257)]
    for embeds in (too_long, long_title):
        with pytest.raises(discord.HTTPException) as refused:
            await channel.send(embeds=embeds)
        assert refused.value.status == 400 and refused.value.code == 50035
    with pytest.raises(discord.HTTPException):
        await channel.send("z" * 2001)
    await channel.send(embeds=[discord.Embed(description="x" * 4000), discord.Embed(description="y" * 2000)])


async def test_history_pages_newest_first_like_discord(fake, client):
    channel = client.get_partial_messageable(fake.guild.text_channel)
    for n in range(230):
        fake.store_message(fake.guild.text_channel, {"content": str(n)})
    newest_first = [m.content async for m in channel.history(limit=None)]
    assert newest_first == [str(n) for n in reversed(range(230))]
    oldest_first = [m.content async for m in channel.history(limit=150, oldest_first=True)]
    assert oldest_first == [str(n) for n in range(150)]
    pages = [c for c in fake.calls if c.path.endswith("/messages") and c.method == "GET"]
    assert len(pages) >= 3


async def test_scripted_failures_and_unknown_channels(fake, client):
    fake.fail("GET", r"/channels/\d+", status=403, code=50001, message="Missing Access", after=1)
    assert (await client.fetch_channel(fake.guild.text_channel)).name == "ml-papers"
    with pytest.raises(discord.Forbidden) as forbidden:
        await client.fetch_channel(fake.guild.text_channel)
    assert forbidden.value.code == 50001
    fake.delete_channel(fake.guild.text_channel)
    with pytest.raises(discord.NotFound) as gone:
        await client.fetch_channel(fake.guild.text_channel)
    assert gone.value.code == 10003
    assert [c.status for c in fake.calls if c.path.startswith("/channels/")] == [200, 403, 404]


async def test_a_second_answer_to_an_interaction_is_refused(fake, store):
    async with running_bot(fake, store):
        interaction = await fake.slash_command("papers", "help")
        await fake.wait_for_callback(interaction)
        url = f"{fake.api_url}/interactions/{interaction}/itoken-{interaction}/callback"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as answer:
                assert answer.status == 400 and (await answer.json())["code"] == 40060


async def test_endpoints_are_restored_when_the_runtime_closes(fake, store):
    async with running_bot(fake, store):
        assert discord.http.Route.BASE == fake.api_url
        assert str(DiscordWebSocket.DEFAULT_GATEWAY) == fake.gateway_url
    assert discord.http.Route.BASE == DEFAULT_API_URL
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


def test_bad_endpoint_settings_are_named():
    with pytest.raises(EndpointError, match="discord.api_url must be a http or https URL"):
        use_endpoints("discord.com/api")
    with pytest.raises(EndpointError, match="discord.gateway_url must be a ws or wss URL"):
        use_endpoints(DEFAULT_API_URL, "http://127.0.0.1:1/gateway")
    assert discord.http.Route.BASE == DEFAULT_API_URL

