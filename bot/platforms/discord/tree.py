"""The `/papers` command tree: the app_commands group with one subcommand per command, and
`PapersInteractions`, which turns an interaction into a command for the command layer and its
Response into a Discord reply.

Each subcommand's typed options are turned back into the `/papers` text and run through
`CommandExecutor.execute`, so the grammar (bot/commands/grammar.py) stays the one source of truth
for what a command means; this module only decides who may manage a channel and renders the
Response (replies.py).

Who may change subscriptions: members with Manage Channels (resolved for the channel, so an
Administrator qualifies) or the configured `discord.manager_role` (a role name or id). This is a
runtime check: Discord's `default_member_permissions` applies only to a top-level command, and
`/papers` as a whole must stay usable by everyone (list, today, test, search). Server admins can
still narrow `/papers` further in Server Settings → Integrations.
"""

from __future__ import annotations

import functools
import io
import logging
import zoneinfo
from typing import Literal, Optional

import discord
from discord import app_commands

from bot.commands import CommandContext, CommandExecutor, Response
from bot.commands.grammar import HELP_TOPICS, Subscribe, Unsubscribe, parse_command
from bot.commands.responses import INTERNAL_ERROR, internal_error_response
from bot.config import Settings
from bot.platforms.discord.components import NO_MENTIONS, abstract_view
from bot.platforms.discord.deadline import DEFER_AFTER_SECONDS, ready_within, within_deadline
from bot.platforms.discord.replies import MAX_TEXT_FOLLOWUPS, attachment_contents, render_response

log = logging.getLogger(__name__)

# Discord wants an answer to an interaction within 3 s of creating it; past DEFER_AFTER_SECONDS
# (counted from then, see deadline.py) we acknowledge privately ("thinking...") and put the answer
# in when the command is done.
MAX_CHOICES = 25
FORM_CHARS = 4000             # a text input's max_length
FORM_LABEL_CHARS = 45
CHOICE_NAME_LIMIT = 100
TYPE_COMBINATIONS = ("new,cross", "new", "cross", "new,cross,replace", "new,replace", "replace")


