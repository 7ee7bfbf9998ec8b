"""The Discord bot: `/papers` slash commands, the Abstract button, and the runtime that the app
starts next to the scheduler.

    runtime = await start_discord(settings, store)      # None without DISCORD_TOKEN
    if runtime:
        await runtime.start()                           # logs in, connects, syncs /papers
        ... the scheduler delivers through runtime.sink to runtime.directory's destinations
        await runtime.close()

(`bot.service.start_platforms` does exactly this for `paperbot run`.)

Slash commands map onto the platform-neutral command layer: each subcommand's typed options are
turned back into the `/papers` text and run through `CommandExecutor.execute`, so the grammar
(bot/commands/grammar.py) stays the one source of truth for what a command means; this module
only decides who may manage a channel and renders the Response (render.py).

Who may change subscriptions: members with Manage Channels (resolved for the channel, so an
Administrator qualifies) or the configured `discord.manager_role` (a role name or id). This is a
runtime check: Discord's `default_member_permissions` applies only to a top-level command, and
`/papers` as a whole must stay usable by everyone (list, today, test, search). Server admins can
still narrow `/papers` further in Server Settings → Integrations.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Optional

import discord
from discord import app_commands

from bot.commands import CommandContext, CommandExecutor, Response
from bot.commands.grammar import HELP_TOPICS, ChangeSettings, Subscribe, Unsubscribe, parse_command
from bot.config import Settings
from bot.destinations.channels import ChannelSubscriptions
from bot.models import Paper
from bot.platforms.discord.components import NO_MENTIONS, AbstractButton, abstract_view
from bot.platforms.discord.endpoints import use_endpoints
from bot.platforms.discord.replies import render_response
from bot.platforms.discord.sink import DiscordSink
from bot.commands.personal import person_of, queries_text
from bot.store import AsyncStore, StoreError
from bot.store import personal as personal_store
from bot.store import subscriptions as channel_store
from bot.store.subscriptions import ChannelRef

log = logging.getLogger(__name__)

TOKEN_ENV_VAR = "DISCORD_TOKEN"
# Discord wants an answer to an interaction within 3 s; past this we acknowledge ("thinking...")
# and edit the answer in when the command is done.
DEFER_AFTER_SECONDS = 2.0
START_TIMEOUT_SECONDS = 60.0
MAX_CHOICES = 25
CHOICE_NAME_LIMIT = 100
TYPE_COMBINATIONS = ("new,cross", "new", "cross", "new,cross,replace", "new,replace", "replace")


class DiscordStartError(Exception):
    """The bot could not start; the message says why and what to check (never the token)."""


# -- the /papers group --------------------------------------------------------------------------


class PapersCommands(app_commands.Group):
    """`/papers <subcommand>`; every subcommand becomes `/papers` text for the command layer."""

    def __init__(self, bot: "PaperbotClientBase") -> None:
        super().__init__(name="papers", description="arXiv papers for this channel: subscriptions, "
                                                    "today's matches, search",
                         # channel subscriptions need a channel: servers only, never DMs
                         guild_only=True, allowed_contexts=app_commands.AppCommandContext(guild=True))
        self.bot = bot
        self.add_command(PersonalCommands(bot))

    @app_commands.command(name="today", description="Today's matches for this channel, or for a query "
                                                    "(only you see the answer)")
    @app_commands.describe(query='Optional ad-hoc query, e.g. VLM, "vision language model"; '
                                 "empty: this channel's subscriptions")
    async def today(self, interaction: discord.Interaction, query: Optional[str] = None) -> None:
        await self.bot.run_command(interaction, _join("today", query))

    @app_commands.command(name="subscribe", description="Add a subscription for this channel "
                                                        "(Manage Channels)")
    @app_commands.describe(query='What to watch for, e.g. VLM, MLLM, "vision language model" NOT robot '
                                 "(see /papers help query)")
    async def subscribe(self, interaction: discord.Interaction, query: str) -> None:
        await self.bot.run_command(interaction, _join("subscribe", query))

    @app_commands.command(name="unsubscribe", description="Remove a subscription of this channel "
                                                          "(Manage Channels)")
    @app_commands.describe(which="The number shown by /papers list, or all")
    async def unsubscribe(self, interaction: discord.Interaction, which: str) -> None:
        await self.bot.run_command(interaction, _join("unsubscribe", which))

    @unsubscribe.autocomplete("which")
    async def _which(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self.bot.subscription_choices(interaction, current)

    @app_commands.command(name="list", description="This channel's subscriptions and settings")
    async def list_(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, "list")

    @app_commands.command(name="test", description="Dry run of a query on the latest day, with why "
                                                   "each paper matched")
    @app_commands.describe(query="The query to try, e.g. diffusion AND (video OR 3D)")
    async def test(self, interaction: discord.Interaction, query: str) -> None:
        await self.bot.run_command(interaction, _join("test", query))

    @app_commands.command(name="search", description="Full-text search over stored papers")
    @app_commands.describe(text="Words that must all appear in a title, abstract or author list")
    async def search(self, interaction: discord.Interaction, text: str) -> None:
        await self.bot.run_command(interaction, _join("search", text))

    @app_commands.command(name="settings", description="Show or change this channel's daily post "
                                                       "(changes need Manage Channels)")
    @app_commands.describe(time="Time of the daily post, HH:MM on a 24-hour clock, e.g. 09:00",
                           tz="Time zone of that time, Area/City, e.g. Europe/Berlin",
                           types="Announce types: new, cross (cross-lists), replace (new versions)",
                           max="At most this many papers a day (1-100)",
                           empty="On days without matches: post a short note, or stay silent")
    async def settings(self, interaction: discord.Interaction, time: Optional[str] = None,
                       tz: Optional[str] = None, types: Optional[str] = None,
                       max: Optional[app_commands.Range[int, 1, 100]] = None,
                       empty: Optional[Literal["note", "silent"]] = None) -> None:
        parts = ["settings"]
        for key, value in (("time", time), ("tz", tz), ("types", types), ("max", max), ("empty", empty)):
            if value is not None:
                parts += [key, str(value)]
        await self.bot.run_command(interaction, " ".join(parts))

    @settings.autocomplete("tz")
    async def _tz(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return time_zone_choices(current)

    @settings.autocomplete("types")
    async def _types(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        wanted = current.replace(" ", "").lower()
        return [app_commands.Choice(name=combo, value=combo) for combo in TYPE_COMBINATIONS
                if combo.startswith(wanted) or wanted in combo]

    # `/papers me ...` (added in __init__): personal keywords, every answer private.

    @app_commands.command(name="help", description="How to use /papers and its query language")
    @app_commands.describe(topic="A command, or query for the query language")
    @app_commands.choices(topic=[app_commands.Choice(name=t, value=t) for t in HELP_TOPICS])
    async def help(self, interaction: discord.Interaction, topic: Optional[str] = None) -> None:
        await self.bot.run_command(interaction, _join("help", topic))


class PersonalCommands(app_commands.Group):
    """`/papers me add|remove|list|deliver|edit`: the person's own keywords on this server."""

    def __init__(self, bot: "PaperbotClientBase") -> None:
        super().__init__(name="me", description="Your personal keywords on this server (only you "
                                                "see them)")
        self.bot = bot

    @app_commands.command(name="add", description="Add personal keywords (same query language)")
    @app_commands.describe(query='What to watch for, e.g. diffusion AND video')
    async def add(self, interaction: discord.Interaction, query: str) -> None:
        await self.bot.run_command(interaction, _join("me add", query))

    @app_commands.command(name="remove", description="Remove one of your keywords, or all")
    @app_commands.describe(which="The number shown by /papers me list, or all")
    async def remove(self, interaction: discord.Interaction, which: str) -> None:
        await self.bot.run_command(interaction, _join("me remove", which))

    @app_commands.command(name="list", description="Your keywords and how they are delivered")
    async def list_(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, "me list")

    @app_commands.command(name="deliver", description="Direct message, mentions in this channel's "
                                                      "daily thread, or off")
    @app_commands.describe(how="dm: a direct message a day; here: a mention in this channel's "
                               "thread; off: nothing")
    async def deliver(self, interaction: discord.Interaction,
                      how: Literal["dm", "here", "off"]) -> None:
        await self.bot.run_command(interaction, _join("me deliver", how))

    @app_commands.command(name="edit", description="Edit all your keywords in a form, one per line")
    async def edit(self, interaction: discord.Interaction) -> None:
        await self.bot.open_keywords_form(interaction)


