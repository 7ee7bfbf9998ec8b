"""A fake Discord on 127.0.0.1: the REST API (v10) and the gateway, enough for discord.py to run
unmodified, log in, sync commands, receive interactions, post messages and create threads.

    async with FakeDiscord() as fake:
        settings = DiscordSettings(api_url=fake.api_url, gateway_url=fake.gateway_url)
        ... start the bot with DISCORD_TOKEN=fake.token ...
        await fake.wait_identified()
        iid = await fake.slash_command("papers", "subscribe", {"query": "VLM"}, permissions=MANAGER)
        reply = await fake.wait_for_callback(iid)          # the interaction callback's JSON body
        fake.fail("POST", r"/channels/\\d+/messages", status=403, code=50013,
                  message="Missing Permissions")           # scripted failure, next matching call
        fake.calls                                         # every REST call: method, path, json
        fake.add_person("grace")                           # a server member (user payload)
        fake.close_dms(person_id)                          # their DMs refuse us: 403 / 50007
        fake.dm_messages(person_id)                        # what paperbot sent them
        await fake.submit_modal(iid, {"keywords": "..."})  # after a type 9 (modal) callback

Behaviour kept close to Discord's: snowflake ids, messages newest first with before/after paging,
a thread created on a message shares its id and marks the message (`thread`), a forum post is a
thread whose starter message has the thread's id, interaction callbacks answer once (40060 on a
second), and messages over Discord's limits are refused with 400 / 50035 Invalid Form Body, so a
renderer that overflows fails its test the way it would fail in production. A 429 carries `Via`
(as Discord's do; without it discord.py assumes a Cloudflare ban) unless told otherwise.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"
DISCORD_EPOCH_MS = 1420070400000

# Permission bits (https://discord.com/developers/docs/topics/permissions)
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_CHANNELS = 1 << 4
MEMBER = VIEW_CHANNEL | SEND_MESSAGES | (1 << 16) | (1 << 31)  # + read history, use app commands
MANAGER = MEMBER | MANAGE_CHANNELS

TEXT, DM, PUBLIC_THREAD, FORUM = 0, 1, 11, 15

# Discord's documented message limits.
CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL = 6000
EMBED_FIELD_LIMITS = {"title": 256, "description": 4096}
THREAD_NAME_LIMIT = 100


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str                     # without the /api/v10 prefix
    query: dict[str, str]
    json: Any                     # the request body (JSON or multipart payload_json), or None
    status: int                   # what the fake answered


@dataclass
class ScriptedFailure:
    method: str
    path: re.Pattern[str]
    status: int
    code: int
    message: str
    retry_after: float | None = None
    via: bool = True
    times: int = 1
    after: int = 0                # matching calls let through before failing


@dataclass
class FakeGuild:
    id: int
    name: str
    text_channel: int
    forum_channel: int
    roles: list[dict[str, Any]] = field(default_factory=list)


class _Snowflakes:
    """Increasing ids whose timestamps are real (discord.py derives created_at from them)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        ms = int(datetime.now(timezone.utc).timestamp() * 1000) - DISCORD_EPOCH_MS
        self._last = max(ms << 22, self._last + 1)
        return self._last


class DiscordError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors


