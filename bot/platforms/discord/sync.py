"""Registering `/papers` with Discord: per configured server (copying the global commands there,
which shows them at once) or globally, and only when what would be sent changed since the last
sync this deployment made (a hash per target remembered in a small JSON file).

One registration at a time: a server that has `/papers` both as a server command and as a global
one shows it TWICE. So registering per server removes the global `/papers`, and registering
globally removes the server commands this deployment registered before (known from the file)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import discord
from discord import app_commands

log = logging.getLogger(__name__)


async def sync_commands(tree: app_commands.CommandTree, application_id: int | None,
                        guild_ids: Sequence[int], state_path: Path | None) -> list[str]:
    """Sync `tree` to each server in `guild_ids`, or globally when there is none, skipping
    targets whose commands are unchanged since the sync remembered in `state_path`. Returns the
    targets actually sent; a refused or failed target is logged and retried at the next start."""
    targets: list[discord.Object | None] = [discord.Object(id=g) for g in guild_ids] or [None]
    state = _read_state(state_path)
    sent = []
    wanted = {_key(application_id, guild) for guild in targets}
    # The other kind of registration is removed: nothing stays registered twice.
    stale = [key for key in state if key.startswith(f"{application_id}:") and key not in wanted
             and state[key] != EMPTY]
    if guild_ids and f"{application_id}:global" not in state:
        stale.append(f"{application_id}:global")   # a first start: a global /papers may exist
    for key in stale:
        if await _clear(tree, application_id, key):
            state[key] = EMPTY
            sent.append(key)
    for guild in targets:
        if guild is not None:
            tree.copy_global_to(guild=guild)
        payload = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
        key = _key(application_id, guild)
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        if state.get(key) == digest:
            log.info("/papers commands unchanged for %s; not syncing", _target(guild))
            continue
        try:
            await tree.sync(guild=guild)
        except discord.Forbidden as exc:
            log.error("cannot register /papers in %s: %s (%s). Invite the bot with the "
                      "applications.commands scope (paperbot discord-invite).",
                      _target(guild), exc.text, exc.code)
            continue
        except discord.HTTPException as exc:
            log.error("registering /papers in %s failed: %s %s; will retry at the next start",
                      _target(guild), exc.status, exc.text)
            continue
        state[key] = digest
        sent.append(key)
        log.info("synced /papers to %s", _target(guild))
    if sent:
        _write_state(state_path, state)
    return sent


EMPTY = hashlib.sha256(b"[]").hexdigest()   # the state of a target whose commands were removed


def _key(application_id: int | None, guild: discord.Object | None) -> str:
    return f"{application_id}:{guild.id if guild else 'global'}"


async def _clear(tree: app_commands.CommandTree, application_id: int | None, key: str) -> bool:
    """Remove every command of the target `key` ("<app>:global" or "<app>:<server id>")."""
    target = key.split(":", 1)[1]
    http = tree.client.http
    try:
        if target == "global":
            await http.bulk_upsert_global_commands(application_id, [])
        else:
            await http.bulk_upsert_guild_commands(application_id, int(target), [])
    except discord.HTTPException as exc:
        log.warning("could not remove the old /papers registration (%s): %s %s; will retry at the "
                    "next start", "global" if target == "global" else f"server {target}",
                    exc.status, exc.text)
        return False
    log.info("removed the old /papers registration (%s) so it does not show twice",
             "global" if target == "global" else f"server {target}")
    return True


def _target(guild: discord.Object | None) -> str:
    return f"server {guild.id}" if guild else "all servers (global)"


def _read_state(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable command sync state %s: %s", path, exc)
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_state(path: Path | None, state: Mapping[str, str]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(dict(state), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        log.warning("could not remember the command sync in %s (%s); the next start syncs again",
                    path, exc)
