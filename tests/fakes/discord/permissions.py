"""Discord's permission model (topics/permissions): a member's base permissions from the guild's
roles, then the channel's overwrites (@everyone, roles, the member), threads inheriting their
parent's. The routes ask `missing(...)` and answer 50001 / 50013 as Discord does."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL = (1 << 51) - 1

# What a person typing commands has, and what someone who may manage a channel has.
MEMBER = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS
MANAGER = MEMBER | MANAGE_CHANNELS
# What the bot's own role gets from its invite link (bot/platforms/discord/invite.py asks for
# exactly these): the default in the fake, so a test that removes one sees Discord's refusal.
BOT_INVITE = (VIEW_CHANNEL | SEND_MESSAGES | SEND_MESSAGES_IN_THREADS | CREATE_PUBLIC_THREADS
              | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY)

NAMES = {ADMINISTRATOR: "Administrator", MANAGE_CHANNELS: "Manage Channels",
         VIEW_CHANNEL: "View Channel", SEND_MESSAGES: "Send Messages",
         MANAGE_MESSAGES: "Manage Messages", EMBED_LINKS: "Embed Links", ATTACH_FILES: "Attach Files",
         READ_MESSAGE_HISTORY: "Read Message History",
         USE_APPLICATION_COMMANDS: "Use Application Commands", MANAGE_THREADS: "Manage Threads",
         CREATE_PUBLIC_THREADS: "Create Public Threads",
         SEND_MESSAGES_IN_THREADS: "Send Messages in Threads"}


def base_permissions(guild_id: int, roles: Sequence[Mapping[str, Any]], member_roles: Iterable[int],
                     *, is_owner: bool = False) -> int:
    """@everyone's permissions OR those of every role the member has; all for the owner or an
    administrator."""
    if is_owner:
        return ALL
    wanted = {int(r) for r in member_roles}
    permissions = 0
    for role in roles:
        role_id = int(role["id"])
        if role_id == guild_id or role_id in wanted:
            permissions |= int(role["permissions"])
    return ALL if permissions & ADMINISTRATOR else permissions


def channel_permissions(base: int, guild_id: int, overwrites: Sequence[Mapping[str, Any]],
                        member_id: int, member_roles: Iterable[int]) -> int:
    """The docs' order: @everyone overwrite, then all role overwrites (deny, then allow), then the
    member's own overwrite. Administrators are not affected."""
    if base & ADMINISTRATOR:
        return ALL
    permissions = base
    by_id = {int(o["id"]): o for o in overwrites}
    everyone = by_id.get(guild_id)
    if everyone:
        permissions = (permissions & ~int(everyone["deny"])) | int(everyone["allow"])
    allow = deny = 0
    for role_id in member_roles:
        overwrite = by_id.get(int(role_id))
        if overwrite and int(overwrite.get("type", 0)) == 0:
            allow |= int(overwrite["allow"])
            deny |= int(overwrite["deny"])
    permissions = (permissions & ~deny) | allow
    mine = by_id.get(member_id)
    if mine and int(mine.get("type", 1)) == 1:
        permissions = (permissions & ~int(mine["deny"])) | int(mine["allow"])
    if not permissions & VIEW_CHANNEL:
        return 0   # a channel one cannot see grants nothing else
    return permissions


def names(bits: int) -> str:
    return ", ".join(name for bit, name in NAMES.items() if bits & bit) or "none"
