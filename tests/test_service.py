"""`start_platforms`: every platform is built, `before_connect` runs (the scheduler compiles the
subscriptions there, see Scheduler.prepare), and only then do the platforms connect."""

from __future__ import annotations

import socket

import pytest

from bot.config import Settings, SlackSettings
from bot.service import start_platforms
from bot.store import AsyncStore
from tests.fakes.slack_server import FakeSlack


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture
async def slack_setup(tmp_path):
    port = free_port()
    async with FakeSlack() as slack:
        store = await AsyncStore.open(tmp_path / "p.db")
        settings = Settings(slack=SlackSettings(api_url=slack.api_url, mode="http", port=port))
        environ = {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": "service-secret"}
        try:
            yield settings, store, environ, port
        finally:
            await store.close()


async def test_the_platforms_connect_only_after_before_connect(slack_setup):
    settings, store, environ, port = slack_setup
    seen = []

    async def before_connect(runtimes) -> None:
        seen.append([(runtime.sink.platform, runtime.connected, listening(port)) for runtime in runtimes])

    runtimes = await start_platforms(settings, store, environ, before_connect=before_connect)
    try:
        assert seen == [[("slack", False, False)]]   # built, not yet reachable
        assert [runtime.connected for runtime in runtimes] == [True] and listening(port)
    finally:
        for runtime in runtimes:
            await runtime.close()


async def test_a_failing_before_connect_closes_what_was_built_and_connects_nothing(slack_setup):
    settings, store, environ, port = slack_setup

    async def before_connect(runtimes) -> None:
        raise RuntimeError("preparing failed")

    with pytest.raises(RuntimeError, match="preparing failed"):
        await start_platforms(settings, store, environ, before_connect=before_connect)
    assert not listening(port)