class FakeDiscord:
    def __init__(self, *, token: str = "fake-discord-token", heartbeat_interval_ms: int = 45_000) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._ids = _Snowflakes()
        self.application_id = self._ids.next()
        self.bot_user = self._user(self.application_id, "paperbot", bot=True)
        self.calls: list[RecordedCall] = []
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}   # channel id -> oldest first
        self.guilds: dict[int, FakeGuild] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}   # None = global
        self.command_puts: list[int | None] = []
        self.callbacks: dict[int, dict[str, Any]] = {}
        self.identifies: list[dict[str, Any]] = []
        self._interactions: dict[int, dict[str, Any]] = {}
        self._failures: list[ScriptedFailure] = []
        self._sockets: set[web.WebSocketResponse] = set()
        self._sequence = itertools.count(1)
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None
        self.guild = self.add_guild("Paper Lab")
        self.user = self._user(self._ids.next(), "ada")
        self.people: dict[int, dict[str, Any]] = {int(self.user["id"]): self.user}
        self.dm_channels: dict[int, int] = {}   # user id -> DM channel id
        self.closed_dms: set[int] = set()

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> "FakeDiscord":
        app = web.Application()
        app.router.add_get(GATEWAY_PATH, self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        assert self._server is not None
        await self._server.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "use `async with FakeDiscord()`"
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._server.port}{GATEWAY_PATH}"  # type: ignore[union-attr]

    # -- world ----------------------------------------------------------------------------------

    def _user(self, user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
        return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name,
                "avatar": None, "bot": bot, "public_flags": 0, "flags": 0}

    def add_guild(self, name: str) -> FakeGuild:
        guild_id = self._ids.next()
        text = self._add_channel(guild_id, TEXT, "ml-papers")
        forum = self._add_channel(guild_id, FORUM, "paper-forum")
        roles = [self._role(guild_id, "@everyone", MEMBER)]
        guild = FakeGuild(guild_id, name, text, forum, roles)
        self.guilds[guild_id] = guild
        return guild

    def add_person(self, name: str) -> dict[str, Any]:
        person = self._user(self._ids.next(), name)
        self.people[int(person["id"])] = person
        return person

    def close_dms(self, user_id: int | str) -> None:
        self.closed_dms.add(int(user_id))

    def dm_messages(self, user_id: int | str) -> list[dict[str, Any]]:
        channel = self.dm_channels.get(int(user_id))
        return list(self.messages.get(channel, [])) if channel else []

    def _open_dm(self, query, body) -> tuple[int, Any]:
        user_id = int((body or {}).get("recipient_id") or 0)
        person = self.people.get(user_id)
        if person is None:
            raise DiscordError(400, 50033, "Invalid Recipient(s)")
        channel_id = self.dm_channels.get(user_id)
        if channel_id is None:
            channel_id = self.dm_channels[user_id] = self._ids.next()
            self.channels[channel_id] = {"id": str(channel_id), "type": DM, "last_message_id": None,
                                         "recipients": [person], "flags": 0}
            self.messages[channel_id] = []
        return 200, self.channels[channel_id]

    def add_role(self, guild: FakeGuild, name: str, permissions: int = MEMBER) -> int:
        role = self._role(self._ids.next(), name, permissions, position=len(guild.roles))
        guild.roles.append(role)
        return int(role["id"])

    def _role(self, role_id: int, name: str, permissions: int, position: int = 0) -> dict[str, Any]:
        return {"id": str(role_id), "name": name, "permissions": str(permissions), "position": position,
                "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0,
                "icon": None, "unicode_emoji": None}

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

    def _guild_payload(self, guild: FakeGuild) -> dict[str, Any]:
        channels = [c for c in self.channels.values()
                    if c["guild_id"] == str(guild.id) and c["type"] in (TEXT, FORUM)]
        threads = [c for c in self.channels.values()
                   if c["guild_id"] == str(guild.id) and c["type"] == PUBLIC_THREAD]
        me = {"user": self.bot_user, "roles": [], "joined_at": _iso_now(), "deaf": False,
              "mute": False, "flags": 0, "nick": None}
        return {"id": str(guild.id), "name": guild.name, "icon": None, "splash": None,
                "discovery_splash": None, "owner_id": self.user["id"], "afk_channel_id": None,
                "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
                "explicit_content_filter": 0, "roles": guild.roles, "emojis": [], "stickers": [],
                "features": [], "mfa_level": 0, "application_id": None, "system_channel_id": None,
                "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
                "description": None, "banner": None, "premium_tier": 0, "preferred_locale": "en-US",
                "public_updates_channel_id": None, "nsfw_level": 0, "premium_progress_bar_enabled": False,
                "joined_at": _iso_now(), "large": False, "unavailable": False, "member_count": 2,
                "voice_states": [], "members": [me], "channels": channels, "threads": threads,
                "presences": [], "stage_instances": [], "guild_scheduled_events": [],
                "soundboard_sounds": []}

    def thread_messages(self, thread_id: int) -> list[dict[str, Any]]:
        return list(self.messages.get(int(thread_id), []))

    def threads_of(self, channel_id: int) -> list[dict[str, Any]]:
        return [c for c in self.channels.values()
                if c["type"] == PUBLIC_THREAD and c["parent_id"] == str(channel_id)]

    def calls_to(self, method: str, pattern: str) -> list[RecordedCall]:
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    # -- scripting ------------------------------------------------------------------------------

    def fail(self, method: str, path: str, *, status: int, code: int = 0, message: str = "",
             retry_after: float | None = None, via: bool = True, times: int = 1, after: int = 0) -> None:
        """After letting `after` matching calls through, the next `times` calls matching `method`
        and the path regex (without /api/v10) get this error instead of their answer."""
        self._failures.append(ScriptedFailure(method, re.compile(path), status, code,
                                              message or _default_message(status), retry_after, via,
                                              times, after))

    def _scripted(self, method: str, path: str) -> ScriptedFailure | None:
        for failure in self._failures:
            if failure.method == method and failure.path.fullmatch(path) and failure.times > 0:
                if failure.after > 0:
                    failure.after -= 1
                    continue
                failure.times -= 1
                return failure
        return None

    # -- REST -----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await _read_body(request)
        query = dict(request.query)
        status, payload, headers = await self._answer(request, path, query, body)
        self.calls.append(RecordedCall(request.method, path, query, body, status))
        async with self._changed:
            self._changed.notify_all()
        if status == 204:
            return web.Response(status=204, headers=headers)
        # Discord's exact header: discord.py parses JSON only when it reads `application/json`.
        return web.Response(body=json.dumps(payload).encode(), status=status,
                            headers={**headers, "Content-Type": "application/json"})

    async def _answer(self, request: web.Request, path: str, query: dict[str, str],
                      body: Any) -> tuple[int, Any, dict[str, str]]:
        is_webhook = path.startswith(("/interactions/", "/webhooks/"))
        if not is_webhook and request.headers.get("Authorization") != f"Bot {self.token}":
            return 401, {"message": "401: Unauthorized", "code": 0}, {}
        failure = self._scripted(request.method, path)
        if failure is not None:
            headers: dict[str, str] = {"Via": "1.1 google"} if failure.via else {}
            payload: dict[str, Any] = {"message": failure.message, "code": failure.code}
            if failure.status == 429:
                retry = failure.retry_after if failure.retry_after is not None else 1.0
                payload = {"message": failure.message, "retry_after": retry, "global": False}
                headers.update({"Retry-After": str(retry), "X-RateLimit-Scope": "shared"})
            return failure.status, payload, headers
        try:
            status, payload = self._route(request.method, path, query, body)
        except DiscordError as exc:
            error = {"message": exc.message, "code": exc.code}
            if exc.errors is not None:
                error["errors"] = exc.errors
            return exc.status, error, {}
        return status, payload, {}

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        for route_method, pattern, handler in self._routes():
            if method == route_method:
                found = re.fullmatch(pattern, path)
                if found:
                    return handler(query, body, *found.groups())
        raise DiscordError(404, 0, f"404: Not Found ({method} {path} is not in the fake)")

    def _routes(self):
        return (
            ("GET", r"/users/@me", lambda q, b: (200, self.bot_user)),
            ("GET", r"/oauth2/applications/@me", lambda q, b: (200, self._application())),
            ("GET", r"/gateway/bot", lambda q, b: (200, {
                "url": self.gateway_url, "shards": 1,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                        "max_concurrency": 1}})),
            ("PUT", r"/applications/(\d+)/commands", lambda q, b, app: self._put_commands(app, None, b)),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self._put_guild_commands),
            ("GET", r"/applications/(\d+)/commands", lambda q, b, app: (200, self.commands.get(None, []))),
            ("GET", r"/channels/(\d+)", lambda q, b, c: (200, self._channel(c))),
            ("GET", r"/channels/(\d+)/messages", self._history),
            ("POST", r"/channels/(\d+)/messages", self._post_message),
            ("POST", r"/users/@me/channels", self._open_dm),
            ("POST", r"/channels/(\d+)/messages/(\d+)/threads", self._thread_from_message),
            ("POST", r"/channels/(\d+)/threads", self._forum_post),
            ("GET", r"/guilds/(\d+)/threads/active", self._active_threads),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._interaction_callback),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/@original", self._edit_original),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._followup),
        )

    def _application(self) -> dict[str, Any]:
        return {"id": str(self.application_id), "name": "paperbot", "icon": None, "description": "",
                "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
                "owner": self.user, "summary": "", "verify_key": "00" * 32, "flags": 0, "team": None,
                "interactions_endpoint_url": None, "tags": [], "bot": self.bot_user}

    def _put_guild_commands(self, query, body, app: str, guild: str) -> tuple[int, Any]:
        if int(guild) not in self.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return self._put_commands(app, int(guild), body)

    def _put_commands(self, app: str, guild: int | None, body: Any) -> tuple[int, Any]:
        if int(app) != self.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        stored = []
        for command in body:
            if not 1 <= len(command["name"]) <= 32 or len(command.get("description", "")) > 100:
                raise DiscordError(400, 50035, "Invalid Form Body")
            entry = {**command, "id": str(self._ids.next()), "application_id": app, "version": "1",
                     "type": command.get("type", 1)}
            if guild is not None:
                entry["guild_id"] = str(guild)
            stored.append(entry)
        self.commands[guild] = stored
        self.command_puts.append(guild)
        return 200, stored

    def _channel(self, channel_id: str | int) -> dict[str, Any]:
        channel = self.channels.get(int(channel_id))
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return channel

    def _history(self, query, body, channel_id: str) -> tuple[int, Any]:
        self._channel(channel_id)
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
        channel = self._channel(channel_id)
        if channel["type"] == FORUM:
            raise DiscordError(400, 50008, "Cannot send messages in a non-text channel")
        if channel["type"] == DM and any(int(r["id"]) in self.closed_dms for r in channel["recipients"]):
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        _check_message(body)
        message = self.store_message(int(channel_id), body)
        if channel["type"] == PUBLIC_THREAD:
            channel["message_count"] += 1
            channel["thread_metadata"]["archived"] = False
        return 200, message

    def store_message(self, channel_id: int, body: dict[str, Any], *, message_id: int | None = None,
                      author: dict[str, Any] | None = None, flags: int = 0) -> dict[str, Any]:
        """Put a message in a channel (as the bot unless `author`), as Discord would store it."""
        channel = self.channels.get(channel_id)
        message = {
            "id": str(message_id or self._ids.next()), "channel_id": str(channel_id),
            "author": author or self.bot_user, "content": body.get("content") or "",
            "timestamp": _iso_now(), "edited_timestamp": None, "tts": False,
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

    def _thread_payload(self, thread_id: int, parent: dict[str, Any], name: str,
                        archive: int) -> dict[str, Any]:
        return {"id": str(thread_id), "type": PUBLIC_THREAD, "guild_id": parent["guild_id"],
                "parent_id": parent["id"], "owner_id": self.bot_user["id"], "name": name,
                "last_message_id": None, "message_count": 0, "member_count": 1,
                "rate_limit_per_user": 0, "flags": 0, "total_message_sent": 0, "applied_tags": [],
                "thread_metadata": {"archived": False, "auto_archive_duration": archive,
                                    "archive_timestamp": _iso_now(), "locked": False},
                "member": {"id": str(thread_id), "user_id": self.bot_user["id"],
                           "join_timestamp": _iso_now(), "flags": 0}}

    def _thread_from_message(self, query, body, channel_id: str, message_id: str) -> tuple[int, Any]:
        parent = self._channel(channel_id)
        starter = next((m for m in self.messages[int(channel_id)] if m["id"] == message_id), None)
        if starter is None:
            raise DiscordError(404, 10008, "Unknown Message")
        if "thread" in starter:
            raise DiscordError(400, 160004, "A thread has already been created for this message")
        _check_thread_name(body.get("name", ""))
        thread = self._thread_payload(int(message_id), parent, body["name"],
                                      int(body.get("auto_archive_duration") or 1440))
        self.channels[int(message_id)] = thread
        self.messages[int(message_id)] = []
        starter["thread"] = thread
        return 201, thread

    def _forum_post(self, query, body, channel_id: str) -> tuple[int, Any]:
        parent = self._channel(channel_id)
        if parent["type"] != FORUM:
            raise DiscordError(400, 50024, "Cannot execute action on this channel type")
        _check_thread_name(body.get("name", ""))
        _check_message(body.get("message") or {})
        thread_id = self._ids.next()
        thread = self._thread_payload(thread_id, parent, body["name"],
                                      int(body.get("auto_archive_duration") or 1440))
        self.channels[thread_id] = thread
        self.messages[thread_id] = []
        starter = self.store_message(thread_id, body.get("message") or {}, message_id=thread_id)
        thread["message_count"] = 1
        return 201, {**thread, "message": starter}

    def _active_threads(self, query, body, guild_id: str) -> tuple[int, Any]:
        if int(guild_id) not in self.guilds:
            raise DiscordError(404, 10004, "Unknown Guild")
        threads = [c for c in self.channels.values() if c["type"] == PUBLIC_THREAD
                   and c["guild_id"] == guild_id and not c["thread_metadata"]["archived"]]
        return 200, {"threads": threads, "members": [t["member"] for t in threads]}

    # -- interactions ---------------------------------------------------------------------------

    def _interaction_callback(self, query, body, interaction_id: str, token: str) -> tuple[int, Any]:
        interaction = self._interactions.get(int(interaction_id))
        if interaction is None or interaction["token"] != token:
            raise DiscordError(404, 10062, "Unknown interaction")
        if int(interaction_id) in self.callbacks:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        kind = body.get("type")
        data = body.get("data") or {}
        if kind in (4, 7):
            _check_message(data)
        if kind == 9:
            _check_modal(data)
        self.callbacks[int(interaction_id)] = body
        answer: dict[str, Any] = {"interaction": {"id": interaction_id, "type": interaction["type"]}}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0)
            message = self.store_message(0, data, author=self.bot_user, flags=flags)
            message["channel_id"] = interaction["channel_id"]
            interaction["original"] = message
            answer["interaction"].update({"response_message_id": message["id"],
                                          "response_message_loading": kind == 5,
                                          "response_message_ephemeral": bool(flags & 64)})
            answer["resource"] = {"type": kind, "message": message}
        return 200, answer

    def _webhook_interaction(self, app: str, token: str) -> dict[str, Any]:
        if int(app) != self.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        for interaction in self._interactions.values():
            if interaction["token"] == token:
                return interaction
        raise DiscordError(404, 10015, "Unknown Webhook")

    def _edit_original(self, query, body, app: str, token: str) -> tuple[int, Any]:
        interaction = self._webhook_interaction(app, token)
        original = interaction.get("original")
        if original is None:
            raise DiscordError(404, 10008, "Unknown Message")
        _check_message(body)
        for key in ("content", "embeds", "components"):
            if key in body:
                original[key] = body[key] or ([] if key != "content" else "")
        interaction.setdefault("edits", []).append(body)
        return 200, original

    def _followup(self, query, body, app: str, token: str) -> tuple[int, Any]:
        interaction = self._webhook_interaction(app, token)
        _check_message(body)
        message = self.store_message(0, body, flags=int(body.get("flags") or 0))
        message["channel_id"] = interaction["channel_id"]
        interaction.setdefault("followups", []).append(body)
        return 200, message

    def interaction_reply(self, interaction_id: int) -> dict[str, Any]:
        """What the person finally sees: the callback's message, or for a deferred answer the
        edit of the original response (content, embeds, components, flags)."""
        interaction = self._interactions[interaction_id]
        callback = self.callbacks[interaction_id]
        data = dict(callback.get("data") or {})
        for edit in interaction.get("edits", []):
            data.update(edit)
        return data

    def _member(self, user: dict[str, Any], permissions: int, roles: Iterable[int]) -> dict[str, Any]:
        return {"user": user, "roles": [str(r) for r in roles], "joined_at": _iso_now(),
                "deaf": False, "mute": False, "flags": 0, "nick": None, "pending": False,
                "permissions": str(permissions), "communication_disabled_until": None, "avatar": None}

    def _interaction_base(self, kind: int, channel_id: int | None, permissions: int,
                          roles: Iterable[int], user: dict[str, Any] | None) -> dict[str, Any]:
        channel = self.channels[channel_id or self.guild.text_channel]
        guild_id = int(channel["guild_id"])
        interaction_id = self._ids.next()
        payload = {
            "id": str(interaction_id), "application_id": str(self.application_id), "type": kind,
            "token": f"itoken-{interaction_id}", "version": 1, "guild_id": str(guild_id),
            "channel_id": channel["id"], "channel": channel,
            "member": self._member(user or self.user, permissions, roles),
            "app_permissions": str(MANAGER), "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0, "attachment_size_limit": 10 * 1024 * 1024,
        }
        self._interactions[interaction_id] = payload
        return payload

    def _registered(self, name: str, guild_id: int) -> dict[str, Any]:
        for scope in (guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command
        raise AssertionError(f"/{name} was never synced to guild {guild_id} or globally; "
                             f"synced: {[c['name'] for s in self.commands.values() for c in s]}")

    def _command_data(self, name: str, subcommand: str, options: dict[str, Any], guild_id: int,
                      *, focused: str | None = None) -> dict[str, Any]:
        command = self._registered(name, guild_id)
        group_name, _, subcommand = subcommand.rpartition(" ")   # "me add": a subcommand group
        scope = command.get("options", [])
        if group_name:
            group = next((o for o in scope if o["name"] == group_name and o["type"] == 2), None)
            if group is None:
                raise AssertionError(f"/{name} has no subcommand group {group_name!r}")
            scope = group.get("options", [])
        sub = next((o for o in scope if o["name"] == subcommand and o["type"] == 1), None)
        if sub is None:
            raise AssertionError(f"/{name} has no subcommand {subcommand!r}")
        declared = {o["name"]: o for o in sub.get("options", [])}
        given = []
        for option_name, value in options.items():
            if option_name not in declared:
                raise AssertionError(f"/{name} {subcommand} has no option {option_name!r}")
            entry = {"name": option_name, "type": declared[option_name]["type"], "value": value}
            if option_name == focused:
                entry["focused"] = True
            given.append(entry)
        missing = [o for o, spec in declared.items() if spec.get("required") and o not in options]
        if missing and focused is None:
            raise AssertionError(f"/{name} {subcommand} needs {missing}")
        chosen = {"type": 1, "name": subcommand, "options": given}
        if group_name:
            chosen = {"type": 2, "name": group_name, "options": [chosen]}
        data = {"id": command["id"], "name": name, "type": 1, "options": [chosen]}
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        return data

    async def slash_command(self, name: str, subcommand: str, options: dict[str, Any] | None = None,
                            *, channel_id: int | None = None, permissions: int = MEMBER,
                            roles: Iterable[int] = (), user: dict[str, Any] | None = None) -> int:
        """Someone runs `/<name> <subcommand> options...`; returns the interaction id."""
        payload = self._interaction_base(2, channel_id, permissions, roles, user)
        payload["data"] = self._command_data(name, subcommand, options or {}, int(payload["guild_id"]))
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def autocomplete(self, name: str, subcommand: str, options: dict[str, Any], focused: str,
                           *, channel_id: int | None = None, permissions: int = MEMBER) -> int:
        payload = self._interaction_base(4, channel_id, permissions, (), None)
        payload["data"] = self._command_data(name, subcommand, options, int(payload["guild_id"]),
                                             focused=focused)
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def click(self, message: dict[str, Any], custom_id: str, *, permissions: int = MEMBER,
                    user: dict[str, Any] | None = None) -> int:
        """Someone clicks the button `custom_id` on `message` (a stored message payload)."""
        buttons = [c for row in message.get("components", []) for c in row.get("components", [])]
        if not any(b.get("custom_id") == custom_id for b in buttons):
            raise AssertionError(f"message {message['id']} has no button {custom_id!r}")
        payload = self._interaction_base(3, int(message["channel_id"]), permissions, (), user)
        payload["channel"] = self.channels.get(int(message["channel_id"]), payload["channel"])
        payload["message"] = message
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def submit_modal(self, interaction_id: int, values: list[str], *,
                           user: dict[str, Any] | None = None) -> int:
        """The person fills in the modal that interaction `interaction_id` answered with (a type 9
        callback), one value per text input in order, and submits it (MODAL_SUBMIT, type 5)."""
        callback = self.callbacks.get(interaction_id)
        if callback is None or callback.get("type") != 9:
            raise AssertionError(f"interaction {interaction_id} was not answered with a modal")
        modal = callback["data"]
        inputs = [c for row in modal["components"] for c in row["components"]]
        if len(values) != len(inputs):
            raise AssertionError(f"the modal has {len(inputs)} inputs, got {len(values)} values")
        for spec, value in zip(inputs, values):
            if len(value) > spec.get("max_length", 4000) or (spec.get("required", True) and not value):
                raise AssertionError(f"Discord's client would not submit {value[:20]!r} for {spec['label']!r}")
        original = self._interactions[interaction_id]
        payload = self._interaction_base(5, int(original["channel_id"]), MEMBER, (),
                                         user or original["member"]["user"])
        payload["data"] = {"custom_id": modal["custom_id"], "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": spec["custom_id"], "value": value}]}
            for spec, value in zip(inputs, values)]}
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def wait_for_callback(self, interaction_id: int, timeout: float = 5.0) -> dict[str, Any]:
        await self._wait(lambda: interaction_id in self.callbacks, timeout,
                         f"no callback for interaction {interaction_id}")
        return self.callbacks[interaction_id]

    async def wait_for_edit(self, interaction_id: int, timeout: float = 5.0) -> dict[str, Any]:
        await self._wait(lambda: bool(self._interactions[interaction_id].get("edits")), timeout,
                         f"no edit of the original response of {interaction_id}")
        return self._interactions[interaction_id]["edits"][-1]

    async def _wait(self, ready, timeout: float, what: str) -> None:
        async def waiting() -> None:
            async with self._changed:
                await self._changed.wait_for(ready)
        try:
            await asyncio.wait_for(waiting(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{what} within {timeout} s") from None

    # -- gateway --------------------------------------------------------------------------------

    async def wait_identified(self, count: int = 1, timeout: float = 5.0) -> None:
        await self._wait(lambda: len(self.identifies) >= count and bool(self._sockets), timeout,
                         f"{count} IDENTIFY")

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        if not self._sockets:
            raise AssertionError("no client is connected to the fake gateway")
        for ws in list(self._sockets):
            await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._sequence), "d": data}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                packet = json.loads(msg.data)
                op = packet.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    await self._identify(ws, packet["d"])
                elif op == 6:
                    self._sockets.add(ws)
                    await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": next(self._sequence), "d": {}}))
        finally:
            self._sockets.discard(ws)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies.append({k: v for k, v in data.items() if k != "token"})
        shard = data.get("shard", [0, 1])
        ready = {"v": 10, "user": self.bot_user, "session_id": f"session-{len(self.identifies)}",
                 "resume_gateway_url": self.gateway_url, "shard": shard,
                 "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                 "application": {"id": str(self.application_id), "flags": 0}}
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._sequence), "d": ready}))
        for guild in self.guilds.values():
            await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._sequence),
                                          "d": self._guild_payload(guild)}))
        self._sockets.add(ws)
        async with self._changed:
            self._changed.notify_all()