class KeywordsForm(discord.ui.Modal, title="Your personal keywords"):
    """One query per line; submitting replaces the whole list (or saves nothing if a line is
    bad, saying which)."""

    keywords: discord.ui.TextInput = discord.ui.TextInput(
        label="One query per line", style=discord.TextStyle.paragraph, required=False,
        max_length=4000, placeholder='MLLM, "vision language model"\ndiffusion AND video')

    def __init__(self, bot: "PaperbotClientBase", current: str) -> None:
        super().__init__(timeout=900)
        self.bot = bot
        self.keywords.default = current[:4000]

    async def on_submit(self, interaction: discord.Interaction) -> None:
        ctx = self.bot.context(interaction)
        response = await self.bot.executor.personal.replace_all(ctx, self.keywords.value or "")
        await self.bot.respond(interaction, response)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        log.error("the keywords form failed: %s", error, exc_info=error)
        await self.bot.respond(interaction, Response(
            text="Sorry, something went wrong on my side; nothing was saved.", outcome="internal"))


def _join(command: str, argument: object | None) -> str:
    return f"{command} {argument}" if argument not in (None, "") else command


def time_zone_choices(current: str) -> list[app_commands.Choice[str]]:
    """Up to 25 zoneinfo names containing what was typed, those starting with it first."""
    wanted = current.strip().lower().replace(" ", "_")
    names = sorted(zoneinfo.available_timezones())
    starts = [n for n in names if n.lower().startswith(wanted)]
    contains = [n for n in names if wanted in n.lower() and n not in starts]
    return [app_commands.Choice(name=n, value=n) for n in (starts + contains)[:MAX_CHOICES]]


