"""Issue 13's Slack findings, through the real slack_sdk / bolt against the strict fake Slack:
escaping that always fits, the Home tab cut between papers, response_url failures logged, the
listener's host and a busy port, the documented pace, group DMs refused, the query limit in the
form and on submit, forged thread replies ignored, pause metrics by Slack's error code."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timezone

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.commands import CommandExecutor
from bot.config import SlackSettings
from bot.store.personal import PersonRef
from bot.delivery.runner import DONE, FAILED, DeliveryRunner
from bot.digest.model import build_digest
from bot.matching import Subscription, compile_subscriptions, parse_query
from bot.models import ANNOUNCE_TYPES
from bot.platforms.slack import SlackSetupError, SlackSink, home, render, start_slack
from bot.platforms.slack.app import answer_via
from tests.fakes.clock import FakeClock
from tests.fakes.slack_server import block_errors
from tests.platforms.slack.conftest import CHANNEL, environ, slack_settings
from tests.platforms.slack.test_home import ANNA, click_body, submit_body
from tests.platforms.slack.test_render import paper
from tests.platforms.slack.test_sink import destination, digest_for_papers, synthetic

ENTITY_TITLES = ["&" * 600, "<>" * 300, "&<>" * 200 + " VLM", "& < > " * 100]


@pytest.mark.parametrize("title", ENTITY_TITLES)
def test_titles_of_entities_fit_the_parent_and_the_abstract(title):
    papers = [paper(n, title=title) for n in range(6)]
    matcher = compile_subscriptions([Subscription("s", parse_query("Paper, VLM"),
                                                  types=frozenset(ANNOUNCE_TYPES))])
    digest = build_digest("slack:T:C", "ml", papers[0].announced, matcher.match(papers))
    parent = render.parent_message(digest)
    assert block_errors(parent.blocks) == []
    abstract = render.abstract_message(papers[0])
    assert block_errors(abstract.blocks) == []
    assert "&amp;" in json.dumps(parent.blocks) or "&lt;" in json.dumps(parent.blocks)


def test_the_home_list_is_cut_between_papers_never_inside_a_link(monkeypatch):
    from bot.commands.personal import PersonalOverview
    monkeypatch.setattr(home, "HOME_PAPERS_SHOWN", 20)   # more lines than one section holds
    papers = [paper(n, title="&" * 400) for n in range(20)]
    matcher = compile_subscriptions([Subscription("s", parse_query("Paper, VLM"),
                                                  types=frozenset(ANNOUNCE_TYPES))])
    digest = build_digest("me", "me", papers[0].announced, matcher.match(papers))
    from bot.store.personal import PersonalDelivery
    person = PersonRef("slack", "T", "U1")
    overview = PersonalOverview(person=person, subscriptions=(), delivery=PersonalDelivery(person), paused=None, limit=20,
                                day=papers[0].announced, digest=digest, papers_that_day=20)
    view = home.home_view(overview)
    assert block_errors(view["blocks"]) == []
    [papers_section] = [b for b in view["blocks"] if b["type"] == "section" and "arxiv.org" in b["text"]["text"]]
    lines = papers_section["text"]["text"].split("\n")
    assert all(line.count("<") == line.count(">") == 1 for line in lines[:-1])   # whole links only
    assert lines[-1].startswith("… and ") and len(lines) < 20
    assert int(lines[-1].split()[2]) == 20 - (len(lines) - 1)   # what was left out is counted


class _Failed:
    status_code = 404
    body = "expired_url"


async def test_a_failed_respond_is_logged(caplog):
    async def respond(**_):
        return _Failed()
    assert await answer_via(respond, "/papers in C1", text="hi") is False
    assert "HTTP 404" in caplog.text and "/papers in C1" in caplog.text


def test_the_listener_host_and_the_documented_pace_are_settings():
    settings = SlackSettings()
    assert settings.host == "127.0.0.1"
    assert settings.max_messages_per_second == 5.0   # docs: 1/s per channel, a workspace-wide limit
    assert SlackSettings(max_messages_per_second=12).max_messages_per_second == 12


async def test_a_busy_port_fails_the_start_with_one_clear_line(slack, store):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        settings = slack_settings(slack, mode="http", host="127.0.0.1", port=port)
        runtime = await start_slack(settings, CommandExecutor(store, settings), environ=environ(slack))
        with pytest.raises(SlackSetupError, match=f"127.0.0.1:{port}.*slack.port"):
            await runtime.start()
        await runtime.close()
    finally:
        taken.close()


async def test_subscribing_a_group_dm_is_refused_clearly(http_slack, slack, store):
    answer = await http_slack.command("subscribe VLM", channel="G0GROUP", channel_name="mpdm-anna--bob-1")
    assert "group direct messages" in json.dumps(answer)


async def test_the_form_limits_queries_to_the_query_length(http_slack, slack, store):
    await http_slack.post(click_body(slack, ANNA, home.ADD_ACTION))
    opened = await slack.wait_for(lambda: slack.opened_views)
    element = opened[0]["view"]["blocks"][0]["element"]
    assert element["max_length"] == 500
    status, body = await http_slack.post(submit_body(slack, ANNA, "VLM OR " * 100))
    assert status == 200 and "the most is 500" in json.loads(body)["errors"][home.ADD_BLOCK]


async def test_another_apps_reply_with_our_metadata_does_not_count_as_posted(slack, store):
    clock = FakeClock(datetime(2025, 4, 21, 15, tzinfo=timezone.utc))
    slack.follow(clock)
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])
    sink = SlackSink(client, slack.team_id)
    dest = destination(slack, CHANNEL)
    digest = digest_for_papers(dest, synthetic(3), "VLM")
    # The parent goes out, then the first thread message fails: the day is half-done.
    slack.fail("chat.postMessage", "internal_error", status=500, when=lambda call: bool(call.params.get("thread_ts")))
    first = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert first.outcome == FAILED
    [parent] = slack.top_level(CHANNEL)
    ids = [item.paper.id for item in digest.items]
    slack.messages[CHANNEL].append({
        "type": "message", "subtype": "bot_message", "ts": "1745250000.999999", "thread_ts": parent["ts"],
        "text": "forged", "bot_id": "BFORGED", "user": "UFORGED", "team": slack.team_id,
        "metadata": {"event_type": render.METADATA_EVENT,
                     "event_payload": {"destination": dest.key, "day": digest.day.isoformat(),
                                       "kind": "papers", "paper_ids": ids}}})
    clock.advance(60)
    again = await DeliveryRunner(store, clock).deliver(sink, dest, digest)
    assert again.outcome == DONE and again.papers == len(ids)
    ours = [m for m in slack.thread(CHANNEL, parent["ts"]) if m.get("bot_id") != "BFORGED" and m["ts"] != parent["ts"]]
    posted = {pid for m in ours for pid in m["metadata"]["event_payload"]["paper_ids"]}
    assert posted == set(ids)


def test_paused_destinations_are_labelled_by_slacks_error_code():
    reason = "paperbot is not a member of this channel. Invite it: daily posts resume. (Slack: not_in_channel)"
    assert metrics.reason_code(reason) == "not_in_channel"
    assert metrics.reason_code("paperbot cannot see #x (Discord: 50001)") == "50001"
    assert metrics.reason_code("archived: since May") == "archived"


async def test_a_workspace_problem_shows_on_the_runtime_and_healthz(http_slack, slack, store):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.ops import OpsServer
    runtime = http_slack.runtime
    assert runtime.health() == {"connected": True, "problem": None, "workspace": slack.team_id}
    slack.revoke_token()
    dest = destination(slack, CHANNEL)
    clock = FakeClock(datetime(2025, 4, 21, 15, tzinfo=timezone.utc))
    await DeliveryRunner(store, clock).deliver(runtime.sink, dest, digest_for_papers(dest, synthetic(1), "VLM"))
    assert runtime.connected is False and "token_revoked" in runtime.problem
    ops = OpsServer(store, scheduler_alive=lambda: True, last_poll=lambda: None, now=clock.now,
                    platforms=[runtime])
    ops.database.report = lambda: {"database_writable": True, "database_intact": True,
                                   "database_checked_seconds_ago": 0, "database_problem": None}
    async with TestClient(TestServer(ops.app())) as client:
        answer = await client.get("/healthz")
        body = await answer.json()
    assert answer.status == 503 and "token_revoked" in body["platforms"]["slack"]["problem"]


async def test_papers_resume_asks_slack_again_at_once(http_slack, slack, store):
    runtime = http_slack.runtime
    dest = destination(slack, CHANNEL)
    digest = digest_for_papers(dest, synthetic(2), "VLM")
    clock = FakeClock(datetime(2025, 4, 21, 15, tzinfo=timezone.utc))
    slack.scopes.discard("chat:write")
    assert (await DeliveryRunner(store, clock).deliver(runtime.sink, dest, digest)).outcome == "paused"
    slack.scopes.add("chat:write")          # the app reinstalled with its scopes
    answer = await http_slack.command("resume")
    assert "resume" in json.dumps(answer).lower()
    # No back-off to wait out: the next delivery is the probe, and it goes through.
    assert (await DeliveryRunner(store, clock).deliver(runtime.sink, dest, digest)).outcome == DONE
    assert runtime.problem is None


async def test_show_abstract_of_a_paper_just_posted_is_answered_from_memory(http_slack, slack, store):
    from tests.platforms.slack.conftest import abstract_click_body
    runtime = http_slack.runtime
    dest = destination(slack, CHANNEL)
    papers = synthetic(2)          # never stored: only the sink that posted them knows them
    clock = FakeClock(datetime(2025, 4, 21, 15, tzinfo=timezone.utc))
    assert (await DeliveryRunner(store, clock).deliver(runtime.sink, dest,
                                                       digest_for_papers(dest, papers, "VLM"))).outcome == DONE
    status, _ = await http_slack.post(abstract_click_body(slack, papers[0].id))
    assert status == 200
    shown = await slack.wait_for(lambda: slack.ephemerals)
    assert "About VLMs." in json.dumps(shown[0]["blocks"]) and "no longer have" not in shown[0]["text"]


async def test_a_refused_direct_message_pauses_that_person_not_the_workspace(slack, store):
    from bot.destinations import Destination
    clock = FakeClock(datetime(2025, 4, 21, 15, tzinfo=timezone.utc))
    slack.follow(clock)
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])
    sink = SlackSink(client, slack.team_id)
    slack.add_user("U0DM", "dm")
    person = Destination(key=f"slack:{slack.team_id}:me:U0DM", platform="slack", address="U0DM", title="me",
                         subscription_ids=("s",), options={"workspace": slack.team_id, "user": "U0DM",
                                                            "direct": True})
    slack.fail("conversations.open", "restricted_action")
    runner = DeliveryRunner(store, clock)
    assert (await runner.deliver(sink, person, digest_for_papers(person, synthetic(1), "VLM"))).outcome == "paused"
    assert sink.problem is None
    dest = destination(slack, CHANNEL)
    assert (await runner.deliver(sink, dest, digest_for_papers(dest, synthetic(1), "VLM"))).outcome == DONE
    assert await sink.pause_lifted(person, "x (Slack: restricted_action)") is False
