"""The REST routes for the bot's own calls: login, command registration, channels, messages,
threads, forum posts and direct messages, each checked against the bot's permissions and
Discord's limits before it changes anything."""

from __future__ import annotations

import math
from typing import Any

from tests.fakes.discord.permissions import (
    CREATE_PUBLIC_THREADS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
)
from tests.fakes.discord.state import (
    DM,
    FORUM,
    PUBLIC_THREAD,
    REQUIRE_TAG,
    DiscordError,
    iso_now,
)
from tests.fakes.discord.validation import check_commands, check_message, check_thread_name

GUILDS_PER_RECOMMENDED_SHARD = 1000


class RestRoutes:
    """Mixin of FakeDiscord (see world.DiscordWorld for the attributes it expects)."""

    def _routes(self):
        return (
            ("GET", r"/users/@me", lambda q, b: (200, self.bot_user)),
            ("GET", r"/oauth2/applications/@me", lambda q, b: (200, self._application())),
            ("GET", r"/gateway/bot", self._gateway_bot),
            ("PUT", r"/applications/(\d+)/commands", lambda q, b, app: self._put_commands(app, None, b)),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self._put_guild_commands),
            ("GET", r"/applications/(\d+)/commands", lambda q, b, app: (200, self.commands.get(None, []))),
            ("GET", r"/channels/(\d+)", lambda q, b, c: (200, self._visible_channel(c))),
            ("GET", r"/channels/(\d+)/messages", self._history),
            ("POST", r"/channels/(\d+)/messages", self._post_message),
            ("POST", r"/users/@me/channels", self._open_dm),
            ("POST", r"/channels/(\d+)/messages/(\d+)/threads", self._thread_from_message),
            ("POST", r"/channels/(\d+)/threads", self._forum_post),
            ("GET", r"/guilds/(\d+)/threads/active", self._active_threads),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._interaction_callback),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/@original", self._edit_original),
            ("DELETE", r"/webhooks/(\d+)/([^/]+)/messages/@original", self._delete_original),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._followup),
        )

    # -- login and commands -------------------------------------------------------------------

    def _application(self) -> dict[str, Any]:
        return {"id": str(self.application_id), "name": "paperbot", "icon": None, "description": "",
                "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
                "owner": self.user, "summary": "", "verify_key": "00" * 32, "flags": 0, "team": None,
                "interactions_endpoint_url": None, "tags": [], "bot": self.bot_user}

    def _gateway_bot(self, query, body) -> tuple[int, Any]:
        # The recommended shard count (events/gateway#get-gateway-bot): about one per 1,000 servers,
        # and always enough for the session limit (a recommended count is never closed with 4011).
        per_shard = max(1, min(GUILDS_PER_RECOMMENDED_SHARD, self.max_guilds_per_session))
        shards = max(1, math.ceil(len(self.guilds) / per_shard))
        return 200, {"url": self.gateway_url, "shards": shards,
                     "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                             "max_concurrency": 1}}

    def _put_guild_commands(self, query, body, app: str, guild: str) -> tuple[int, Any]:
        known = self.guilds.get(int(guild))
        if known is None or not known.bot_is_member:
            raise DiscordError.of(50001)
        return self._put_commands(app, int(guild), body)

    def _put_commands(self, app: str, guild: int | None, body: Any) -> tuple[int, Any]:
        if int(app) != self.application_id:
            raise DiscordError.of(50001)
        check_commands(body)
        stored = []
        for command in body:
            entry = {**command, "id": str(self._ids.next()), "application_id": app, "version": "1",
                     "type": command.get("type", 1)}
            if guild is not None:
                entry["guild_id"] = str(guild)
            stored.append(entry)
        self.commands[guild] = stored
        self.command_puts.append(guild)
        return 200, stored

    # -- channels and permissions -------------------------------------------------------------

    def _channel(self, channel_id: str | int) -> dict[str, Any]:
        channel = self.channels.get(int(channel_id))
        if channel is None:
            raise DiscordError.of(10003)
        return channel

    def _visible_channel(self, channel_id: str | int) -> dict[str, Any]:
        """The channel, or 10003 when it does not exist, 50001 when the bot cannot see it (not
        in the server, or no View Channel)."""
        channel = self._channel(channel_id)
        if not self.bot_permissions(int(channel_id)) & VIEW_CHANNEL:
            raise DiscordError.of(50001)
        return channel

    def _require(self, channel_id: str | int, permission: int) -> None:
        if not self.bot_permissions(int(channel_id)) & permission:
            raise DiscordError.of(50013)

    def _history(self, query, body, channel_id: str) -> tuple[int, Any]:
        self._visible_channel(channel_id)
        if not self.bot_permissions(int(channel_id)) & READ_MESSAGE_HISTORY:
            # Discord answers an empty page, not an error, without Read Message History.
            return 200, []
        messages = self.messages[int(channel_id)]
        limit = min(int(query.get("limit", 50)), 100)
        if "after" in query:
            after = int(query["after"])
            chosen = [m for m in messages if int(m["id"]) > after][:limit]
        else:
            before = int(query["before"]) if "before" in query else None
            older = [m for m in messages if before is None or int(m["id"]) < before]
            chosen = older[-limit:]
        return 200, sorted(chosen, key=lambda m: int(m["id"]), reverse=True)

    def _post_message(self, query, body, channel_id: str) -> tuple[int, Any]:
        channel = self._visible_channel(channel_id)
        if channel["type"] == FORUM:
            raise DiscordError.of(50008)
        if channel["type"] == DM:
            if any(int(r["id"]) in self.closed_dms for r in channel["recipients"]):
                raise DiscordError.of(50007)
            self._count_dm_opening(int(channel_id))
        self._require(channel_id, SEND_MESSAGES_IN_THREADS if channel["type"] == PUBLIC_THREAD
                      else SEND_MESSAGES)
        check_message(body)
        message = self.store_message(int(channel_id), body)
        self.attach(body, body, message, channel_id=int(channel_id))
        if channel["type"] == PUBLIC_THREAD:
            channel["message_count"] += 1
            channel["thread_metadata"]["archived"] = False
        return 200, message

    def _count_dm_opening(self, channel_id: int) -> None:
        """The first message into a new DM conversation opens it; opening more than
        `dm_openings_limit` within `dm_openings_window` seconds answers 40003. (Discord does not
        publish the threshold; it is a constructor argument.)"""
        if any(m["author"]["id"] == self.bot_user["id"] for m in self.messages[channel_id]):
            return
        now = self.clock.monotonic()
        recent = [t for t in self._dm_openings if now - t < self.dm_openings_window]
        if len(recent) >= self.dm_openings_limit:
            raise DiscordError.of(40003)
        self._dm_openings[:] = recent + [now]

    def store_message(self, channel_id: int, body: dict[str, Any], *, message_id: int | None = None,
                      author: dict[str, Any] | None = None, flags: int = 0) -> dict[str, Any]:
        """Put a message in a channel (as the bot unless `author`), as Discord would store it."""
        channel = self.channels.get(channel_id)
        message = {
            "id": str(message_id or self._ids.next()), "channel_id": str(channel_id),
            "author": author or self.bot_user, "content": body.get("content") or "",
            "timestamp": iso_now(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": body.get("embeds") or [], "components": body.get("components") or [],
            "pinned": False, "type": 0, "flags": flags | int(body.get("flags") or 0),
            "allowed_mentions": body.get("allowed_mentions"),
        }
        if channel is not None:
            if "guild_id" in channel:
                message["guild_id"] = channel["guild_id"]
            self.messages[channel_id].append(message)
            channel["last_message_id"] = message["id"]
        return message

    def _open_dm(self, query, body) -> tuple[int, Any]:
        user_id = int((body or {}).get("recipient_id") or 0)
        person = self.people.get(user_id)
        if person is None:
            raise DiscordError.of(50033)
        channel_id = self.dm_channels.get(user_id)
        if channel_id is None:
            channel_id = self.dm_channels[user_id] = self._ids.next()
            self.channels[channel_id] = {"id": str(channel_id), "type": DM, "last_message_id": None,
                                         "recipients": [person], "flags": 0}
            self.messages[channel_id] = []
        return 200, self.channels[channel_id]

    # -- threads and forum posts ----------------------------------------------------------------

    def _thread_from_message(self, query, body, channel_id: str, message_id: str) -> tuple[int, Any]:
        parent = self._visible_channel(channel_id)
        self._require(channel_id, CREATE_PUBLIC_THREADS)
        starter = next((m for m in self.messages[int(channel_id)] if m["id"] == message_id), None)
        if starter is None:
            raise DiscordError.of(10008)
        if "thread" in starter:
            raise DiscordError.of(160004)
        check_thread_name(body.get("name", ""))
        thread = self._thread_payload(int(message_id), parent, body["name"],
                                      int(body.get("auto_archive_duration") or 1440))
        self.channels[int(message_id)] = thread
        self.messages[int(message_id)] = []
        starter["thread"] = thread
        return 201, thread

    def _forum_post(self, query, body, channel_id: str) -> tuple[int, Any]:
        parent = self._visible_channel(channel_id)
        if parent["type"] != FORUM:
            raise DiscordError.of(50024)
        self._require(channel_id, SEND_MESSAGES)   # "Create Posts" is Send Messages in a forum
        if parent.get("flags", 0) & REQUIRE_TAG and not body.get("applied_tags"):
            raise DiscordError.of(40067)
        check_thread_name(body.get("name", ""))
        check_message(body.get("message") or {})
        thread_id = self._ids.next()
        thread = self._thread_payload(thread_id, parent, body["name"],
                                      int(body.get("auto_archive_duration") or 1440))
        thread["applied_tags"] = list(body.get("applied_tags") or [])
        self.channels[thread_id] = thread
        self.messages[thread_id] = []
        starter = self.store_message(thread_id, body.get("message") or {}, message_id=thread_id)
        thread["message_count"] = 1
        return 201, {**thread, "message": starter}

    def _active_threads(self, query, body, guild_id: str) -> tuple[int, Any]:
        guild = self.guilds.get(int(guild_id))
        if guild is None:
            raise DiscordError.of(10004)
        if not guild.bot_is_member:
            raise DiscordError.of(50001)
        threads = [c for c in self.channels.values() if c["type"] == PUBLIC_THREAD
                   and c["guild_id"] == guild_id and not c["thread_metadata"]["archived"]
                   and self.bot_permissions(int(c["id"])) & VIEW_CHANNEL]
        return 200, {"threads": threads, "members": [t["member"] for t in threads]}
