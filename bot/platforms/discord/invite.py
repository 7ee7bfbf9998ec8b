"""The bot's invite link (`paperbot discord-invite`): exactly the scopes and permissions it uses."""

from __future__ import annotations

import discord

# What the bot does, and nothing more: see channels and read back its own threads (resuming a
# half-posted day), post the parent message, create its thread and post embeds in it, and attach
# the .bib file of /papers export bibtex.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
)
SCOPES = ("bot", "applications.commands")


def invite_url(application_id: int | str, permissions: discord.Permissions = BOT_PERMISSIONS, *,
               guild_id: int | None = None) -> str:
    """The OAuth2 URL that adds the bot to a server with `permissions` (an integer in the URL)."""
    text = str(application_id).strip()
    if not text.isdigit():
        raise ValueError(f"a Discord application id is a number (the Developer Portal's "
                         f"'Application ID'), got {text!r}")
    options = {"permissions": permissions, "scopes": SCOPES}
    if guild_id is not None:
        options["guild"] = discord.Object(id=guild_id)
    return discord.utils.oauth_url(int(text), **options)


async def application_id_from_token(api_url: str, token: str) -> int:
    """The application id behind a bot token (for an invite link without looking it up by
    hand): logs in over REST only, never connects to the gateway. Raises DiscordStartError with
    a readable reason when the token is refused."""
    from bot.platforms.discord.client import DiscordStartError, _start_problem
    from bot.platforms.discord.endpoints import use_endpoints

    restore = use_endpoints(api_url)
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token.strip())
        if client.application_id is None:
            raise DiscordStartError("Discord did not say which application this token belongs to")
        return client.application_id
    except discord.DiscordException as exc:
        raise DiscordStartError(_start_problem(exc)) from exc
    finally:
        await client.close()
        restore()
