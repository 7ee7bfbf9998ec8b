"""The bolt app in HTTP mode over real aiohttp: signed /papers requests and button clicks in, the
answers on the fake Slack's response_url / chat.postEphemeral; startup and Socket Mode."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl

import pytest

from bot.commands import CommandExecutor
from bot.platforms.slack import SlackRuntime, SlackSetupError, start_slack
from bot.store import AsyncStore
from tests.conftest import eventually
from tests.platforms.slack.conftest import (
    ADMIN,
    CHANNEL,
    USER,
    abstract_click_body,
    all_texts,
    environ,
    sign,
    slack_settings,
    slash_command_body,
    start_http,
)


async def test_help_is_acked_in_the_request_then_answered_privately(http_slack, slack):
    body = slash_command_body(slack, "help", response="help")
    status, text = await http_slack.post(body)
    assert status == 200 and text == ""  # the ack: empty 200 within the request
    reply = await slack.wait_for(lambda: next((r for r in slack.responses if r["name"] == "help"), None))
    assert reply["response_type"] == "ephemeral"
    assert "/papers subscribe" in " ".join(all_texts(reply["blocks"]))
    assert reply["text"].startswith("/papers commands")


async def test_subscribe_then_list_goes_through_the_command_layer(http_slack, slack):
    subscribed = await http_slack.command('subscribe VLM, "vision language model"')
    assert subscribed["response_type"] == "in_channel"  # a channel change is shown to everyone
    texts = " ".join(all_texts(subscribed["blocks"]))
    assert "VLM" in texts and "would have matched" in texts

    listed = await http_slack.command("list")
    assert listed["response_type"] == "ephemeral"
    assert "1 subscription" in listed["text"]
    assert "1. VLM, \"vision language model\"" in " ".join(all_texts(listed["blocks"]))


async def test_every_subcommand_reaches_the_command_layer(http_slack, slack):
    replies = {}
    for text in ("today VLM", "test MLLM", "search vision", "settings", "me list", "unsubscribe 1",
                 "help query", "frobnicate"):
        replies[text] = await http_slack.command(text)
    assert "paper" in replies["today VLM"]["text"] and "2025-04-21" in replies["today VLM"]["text"]
    assert replies["test MLLM"]["text"].startswith("Dry run on 2025-04-21")
    assert "match \"vision\"" in replies["search vision"]["text"]
    assert replies["settings"]["text"].startswith("This channel's settings")
    assert replies["me list"]["text"].startswith("You have no personal keywords yet")
    assert replies["me list"]["response_type"] == "ephemeral"
    assert "no subscriptions to remove" in replies["unsubscribe 1"]["text"]
    assert "query language" in replies["help query"]["text"]
    assert "frobnicate" in replies["frobnicate"]["text"]
    for reply in replies.values():
        assert "Traceback" not in str(reply)


async def test_a_bad_query_shows_the_parsers_message_not_a_trace(http_slack, slack):
    reply = await http_slack.command("subscribe diffusion AND")
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("I could not read that query: expected a term after")
    code = [t for t in all_texts(reply["blocks"]) if t.startswith("```")]
    assert code and "^" in code[0]  # the caret under the column
    assert "Traceback" not in str(reply)


async def test_paper_titles_in_replies_are_escaped(http_slack, slack):
    reply = await http_slack.command("search language")
    titles = [t for t in all_texts(reply["blocks"]) if t.startswith("<https://arxiv.org/abs/")]
    assert titles, reply
    for text in titles:
        assert "<!" not in text and "<@" not in text


@pytest.mark.parametrize("headers", [
    {"X-Slack-Signature": "v0=" + "0" * 64},
    "stale",
    "wrong-secret",
    {},
])
async def test_unsigned_wrongly_signed_or_stale_requests_get_401(http_slack, slack, headers):
    body = slash_command_body(slack, "subscribe VLM")
    if headers == "stale":
        headers = sign(body, timestamp=int(time.time()) - 10 * 60)
    elif headers == "wrong-secret":
        headers = sign(body, secret="not-the-secret")
    elif headers:
        headers = {**sign(body), **headers}
    else:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _ = await http_slack.post(body, headers)
    assert status == 401
    assert slack.responses == [] and slack.calls_to("chat.postMessage") == []


async def test_admins_only_refuses_members_and_lets_admins_subscribe(slack, store):
    running = await start_http(slack, store, slack_settings(slack, admins_only=True))
    try:
        refused = await running.command("subscribe VLM", user=USER)
        assert refused["response_type"] == "ephemeral"
        assert refused["text"].startswith("You cannot add subscriptions here")
        assert "admins and owners" in refused["text"]
        assert [c.params["user"] for c in slack.calls_to("users.info")] == [USER]

        allowed = await running.command("subscribe VLM", user=ADMIN)
        assert allowed["response_type"] == "in_channel" and "Subscribed" in allowed["text"]
        looked = await running.command("list", user=USER)  # looking is for everyone
        assert "1 subscription" in looked["text"]
    finally:
        await running.runtime.close()


async def test_without_admins_only_users_info_is_never_asked(http_slack, slack):
    await http_slack.command("subscribe VLM")
    assert slack.calls_to("users.info") == []


async def test_show_abstract_answers_ephemerally_in_the_thread_after_a_restart(slack, store, seed_papers, tmp_path):
    paper = seed_papers[0]
    # A first process posted the thread and went away; a fresh one answers the button.
    path = store.path
    await store.close()
    fresh_store = await AsyncStore.open(path)
    running = await start_http(slack, fresh_store)
    try:
        status, _ = await running.post(abstract_click_body(slack, paper.id, thread_ts="1745244001.000001"))
        assert status == 200
        shown = await slack.wait_for(lambda: slack.ephemerals)
        ephemeral = shown[0]
        assert ephemeral["user"] == USER and ephemeral["channel"] == CHANNEL
        assert ephemeral["thread_ts"] == "1745244001.000001"
        text = " ".join(all_texts(ephemeral["blocks"]))
        expected = " ".join(paper.abstract.split())
        assert expected[:200].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in text
        assert expected[-100:].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in text
        assert slack.responses == []  # not through the response_url
    finally:
        await running.runtime.close()
        await fresh_store.close()


async def test_show_abstract_falls_back_to_the_response_url(http_slack, slack, seed_papers):
    slack.fail("chat.postEphemeral", "channel_not_found")
    status, _ = await http_slack.post(abstract_click_body(slack, seed_papers[1].id, response="fallback"))
    assert status == 200
    reply = await slack.wait_for(lambda: next((r for r in slack.responses if r["name"] == "fallback"), None))
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert seed_papers[1].id in reply["text"]


async def test_show_abstract_of_an_unknown_paper_says_so(http_slack, slack):
    await http_slack.post(abstract_click_body(slack, "9999.99999"))
    shown = await slack.wait_for(lambda: slack.ephemerals)
    assert "no longer have arXiv:9999.99999" in shown[0]["text"]
    assert "https://arxiv.org/abs/9999.99999" in shown[0]["text"]


async def post_event(running, slack, event: dict) -> None:
    body = json.dumps({"token": "x", "team_id": slack.team_id, "api_app_id": "A1", "type": "event_callback",
                       "event_id": f"Ev{time.monotonic_ns()}", "event_time": int(time.time()), "event": event})
    status, _ = await running.post(body, {**sign(body), "Content-Type": "application/json"})
    assert status == 200


@pytest.mark.parametrize("event", [
    {"type": "member_joined_channel", "user": "BOT", "channel": CHANNEL, "channel_type": "C"},
    {"type": "channel_unarchive", "channel": CHANNEL, "user": USER},
    {"type": "group_unarchive", "channel": CHANNEL},
])
async def test_bot_back_in_the_channel_resumes_it(http_slack, slack, store, event):
    key = f"slack:{slack.team_id}:{CHANNEL}"
    other = f"slack:{slack.team_id}:C0OTHER"
    for destination in (key, other):
        await store.run(lambda s: s.ledger.pause_destination(destination, "lost", datetime.now(timezone.utc)))
    # A person joining another paused channel is not the bot coming back.
    await post_event(http_slack, slack, {"type": "member_joined_channel", "user": USER, "channel": "C0OTHER",
                                         "channel_type": "C", "team": slack.team_id})
    if event.get("user") == "BOT":
        event = {**event, "user": slack.bot_user_id, "team": slack.team_id}
    await post_event(http_slack, slack, event)

    async def paused(destination: str) -> str | None:
        return await store.run(lambda s: s.ledger.paused_reason(destination))

    async def resumed() -> bool:
        return await paused(key) is None

    await eventually(resumed, what="the pause to be lifted")
    assert await paused(other) == "lost"


async def test_resume_in_a_paused_channel(slack, store):
    running = await start_http(slack, store, slack_settings(slack, admins_only=True))
    key = f"slack:{slack.team_id}:{CHANNEL}"
    try:
        await running.command("subscribe VLM", user=ADMIN)
        await store.run(lambda s: s.ledger.pause_destination(key, "not_in_channel", datetime.now(timezone.utc)))
        listed = await running.command("list", user=USER)
        assert "/papers resume" in " ".join(all_texts(listed["blocks"]))

        refused = await running.command("resume", user=USER)
        assert refused["response_type"] == "ephemeral"
        assert refused["text"].startswith("You cannot resume daily posts here")
        assert await store.run(lambda s: s.ledger.paused_reason(key)) == "not_in_channel"

        resumed = await running.command("resume", user=ADMIN)
        assert resumed["response_type"] == "in_channel"
        assert resumed["text"].startswith("Daily posts to this channel are resumed")
        assert await store.run(lambda s: s.ledger.paused_reason(key)) is None
    finally:
        await running.runtime.close()


# -- startup --------------------------------------------------------------------------------------


async def start_with_store(settings, store, **options):
    return await start_slack(settings, CommandExecutor(store, settings), **options)


async def test_no_bot_token_means_no_slack(slack, store):
    assert await start_with_store(slack_settings(slack), store, environ={}) is None
    assert slack.calls == []


@pytest.mark.parametrize("mode, missing, needle", [
    ("socket", "SLACK_APP_TOKEN", "SLACK_APP_TOKEN"),
    ("http", "SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET"),
])
async def test_a_missing_secret_for_the_mode_is_a_clear_error(slack, store, mode, missing, needle):
    env = {**environ(slack, SLACK_APP_TOKEN=slack.app_token)}
    env.pop(missing)
    with pytest.raises(SlackSetupError, match=needle):
        await start_with_store(slack_settings(slack, mode=mode), store, environ=env)


async def test_a_rejected_token_is_a_clear_error_that_never_shows_the_token(slack, store, caplog):
    env = environ(slack, SLACK_BOT_TOKEN="xoxb-wrong-secret-value")
    with pytest.raises(SlackSetupError, match="invalid_auth") as raised:
        await start_with_store(slack_settings(slack), store, environ=env)
    assert "xoxb-wrong-secret-value" not in str(raised.value)
    assert "xoxb-wrong-secret-value" not in caplog.text


async def test_tokens_are_never_logged(slack, store, caplog):
    caplog.set_level("DEBUG", logger="bot")
    running = await start_http(slack, store)
    try:
        await running.command("list")
    finally:
        await running.runtime.close()
    assert slack.bot_token not in caplog.text and "8f742231b10e" not in caplog.text
    assert slack.calls_to("auth.test")  # the token was checked at startup


async def test_the_web_client_uses_the_configured_api_url(http_slack, slack):
    await http_slack.command("list")
    assert slack.calls_to("auth.test")
    assert http_slack.runtime.client.base_url == slack.api_url
    assert http_slack.runtime.client.retry_handlers == []
    assert http_slack.runtime.team_id == slack.team_id


async def test_socket_mode_builds_without_listening(slack, store):
    runtime = await start_with_store(slack_settings(slack, mode="socket"), store,
                                environ=environ(slack, SLACK_APP_TOKEN=slack.app_token))
    assert isinstance(runtime, SlackRuntime) and runtime.mode == "socket"
    assert runtime.sink.team_id == slack.team_id and runtime.directory.platform == "slack"
    await runtime.close()


async def test_socket_mode_end_to_end_over_a_fake_websocket(slack, store, seed_papers):
    runtime = await start_with_store(slack_settings(slack, mode="socket"), store,
                                environ={"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token})
    await runtime.start()
    try:
        assert runtime.health()["connected"] is True   # what /healthz shows
        opened = slack.calls_to("apps.connections.open")
        assert opened and all(c.headers["Authorization"] == f"Bearer {slack.app_token}" for c in opened)
        payload = dict(parse_qsl(slash_command_body(slack, "subscribe VLM", response="socket")))
        await slack.send_envelope("slash_commands", payload, "env-1")
        reply = await slack.wait_for(lambda: next((r for r in slack.responses if r["name"] == "socket"), None))
        assert reply["response_type"] == "in_channel" and "Subscribed" in reply["text"]
        ack = await slack.wait_for(lambda: next((a for a in slack.socket_acks if a.get("envelope_id") == "env-1"), None))
        assert ack["envelope_id"] == "env-1"

        click = json.loads(dict(parse_qsl(abstract_click_body(slack, seed_papers[0].id)))["payload"])
        await slack.send_envelope("interactive", click, "env-2")
        [shown] = await slack.wait_for(lambda: slack.ephemerals)
        assert shown["user"] == USER and seed_papers[0].id in shown["text"]
    finally:
        await runtime.close()


async def test_a_rejected_app_token_is_a_clear_error_at_start(slack, store):
    runtime = await start_with_store(slack_settings(slack, mode="socket"), store,
                                environ={"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": "xapp-wrong"})
    with pytest.raises(SlackSetupError, match="invalid_auth") as raised:
        await runtime.start()
    assert "xapp-wrong" not in str(raised.value)
    await runtime.close()
