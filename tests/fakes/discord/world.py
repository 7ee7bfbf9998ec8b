"""The servers, channels, people and roles a test sets up, and the bot's standing in them (its
invite role, channel overwrites, membership), from which routes compute its permissions."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord.permissions import (
    BOT_INVITE,
    EMBED_LINKS,
    MEMBER,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    base_permissions,
    channel_permissions,
)
from tests.fakes.discord.state import (
    DM,
    FORUM,
    PUBLIC_THREAD,
    TEXT,
    FakeGuild,
    iso_now,
    role_payload,
    user_payload,
)

DM_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY


class DiscordWorld:
    """Mixin of FakeDiscord: expects `_ids`, `channels`, `messages`, `guilds`, `people`,
    `bot_user`, `application_id`, `dm_channels`, `closed_dms` set up by its __init__."""

    def add_guild(self, name: str, *, text_name: str = "ml-papers",
                  bot_permissions: int = BOT_INVITE, guild_id: int | None = None) -> FakeGuild:
        """A server the bot was invited to (its role granting `bot_permissions`); `guild_id`
        chooses the id, and so the shard (`(guild_id >> 22) % shards`)."""
        guild_id = guild_id or self._ids.next()
        text = self._add_channel(guild_id, TEXT, text_name)
        forum = self._add_channel(guild_id, FORUM, "paper-forum")
        bot_role = self._ids.next()
        roles = [role_payload(guild_id, "@everyone", MEMBER),
                 role_payload(bot_role, "paperbot", bot_permissions, position=1,
                              bot_id=self.application_id)]
        guild = FakeGuild(guild_id, name, text, forum, roles, bot_role=bot_role)
        self.guilds[guild_id] = guild
        return guild

    def add_person(self, name: str) -> dict[str, Any]:
        person = user_payload(self._ids.next(), name)
        self.people[int(person["id"])] = person
        return person

    def close_dms(self, user_id: int | str) -> None:
        self.closed_dms.add(int(user_id))

    def dm_messages(self, user_id: int | str) -> list[dict[str, Any]]:
        channel = self.dm_channels.get(int(user_id))
        return list(self.messages.get(channel, [])) if channel else []

    def add_role(self, guild: FakeGuild, name: str, permissions: int = MEMBER) -> int:
        role = role_payload(self._ids.next(), name, permissions, position=len(guild.roles))
        guild.roles.append(role)
        return int(role["id"])

    def add_text_channel(self, guild: FakeGuild, name: str, *, forum: bool = False,
                         flags: int = 0) -> int:
        channel_id = self._add_channel(guild.id, FORUM if forum else TEXT, name)
        self.channels[channel_id]["flags"] = flags
        return channel_id

    def _add_channel(self, guild_id: int, kind: int, name: str) -> int:
        channel_id = self._ids.next()
        payload = {"id": str(channel_id), "type": kind, "guild_id": str(guild_id), "name": name,
                   "position": len(self.channels), "permission_overwrites": [], "nsfw": False,
                   "topic": None, "rate_limit_per_user": 0, "parent_id": None, "last_message_id": None,
                   "default_auto_archive_duration": 1440, "flags": 0}
        if kind == FORUM:
            payload.update({"available_tags": [], "default_reaction_emoji": None,
                            "default_sort_order": None, "default_forum_layout": 0,
                            "default_thread_rate_limit_per_user": 0})
        self.channels[channel_id] = payload
        self.messages[channel_id] = []
        return channel_id

    def add_thread(self, parent_id: int, name: str) -> int:
        """A thread someone else started (e.g. a member's forum post), for commands typed in it."""
        thread_id = self._ids.next()
        thread = self._thread_payload(thread_id, self.channels[parent_id], name, 1440)
        thread["owner_id"] = self.user["id"]
        self.channels[thread_id] = thread
        self.messages[thread_id] = []
        return thread_id

    def delete_channel(self, channel_id: int) -> None:
        """The channel disappears (Discord answers 404 / 10003 Unknown Channel from now on)."""
        self.channels.pop(channel_id, None)
        self.messages.pop(channel_id, None)

    # -- the bot's standing ---------------------------------------------------------------------

    def set_bot_permissions(self, permissions: int, guild: FakeGuild | None = None) -> None:
        """What the bot's own role grants in `guild` (the default server when omitted)."""
        guild = guild or self.guild
        role = next(r for r in guild.roles if int(r["id"]) == guild.bot_role)
        role["permissions"] = str(permissions)

    def deny_bot(self, channel_id: int, permissions: int, *, allow: int = 0) -> None:
        """A channel overwrite for the bot itself (a member overwrite, type 1)."""
        overwrites = self.channels[channel_id]["permission_overwrites"]
        overwrites[:] = [o for o in overwrites if o["id"] != self.bot_user["id"]]
        overwrites.append({"id": self.bot_user["id"], "type": 1, "allow": str(allow),
                           "deny": str(permissions)})

    def remove_bot(self, guild: FakeGuild | None = None) -> None:
        """The bot is kicked from the server: its channels answer 50001 Missing Access."""
        (guild or self.guild).bot_is_member = False

    def bot_permissions(self, channel_id: int) -> int:
        """The bot's permissions in a channel, as Discord computes them (threads use their
        parent's overwrites)."""
        channel = self.channels[channel_id]
        if channel["type"] == DM:
            return DM_PERMISSIONS
        guild = self.guilds.get(int(channel["guild_id"]))
        if guild is None or not guild.bot_is_member:
            return 0
        source = channel
        if channel["type"] == PUBLIC_THREAD and channel.get("parent_id"):
            source = self.channels.get(int(channel["parent_id"]), channel)
        base = base_permissions(guild.id, guild.roles, [guild.bot_role])
        return channel_permissions(base, guild.id, source.get("permission_overwrites") or [],
                                   int(self.bot_user["id"]), [guild.bot_role])

    # -- payloads ---------------------------------------------------------------------------

    def _thread_payload(self, thread_id: int, parent: dict[str, Any], name: str,
                        archive: int) -> dict[str, Any]:
        return {"id": str(thread_id), "type": PUBLIC_THREAD, "guild_id": parent["guild_id"],
                "parent_id": parent["id"], "owner_id": self.bot_user["id"], "name": name,
                "last_message_id": None, "message_count": 0, "member_count": 1,
                "rate_limit_per_user": 0, "flags": 0, "total_message_sent": 0, "applied_tags": [],
                "thread_metadata": {"archived": False, "auto_archive_duration": archive,
                                    "archive_timestamp": iso_now(), "locked": False},
                "member": {"id": str(thread_id), "user_id": self.bot_user["id"],
                           "join_timestamp": iso_now(), "flags": 0}}

    def _guild_payload(self, guild: FakeGuild) -> dict[str, Any]:
        channels = [c for c in self.channels.values()
                    if c.get("guild_id") == str(guild.id) and c["type"] in (TEXT, FORUM)]
        threads = [c for c in self.channels.values()
                   if c.get("guild_id") == str(guild.id) and c["type"] == PUBLIC_THREAD]
        me = {"user": self.bot_user, "roles": [str(guild.bot_role)], "joined_at": iso_now(),
              "deaf": False, "mute": False, "flags": 0, "nick": None}
        return {"id": str(guild.id), "name": guild.name, "icon": None, "splash": None,
                "discovery_splash": None, "owner_id": self.user["id"], "afk_channel_id": None,
                "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
                "explicit_content_filter": 0, "roles": guild.roles, "emojis": [], "stickers": [],
                "features": [], "mfa_level": 0, "application_id": None, "system_channel_id": None,
                "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
                "description": None, "banner": None, "premium_tier": 0, "preferred_locale": "en-US",
                "public_updates_channel_id": None, "nsfw_level": 0, "premium_progress_bar_enabled": False,
                "joined_at": iso_now(), "large": False, "unavailable": False, "member_count": 2,
                "voice_states": [], "members": [me], "channels": channels, "threads": threads,
                "presences": [], "stage_instances": [], "guild_scheduled_events": [],
                "soundboard_sounds": []}

    def thread_messages(self, thread_id: int) -> list[dict[str, Any]]:
        return list(self.messages.get(int(thread_id), []))

    def threads_of(self, channel_id: int) -> list[dict[str, Any]]:
        return [c for c in self.channels.values()
                if c["type"] == PUBLIC_THREAD and c["parent_id"] == str(channel_id)]
