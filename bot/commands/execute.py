"""Executing `/papers` commands against the store and the matcher, platform-neutral (DESIGN.md §6).

Adapters build a `CommandContext` from the platform event (who, where, whether they may manage the
channel), call `execute`, and render the `Response`. `execute` never raises for anything a user
can type: bad input, refusals and an unavailable database all come back as a Response whose
`outcome` says which; an unexpected bug is logged with its traceback and answered with an apology.

`CommandExecutor` is also everything else an adapter may ask of the core (a paper for an Abstract
button, a channel's numbered subscriptions, personal keywords for a form, lifting a pause when a
platform says a channel is back): adapters talk to it, never to the store.

The handlers live by job: channel.py (subscribe, unsubscribe, list, settings, resume), browse.py
(today, test, search), personal.py (`me ...`), help.py; `HANDLERS` below is the one dispatch.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.commands.browse import BrowseCommands
from bot.commands.channel import ChannelCommands
from bot.commands.context import CommandContext, CommandReply, CommandServices, answer
from bot.commands.grammar import (
    ChangeSettings,
    Command,
    Export,
    CommandError,
    ForgetVotes,
    Help,
    ListSubscriptions,
    Personal,
    Resume,
    Search,
    Subscribe,
    TestQuery,
    Today,
    Unsubscribe,
    parse_command,
)
from bot.commands.export import ExportCommands
from bot.commands.help import help_response
from bot.commands.personal import PersonalKeywords
from bot.commands.votes import PaperVotes, Tally, VoteClick, VoteRecorded
from bot.commands.responses import Response, error_response, internal_error_response, unavailable_response
from bot.config import Settings
from bot.destinations.channels import ChannelSubscriptions
from bot.models import Paper
from bot.ranking import Ranker
from bot.store import AsyncStore, StoreError
from bot.store.subscriptions import ChannelRef

log = logging.getLogger(__name__)

Handler = Callable[["CommandExecutor", CommandContext, Any], Awaitable[Response]]

# The one dispatch: a handler per command type of the grammar (tests/commands/test_execute.py
# checks none is missing).
HANDLERS: dict[type, Handler] = {
    Subscribe: lambda executor, ctx, command: executor.channel.subscribe(ctx, command),
    Unsubscribe: lambda executor, ctx, command: executor.channel.unsubscribe(ctx, command),
    ListSubscriptions: lambda executor, ctx, command: executor.channel.list(ctx),
    ChangeSettings: lambda executor, ctx, command: executor.channel.settings_command(ctx, command),
    Resume: lambda executor, ctx, command: executor.channel.resume(ctx),
    Today: lambda executor, ctx, command: executor.browse.today(ctx, command),
    TestQuery: lambda executor, ctx, command: executor.browse.test(ctx, command),
    Search: lambda executor, ctx, command: executor.browse.search(command),
    Personal: lambda executor, ctx, command: executor.personal.run(ctx, command),
    ForgetVotes: lambda executor, ctx, command: executor.votes.forget(ctx, command),
    Help: lambda executor, ctx, command: _help(command),
    Export: lambda executor, ctx, command: executor.export.export(ctx, command),
}


async def _help(command: Help) -> Response:
    return help_response(command)


class CommandExecutor:
    """Runs commands with one store and one configuration (adapters keep one of these)."""

    def __init__(self, store: AsyncStore, settings: Settings, *, ranker: Ranker | None = None) -> None:
        """`ranker`: the process's (bot.ranking), whose stored models order `today` and `me list`
        as the daily threads; one of its own when not given."""
        self.services = CommandServices(store, settings, ranker)
        self.channel = ChannelCommands(self.services)
        self.browse = BrowseCommands(self.services)
        self.personal = PersonalKeywords(self.services)
        self.votes = PaperVotes(self.services)
        self.export = ExportCommands(self.services)

    @property
    def store(self) -> AsyncStore:
        return self.services.store

    @property
    def settings(self) -> Settings:
        return self.services.settings

    async def execute(self, ctx: CommandContext, text: str) -> Response:
        unreadable = unreadable_characters(text)
        if unreadable:
            return error_response(f"Your command contains {unreadable}, which I cannot read; "
                                  "please type it again without it.")
        try:
            command = parse_command(text)
            return await self.run(ctx, command)
        except CommandError as exc:
            return error_response(str(exc))
        except CommandReply as reply:
            return reply.response
        except StoreError as exc:
            log.warning("/papers %s in %s: store unavailable: %s", _command_word(text),
                        ctx.destination_key, exc)
            return unavailable_response()
        except RecursionError:
            log.warning("/papers %s in %s: input nested too deeply", _command_word(text), ctx.destination_key)
            return error_response("That is nested too deeply for me to read; please simplify it.")
        except Exception:  # noqa: BLE001 - a chat command must get an answer, never a traceback
            log.exception("/papers %s in %s failed", _command_word(text), ctx.destination_key)
            return internal_error_response()

    async def run(self, ctx: CommandContext, command: Command) -> Response:
        """Execute an already parsed command (raises CommandReply / StoreError; `execute`
        handles them)."""
        handler = HANDLERS.get(type(command))
        if handler is None:
            raise TypeError(f"not a /papers command: {command!r}")
        return await handler(self, ctx, command)

    # -- what adapters ask besides commands ------------------------------------------------------

    async def paper(self, paper_id: str) -> Paper | Response:
        """The paper behind an Abstract button, or a Response to show instead (no longer stored,
        or the database cannot be reached)."""
        return await answer(f"abstract of {paper_id[:64]}", self.browse.paper(paper_id))

    async def vote(self, click: VoteClick) -> VoteRecorded | Response:
        """A click on a 👍/👎 button: vote, switch or withdraw (see bot.commands.votes); or the
        Response to show the clicker privately when it cannot be counted."""
        return await self.votes.vote(click)

    async def vote_tallies(self, destination: str, paper_ids: list[str]) -> dict[str, Tally] | Response:
        """The counts of `paper_ids` in `destination`, for the labels of a message's buttons."""
        return await self.votes.tallies(destination, paper_ids)

    async def subscription_choices(self, ctx: CommandContext) -> list[tuple[int, str]]:
        """`ctx`'s channel's subscriptions as numbered by /papers list (empty when the database
        cannot be reached: a suggestion list is not worth an error)."""
        try:
            return await self.channel.numbered_subscriptions(ctx)
        except StoreError as exc:
            log.warning("subscription choices for %s: store unavailable: %s", ctx.destination_key, exc)
            return []

    async def channel_is_back(self, platform: str, workspace: str, channel: str, why: str) -> None:
        """A platform says a lost channel is usable again (bot invited back, unarchived): lift
        its pause, as /papers resume would."""
        try:
            await self.channel.lift_pause(ChannelRef(platform, workspace, channel), why)
        except StoreError as exc:
            log.warning("could not resume %s:%s:%s (%s): store unavailable: %s",
                        platform, workspace, channel, why, exc)

    @property
    def data_directory(self) -> Path:
        """Where this deployment keeps its files: the database's folder (adapters keep small
        state files there, such as Discord's command sync state)."""
        return Path(self.store.path).resolve().parent

    def channel_directory(self, platform: str) -> ChannelSubscriptions:
        """The channels of `platform` that subscribed through commands, as delivery destinations."""
        return ChannelSubscriptions(self.store, platform, schedule=self.settings.schedule)


def unreadable_characters(text: object) -> str | None:
    """What in `text` no part of paperbot can handle (SQLite, JSON, the platforms): a NUL
    character, or a lone UTF-16 surrogate (a broken emoji); None when it is readable."""
    if not isinstance(text, str):
        return None
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a broken character (half of an emoji or other symbol)"
    return None


def _command_word(text: object) -> str:
    words = text.split(None, 1) if isinstance(text, str) else []
    return words[0][:20] if words else "(empty)"


async def execute(ctx: CommandContext, text: str, *, store: AsyncStore, settings: Settings) -> Response:
    """Run the `/papers` command `text` for `ctx`; always returns a Response (see CommandExecutor)."""
    return await CommandExecutor(store, settings).execute(ctx, text)
