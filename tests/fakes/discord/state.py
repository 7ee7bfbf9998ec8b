"""What the fake Discord holds: ids, guilds, channels, people, recorded calls, and the error type
its routes raise. Payload shapes follow discord-api-docs (resources/channel, guild, user)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"
DISCORD_EPOCH_MS = 1420070400000

# Channel types (resources/channel: Channel Types).
TEXT, DM, PUBLIC_THREAD, FORUM = 0, 1, 11, 15
# Channel flags: a forum post must carry a tag (resources/channel: Channel Flags).
REQUIRE_TAG = 1 << 4

# What Discord answers for each JSON error code the fake uses (topics/opcodes-and-status-codes).
ERRORS = {
    10003: (404, "Unknown Channel"),
    10004: (404, "Unknown Guild"),
    10008: (404, "Unknown Message"),
    10015: (404, "Unknown Webhook"),
    10062: (404, "Unknown interaction"),
    20016: (429, "This action cannot be performed due to slowmode rate limit."),
    40003: (403, "You are opening direct messages too fast."),
    40005: (413, "Request entity too large"),
    40060: (400, "Interaction has already been acknowledged."),
    40067: (400, "A tag is required to create a forum post in this channel"),
    50001: (403, "Missing Access"),
    50007: (403, "Cannot send messages to this user"),
    50008: (400, "Cannot send messages in a non-text channel"),
    50013: (403, "Missing Permissions"),
    50024: (400, "Cannot execute action on this channel type"),
    50027: (401, "Invalid Webhook Token"),
    50033: (400, "Invalid Recipient(s)"),
    50035: (400, "Invalid Form Body"),
    160004: (400, "A thread has already been created for this message"),
}


class DiscordError(Exception):
    """An error answer: status, JSON `code`, `message` and (for 50035) the `errors` tree."""

    def __init__(self, status: int, code: int, message: str, errors: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    @classmethod
    def of(cls, code: int) -> "DiscordError":
        status, message = ERRORS[code]
        return cls(status, code, message)


def invalid_form(where: str, error_code: str, problem: str) -> DiscordError:
    """400 / 50035 with Discord's nested `errors` object naming the field."""
    tree: dict[str, Any] = {"_errors": [{"code": error_code, "message": problem}]}
    for part in reversed(where.split(".")):
        tree = {part: tree}
    return DiscordError(400, 50035, "Invalid Form Body", tree)


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
    bot_role: int = 0             # the role Discord creates when the bot is invited
    bot_is_member: bool = True    # False once the bot was removed from the server


class Snowflakes:
    """Increasing ids whose timestamps are real (discord.py derives created_at from them)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        ms = int(datetime.now(timezone.utc).timestamp() * 1000) - DISCORD_EPOCH_MS
        self._last = max(ms << 22, self._last + 1)
        return self._last


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat()


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name,
            "avatar": None, "bot": bot, "public_flags": 0, "flags": 0}


def role_payload(role_id: int, name: str, permissions: int, position: int = 0, *,
                 bot_id: int | None = None) -> dict[str, Any]:
    role = {"id": str(role_id), "name": name, "permissions": str(permissions), "position": position,
            "color": 0, "hoist": False, "managed": bot_id is not None, "mentionable": False,
            "flags": 0, "icon": None, "unicode_emoji": None}
    if bot_id is not None:
        role["tags"] = {"bot_id": str(bot_id)}
    return role