# -- helpers ------------------------------------------------------------------------------------


def _iso_now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _default_message(status: int) -> str:
    return {403: "Missing Permissions", 404: "Unknown Channel", 429: "You are being rate limited.",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")


async def _read_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        payload = form.get("payload_json")
        return json.loads(payload) if isinstance(payload, str) else None
    text = await request.text()
    return json.loads(text) if text else None


def embed_length(embed: dict[str, Any]) -> int:
    """Discord's count toward the 6000-character total of a message's embeds."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for field_ in embed.get("fields") or []:
        total += len(field_.get("name") or "") + len(field_.get("value") or "")
    return total


def _invalid(where: str, problem: str) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", {where: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                                                                "message": problem}]}})


def _check_message(body: dict[str, Any]) -> None:
    content = body.get("content") or ""
    if len(content) > CONTENT_LIMIT:
        raise _invalid("content", f"Must be {CONTENT_LIMIT} or fewer in length.")
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_PER_MESSAGE:
        raise _invalid("embeds", f"Must be {EMBEDS_PER_MESSAGE} or fewer in length.")
    for index, embed in enumerate(embeds):
        for key, limit in EMBED_FIELD_LIMITS.items():
            if len(embed.get(key) or "") > limit:
                raise _invalid(f"embeds.{index}.{key}", f"Must be {limit} or fewer in length.")
        for number, field_ in enumerate(embed.get("fields") or []):
            if len(field_.get("value") or "") > 1024 or len(field_.get("name") or "") > 256:
                raise _invalid(f"embeds.{index}.fields.{number}", "Too long.")
        if len((embed.get("footer") or {}).get("text") or "") > 2048:
            raise _invalid(f"embeds.{index}.footer.text", "Must be 2048 or fewer in length.")
    if sum(embed_length(e) for e in embeds) > EMBED_TOTAL:
        raise _invalid("embeds", f"Embed size exceeds maximum size of {EMBED_TOTAL}")
    rows = body.get("components") or []
    if len(rows) > 5:
        raise _invalid("components", "Must be 5 or fewer in length.")
    for row in rows:
        if len(row.get("components") or []) > 5:
            raise _invalid("components", "An action row holds at most 5 buttons.")
        for item in row.get("components") or []:
            if len(item.get("custom_id") or "") > 100:
                raise _invalid("components.custom_id", "Must be 100 or fewer in length.")


def _check_modal(data: dict[str, Any]) -> None:
    """Discord's modal limits: a title of 1-45 characters, 1-5 rows of one text input each, labels
    of at most 45, values and defaults within max_length (at most 4000)."""
    problems = []
    if not 1 <= len(data.get("title") or "") <= 45:
        problems.append("title must be 1-45 characters")
    if not data.get("custom_id") or len(data["custom_id"]) > 100:
        problems.append("custom_id must be 1-100 characters")
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        problems.append("a modal holds 1 to 5 rows")
    for row in rows:
        for item in row.get("components", []):
            if item.get("type") != 4:
                problems.append("only text inputs in a modal")
                continue
            if not 1 <= len(item.get("label") or "") <= 45:
                problems.append("a text input label must be 1-45 characters")
            if len(item.get("value") or "") > min(4000, item.get("max_length", 4000)):
                problems.append("a default value longer than max_length")
    if problems:
        raise _invalid("data", "; ".join(problems))


def _check_thread_name(name: str) -> None:
    if not 1 <= len(name) <= THREAD_NAME_LIMIT:
        raise _invalid("name", f"Must be between 1 and {THREAD_NAME_LIMIT} in length.")
