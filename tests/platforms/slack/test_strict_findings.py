"""What the strict fake Slack revealed about the bot (issue 13), now fixed: each test states the
behaviour Slack's documented errors call for."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.runner import DONE, PAUSED, DeliveryRunner
from bot.platforms.slack import SlackSink
from bot.delivery.health import PROBE_BACKOFF
from tests.fakes.clock import FakeClock
from tests.platforms.slack.conftest import CHANNEL
from tests.platforms.slack.test_sink import destination, digest_for_papers, synthetic


@pytest.fixture
def clock(slack):
    clock = FakeClock(datetime(2025, 4, 21, 15, tzinfo=timezone.utc))
    slack.follow(clock)
    return clock


@pytest.fixture
def sink(slack, clock):
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])
    return SlackSink(client, slack.team_id, monotonic=clock.monotonic)


@pytest.mark.parametrize("break_it, fix_it", [
    (lambda slack: slack.scopes.discard("chat:write"), lambda slack: slack.scopes.add("chat:write")),
    (lambda slack: slack.deactivate(), lambda slack: slack.restore_token()),
])
async def test_a_workspace_problem_pause_lifts_once_slack_accepts_calls_again(slack, store, sink, clock,
                                                                             break_it, fix_it):
    dest = destination(slack, CHANNEL)
    digest = digest_for_papers(dest, synthetic(2), "VLM")
    break_it(slack)
    first = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert first.outcome == PAUSED
    assert sink.problem is not None          # reported once for the workspace (/healthz)
    fix_it(slack)   # the app reinstalled with its scopes / the account active again
    held = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert held.outcome == PAUSED             # within the back-off nobody asks Slack
    clock.advance(PROBE_BACKOFF[0])
    again = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert again.outcome == DONE
    assert sink.problem is None


async def test_a_revoked_token_is_one_workspace_problem_not_one_per_channel(slack, store, sink, clock, caplog):
    channels = [CHANNEL, "C0SECOND", "C0THIRD"]
    for channel in channels[1:]:
        slack.add_channel(channel, channel.lower())
    slack.revoke_token()
    runner = DeliveryRunner(store, clock)
    for channel in channels:
        dest = destination(slack, channel)
        await runner.deliver(sink, dest, digest_for_papers(dest, synthetic(2), "VLM"))
    assert len(slack.calls_to("chat.postMessage")) <= 1
    assert "token_revoked" in (sink.problem or "")
    problems = [r for r in caplog.records if r.levelno >= 30]
    assert len(problems) == 1 and "Slack workspace" in problems[0].getMessage()   # ONE line
    assert not any(r.exc_info for r in caplog.records)
    # Reinstalled: after the back-off one auth.test finds the token good, every channel resumes.
    slack.restore_token()
    clock.advance(PROBE_BACKOFF[0])
    for channel in channels:
        dest = destination(slack, channel)
        result = await runner.deliver(sink, dest, digest_for_papers(dest, synthetic(2), "VLM"))
        assert result.outcome == DONE
    # One probe for the workspace (not one per channel), and one to learn the bot's own identity
    # before reading the threads back.
    assert len(slack.calls_to("auth.test")) == 2


async def test_unsigned_junk_is_refused_with_401(http_slack, slack, caplog):
    status, _ = await http_slack.post("payload=%7Bnot-json", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 401
    assert [r.levelname for r in caplog.records if r.levelno >= 30] == ["WARNING"]
    assert not any(r.exc_info for r in caplog.records)
