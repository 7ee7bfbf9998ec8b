"""Fixtures for the Discord bot: a fake Discord (REST + gateway), a real store holding the synthetic
2025-04-21 listing (tests/data), and the real runtime started against them."""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone

import pytest

from bot.commands import CommandExecutor
from bot.config import DiscordSettings, Settings
from bot.platforms.discord import DiscordRuntime, start_discord
from bot.store import AsyncStore
from tests.fakes.clock import FakeClock, ServiceClock
from tests.fakes.discord import FakeDiscord

from tests.conftest import SEED_DAY  # re-exported: tests here import it from this conftest



@pytest.fixture
async def store(tmp_path, synthetic_listing):
    db = await AsyncStore.open(tmp_path / "paperbot.db")
    await db.run(lambda s: s.papers.save_listing(SEED_DAY, synthetic_listing.papers))
    yield db
    await db.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 4, 21, 14, tzinfo=timezone.utc))


@pytest.fixture
async def fake(clock):
    # Discord's clock follows the core's: when the runner waits out its pace on the fake clock,
    # the fake Discord's rate-limit windows and interaction deadlines see that time pass too.
    async with FakeDiscord(clock=ServiceClock(following=clock)) as server:
        yield server


def discord_settings(fake: FakeDiscord, **discord_options) -> Settings:
    return Settings(discord=DiscordSettings(api_url=fake.api_url, gateway_url=fake.gateway_url,
                                            **discord_options))


@contextlib.asynccontextmanager
async def running_bot(fake: FakeDiscord, store: AsyncStore, settings: Settings | None = None,
                      **options):
    """The real runtime, started against the fake; closed (and discord.py's endpoints restored)
    on the way out."""
    options.setdefault("guild_ready_timeout", 0.02)
    settings = settings or discord_settings(fake)
    runtime = await start_discord(settings, CommandExecutor(store, settings),
                                  environ={"DISCORD_TOKEN": fake.token}, **options)
    assert isinstance(runtime, DiscordRuntime)
    await runtime.start(timeout=10)
    try:
        yield runtime
    finally:
        await runtime.close()


@pytest.fixture
async def bot(fake, store):
    async with running_bot(fake, store) as runtime:
        yield runtime
