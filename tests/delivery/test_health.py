"""The core's platform health: one workspace-wide problem holds every call until its probe is
due, and the first call that succeeds ends it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.delivery.health import PROBE_BACKOFF, PlatformCalls, PlatformHealth
from bot.delivery.sink import Pace, PlatformUnavailable
from tests.fakes.clock import FakeClock


@pytest.fixture
def clock():
    return FakeClock(datetime(2025, 4, 21, 12, tzinfo=timezone.utc))


async def test_a_problem_holds_every_call_until_the_probe_then_one_success_ends_it(clock, caplog):
    health = PlatformHealth("Chat workspace W1", "Chat", monotonic=clock.monotonic)
    calls = PlatformCalls(Pace(), health)
    platform_calls = []
    broken = True

    async def post():
        platform_calls.append("post")
        if broken:
            raise PlatformUnavailable("the app lacks chat:write (Chat: missing_scope)", "missing_scope")
        return "ok"

    with pytest.raises(PlatformUnavailable):
        await calls.call(post)
    for _ in range(5):        # every other destination: refused without calling the platform
        with pytest.raises(PlatformUnavailable, match="missing_scope"):
            await calls.call(post)
    assert platform_calls == ["post"]
    assert health.describe() == "the app lacks chat:write (Chat: missing_scope)"
    assert [r.levelname for r in caplog.records if r.levelno >= 30] == ["ERROR"]   # one line
    broken = False
    clock.advance(PROBE_BACKOFF[0])
    assert health.probe_due()
    assert await calls.call(post) == "ok"      # the probe is the caller's own call
    assert health.describe() is None and platform_calls == ["post", "post"]


async def test_a_token_problem_is_probed_once_by_the_sinks_probe(clock):
    probes = []
    token_good = False

    async def probe():
        probes.append(1)
        if not token_good:
            raise PlatformUnavailable("token revoked (Chat: token_revoked)", "token_revoked", True)

    health = PlatformHealth("Chat workspace W1", "Chat", monotonic=clock.monotonic, probe=probe)
    calls = PlatformCalls(Pace(), health)
    health.failed(PlatformUnavailable("token revoked (Chat: token_revoked)", "token_revoked", True))
    clock.advance(PROBE_BACKOFF[0])

    async def post():
        return "ok"

    with pytest.raises(PlatformUnavailable):
        await calls.call(post)                 # the probe says: still revoked
    with pytest.raises(PlatformUnavailable):
        await calls.call(post)                 # and the next probe waits for its back-off
    assert probes == [1]
    token_good = True
    health.reset()                             # /papers resume: probe at once
    assert await calls.call(post) == "ok"
    assert probes == [1, 1] and health.describe() is None
