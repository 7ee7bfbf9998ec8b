"""The fake Discord's documented behaviour, pinned with discord.py itself as the client, so the
bot's tests fail where real Discord would refuse."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest
from discord.gateway import DiscordWebSocket

from bot.platforms.discord import EndpointError, use_endpoints
from bot.platforms.discord.endpoints import DEFAULT_API_URL
from tests.fakes.clock import ServiceClock
from tests.fakes.discord import (
    BOT_INVITE,
    CREATE_PUBLIC_THREADS,
    READ_MESSAGE_HISTORY,
    REQUIRE_TAG,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
)
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



# -- strictness: each rule, demonstrably enforced ------------------------------------------------


@pytest.fixture
async def strict():
    """A fake Discord whose clock moves only when the test says so."""
    async with FakeDiscord(clock=ServiceClock(frozen=True)) as server:
        yield server


class RawGateway:
    """A bare gateway session (no discord.py): IDENTIFY, then read what the fake sends."""

    def __init__(self, fake: FakeDiscord, session: aiohttp.ClientSession) -> None:
        self.fake, self.session = fake, session

    async def identify(self, shard: list[int] | None = None) -> aiohttp.ClientWebSocketResponse:
        ws = await self.session.ws_connect(self.fake.gateway_url)
        assert (await ws.receive_json())["op"] == 10
        data = {"token": self.fake.token, "intents": 1, "properties": {}}
        if shard is not None:
            data["shard"] = shard
        await ws.send_json({"op": 2, "d": data})
        return ws


async def rest(session: aiohttp.ClientSession, fake: FakeDiscord, method: str, path: str,
               json_body=None) -> tuple[int, dict, object]:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with session.request(method, fake.api_url + path, json=json_body, headers=headers) as answer:
        return answer.status, dict(answer.headers), await answer.json()


PAPERS = [{"name": "papers", "description": "arXiv papers", "options": [
    {"type": 1, "name": "help", "description": "How to use it"},
    {"type": 1, "name": "unsubscribe", "description": "Stop one", "options": [
        {"type": 3, "name": "which", "description": "Which one", "required": True, "autocomplete": True}]}]}]


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def connected(strict, session):
    """The strict fake with /papers registered and a raw gateway session that got READY."""
    status, _, _ = await rest(session, strict, "PUT", f"/applications/{strict.application_id}/commands", PAPERS)
    assert status == 200
    ws = await RawGateway(strict, session).identify()
    assert (await ws.receive_json())["t"] == "READY"
    yield strict
    await ws.close()


async def callback(session, fake, interaction: int, body: dict) -> tuple[int, dict]:
    url = f"{fake.api_url}/interactions/{interaction}/itoken-{interaction}/callback"
    async with session.post(url, json=body) as answer:
        return answer.status, await answer.json(content_type=None) if answer.status != 204 else {}


async def webhook(session, fake, interaction: int, method: str, suffix: str, body: dict) -> tuple[int, dict]:
    url = f"{fake.api_url}/webhooks/{fake.application_id}/itoken-{interaction}{suffix}"
    async with session.request(method, url, json=body) as answer:
        return answer.status, await answer.json()


async def test_a_callback_after_three_seconds_is_an_unknown_interaction(connected, session):
    fake = connected
    in_time = await fake.slash_command("papers", "help")
    fake.clock.advance(2.9)
    assert (await callback(session, fake, in_time, {"type": 4, "data": {"content": "hi"}}))[0] == 200
    late = await fake.slash_command("papers", "help")
    fake.clock.advance(3.1)
    status, body = await callback(session, fake, late, {"type": 4, "data": {"content": "hi"}})
    assert (status, body["code"], body["message"]) == (404, 10062, "Unknown interaction")
    assert fake.late_callbacks == [late]
    # The token died with it: no followup either.
    assert (await webhook(session, fake, late, "POST", "", {"content": "x"}))[1]["code"] == 10015


async def test_followups_work_for_fifteen_minutes(connected, session):
    fake = connected
    interaction = await fake.slash_command("papers", "help")
    assert (await webhook(session, fake, interaction, "POST", "", {"content": "early"}))[1]["code"] == 10015
    assert (await callback(session, fake, interaction, {"type": 5}))[0] == 200
    fake.clock.advance(14 * 60)
    status, _ = await webhook(session, fake, interaction, "PATCH", "/messages/@original", {"content": "done"})
    assert status == 200
    fake.clock.advance(61)
    status, body = await webhook(session, fake, interaction, "POST", "", {"content": "too late"})
    assert (status, body["code"]) == (401, 50027) and fake.expired_followups == [interaction]


async def test_rate_limit_headers_per_route_and_discords_429(strict, session):
    path = f"/channels/{strict.guild.text_channel}/messages"
    remaining = []
    for n in range(5):
        status, headers, _ = await rest(session, strict, "POST", path, {"content": str(n)})
        assert status == 200 and headers["X-RateLimit-Limit"] == "5"
        assert headers["X-RateLimit-Bucket"] and float(headers["X-RateLimit-Reset-After"]) <= 5
        assert float(headers["X-RateLimit-Reset"]) > 1.7e9
        remaining.append(headers["X-RateLimit-Remaining"])
    assert remaining == ["4", "3", "2", "1", "0"]
    status, headers, body = await rest(session, strict, "POST", path, {"content": "sixth"})
    assert status == 429 and body == {"message": "You are being rate limited.", "retry_after": 5.0,
                                      "global": False}
    assert headers["X-RateLimit-Scope"] == "user" and headers["Retry-After"] == "5" and "Via" in headers
    other = f"/channels/{strict.guild.forum_channel}/threads"   # another bucket and channel
    assert (await rest(session, strict, "POST", other, {"name": "post", "message": {"content": "x"}}))[0] == 201
    strict.clock.advance(5)
    assert (await rest(session, strict, "POST", path, {"content": "later"}))[0] == 200


async def test_fifty_requests_a_second_bot_wide(session):
    async with FakeDiscord(clock=ServiceClock(frozen=True), route_limits=()) as fake:
        for _ in range(50):
            assert (await rest(session, fake, "GET", "/users/@me"))[0] == 200
        status, headers, body = await rest(session, fake, "GET", f"/channels/{fake.guild.text_channel}")
        assert status == 429 and body["global"] is True and body["retry_after"] == 1.0
        assert headers["X-RateLimit-Global"] == "true" and headers["X-RateLimit-Scope"] == "global"
        fake.clock.advance(1)
        assert (await rest(session, fake, "GET", "/users/@me"))[0] == 200


async def test_permissions_decide_like_discord(fake, client):
    channel = client.get_partial_messageable(fake.guild.text_channel)
    await channel.send("allowed")
    fake.deny_bot(fake.guild.text_channel, SEND_MESSAGES)
    with pytest.raises(discord.Forbidden) as missing:
        await channel.send("denied by an overwrite")
    assert missing.value.code == 50013
    fake.deny_bot(fake.guild.text_channel, READ_MESSAGE_HISTORY)
    assert [m async for m in channel.history(limit=10)] == []   # empty, not an error
    fake.deny_bot(fake.guild.text_channel, 0)
    fake.set_bot_permissions(BOT_INVITE & ~CREATE_PUBLIC_THREADS)
    message = await channel.send("a parent")
    status, body = await raw_post(fake, f"/channels/{channel.id}/messages/{message.id}/threads", {"name": "day"})
    assert (status, body["code"]) == (403, 50013)
    fake.set_bot_permissions(BOT_INVITE)
    fake.deny_bot(fake.guild.text_channel, VIEW_CHANNEL)
    with pytest.raises(discord.Forbidden) as hidden:
        await client.fetch_channel(fake.guild.text_channel)
    assert hidden.value.code == 50001
    fake.deny_bot(fake.guild.text_channel, 0)
    fake.remove_bot()
    with pytest.raises(discord.Forbidden) as removed:
        await channel.send("kicked")
    assert removed.value.code == 50001


async def test_forum_tags_closed_and_too_many_dms(client):
    async with FakeDiscord(clock=ServiceClock(frozen=True), dm_openings_limit=2) as fake:
        restore = use_endpoints(fake.api_url, fake.gateway_url)
        try:
            forum = fake.add_text_channel(fake.guild, "tagged", forum=True, flags=REQUIRE_TAG)
            status, body = await raw_post(fake, f"/channels/{forum}/threads",
                                          {"name": "day", "message": {"content": "x"}})
            assert (status, body["code"]) == (400, 40067)
            people = [fake.add_person(name) for name in ("grace", "alan", "edsger")]
            fake.close_dms(people[0]["id"])
            answers = []
            for person in people:
                dm = (await raw_post(fake, "/users/@me/channels", {"recipient_id": person["id"]}))[1]
                answers.append(await raw_post(fake, f"/channels/{dm['id']}/messages", {"content": "hi"}))
            assert [(s, b.get("code")) for s, b in answers] == [(403, 50007), (200, None), (200, None)]
            fake.clock.advance(0)  # a third new conversation within the window
            newcomer = fake.add_person("barbara")
            dm = (await raw_post(fake, "/users/@me/channels", {"recipient_id": newcomer["id"]}))[1]
            status, body = await raw_post(fake, f"/channels/{dm['id']}/messages", {"content": "hi"})
            assert (status, body["code"]) == (403, 40003)
            assert body["message"] == "You are opening direct messages too fast."
        finally:
            restore()


async def raw_post(fake: FakeDiscord, path: str, body: dict) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        status, _, answer = await rest(session, fake, "POST", path, body)
        return status, answer


@pytest.mark.parametrize("body, where", [
    ({"content": "x", "components": [{"type": 1, "components": [
        {"type": 2, "style": 2, "label": "a", "custom_id": "same"},
        {"type": 2, "style": 2, "label": "b", "custom_id": "same"}]}]}, "components"),
    ({"embeds": [{"title": "t", "fields": [{"name": "n", "value": "v"}] * 26}]}, "embeds"),
    ({"embeds": [{"description": "x" * 4000}, {"description": "y" * 1999, "title": "zz"}]}, "embeds"),
    ({"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["1"]}}, "allowed_mentions"),
    ({"content": "x", "allowed_mentions": {"parse": ["here"]}}, "allowed_mentions"),
])
async def test_invalid_messages_are_refused_with_invalid_form_body(strict, body, where):
    status, answer = await raw_post(strict, f"/channels/{strict.guild.text_channel}/messages", body)
    assert (status, answer["code"]) == (400, 50035) and where in answer["errors"]


@pytest.mark.parametrize("options", [
    [{"type": 3, "name": "b", "description": "d"}, {"type": 3, "name": "a", "description": "d", "required": True}],
    [{"type": 3, "name": "Upper", "description": "d"}],
    [{"type": 3, "name": "x", "description": ""}],
    [{"type": 3, "name": "x", "description": "d", "autocomplete": True, "choices": [{"name": "a", "value": "a"}]}],
    [{"type": 3, "name": f"o{n}", "description": "d"} for n in range(26)],
    [{"type": 1, "name": "sub", "description": "d"}, {"type": 3, "name": "x", "description": "d"}],
])
async def test_invalid_command_options_are_refused(strict, session, options):
    commands = [{"name": "papers", "description": "arXiv papers", "options": options}]
    status, _, answer = await rest(session, strict, "PUT", f"/applications/{strict.application_id}/commands", commands)
    assert (status, answer["code"]) == (400, 50035)


async def test_autocomplete_offers_at_most_25_choices(connected, session):
    fake = connected
    too_many = await fake.autocomplete("papers", "unsubscribe", {"which": ""}, "which")
    choices = [{"name": str(n), "value": str(n)} for n in range(26)]
    status, body = await callback(session, fake, too_many, {"type": 8, "data": {"choices": choices}})
    assert (status, body["code"]) == (400, 50035)
    enough = await fake.autocomplete("papers", "unsubscribe", {"which": ""}, "which")
    assert (await callback(session, fake, enough, {"type": 8, "data": {"choices": choices[:25]}}))[0] == 200


async def test_too_many_servers_for_one_session_closes_with_4011(session):
    async with FakeDiscord(max_guilds_per_session=2) as fake:
        fake.guilds.clear()
        for n in range(4):   # ids chosen so that two servers fall in each of two shards
            fake.add_guild(f"server {n}", guild_id=((1 << 40) + n) << 22)
        unsharded = await RawGateway(fake, session).identify()
        assert (await unsharded.receive()).type == aiohttp.WSMsgType.CLOSE
        assert unsharded.close_code == 4011 and fake.gateway_closes == [4011] and not fake.identifies
        shards = [await RawGateway(fake, session).identify(shard=[n, 2]) for n in range(2)]
        held = []
        for shard in shards:
            ready = await shard.receive_json()
            assert ready["t"] == "READY"
            held.append({g["id"] for g in ready["d"]["guilds"]})
        assert held[0].isdisjoint(held[1]) and len(held[0]) == len(held[1]) == 2
        outside = await RawGateway(fake, session).identify(shard=[2, 2])
        assert (await outside.receive()).type == aiohttp.WSMsgType.CLOSE
        assert outside.close_code == 4010
        for ws in (*shards, unsharded, outside):
            await ws.close()


async def test_discord_py_reports_4011_as_a_closed_connection(fake):
    fake.max_guilds_per_session = 0
    restore = use_endpoints(fake.api_url, fake.gateway_url)
    client = discord.Client(intents=discord.Intents.none())
    try:
        with pytest.raises(discord.ConnectionClosed) as closed:
            await asyncio.wait_for(client.start(fake.token), 10)
        assert closed.value.code == 4011
    finally:
        await client.close()
        restore()


async def test_interaction_endpoints_are_not_bound_to_the_global_limit(connected, session):
    fake = connected
    interaction = await fake.slash_command("papers", "help")
    for _ in range(60):   # use up this second's bot-wide budget
        status, _, body = await rest(session, fake, "GET", "/users/@me")
        if status == 429:
            break
    assert status == 429 and body["global"] is True
    assert (await callback(session, fake, interaction, {"type": 5}))[0] == 200
    assert (await webhook(session, fake, interaction, "PATCH", "/messages/@original", {"content": "ok"}))[0] == 200


async def test_a_scripted_slowmode_refusal_has_discords_429_shape(strict, session):
    # Discord's docs exempt bots from slowmode, so the fake never imposes 20016 by itself; a test
    # that wants it scripts it, and gets the rate-limit body with its code.
    strict.fail("POST", r"/channels/\d+/messages", code=20016, retry_after=12)
    status, headers, body = await rest(session, strict, "POST", f"/channels/{strict.guild.text_channel}/messages",
                                       {"content": "x"})
    assert status == 429 and body == {"message": "This action cannot be performed due to slowmode rate limit.",
                                      "retry_after": 12, "global": False, "code": 20016}
    assert headers["Retry-After"] == "12" and "Via" in headers


def _row(*labels: str) -> list[dict]:
    return [{"type": 1, "components": [{"type": 2, "style": 2, "label": label, "custom_id": f"b:{n}"}
                                       for n, label in enumerate(labels)]}]


async def test_message_updates_are_for_component_clicks_and_edit_the_clicked_message(connected, session):
    fake = connected
    command = await fake.slash_command("papers", "help")
    status, body = await callback(session, fake, command, {"type": 7, "data": {"content": "no"}})
    assert (status, body["code"]) == (400, 50035)      # a slash command has no message to update

    message = fake.store_message(fake.guild.text_channel, {"content": "votes", "components": _row("👍", "👎")})
    clicked = await fake.click(message, "b:0")
    assert (await callback(session, fake, clicked, {"type": 7, "data": {"components": _row("👍 1", "👎")}}))[0] == 200
    assert [b["label"] for b in message["components"][0]["components"]] == ["👍 1", "👎"]

    deferred = await fake.click(message, "b:1")
    assert (await callback(session, fake, deferred, {"type": 6}))[0] == 200
    status, _ = await webhook(session, fake, deferred, "PATCH", "/messages/@original",
                              {"components": _row("👍 1", "👎 1")})
    assert status == 200 and [b["label"] for b in message["components"][0]["components"]] == ["👍 1", "👎 1"]

    # Discord's component limits: labels of at most 80, at most 5 buttons a row and 5 rows.
    late = await fake.click(message, "b:0")
    too_long = await webhook(session, fake, late, "PATCH", "/messages/@original", {"components": _row("x" * 81)})
    assert too_long[1]["code"] == 10015                    # not acknowledged yet: no token
    assert (await callback(session, fake, late, {"type": 6}))[0] == 200
    for components in (_row("x" * 81), _row(*"abcdef"), _row("a") * 6):
        status, body = await webhook(session, fake, late, "PATCH", "/messages/@original", {"components": components})
        assert (status, body["code"]) == (400, 50035), components
    fake.messages[fake.guild.text_channel].remove(message)  # deleted meanwhile
    status, body = await webhook(session, fake, late, "PATCH", "/messages/@original", {"components": _row("a")})
    assert (status, body["code"]) == (404, 10008)
