"""A fake Discord on 127.0.0.1: the REST API (v10) and the gateway, strict enough that discord.py
runs unmodified and the bot fails its tests where real Discord would refuse it.

    async with FakeDiscord() as fake:
        settings = DiscordSettings(api_url=fake.api_url, gateway_url=fake.gateway_url)
        ... start the bot with DISCORD_TOKEN=fake.token ...
        await fake.wait_identified()
        iid = await fake.slash_command("papers", "subscribe", {"query": "VLM"}, permissions=MANAGER)
        reply = await fake.wait_for_callback(iid)          # the interaction callback's JSON body
        fake.fail("POST", r"/channels/\\d+/messages", code=50013)   # scripted, next matching call
        fake.calls                                         # every REST call: method, path, json
        fake.add_person("grace"); fake.close_dms(person_id); fake.dm_messages(person_id)
        fake.set_bot_permissions(BOT_INVITE & ~EMBED_LINKS)   # what the bot's role grants
        fake.deny_bot(channel_id, SEND_MESSAGES)           # a channel overwrite for the bot
        fake.remove_bot()                                  # kicked: 50001 Missing Access
        fake.clock.advance(3.5)                            # skip ahead (interaction deadlines...)

What it enforces, each from discord-api-docs:
- permissions (permissions.py, world.py): the bot's role is what its invite grants; overwrites
  and membership decide; 10003 Unknown Channel, 50001 Missing Access, 50013 Missing Permissions,
  an empty history without Read Message History, 50007 for closed DMs, 40003 for DMs opened too
  fast, 40067 for a forum post without the tag the forum requires;
- limits (validation.py): 400 / 50035 for messages over Discord's limits (2000 content, 10 embeds,
  6000 in total, 25 fields, title 256, description 4096), duplicate component custom_ids, invalid
  allowed_mentions, modals, autocomplete results over 25 choices, invalid command definitions;
- rate limits (ratelimits.py): X-RateLimit-* headers per route bucket, 429 with Discord's body,
  the bot-wide 50 requests/s (interaction endpoints exempt);
- interactions (interactions.py): callback within 3 s or 10062, one callback (40060), followups
  and edits for 15 minutes (then 50027);
- gateway (gateway.py): 4004 bad token, 4010 bad shard, 4011 Sharding required, events routed
  to the shard that holds their server.

Time-based rules read `fake.clock` (a ServiceClock: real time by default, plus what a test skips).
"""

from tests.fakes.discord.permissions import (
    BOT_INVITE,
    CREATE_PUBLIC_THREADS,
    EMBED_LINKS,
    MANAGE_CHANNELS,
    MANAGER,
    MEMBER,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
)
from tests.fakes.discord.ratelimits import RouteLimit
from tests.fakes.discord.server import FakeDiscord
from tests.fakes.discord.state import DM, FORUM, PUBLIC_THREAD, REQUIRE_TAG, TEXT, RecordedCall
from tests.fakes.discord.validation import embed_length

__all__ = [
    "BOT_INVITE", "CREATE_PUBLIC_THREADS", "DM", "EMBED_LINKS", "FORUM", "FakeDiscord",
    "MANAGER", "MANAGE_CHANNELS", "MEMBER", "PUBLIC_THREAD", "READ_MESSAGE_HISTORY",
    "REQUIRE_TAG", "RecordedCall", "RouteLimit", "SEND_MESSAGES", "SEND_MESSAGES_IN_THREADS",
    "TEXT", "VIEW_CHANNEL", "embed_length",
]
