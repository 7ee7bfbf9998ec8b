"""Answering an interaction within Discord's 3 s, counted from when Discord CREATED it.

Discord measures from the interaction's creation (its id is a snowflake that carries that
moment), not from when our handler happened to start: gateway delivery and a busy event loop
eat into the 3 s before any of our code runs. So every handler here starts its work, and defers
("thinking...", privately) as soon as the work has not finished by `defer_after` seconds after the
interaction was created; an interaction that arrives already that old is deferred before any work.
Autocomplete cannot defer: it gets whatever is ready by then (see tree.py's cache).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import discord

T = TypeVar("T")

ANSWER_WITHIN_SECONDS = 3.0   # Discord's deadline for the first answer
# Leaves 1.5 s for the defer itself to reach Discord: on a loaded machine (2 cores, 5+ busy
# processes) a defer sent at 2.0 s arrived after 3 s twice in 200 interactions.
DEFER_AFTER_SECONDS = 1.5


def interaction_age(interaction: discord.Interaction) -> float:
    """Seconds since Discord created the interaction (from its snowflake id)."""
    return max(0.0, (discord.utils.utcnow() - interaction.created_at).total_seconds())


def seconds_left(interaction: discord.Interaction, budget: float) -> float:
    """How much of `budget` (seconds after creation) remains."""
    return budget - interaction_age(interaction)


async def within_deadline(interaction: discord.Interaction, work: Awaitable[T], *,
                          defer_after: float = DEFER_AFTER_SECONDS) -> T:
    """`work`'s result; if it is not ready `defer_after` seconds after the interaction was
    created, the interaction is deferred privately first (a refusal must never be shown to the
    whole channel; a public answer is then sent as a followup, see tree.respond)."""
    task = asyncio.ensure_future(work)
    wait = seconds_left(interaction, defer_after)
    done: set = set()
    if wait > 0:
        done, _ = await asyncio.wait({task}, timeout=wait)
    if not done and not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    return await task


async def ready_within(interaction: discord.Interaction, work: Awaitable[T], *,
                       budget: float = DEFER_AFTER_SECONDS) -> tuple[bool, asyncio.Future[T]]:
    """For answers that cannot be deferred (autocomplete, opening a form): whether `work` was done
    `budget` seconds after creation, and its future (which keeps running if not)."""
    task = asyncio.ensure_future(work)
    wait = seconds_left(interaction, budget)
    if wait > 0:
        await asyncio.wait({task}, timeout=wait)
    return task.done(), task
