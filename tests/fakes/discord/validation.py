"""What Discord refuses with 400 / 50035 Invalid Form Body, from discord-api-docs: message limits
(resources/message, resources/channel#embed-limits), components (components/reference: at most 5
action rows of at most 5 buttons, custom_id 1-100 characters and unique within a message, a
button label of at most 80), allowed mentions (resources/message#allowed-
mentions-object), modals, application commands (interactions/application-commands) and
autocomplete results. discord.py checks almost none of this, so a bot that overflows fails its
test here the way it would fail in production."""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.discord.state import DiscordError, invalid_form

CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL = 6000
EMBED_FIELDS = 25
EMBED_FIELD_LIMITS = {"title": 256, "description": 4096}
THREAD_NAME_LIMIT = 100
BUTTON_LABEL = 80
ALLOWED_MENTION_TYPES = {"roles", "users", "everyone"}
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
CHOICES_LIMIT = 25
OPTIONS_LIMIT = 25
SUBCOMMAND, SUBCOMMAND_GROUP = 1, 2


def embed_length(embed: dict[str, Any]) -> int:
    """Discord's count toward the 6000-character total of a message's embeds."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for field_ in embed.get("fields") or []:
        total += len(field_.get("name") or "") + len(field_.get("value") or "")
    return total


def _too_long(where: str, limit: int) -> DiscordError:
    return invalid_form(where, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def check_message(body: dict[str, Any]) -> None:
    content = body.get("content") or ""
    if len(content) > CONTENT_LIMIT:
        raise _too_long("content", CONTENT_LIMIT)
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_PER_MESSAGE:
        raise _too_long("embeds", EMBEDS_PER_MESSAGE)
    for index, embed in enumerate(embeds):
        for key, limit in EMBED_FIELD_LIMITS.items():
            if len(embed.get(key) or "") > limit:
                raise _too_long(f"embeds.{index}.{key}", limit)
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS:
            raise _too_long(f"embeds.{index}.fields", EMBED_FIELDS)
        for number, field_ in enumerate(fields):
            if len(field_.get("name") or "") > 256:
                raise _too_long(f"embeds.{index}.fields.{number}.name", 256)
            if len(field_.get("value") or "") > 1024:
                raise _too_long(f"embeds.{index}.fields.{number}.value", 1024)
        if len((embed.get("footer") or {}).get("text") or "") > 2048:
            raise _too_long(f"embeds.{index}.footer.text", 2048)
        if len((embed.get("author") or {}).get("name") or "") > 256:
            raise _too_long(f"embeds.{index}.author.name", 256)
    if sum(embed_length(e) for e in embeds) > EMBED_TOTAL:
        raise invalid_form("embeds", "MAX_EMBED_SIZE_EXCEEDED",
                           f"Embed size exceeds maximum size of {EMBED_TOTAL}")
    check_components(body.get("components") or [])
    check_allowed_mentions(body.get("allowed_mentions"))


def check_components(rows: list[dict[str, Any]]) -> None:
    if len(rows) > 5:
        raise _too_long("components", 5)
    seen: set[str] = set()
    for row_index, row in enumerate(rows):
        items = row.get("components") or []
        if len(items) > 5:
            raise _too_long(f"components.{row_index}.components", 5)
        for index, item in enumerate(items):
            label = item.get("label")
            if label is not None and len(label) > BUTTON_LABEL:
                raise _too_long(f"components.{row_index}.components.{index}.label", BUTTON_LABEL)
            if item.get("type") == 2 and not label and not item.get("emoji"):
                raise invalid_form(f"components.{row_index}.components.{index}",
                                   "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A button needs a label or an emoji")
            custom_id = item.get("custom_id")
            if custom_id is None:
                continue
            where = f"components.{row_index}.components.{index}.custom_id"
            if not 1 <= len(custom_id) <= 100:
                raise _too_long(where, 100)
            if custom_id in seen:
                raise invalid_form(where, "COMPONENT_CUSTOM_ID_DUPLICATED",
                                   "Component custom id cannot be duplicated")
            seen.add(custom_id)


def check_allowed_mentions(allowed: Any) -> None:
    """`parse` may not name a type whose ids are also listed (users / roles), ids at most 100."""
    if allowed is None:
        return
    if not isinstance(allowed, dict):
        raise invalid_form("allowed_mentions", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    parse = allowed.get("parse") or []
    unknown = [p for p in parse if p not in ALLOWED_MENTION_TYPES]
    if unknown:
        raise invalid_form("allowed_mentions.parse", "ENUM_TYPE_COERCE",
                           f"Value {unknown[0]!r} is not a valid enum value.")
    for kind in ("users", "roles"):
        ids = allowed.get(kind) or []
        if ids and kind in parse:
            raise invalid_form("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                               f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.')
        if len(ids) > 100:
            raise _too_long(f"allowed_mentions.{kind}", 100)


def check_modal(data: dict[str, Any]) -> None:
    """A title of 1-45 characters, 1-5 rows of one text input each, labels of at most 45, values
    and defaults within max_length (at most 4000)."""
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
        raise invalid_form("data", "BASE_TYPE_BAD_LENGTH", "; ".join(problems))


def check_thread_name(name: str) -> None:
    if not 1 <= len(name) <= THREAD_NAME_LIMIT:
        raise invalid_form("name", "BASE_TYPE_BAD_LENGTH",
                           f"Must be between 1 and {THREAD_NAME_LIMIT} in length.")


def check_autocomplete(data: dict[str, Any]) -> None:
    """An autocomplete result: at most 25 choices, names 1-100 characters, string values ≤ 100."""
    choices = data.get("choices") or []
    if len(choices) > CHOICES_LIMIT:
        raise _too_long("data.choices", CHOICES_LIMIT)
    for index, choice in enumerate(choices):
        if not 1 <= len(choice.get("name") or "") <= 100:
            raise invalid_form(f"data.choices.{index}.name", "BASE_TYPE_BAD_LENGTH",
                               "Must be between 1 and 100 in length.")
        if isinstance(choice.get("value"), str) and len(choice["value"]) > 100:
            raise _too_long(f"data.choices.{index}.value", 100)


def check_commands(commands: list[dict[str, Any]]) -> None:
    """A bulk overwrite of application commands, checked as Discord does (names, descriptions,
    option counts and order, choices, no duplicate names at any level)."""
    names: set[str] = set()
    for index, command in enumerate(commands):
        where = f"{index}"
        name = command.get("name") or ""
        if not COMMAND_NAME.match(name) or (command.get("type", 1) == 1 and name != name.lower()):
            raise invalid_form(f"{where}.name", "APPLICATION_COMMAND_INVALID_NAME",
                               "Command name is invalid")
        if name in names:
            raise invalid_form(f"{where}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME",
                               "Application command names must be unique")
        names.add(name)
        if command.get("type", 1) == 1:
            _check_description(command, where)
        _check_options(command.get("options") or [], where, depth=0)


def _check_description(item: dict[str, Any], where: str) -> None:
    if not 1 <= len(item.get("description") or "") <= 100:
        raise invalid_form(f"{where}.description", "BASE_TYPE_BAD_LENGTH",
                           "Must be between 1 and 100 in length.")


def _check_options(options: list[dict[str, Any]], where: str, depth: int) -> None:
    if len(options) > OPTIONS_LIMIT:
        raise _too_long(f"{where}.options", OPTIONS_LIMIT)
    seen: set[str] = set()
    optional_seen = False
    kinds = {o.get("type") for o in options}
    if kinds & {SUBCOMMAND, SUBCOMMAND_GROUP} and kinds - {SUBCOMMAND, SUBCOMMAND_GROUP}:
        raise invalid_form(f"{where}.options", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                           "Sub-command and sub-command group option types are mutually exclusive to all other types")
    for index, option in enumerate(options):
        here = f"{where}.options.{index}"
        name = option.get("name") or ""
        if not COMMAND_NAME.match(name) or name != name.lower():
            raise invalid_form(f"{here}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if name in seen:
            raise invalid_form(f"{here}.name", "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                               "Option names must be unique")
        seen.add(name)
        _check_description(option, here)
        kind = option.get("type")
        if kind == SUBCOMMAND_GROUP and depth > 0 or kind == SUBCOMMAND and depth > 1:
            raise invalid_form(f"{here}.type", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                               "Sub-commands nest at most two levels")
        if kind in (SUBCOMMAND, SUBCOMMAND_GROUP):
            _check_options(option.get("options") or [], here, depth + 1)
            continue
        if option.get("required"):
            if optional_seen:
                raise invalid_form(f"{here}.required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                                   "Required options must be placed before non-required options")
        else:
            optional_seen = True
        choices = option.get("choices") or []
        if len(choices) > CHOICES_LIMIT:
            raise _too_long(f"{here}.choices", CHOICES_LIMIT)
        if choices and option.get("autocomplete"):
            raise invalid_form(f"{here}.autocomplete", "AUTOCOMPLETE_AND_CHOICES_MUTUALLY_EXCLUSIVE",
                               "Autocomplete cannot be set for options with choices")
