"""The platform-neutral `/papers` command layer (DESIGN.md §6) that the chat adapters share.

    reply = await execute(CommandContext("slack", team, channel, user, can_manage, name), text,
                          store=store, settings=settings)

then render `reply` (a Response: `text`, `sections`, `ephemeral`, `outcome`) natively.
"""

from bot.commands.execute import CommandContext, CommandExecutor, execute
from bot.commands.grammar import USAGE, Command, CommandError, parse_command
from bot.commands.responses import (
    INTERNAL,
    INVALID,
    OK,
    REFUSED,
    UNAVAILABLE,
    DigestSection,
    Heading,
    Lines,
    PaperList,
    Preformatted,
    Response,
    Section,
)

__all__ = [
    "Command",
    "CommandContext",
    "CommandError",
    "CommandExecutor",
    "DigestSection",
    "Heading",
    "INTERNAL",
    "INVALID",
    "Lines",
    "OK",
    "PaperList",
    "Preformatted",
    "REFUSED",
    "Response",
    "Section",
    "UNAVAILABLE",
    "USAGE",
    "execute",
    "parse_command",
]
