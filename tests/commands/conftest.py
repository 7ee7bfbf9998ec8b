"""Shared fixtures: a real SQLite store holding the synthetic 2025-04-21 listing (tests/data)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.commands import CommandContext, CommandExecutor
from bot.config import Settings
from bot.store import AsyncStore

from tests.conftest import SEED_DAY  # re-exported: tests here import it from this conftest
NOW = datetime(2025, 4, 21, 14, 30, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return NOW



@pytest.fixture
async def empty_store(tmp_path):
    store = await AsyncStore.open(tmp_path / "paperbot.db", clock=fixed_clock)
    yield store
    await store.close()


@pytest.fixture
async def store(empty_store, synthetic_listing):
    await empty_store.run(lambda s: s.papers.save_listing(SEED_DAY, synthetic_listing.papers))
    return empty_store


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def executor(store, settings) -> CommandExecutor:
    return CommandExecutor(store, settings)


def context(*, platform: str = "slack", workspace: str = "T0001", channel: str = "C0001",
            user: str = "U0001", can_manage: bool = True,
            channel_name: str | None = "ml-papers") -> CommandContext:
    return CommandContext(platform, workspace, channel, user, can_manage, channel_name)