class PapersInteractions:
    """From an interaction to the command layer and back: who and where (`context`), whether
    they may manage the channel, running a command (deferred when slow), answering."""

    def __init__(self, commands: CommandExecutor, settings: Settings, *,
                 defer_after: float = DEFER_AFTER_SECONDS) -> None:
        self.commands = commands
        self.settings = settings
        self.defer_after = defer_after
        # The last subscription list read per channel, for autocomplete when the store is slow.
        self._choices: dict[tuple[str, str], list[tuple[int, str]]] = {}

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
        response = await within_deadline(interaction, self.commands.execute(ctx, text),
                                         defer_after=self.defer_after)
        if _changes_subscriptions(text) and not response.ephemeral:
            self._choices.pop(_channel_key(ctx), None)   # the autocomplete's list is stale now
        await self.respond(interaction, response)

    async def respond(self, interaction: discord.Interaction, response: Response) -> None:
        if response.attachment is None:
            await self._respond(interaction, response, None)
            return
        attachment = response.attachment
        try:
            await self._respond(interaction, response, discord.File(
                io.BytesIO(attachment.text.encode("utf-8")), filename=attachment.filename,
                description=attachment.title or None))
            return
        except discord.HTTPException as exc:
            # No Attach Files here, or too large: the same reply, then the file's text in code blocks.
            log.info("could not attach %s (%s %s); answering with the text instead",
                     attachment.filename, exc.status, exc.code)
            reason = ("paperbot may not attach files here (Attach Files)" if exc.status == 403
                      else "the file is too large to attach")
        if not interaction.response.is_done():
            await self._respond(interaction, response, None)
        elif not response.ephemeral:
            await interaction.followup.send(render_response(response).content, allowed_mentions=NO_MENTIONS)
        pieces = attachment_contents(attachment, reason)
        for piece in pieces[:MAX_TEXT_FOLLOWUPS]:
            await interaction.followup.send(piece, ephemeral=response.ephemeral, allowed_mentions=NO_MENTIONS)

    async def _respond(self, interaction: discord.Interaction, response: Response,
                       file: discord.File | None) -> None:
        rendered = render_response(response)
        extra = {"view": abstract_view(rendered.paper_ids)} if rendered.paper_ids else {}
        if interaction.response.is_done():
            # Deferred, always privately (a refusal must not be shown to the whole channel): a
            # public answer goes out as a public followup and the private "thinking..." goes away.
            if not response.ephemeral:
                await interaction.followup.send(rendered.content, embeds=rendered.embeds,
                                                allowed_mentions=NO_MENTIONS,
                                                **extra, **({"file": file} if file else {}))
                try:
                    await interaction.delete_original_response()
                except discord.HTTPException as exc:
                    log.info("could not remove the private 'thinking...' message: %s", exc)
                return
            await interaction.edit_original_response(content=rendered.content, embeds=rendered.embeds,
                                                      allowed_mentions=NO_MENTIONS,
                                                      **extra, **({"attachments": [file]} if file else {}))
        else:
            await interaction.response.send_message(rendered.content, embeds=rendered.embeds,
                                                    ephemeral=response.ephemeral,
                                                    allowed_mentions=NO_MENTIONS,
                                                    **extra, **({"file": file} if file else {}))

    async def open_keywords_form(self, interaction: discord.Interaction) -> None:
        # A form must be the FIRST answer (it cannot follow a defer): the keywords are read
        # within the deadline, or the person is asked to try again.
        ready, current_task = await ready_within(
            interaction, self.commands.personal.form_text(self.context(interaction)),
            budget=self.defer_after)
        if not ready:
            current_task.cancel()
            await interaction.response.send_message(
                "Your keywords took too long to load just now; run /papers me edit again in a "
                "moment (or use /papers me list).", ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        current = current_task.result()
        if isinstance(current, Response):   # the database cannot be reached just now
            await self.respond(interaction, current)
            return
        await interaction.response.send_modal(KeywordsForm(self, current))

    async def subscription_choices(self, interaction: discord.Interaction,
                                   current: str) -> list[app_commands.Choice[str]]:
        # Autocomplete cannot defer: the list is read within the deadline, else the last list
        # read for this channel is offered (and refreshed in the background for the next key).
        ctx = self.context(interaction)
        key = _channel_key(ctx)
        ready, task = await ready_within(interaction, self.commands.subscription_choices(ctx),
                                         budget=self.defer_after)
        if ready and not task.exception():
            self._choices[key] = task.result()
        elif not ready:
            task.add_done_callback(lambda t: t.cancelled() or t.exception()
                                   or self._choices.__setitem__(key, t.result()))
        numbered = self._choices.get(key, [])
        wanted = current.strip().lower()
        choices = [app_commands.Choice(name=_choice_name(f"{number}. {query}"), value=str(number))
                   for number, query in numbered]
        choices = [c for c in choices if not wanted or wanted in c.name.lower()]
        everything = app_commands.Choice(name=f"all ({len(numbered)} subscriptions)", value="all")
        if numbered and (not wanted or wanted in everything.name):
            # "all" always keeps its place, whatever the number of subscriptions.
            return choices[:MAX_CHOICES - 1] + [everything]
        return choices[:MAX_CHOICES]

    async def on_tree_error(self, interaction: discord.Interaction,
                            error: app_commands.AppCommandError) -> None:
        log.error("/papers in channel %s failed: %s", interaction.channel_id, error,
                  exc_info=error.__cause__ or error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(INTERNAL_ERROR, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(INTERNAL_ERROR, ephemeral=True,
                                                        allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.warning("could not tell the user about the failure either")


def command_tree(client: discord.Client, handlers: PapersInteractions) -> app_commands.CommandTree:
    """The client's command tree: `/papers` and its subcommands, errors answered by `handlers`."""
    tree = app_commands.CommandTree(client)
    tree.add_command(PapersCommands(handlers))
    tree.on_error = handlers.on_tree_error  # type: ignore[method-assign]
    return tree


# -- the /papers group --------------------------------------------------------------------------


class PapersCommands(app_commands.Group):
    """`/papers <subcommand>`; every subcommand becomes `/papers` text for the command layer."""

    def __init__(self, handlers: "PapersInteractions") -> None:
        super().__init__(name="papers", description="arXiv papers for this channel: subscriptions, "
                                                    "today's matches, search",
                         # channel subscriptions need a channel: servers only, never DMs
                         guild_only=True, allowed_contexts=app_commands.AppCommandContext(guild=True),
                         # installed to servers only (integration_types [0]), never to a user
                         allowed_installs=app_commands.AppInstallationType(guild=True, user=False))
        self.handlers = handlers
        self.add_command(PersonalCommands(handlers))

    @app_commands.command(name="today", description="Today's matches for this channel, or for a query "
                                                    "(only you see the answer)")
    @app_commands.describe(query='Optional ad-hoc query, e.g. VLM, "vision language model"; '
                                 "empty: this channel's subscriptions")
    async def today(self, interaction: discord.Interaction, query: Optional[str] = None) -> None:
        await self.handlers.run_command(interaction, _join("today", query))

    @app_commands.command(name="subscribe", description="Add a subscription for this channel "
                                                        "(Manage Channels)")
    @app_commands.describe(query='What to watch for, e.g. VLM, MLLM, "vision language model" NOT robot '
                                 "(see /papers help query)")
    async def subscribe(self, interaction: discord.Interaction, query: str) -> None:
        await self.handlers.run_command(interaction, _join("subscribe", query))

    @app_commands.command(name="unsubscribe", description="Remove a subscription of this channel "
                                                          "(Manage Channels)")
    @app_commands.describe(which="The number shown by /papers list, or all")
    async def unsubscribe(self, interaction: discord.Interaction, which: str) -> None:
        await self.handlers.run_command(interaction, _join("unsubscribe", which))

    @unsubscribe.autocomplete("which")
    async def _which(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await self.handlers.subscription_choices(interaction, current)

    @app_commands.command(name="list", description="This channel's subscriptions and settings")
    async def list_(self, interaction: discord.Interaction) -> None:
        await self.handlers.run_command(interaction, "list")

    @app_commands.command(name="test", description="Dry run of a query on the latest day, with why "
                                                   "each paper matched")
    @app_commands.describe(query="The query to try, e.g. diffusion AND (video OR 3D)")
    async def test(self, interaction: discord.Interaction, query: str) -> None:
        await self.handlers.run_command(interaction, _join("test", query))

    @app_commands.command(name="search", description="Full-text search over stored papers")
    @app_commands.describe(text="Words that must all appear in a title, abstract or author list")
    async def search(self, interaction: discord.Interaction, text: str) -> None:
        await self.handlers.run_command(interaction, _join("search", text))

    @app_commands.command(name="settings", description="Show or change this channel's daily post "
                                                       "(changes need Manage Channels)")
    @app_commands.describe(time="Time of the daily post, HH:MM on a 24-hour clock, e.g. 09:00",
                           tz="Time zone of that time, Area/City, e.g. Europe/Berlin",
                           types="Announce types: new, cross (cross-lists), replace (new versions)",
                           max="The thread shows the top N papers (1-100); the rest go in one "
                               "final message of links",
                           empty="On days without matches: post a short note, or stay silent",
                           order="relevance: by this channel's votes once it has enough; listing: "
                                 "best keyword match first",
                           weekly="A weekly best-of: on [DAY HH:MM], e.g. on fri 16:00; or off")
    async def settings(self, interaction: discord.Interaction, time: Optional[str] = None,
                       tz: Optional[str] = None, types: Optional[str] = None,
                       max: Optional[app_commands.Range[int, 1, 100]] = None,
                       empty: Optional[Literal["note", "silent"]] = None,
                       order: Optional[Literal["relevance", "listing"]] = None,
                       weekly: Optional[str] = None) -> None:
        parts = ["settings"]
        for key, value in (("time", time), ("tz", tz), ("types", types), ("max", max), ("empty", empty),
                           ("order", order), ("weekly", weekly)):
            if value is not None:
                parts += [key, str(value)]
        await self.handlers.run_command(interaction, " ".join(parts))

    @app_commands.command(name="export", description="This channel's 👍 papers as a BibTeX file")
    @app_commands.describe(format="The file format", period="Papers voted on in the last week (the default) "
                                                            "or month")
    async def export(self, interaction: discord.Interaction, format: Literal["bibtex"] = "bibtex",
                     period: Optional[Literal["week", "month"]] = None) -> None:
        await self.handlers.run_command(interaction, _join(f"export {format}", period))

    @settings.autocomplete("weekly")
    async def _weekly(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        typed = " ".join(current.lower().split())
        offers = ["on", "off", *(f"on {day} 16:00" for day in ("mon", "tue", "wed", "thu", "fri"))]
        if typed.startswith("on ") and typed not in offers:
            offers.insert(0, typed)
        return [app_commands.Choice(name=offer, value=offer) for offer in offers if offer.startswith(typed[:2])][:25]

    @app_commands.command(name="resume", description="Restart this channel's paused daily posts "
                                                     "(Manage Channels)")
    async def resume(self, interaction: discord.Interaction) -> None:
        await self.handlers.run_command(interaction, "resume")

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
        await self.handlers.run_command(interaction, _join("help", topic))


class PersonalCommands(app_commands.Group):
    """`/papers me add|remove|list|deliver|edit|forget`: the person's own keywords and votes on
    this server."""

    def __init__(self, handlers: "PapersInteractions") -> None:
        super().__init__(name="me", description="Your personal keywords and votes on this server "
                                                "(only you see them)")
        self.handlers = handlers

    @app_commands.command(name="add", description="Add personal keywords (same query language)")
    @app_commands.describe(query='What to watch for, e.g. diffusion AND video')
    async def add(self, interaction: discord.Interaction, query: str) -> None:
        await self.handlers.run_command(interaction, _join("me add", query))

    @app_commands.command(name="remove", description="Remove one of your keywords, or all")
    @app_commands.describe(which="The number shown by /papers me list, or all")
    async def remove(self, interaction: discord.Interaction, which: str) -> None:
        await self.handlers.run_command(interaction, _join("me remove", which))

    @app_commands.command(name="list", description="Your keywords and how they are delivered")
    async def list_(self, interaction: discord.Interaction) -> None:
        await self.handlers.run_command(interaction, "me list")

    @app_commands.command(name="deliver", description="Direct message, mentions in this channel's "
                                                      "daily thread, or off")
    @app_commands.describe(how="dm: a direct message a day; here: a mention in this channel's "
                               "thread; off: nothing")
    async def deliver(self, interaction: discord.Interaction,
                      how: Literal["dm", "here", "off"]) -> None:
        await self.handlers.run_command(interaction, _join("me deliver", how))

    @app_commands.command(name="edit", description="Edit all your keywords in a form, one per line")
    async def edit(self, interaction: discord.Interaction) -> None:
        await self.handlers.open_keywords_form(interaction)

    @app_commands.command(name="forget", description="Delete every 👍/👎 you cast on this server "
                                                     "(first says how many)")
    @app_commands.describe(confirm="confirm: really delete them (without it, only count them)")
    async def forget(self, interaction: discord.Interaction,
                     confirm: Optional[Literal["confirm"]] = None) -> None:
        await self.handlers.run_command(interaction, _join("me forget", confirm))


class KeywordsForm(discord.ui.Modal, title="Your personal keywords"):
    """One query per line; submitting replaces the lines the form showed (or saves nothing if a
    line is bad, saying which). A list longer than the form's 4,000 characters is shown in whole
    lines as far as it fits; the lines not shown are kept as they are, never deleted."""

    keywords: discord.ui.TextInput = discord.ui.TextInput(
        label="One query per line", style=discord.TextStyle.paragraph, required=False,
        max_length=FORM_CHARS, placeholder='MLLM, "vision language model"\ndiffusion AND video')

    def __init__(self, handlers: "PapersInteractions", current: str) -> None:
        super().__init__(timeout=900)
        self.handlers = handlers
        self.shown, self.not_shown = split_for_form(current)
        self.keywords.default = self.shown
        if self.not_shown:
            self.keywords.label = _choice_name(
                f"One per line ({len(self.not_shown)} more kept, not shown)")[:FORM_LABEL_CHARS]

    async def on_submit(self, interaction: discord.Interaction) -> None:
        ctx = self.handlers.context(interaction)
        text = "\n".join([self.keywords.value or "", *self.not_shown])
        response = await within_deadline(
            interaction, self.handlers.commands.personal.replace_all(ctx, text),
            defer_after=self.handlers.defer_after)
        await self.handlers.respond(interaction, response)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        log.error("the keywords form failed: %s", error, exc_info=error)
        await self.handlers.respond(interaction, internal_error_response(nothing_saved=True))


def _join(command: str, argument: object | None) -> str:
    return f"{command} {argument}" if argument not in (None, "") else command


@functools.cache
def _time_zone_names() -> tuple[str, ...]:
    # available_timezones() walks the tz database on disk: once, not on every keystroke.
    return tuple(sorted(zoneinfo.available_timezones()))


def time_zone_choices(current: str) -> list[app_commands.Choice[str]]:
    """Up to 25 zoneinfo names containing what was typed, those starting with it first."""
    wanted = current.strip().lower().replace(" ", "_")
    names = _time_zone_names()
    starts = [n for n in names if n.lower().startswith(wanted)]
    contains = [n for n in names if wanted in n.lower() and n not in starts]
    return [app_commands.Choice(name=n, value=n) for n in (starts + contains)[:MAX_CHOICES]]


def split_for_form(text: str, room: int = FORM_CHARS) -> tuple[str, tuple[str, ...]]:
    """The lines that fit the form in whole (never a query cut in half), and the rest."""
    lines = text.splitlines()
    shown: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        cost = len(line) + (1 if shown else 0)
        if used + cost > room:
            return "\n".join(shown), tuple(lines[index:])
        shown.append(line)
        used += cost
    return "\n".join(shown), ()


def _channel_key(ctx: CommandContext) -> tuple[str, str]:
    return ctx.workspace, ctx.channel


def _changes_subscriptions(text: str) -> bool:
    try:
        return isinstance(parse_command(text), (Subscribe, Unsubscribe))
    except ValueError:
        return False


def _choice_name(text: str) -> str:
    return text if len(text) <= CHOICE_NAME_LIMIT else text[: CHOICE_NAME_LIMIT - 1] + "…"