def _is_public_answer(text: str) -> bool:
    """Whether the command's answer is for the whole channel (subscription changes), so a
    deferred "thinking..." must be public too; everything else answers privately."""
    try:
        command = parse_command(text)
    except ValueError:
        return False
    if isinstance(command, ChangeSettings):
        return not command.shows_only
    return isinstance(command, (Subscribe, Unsubscribe))


# -- the client -------------------------------------------------------------------------------


class PaperbotClientBase:
    """What paperbot adds to a discord.py client (mixed into Client / AutoShardedClient)."""

    tree: app_commands.CommandTree

    def _configure(self, settings: Settings, store: AsyncStore, *, sync_state_path: Path | None,
                   defer_after: float) -> None:
        self.settings = settings
        self.store = store
        self.executor = CommandExecutor(store, settings)
        self.defer_after = defer_after
        self.sync_state_path = sync_state_path
        self.tree = app_commands.CommandTree(self)  # type: ignore[arg-type]
        self.tree.add_command(PapersCommands(self))
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self.synced: list[str] = []   # sync targets actually sent to Discord by this process

    async def setup_hook(self) -> None:
        self.add_dynamic_items(AbstractButton)  # type: ignore[attr-defined]
        await self.sync_commands()

    # -- commands ----------------------------------------------------------------------------

    def context(self, interaction: discord.Interaction) -> CommandContext:
        channel = interaction.channel
        # A command typed in the day's thread (or a forum post) is about the channel it belongs to.
        if isinstance(channel, discord.Thread) and channel.parent_id:
            channel_id, channel_name = channel.parent_id, getattr(channel.parent, "name", None)
        else:
            channel_id, channel_name = interaction.channel_id, getattr(channel, "name", None)
        return CommandContext("discord", str(interaction.guild_id or "dm"), str(channel_id),
                              str(interaction.user.id), self.can_manage(interaction), channel_name)

    def can_manage(self, interaction: discord.Interaction) -> bool:
        permissions = interaction.permissions
        if permissions.manage_channels or permissions.administrator:
            return True
        wanted = (self.settings.discord.manager_role or "").strip()
        if not wanted:
            return False
        roles = getattr(interaction.user, "roles", ())
        return any(str(role.id) == wanted or role.name.casefold() == wanted.casefold() for role in roles)

    async def run_command(self, interaction: discord.Interaction, text: str) -> None:
        ctx = self.context(interaction)
        task = asyncio.ensure_future(self.executor.execute(ctx, text))
        done, _ = await asyncio.wait({task}, timeout=self.defer_after)
        if not done:
            await interaction.response.defer(ephemeral=not _is_public_answer(text), thinking=True)
        response = await task
        await self.respond(interaction, response)

    async def respond(self, interaction: discord.Interaction, response: Response) -> None:
        rendered = render_response(response)
        extra = {"view": abstract_view(rendered.paper_ids)} if rendered.paper_ids else {}
        if interaction.response.is_done():
            await interaction.edit_original_response(content=rendered.content, embeds=rendered.embeds,
                                                      allowed_mentions=NO_MENTIONS, **extra)
        else:
            await interaction.response.send_message(rendered.content, embeds=rendered.embeds,
                                                    ephemeral=response.ephemeral,
                                                    allowed_mentions=NO_MENTIONS, **extra)

    async def open_keywords_form(self, interaction: discord.Interaction) -> None:
        ctx = self.context(interaction)
        try:
            rows = await self.store.run(lambda s: personal_store.list_personal(s.db, person_of(ctx)))
        except StoreError:
            await self.respond(interaction, Response(
                text="I cannot reach my database just now; please try again in a minute.",
                outcome="unavailable"))
            return
        await interaction.response.send_modal(KeywordsForm(self, queries_text(rows)))

    async def subscription_choices(self, interaction: discord.Interaction,
                                   current: str) -> list[app_commands.Choice[str]]:
        ctx = self.context(interaction)
        channel = ChannelRef("discord", ctx.workspace, ctx.channel)
        rows = await self.store.run(lambda s: channel_store.list_subscriptions(s.db, channel))
        choices = [app_commands.Choice(name=_choice_name(f"{n}. {row.query}"), value=str(n))
                   for n, row in enumerate(rows, start=1)]
        if rows:
            choices.append(app_commands.Choice(name=f"all ({len(rows)} subscriptions)", value="all"))
        wanted = current.strip().lower()
        return [c for c in choices if not wanted or wanted in c.name.lower()][:MAX_CHOICES]

    async def _on_tree_error(self, interaction: discord.Interaction,
                             error: app_commands.AppCommandError) -> None:
        log.error("/papers in channel %s failed: %s", interaction.channel_id, error,
                  exc_info=error.__cause__ or error)
        message = "Sorry, something went wrong on my side while doing that; it has been logged."
        try:
            if interaction.response.is_done():
                await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(message, ephemeral=True,
                                                        allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not tell the user about the failure either")

    # -- the Abstract button ---------------------------------------------------------------

    async def lookup_paper(self, paper_id: str) -> Paper | None:
        found = await self.store.run(lambda s: s.get_papers([paper_id]))
        return found.get(paper_id)

    # -- command sync ------------------------------------------------------------------------

    async def sync_commands(self) -> list[str]:
        """Register /papers with Discord where it changed: in each configured server (copying the
        global commands there, which shows them at once) or globally when no server is
        configured. Remembers a hash of what was sent per target in `sync_state_path`, so a
        restart with the same commands sends nothing."""
        application_id = self.application_id  # type: ignore[attr-defined]
        guild_ids = list(self.settings.discord.guild_ids)
        targets: list[discord.Object | None] = [discord.Object(id=g) for g in guild_ids] or [None]
        state = _read_state(self.sync_state_path)
        sent = []
        for guild in targets:
            if guild is not None:
                self.tree.copy_global_to(guild=guild)
            payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
            key = f"{application_id}:{guild.id if guild else 'global'}"
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
            if state.get(key) == digest:
                log.info("/papers commands unchanged for %s; not syncing", _target(guild))
                continue
            try:
                await self.tree.sync(guild=guild)
            except discord.Forbidden as exc:
                log.error("cannot register /papers in %s: %s (%s). Invite the bot with the "
                          "applications.commands scope (paperbot discord-invite).",
                          _target(guild), exc.text, exc.code)
                continue
            except discord.HTTPException as exc:
                log.error("registering /papers in %s failed: %s %s; will retry at the next start",
                          _target(guild), exc.status, exc.text)
                continue
            state[key] = digest
            sent.append(key)
            log.info("synced /papers to %s", _target(guild))
        if sent:
            _write_state(self.sync_state_path, state)
        self.synced += sent
        return sent


def _target(guild: discord.Object | None) -> str:
    return f"server {guild.id}" if guild else "all servers (global)"


def _choice_name(text: str) -> str:
    return text if len(text) <= CHOICE_NAME_LIMIT else text[: CHOICE_NAME_LIMIT - 1] + "…"


def _read_state(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable command sync state %s: %s", path, exc)
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_state(path: Path | None, state: Mapping[str, str]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(dict(state), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("could not remember the command sync in %s (%s); the next start syncs again",
                    path, exc)


class PaperbotClient(PaperbotClientBase, discord.Client):
    def __init__(self, settings: Settings, store: AsyncStore, *, sync_state_path: Path | None = None,
                 defer_after: float = DEFER_AFTER_SECONDS, **options) -> None:
        discord.Client.__init__(self, **options)
        self._configure(settings, store, sync_state_path=sync_state_path, defer_after=defer_after)


class ShardedPaperbotClient(PaperbotClientBase, discord.AutoShardedClient):
    def __init__(self, settings: Settings, store: AsyncStore, *, sync_state_path: Path | None = None,
                 defer_after: float = DEFER_AFTER_SECONDS, **options) -> None:
        discord.AutoShardedClient.__init__(self, **options)
        self._configure(settings, store, sync_state_path=sync_state_path, defer_after=defer_after)


def make_client(settings: Settings, store: AsyncStore, *, sync_state_path: Path | None = None,
                defer_after: float = DEFER_AFTER_SECONDS,
                guild_ready_timeout: float = 2.0) -> PaperbotClient | ShardedPaperbotClient:
    intents = discord.Intents.none()
    intents.guilds = True  # channels and threads; interactions arrive without any intent
    options = dict(intents=intents, max_messages=None, guild_ready_timeout=guild_ready_timeout,
                   chunk_guilds_at_startup=False, allowed_mentions=NO_MENTIONS,
                   # Longer rate-limit waits come back to the core (RateLimited) instead of
                   # sleeping inside discord.py; 30 s is the smallest value it accepts.
                   max_ratelimit_timeout=30.0)
    shards = settings.discord.shards
    if shards:
        return ShardedPaperbotClient(settings, store, sync_state_path=sync_state_path,
                                     defer_after=defer_after, shard_count=shards, **options)
    return PaperbotClient(settings, store, sync_state_path=sync_state_path, defer_after=defer_after,
                          **options)


# -- runtime ----------------------------------------------------------------------------------


class DiscordRuntime:
    """The running bot: its `sink` and `directory` for the scheduler, `start()` and `close()`."""

    def __init__(self, client: PaperbotClient | ShardedPaperbotClient, store: AsyncStore, token: str,
                 restore_endpoints) -> None:
        self.client = client
        self.sink = DiscordSink(client)
        self.directory = ChannelSubscriptions(store, "discord", schedule=client.settings.schedule)
        self._token = token
        self._restore_endpoints = restore_endpoints
        self._task: asyncio.Task | None = None
        self._closing = False

    def __repr__(self) -> str:  # never show the token
        return f"<DiscordRuntime running={self.running}>"

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Log in, connect to the gateway and sync commands in this event loop; returns once the
        bot is ready (or raises DiscordStartError saying why it could not start)."""
        if self._task is not None:
            raise RuntimeError("DiscordRuntime.start() was already called")
        self._task = asyncio.create_task(self.client.start(self._token), name="paperbot-discord")
        self._task.add_done_callback(self._report_end)
        ready = asyncio.create_task(self.client.wait_until_ready())
        try:
            done, _ = await asyncio.wait({self._task, ready}, timeout=timeout,
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
            raise DiscordStartError(f"Discord did not get ready within {timeout:g} s; check "
                                    "discord.api_url / discord.gateway_url and the network")
        log.info("Discord: logged in as %s in %d servers", self.client.user, len(self.client.guilds))

    def _report_end(self, task: asyncio.Task) -> None:
        # discord.py reconnects by itself; the task ends early only on what it cannot recover from.
        if task.cancelled() or self._closing:
            return
        error = task.exception()
        if self.client.is_ready():   # before ready, start() reports it
            log.error("the Discord bot stopped: %s", _start_problem(error))

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
        return "Discord refused the requested gateway intents"
    if isinstance(error, discord.GatewayNotFound):
        return "Discord's gateway could not be found; check discord.gateway_url or Discord's status"
    if isinstance(error, discord.HTTPException):
        return f"Discord answered {error.status} while logging in: {error.text}"
    if isinstance(error, discord.ConnectionClosed):
        return f"the Discord gateway closed the connection (code {error.code}): {error.reason}"
    if error is None:
        return "the Discord client stopped before it was ready"
    return f"could not reach Discord: {type(error).__name__}: {error}"


async def start_discord(settings: Settings, store: AsyncStore, *,
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
        sync_state_path = Path(store.path).resolve().parent / "discord-commands.json"
    client = make_client(settings, store, sync_state_path=sync_state_path, defer_after=defer_after,
                         guild_ready_timeout=guild_ready_timeout)
    return DiscordRuntime(client, store, token, restore)
