"""Discord: the daily thread (`DiscordSink`), `/papers` slash commands and the Abstract button.

The only package that imports discord.py. Public surface:

    start_discord(settings, commands, *, environ=os.environ) -> DiscordRuntime | None
    DiscordRuntime: .sink, .directory, async start(), async close()
    DiscordSink(client)                 the ThreadSink for Discord
    invite_url(application_id, permissions=BOT_PERMISSIONS) -> str
    application_id_from_token(api_url, token) -> int   (for the invite command)
    use_endpoints(api_url, gateway_url) point discord.py at a REST API and gateway (fakes, proxies)
"""

from bot.platforms.discord.client import (
    DiscordRuntime,
    DiscordStartError,
    PaperbotClient,
    ShardedPaperbotClient,
    make_client,
    start_discord,
)
from bot.platforms.discord.components import AbstractButton
from bot.platforms.discord.endpoints import EndpointError, use_endpoints
from bot.platforms.discord.invite import BOT_PERMISSIONS, application_id_from_token, invite_url
from bot.platforms.discord.render import LIMITS
from bot.platforms.discord.replies import render_response
from bot.platforms.discord.sink import DiscordSink

__all__ = [
    "AbstractButton",
    "BOT_PERMISSIONS",
    "DiscordRuntime",
    "DiscordSink",
    "DiscordStartError",
    "EndpointError",
    "LIMITS",
    "PaperbotClient",
    "ShardedPaperbotClient",
    "application_id_from_token",
    "invite_url",
    "make_client",
    "render_response",
    "start_discord",
    "use_endpoints",
]
