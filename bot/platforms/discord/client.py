"""The Discord bot's runtime: the client classes (plain or sharded) with paperbot's command tree
and Abstract button, and `DiscordRuntime`, which the app starts next to the scheduler.

    runtime = await start_discord(settings, commands)   # None without DISCORD_TOKEN
    if runtime:
        await runtime.start()                           # logs in, connects, syncs /papers
        ... the scheduler delivers through runtime.sink to runtime.directory's destinations
        await runtime.close()

(`bot.service.start_platforms` does exactly this for `paperbot run`.) The commands themselves are in
tree.py, their registration with Discord in sync.py; everything the bot knows comes through the
command layer (`commands`, a CommandExecutor), never the store.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import discord
from discord import app_commands

from bot.commands import CommandExecutor, Response
from bot.config import Settings
from bot.models import Paper
from bot.platforms.discord.components import NO_MENTIONS, AbstractButton, VoteButton
from bot.platforms.discord.endpoints import use_endpoints
from bot.platforms.discord.sink import DiscordSink
from bot.platforms.discord.sync import sync_commands
from bot.platforms.discord.deadline import DEFER_AFTER_SECONDS
from bot.platforms.discord.tree import PapersInteractions, command_tree

log = logging.getLogger(__name__)

TOKEN_ENV_VAR = "DISCORD_TOKEN"
START_TIMEOUT_SECONDS = 60.0
# Discord lets a bot identify one shard per 5 s (per max_concurrency bucket): a start with many
# shards gets this much longer for every shard after the first.
IDENTIFY_SECONDS_PER_SHARD = 5.5

# Gateway close codes that end the connection for good (topics/opcodes-and-status-codes#gateway),
# each with what the operator should do.
FATAL_GATEWAY_CLOSES = {
    4004: "Discord rejected DISCORD_TOKEN at the gateway (4004 Authentication failed): copy the bot "
          "token again from the Developer Portal (Bot → Reset Token)",
    4010: "Discord refused the shard (4010 Invalid shard): discord.shards is not a valid shard "
          "count; remove it so that paperbot uses the count Discord recommends",
    4011: "Discord requires sharding for this many servers (4011 Sharding required): remove "
          "discord.shards from the configuration (paperbot then asks Discord how many shards to "
          "use) or raise it to at least the count Discord recommends",
    4012: "Discord refused the gateway version (4012 Invalid API version): point discord.api_url "
          "at https://discord.com/api/v10",
    4013: "Discord refused the gateway intents (4013 Invalid intents): this is a paperbot bug; "
          "please report it",
    4014: "Discord refused a privileged gateway intent (4014 Disallowed intents): paperbot needs "
          "none; if you changed the intents, turn them on in the Developer Portal (Bot → "
          "Privileged Gateway Intents) or undo the change",
}


class DiscordStartError(Exception):
    """The bot could not start; the message says why and what to check (never the token)."""


class PaperbotClientBase:
    """What paperbot adds to a discord.py client (mixed into Client / AutoShardedClient)."""

    tree: app_commands.CommandTree

    def _configure(self, settings: Settings, commands: CommandExecutor, *,
                   sync_state_path: Path | None, defer_after: float) -> None:
        self.settings = settings
        self.commands = commands
        self.sync_state_path = sync_state_path
        self.defer_after = defer_after
        self.interactions = PapersInteractions(commands, settings, defer_after=defer_after)
        self.tree = command_tree(self, self.interactions)  # type: ignore[arg-type]
        self.synced: list[str] = []   # sync targets actually sent to Discord by this process

    async def setup_hook(self) -> None:
        self.add_dynamic_items(AbstractButton, VoteButton)  # type: ignore[attr-defined]
        await self.sync_commands()

    async def lookup_paper(self, paper_id: str) -> Paper | Response:
        """For the Abstract button: the paper, or the Response to show instead."""
        return await self.commands.paper(paper_id)

    async def sync_commands(self) -> list[str]:
        """Register /papers where it changed (see sync.py); the targets sent."""
        sent = await sync_commands(self.tree, self.application_id,  # type: ignore[attr-defined]
                                   list(self.settings.discord.guild_ids), self.sync_state_path)
        self.synced += sent
        return sent


class PaperbotClient(PaperbotClientBase, discord.Client):
    def __init__(self, settings: Settings, commands: CommandExecutor, *,
                 sync_state_path: Path | None = None, defer_after: float = DEFER_AFTER_SECONDS,
                 **options) -> None:
        discord.Client.__init__(self, **options)
        self._configure(settings, commands, sync_state_path=sync_state_path, defer_after=defer_after)


class ShardedPaperbotClient(PaperbotClientBase, discord.AutoShardedClient):
    def __init__(self, settings: Settings, commands: CommandExecutor, *,
                 sync_state_path: Path | None = None, defer_after: float = DEFER_AFTER_SECONDS,
                 **options) -> None:
        discord.AutoShardedClient.__init__(self, **options)
        self._configure(settings, commands, sync_state_path=sync_state_path, defer_after=defer_after)


def make_client(settings: Settings, commands: CommandExecutor, *, sync_state_path: Path | None = None,
                defer_after: float = DEFER_AFTER_SECONDS,
                guild_ready_timeout: float = 2.0) -> ShardedPaperbotClient:
    """An AutoShardedClient always: with `discord.shards` unset it asks Discord (GET
    /gateway/bot) how many shards to run, so the bot keeps working past 2,500 servers (one shard
    for a small bot: the same single connection a plain Client would open)."""
    intents = discord.Intents.none()
    intents.guilds = True  # channels and threads; interactions arrive without any intent
    options = dict(intents=intents, max_messages=None, guild_ready_timeout=guild_ready_timeout,
                   chunk_guilds_at_startup=False, allowed_mentions=NO_MENTIONS,
                   # Longer rate-limit waits come back to the core (RateLimited) instead of
                   # sleeping inside discord.py; 30 s is the smallest value it accepts.
                   max_ratelimit_timeout=30.0)
    return ShardedPaperbotClient(settings, commands, sync_state_path=sync_state_path,
                                 defer_after=defer_after, shard_count=settings.discord.shards, **options)


# -- runtime ----------------------------------------------------------------------------------


class DiscordRuntime:
    """The running bot: its `sink` and `directory` for the scheduler, `start()` and `close()`."""

    def __init__(self, client: PaperbotClient | ShardedPaperbotClient, token: str,
                 restore_endpoints) -> None:
        self.client = client
        self.sink = DiscordSink(client, max_messages_per_second=client.settings.discord.max_messages_per_second)
        self.directory = client.commands.channel_directory("discord")
        self._token = token
        self._restore_endpoints = restore_endpoints
        self._task: asyncio.Task | None = None
        self._closing = False
        self._stopped_because: str | None = None

    def __repr__(self) -> str:  # never show the token
        return f"<DiscordRuntime running={self.running}>"

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- health (bot.ops.PlatformHealth) --------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Ready, and every shard's gateway connection open."""
        if not self.running or not self.client.is_ready() or self.client.is_closed():
            return False
        return not self._closed_shards()

    @property
    def problem(self) -> str | None:
        if self._stopped_because:
            return self._stopped_because
        if self._task is None:
            return "not started"
        if not self.running:
            return "the Discord client stopped"
        if not self.client.is_ready():
            return "connecting to Discord's gateway"
        closed = self._closed_shards()
        if closed:
            return (f"gateway shard{'s' if len(closed) > 1 else ''} {', '.join(map(str, closed))} "
                    "disconnected; discord.py is reconnecting")
        return None

    def _closed_shards(self) -> list[int]:
        shards = getattr(self.client, "shards", {}) or {}
        return sorted(shard_id for shard_id, info in shards.items() if info.is_closed())

    # -- life cycle -----------------------------------------------------------------------------

    async def start(self, timeout: float | None = None) -> None:
        """Log in, connect every shard to the gateway and sync commands in this event loop;
        returns once the bot is ready (or raises DiscordStartError saying why it could not
        start). `timeout` (default `discord.start_timeout_seconds`) grows by
        IDENTIFY_SECONDS_PER_SHARD for every shard after the first, once Discord says how many."""
        if self._task is not None:
            raise RuntimeError("DiscordRuntime.start() was already called")
        if timeout is None:
            timeout = self.client.settings.discord.start_timeout_seconds
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._task = asyncio.create_task(self.client.start(self._token), name="paperbot-discord")
        self._task.add_done_callback(self._report_end)
        ready = asyncio.create_task(self.client.wait_until_ready())
        done: set = set()
        try:
            while not done:
                allowed = timeout + IDENTIFY_SECONDS_PER_SHARD * max(0, (self.client.shard_count or 1) - 1)
                remaining = started + allowed - loop.time()
                if remaining <= 0:
                    break
                done, _ = await asyncio.wait({self._task, ready}, timeout=min(remaining, 1.0),
                                             return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not ready.done():
                ready.cancel()
        if self._task in done:
            error = self._task.exception()
            await self.close()
            raise DiscordStartError(_start_problem(error)) from error
        if not done:
            await self.close()
            shards = self.client.shard_count or 1
            raise DiscordStartError(
                f"Discord did not get ready within {loop.time() - started:.0f} s ({shards} "
                f"shard{'s' if shards > 1 else ''}); check discord.api_url / discord.gateway_url "
                "and the network, or raise discord.start_timeout_seconds")
        log.info("Discord: logged in as %s in %d servers over %d shard(s)", self.client.user,
                 len(self.client.guilds), self.client.shard_count or 1)

    def _report_end(self, task: asyncio.Task) -> None:
        # discord.py reconnects by itself; the task ends early only on what it cannot recover from.
        if task.cancelled() or self._closing:
            return
        error = task.exception()
        self._stopped_because = f"the Discord bot stopped: {_start_problem(error)}"
        if self.client.is_ready():   # before ready, start() reports it
            log.error("%s", self._stopped_because)

    async def close(self) -> None:
        self._closing = True
        try:
            await self.client.close()
            if self._task is not None:
                try:
                    await self._task
                except Exception as exc:  # noqa: BLE001 - closing; the cause was reported already
                    log.debug("Discord client ended with %r", exc)
        finally:
            self._restore_endpoints()


def _start_problem(error: BaseException | None) -> str:
    if isinstance(error, discord.LoginFailure):
        return ("Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token again from "
                "the Developer Portal (Bot → Reset Token)")
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return FATAL_GATEWAY_CLOSES[4014]
    if isinstance(error, discord.GatewayNotFound):
        return "Discord's gateway could not be found; check discord.gateway_url or Discord's status"
    if isinstance(error, discord.HTTPException):
        return f"Discord answered {error.status} while logging in: {error.text}"
    if isinstance(error, discord.ConnectionClosed):
        if error.code in FATAL_GATEWAY_CLOSES:
            return FATAL_GATEWAY_CLOSES[error.code]
        return f"the Discord gateway closed the connection (code {error.code}): {error.reason}"
    if error is None:
        return "the Discord client stopped before it was ready"
    return f"could not reach Discord: {type(error).__name__}: {error}"


async def start_discord(settings: Settings, commands: CommandExecutor, *,
                        environ: Mapping[str, str] = os.environ,
                        sync_state_path: Path | None = None,
                        defer_after: float = DEFER_AFTER_SECONDS,
                        guild_ready_timeout: float = 2.0) -> DiscordRuntime | None:
    """The Discord runtime when DISCORD_TOKEN is set, else None. Nothing connects until
    `start()`. Points discord.py at `discord.api_url` / `discord.gateway_url` (see endpoints.py).
    The command sync state lives next to the database unless `sync_state_path` says otherwise."""
    token = (environ.get(TOKEN_ENV_VAR) or "").strip()
    if not token:
        log.info("%s is not set; the Discord bot stays off", TOKEN_ENV_VAR)
        return None
    restore = use_endpoints(settings.discord.api_url, settings.discord.gateway_url)
    if sync_state_path is None:
        sync_state_path = commands.data_directory / "discord-commands.json"
    client = make_client(settings, commands, sync_state_path=sync_state_path, defer_after=defer_after,
                         guild_ready_timeout=guild_ready_timeout)
    return DiscordRuntime(client, token, restore)
