"""Interactions (interactions/receiving-and-responding): what people do (slash commands,
autocomplete, button clicks, modal submissions) dispatched over the gateway, and the bot's
answers: one callback within 3 s of the interaction (else 404 / 10062 Unknown interaction, and
the token is dead), then edits and followups on the token for 15 minutes (else 401 / 50027
Invalid Webhook Token). Time is the fake's ServiceClock, so tests skip ahead instead of waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from tests.fakes.discord.permissions import ATTACH_FILES, MEMBER
from tests.fakes.discord.state import DM, DiscordError, invalid_form, iso_now
from tests.fakes.discord.validation import check_autocomplete, check_message, check_modal
from tests.fakes.discord.world import DM_PERMISSIONS

CALLBACK_DEADLINE = 3.0          # seconds from the interaction to its initial response
TOKEN_LIFETIME = 15 * 60.0       # seconds an interaction token takes edits and followups
MESSAGE_ANSWERS = (4, 7)         # CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE
DEFERRED_ANSWERS = (5, 6)
# DEFERRED_UPDATE_MESSAGE and UPDATE_MESSAGE act on the message a component is on: only component
# clicks and modal submissions (from a component) may use them.
MESSAGE_UPDATES = (6, 7)
COMPONENT, MODAL_SUBMIT = 3, 5
AUTOCOMPLETE_ANSWER, MODAL_ANSWER = 8, 9


UPLOADED_FILES = "__files__"   # the multipart file parts of a request, next to its JSON payload
# Discord's upload limit for a bot's message (all files together): 10 MiB without boosts
# (reference: "Uploading Files"; the limit rose from 8 MiB to 10 MiB in 2024), at most 10 files.
UPLOAD_LIMIT_BYTES = 10 * 1024 * 1024
FILES_PER_MESSAGE = 10


class Interactions:
    """Mixin of FakeDiscord (see world.DiscordWorld for the attributes it expects)."""

    # -- the bot's answers ----------------------------------------------------------------------

    def attach(self, body: dict[str, Any], data: dict[str, Any], message: dict[str, Any], *,
               channel_id: int | None = None) -> None:
        """Check the request's files (multipart `files[n]` parts, each declared in the payload's
        `attachments` with id n) against Discord's rules and keep them on `message`. The bytes
        are in `self.uploads[attachment id]`."""
        files = body.pop(UPLOADED_FILES, None) or []
        if not files:
            return
        channel = self.channels.get(int(channel_id or 0))
        if channel is not None and channel.get("guild_id"):
            # The app's permissions in the channel (the interaction's app_permissions) apply.
            self._require(channel["id"], ATTACH_FILES)
        declared = {str(item.get("id")): item for item in (data.get("attachments") or [])}
        if len(files) > FILES_PER_MESSAGE:
            raise DiscordError(400, 50035, "Invalid Form Body",
                               {"files": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                                       "message": "Must be 10 or fewer in length."}]}})
        if sum(len(f["content"]) for f in files) > getattr(self, "upload_limit", UPLOAD_LIMIT_BYTES):
            raise DiscordError.of(40005)
        stored = []
        for part in files:
            number = part["field"].removeprefix("files[").removesuffix("]")
            if not part["field"].startswith("files[") or number not in declared:
                raise DiscordError(400, 50035, "Invalid Form Body",
                                   {"attachments": {"_errors": [{"code": "ATTACHMENT_NOT_FOUND",
                                                                 "message": f"no attachment {part['field']}"}]}})
            attachment_id = str(self._ids.next())
            self.uploads[attachment_id] = part["content"]
            stored.append({"id": attachment_id, "filename": declared[number].get("filename") or part["filename"],
                           "size": len(part["content"]), "content_type": part["content_type"],
                           "url": f"https://cdn.discordapp.com/attachments/0/{attachment_id}/{part['filename']}",
                           "proxy_url": f"https://media.discordapp.net/attachments/0/{attachment_id}/{part['filename']}"})
        message["attachments"] = stored

    def _interaction_age(self, interaction_id: int) -> float:
        return self.clock.monotonic() - self._interaction_times[interaction_id]

    def _interaction_callback(self, query, body, interaction_id: str, token: str) -> tuple[int, Any]:
        iid = int(interaction_id)
        interaction = self._interactions.get(iid)
        if interaction is None or interaction["token"] != token:
            raise DiscordError.of(10062)
        if iid in self.callbacks:
            raise DiscordError.of(40060)
        if self._interaction_age(iid) > CALLBACK_DEADLINE:
            # Too late: the person saw "The application did not respond" and the token is dead.
            self.late_callbacks.append(iid)
            raise DiscordError.of(10062)
        kind = body.get("type")
        data = body.get("data") or {}
        if kind in MESSAGE_UPDATES and (interaction["type"] not in (COMPONENT, MODAL_SUBMIT)
                                        or "message" not in interaction):
            raise invalid_form("type", "INTERACTION_RESPONSE_TYPE_INVALID",
                               "Interaction response type is invalid for this interaction")
        if kind in MESSAGE_ANSWERS:
            check_message(data)
        if kind == MODAL_ANSWER:
            check_modal(data)
        if kind == AUTOCOMPLETE_ANSWER:
            check_autocomplete(data)
        message = None
        if kind in (4, 5):
            flags = int(data.get("flags") or 0)
            message = self.store_message(0, data, author=self.bot_user, flags=flags)
            # Refused files refuse the whole callback: the interaction stays unacknowledged.
            self.attach(body, data, message, channel_id=interaction["channel_id"])
        self.callbacks[iid] = body
        answer: dict[str, Any] = {"interaction": {"id": interaction_id, "type": interaction["type"]}}
        if message is not None:
            message["channel_id"] = interaction["channel_id"]
            interaction["original"] = message
            answer["interaction"].update({"response_message_id": message["id"],
                                          "response_message_loading": kind == 5,
                                          "response_message_ephemeral": bool(flags & 64)})
            answer["resource"] = {"type": kind, "message": message}
        if kind in MESSAGE_UPDATES:
            # The original response IS the message the button is on: a later edit of @original
            # (after a type 6) edits it, as a type 7 does at once.
            message = self._stored(interaction["message"])
            if kind == 7:
                self._apply_edit(message, data)
            interaction["original"] = message
            answer["interaction"]["response_message_id"] = message["id"]
            if kind == 7:
                answer["resource"] = {"type": kind, "message": message}
        return 200, answer

    def _stored(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message as the channel holds it now (10008 once deleted)."""
        for stored in self.messages.get(int(message["channel_id"]), []):
            if stored["id"] == message["id"]:
                return stored
        raise DiscordError.of(10008)

    def _apply_edit(self, message: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key] or ([] if key != "content" else "")
        message["edited_timestamp"] = iso_now()

    def _webhook_interaction(self, app: str, token: str) -> dict[str, Any]:
        if int(app) != self.application_id:
            raise DiscordError.of(10015)
        for iid, interaction in self._interactions.items():
            if interaction["token"] == token:
                if iid not in self.callbacks:
                    raise DiscordError.of(10015)   # never acknowledged: the token never came alive
                if self._interaction_age(iid) > TOKEN_LIFETIME:
                    self.expired_followups.append(iid)
                    raise DiscordError.of(50027)
                return interaction
        raise DiscordError.of(10015)

    def _edit_original(self, query, body, app: str, token: str) -> tuple[int, Any]:
        interaction = self._webhook_interaction(app, token)
        original = interaction.get("original")
        if original is None:
            raise DiscordError.of(10008)
        check_message(body)
        if interaction.get("message") is not None:
            original = self._stored(original)   # 10008 when the button's message was deleted
        self.attach(body, body, original, channel_id=interaction["channel_id"])
        self._apply_edit(original, body)
        self._edits.setdefault(int(interaction["id"]), []).append(body)
        return 200, original

    def _delete_original(self, query, body, app: str, token: str) -> tuple[int, Any]:
        interaction = self._webhook_interaction(app, token)
        if interaction.get("original") is None or interaction.get("original_deleted"):
            raise DiscordError.of(10008)
        interaction["original_deleted"] = True
        return 204, None

    def _followup(self, query, body, app: str, token: str) -> tuple[int, Any]:
        interaction = self._webhook_interaction(app, token)
        check_message(body)
        message = self.store_message(0, body, flags=int(body.get("flags") or 0))
        self.attach(body, body, message, channel_id=interaction["channel_id"])
        message["channel_id"] = interaction["channel_id"]
        self.followups.setdefault(int(interaction["id"]), []).append(body)
        return 200, message

    def interaction_reply(self, interaction_id: int) -> dict[str, Any]:
        """What the person finally sees: the callback's message, or for a deferred answer the
        edit of the original response (content, embeds, components, flags)."""
        callback = self.callbacks[interaction_id]
        data = dict(callback.get("data") or {})
        for edit in self._edits.get(interaction_id, []):
            data.update(edit)
        return data

    # -- what people do ---------------------------------------------------------------------------

    def _member(self, user: dict[str, Any], permissions: int, roles: Iterable[int]) -> dict[str, Any]:
        return {"user": user, "roles": [str(r) for r in roles], "joined_at": iso_now(),
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
            "app_permissions": str(self.bot_permissions(int(channel["id"]))),
            "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0, "attachment_size_limit": 10 * 1024 * 1024,
        }
        self._interactions[interaction_id] = payload
        self._interaction_times[interaction_id] = self.clock.monotonic()
        return payload

    def _dm_interaction_base(self, kind: int, channel: dict[str, Any],
                             user: dict[str, Any]) -> dict[str, Any]:
        """An interaction in a direct message with the bot: a `user`, no server, no member."""
        if str(user["id"]) not in {str(r["id"]) for r in channel["recipients"]}:
            raise AssertionError(f"{user['username']} cannot see the DM channel {channel['id']}")
        interaction_id = self._ids.next()
        payload = {
            "id": str(interaction_id), "application_id": str(self.application_id), "type": kind,
            "token": f"itoken-{interaction_id}", "version": 1, "channel_id": channel["id"],
            "channel": channel, "user": user, "app_permissions": str(DM_PERMISSIONS),
            "locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"1": str(user["id"])}, "context": 1,
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        self._interactions[interaction_id] = payload
        self._interaction_times[interaction_id] = self.clock.monotonic()
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
        """The `data` Discord's client would send: only declared options, each within its
        declared choices / length / range (the client refuses anything else), required ones
        present."""
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
            spec = declared[option_name]
            if option_name != focused:
                _check_option_value(f"/{name} {subcommand} {option_name}", spec, value)
            entry = {"name": option_name, "type": spec["type"], "value": value}
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
        """Someone clicks the button `custom_id` on `message` (a stored message payload), as the
        message is now (a button an edit removed cannot be clicked); in a direct message, the
        person it went to."""
        current = next((m for m in self.messages.get(int(message["channel_id"]), [])
                        if m["id"] == message["id"]), message)
        buttons = [c for row in current.get("components", []) for c in row.get("components", [])]
        if not any(b.get("custom_id") == custom_id for b in buttons):
            raise AssertionError(f"message {message['id']} has no button {custom_id!r}")
        channel = self.channels.get(int(message["channel_id"]))
        if channel is not None and channel["type"] == DM:
            payload = self._dm_interaction_base(3, channel, user or channel["recipients"][0])
        else:
            payload = self._interaction_base(3, int(message["channel_id"]), permissions, (), user)
            payload["channel"] = self.channels.get(int(message["channel_id"]), payload["channel"])
        payload["message"] = dict(current)
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        await self.dispatch("INTERACTION_CREATE", payload)
        return int(payload["id"])

    async def submit_modal(self, interaction_id: int, values: list[str], *,
                           user: dict[str, Any] | None = None) -> int:
        """The person fills in the modal that interaction `interaction_id` answered with (a type 9
        callback), one value per text input in order, and submits it (MODAL_SUBMIT, type 5)."""
        callback = self.callbacks.get(interaction_id)
        if callback is None or callback.get("type") != MODAL_ANSWER:
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
        await self._wait(lambda: bool(self._edits.get(interaction_id)), timeout,
                         f"no edit of the original response of {interaction_id}")
        return self._edits[interaction_id][-1]

    async def _wait(self, ready, timeout: float, what: str) -> None:
        async def waiting() -> None:
            async with self._changed:
                await self._changed.wait_for(ready)
        try:
            await asyncio.wait_for(waiting(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"{what} within {timeout} s") from None


def _check_option_value(where: str, spec: dict[str, Any], value: Any) -> None:
    """What Discord's client lets a person send for one option (interactions/application-commands
    #application-command-object-application-command-option-structure)."""
    kind = spec["type"]
    if spec.get("choices") and value not in [c["value"] for c in spec["choices"]]:
        raise AssertionError(f"{where}: {value!r} is not one of the declared choices")
    if kind == 3:
        if not isinstance(value, str):
            raise AssertionError(f"{where}: a STRING option needs a string, got {value!r}")
        if not spec.get("min_length", 0) <= len(value) <= spec.get("max_length", 6000):
            raise AssertionError(f"{where}: {len(value)} characters is outside the declared length")
    if kind in (4, 10):
        if kind == 4 and (not isinstance(value, int) or isinstance(value, bool)):
            raise AssertionError(f"{where}: an INTEGER option needs an int, got {value!r}")
        low, high = spec.get("min_value"), spec.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise AssertionError(f"{where}: {value} is outside [{low}, {high}]")
    if kind == 5 and not isinstance(value, bool):
        raise AssertionError(f"{where}: a BOOLEAN option needs true or false, got {value!r}")
