"""The platform-neutral `/papers` command layer (DESIGN.md §6) that the chat adapters share.

    commands = CommandExecutor(store, settings)
    reply = await commands.execute(CommandContext("slack", team, channel, user, can_manage, name), text)

then render `reply` (a Response: `text`, `sections`, `ephemeral`, `outcome`) natively. Adapters
ask the executor for anything else they need (`paper`, `subscription_choices`, `personal`,
`channel_is_back`), never the store.
"""

from bot.commands.context import CommandContext
from bot.commands.execute import CommandExecutor, execute
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
