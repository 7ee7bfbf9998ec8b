"""Registering `/papers` with Discord: per configured server (copying the global commands there,
which shows them at once) or globally, and only when what would be sent changed since the last
sync this deployment made (a hash per target remembered in a small JSON file)."""

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
    for guild in targets:
        if guild is not None:
            tree.copy_global_to(guild=guild)
        payload = [command.to_dict(tree) for command in tree.get_commands(guild=guild)]
        key = f"{application_id}:{guild.id if guild else 'global'}"
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
