"""The 3 s are counted from when Discord created the interaction (its snowflake), not from when
our handler started: an interaction that arrives late is deferred before any work is awaited."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import discord

from bot.platforms.discord.deadline import seconds_left, within_deadline


class RecordingResponse:
    """Stands in for discord.py's InteractionResponse: records the defer."""

    def __init__(self) -> None:
        self.deferred_with: dict | None = None

    def is_done(self) -> bool:
        return self.deferred_with is not None

    async def defer(self, **options) -> None:
        self.deferred_with = options


def interaction_created(seconds_ago: float) -> SimpleNamespace:
    # discord.Interaction.created_at is snowflake_time(id): build the id the same way.
    created = discord.utils.utcnow() - timedelta(seconds=seconds_ago)
    return SimpleNamespace(id=discord.utils.time_snowflake(created),
                           created_at=discord.utils.snowflake_time(discord.utils.time_snowflake(created)),
                           response=RecordingResponse())


def test_the_budget_counts_from_creation():
    assert 1.3 < seconds_left(interaction_created(0.5), 2.0) <= 1.5
    assert seconds_left(interaction_created(2.5), 2.0) < 0


async def test_an_interaction_that_arrives_late_is_deferred_privately_before_waiting():
    interaction = interaction_created(2.5)
    work_started_after_defer = asyncio.Event()

    async def work() -> str:
        await asyncio.sleep(0)
        if interaction.response.is_done():
            work_started_after_defer.set()
        return "answer"

    assert await within_deadline(interaction, work()) == "answer"
    assert interaction.response.deferred_with == {"ephemeral": True, "thinking": True}
    assert work_started_after_defer.is_set()


async def test_a_fresh_interaction_with_a_quick_answer_is_not_deferred():
    interaction = interaction_created(0.0)

    async def work() -> str:
        return "answer"

    assert await within_deadline(interaction, work()) == "answer"
    assert interaction.response.deferred_with is None
