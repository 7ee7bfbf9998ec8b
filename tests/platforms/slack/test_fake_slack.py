"""The fake Slack answers in the shapes of Slack's recorded responses (../shared/fixtures/slack/)."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.conftest import shared_path
from tests.fakes.clock import ServiceClock
from tests.fakes.loopback import LoopbackServer
from tests.fakes.slack_server import FakeSlack, block_errors
from tests.platforms.slack.conftest import CHANNEL, SIGNING_SECRET, USER


def recorded(name: str) -> dict:
    return json.loads(shared_path("fixtures", "slack", name).read_text())


@pytest.fixture
def client(slack):
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])


async def test_answers_carry_the_recorded_fields(slack, client):
    auth = await client.auth_test()
    assert set(recorded("method_auth.test.json")) <= set(auth.data)
    for n in range(5):
        slack.clock.advance(1.0)   # Slack takes about one message a second in a channel
        await client.chat_postMessage(channel=CHANNEL, text=f"m{n}")
    page = await client.conversations_history(channel=CHANNEL, limit=2)
    first_page = recorded("method_conversations.history_first_page.json")
    assert set(first_page) <= set(page.data)
    assert set(first_page["messages"][0]) <= set(page["messages"][0])
    user = await client.users_info(user=USER)
    assert set(recorded("method_users.info.json")) - {"is_bot"} <= set(user.data)


async def test_history_pages_newest_first_with_cursors(slack, client):
    for n in range(5):
        slack.clock.advance(1.0)
        await client.chat_postMessage(channel=CHANNEL, text=f"m{n}")
    texts, cursor = [], None
    while True:
        page = await client.conversations_history(channel=CHANNEL, limit=2, cursor=cursor)
        texts += [m["text"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            assert page["has_more"] is False
            break
    assert texts == ["m4", "m3", "m2", "m1", "m0"]


async def test_metadata_only_when_asked(slack, client):
    metadata = {"event_type": "paperbot_digest", "event_payload": {"day": "2025-04-21"}}
    await client.chat_postMessage(channel=CHANNEL, text="x", metadata=metadata)
    plain = await client.conversations_history(channel=CHANNEL)
    full = await client.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert "metadata" not in plain["messages"][0] and full["messages"][0]["metadata"] == metadata


async def test_errors_and_rate_limits_in_slacks_shape(slack, client):
    slack.fail("chat.postMessage", "ratelimited", retry_after=3)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=CHANNEL, text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "3"
    assert raised.value.response.data == {"ok": False, "error": "ratelimited"}
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C0NOWHERE", text="x")
    assert raised.value.response.data == {"ok": False, "error": "channel_not_found"}
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await wrong.auth_test()


def test_block_kit_limits_are_enforced_like_slack():
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    assert block_errors([section] * 50) == []
    assert block_errors([section] * 51)
    assert block_errors([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    assert block_errors([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}])
    assert block_errors([{"type": "nonsense"}])


# -- strictness: each rule, demonstrably enforced ------------------------------------------------


@pytest.fixture
async def strict():
    """A fake Slack whose clock moves only when the test says so."""
    async with FakeSlack(clock=ServiceClock(frozen=True)) as fake:
        fake.add_channel(CHANNEL, "ml-papers")
        fake.add_channel("C0OTHER", "other")
        fake.add_user(USER, "reader")
        yield fake


def strict_client(fake: FakeSlack, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token or fake.bot_token, base_url=fake.api_url, retry_handlers=[])


async def refused(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


async def test_chat_post_message_allows_about_one_message_a_second_per_channel(strict):
    client = strict_client(strict)
    for n in range(3):   # a short burst is allowed
        await client.chat_postMessage(channel=CHANNEL, text=f"m{n}")
    error = await refused(client.chat_postMessage(channel=CHANNEL, text="too fast"))
    assert error.response.status_code == 429 and error.response.headers["Retry-After"] == "1"
    assert error.response.data == {"ok": False, "error": "ratelimited"}
    await client.chat_postMessage(channel="C0OTHER", text="another channel has its own limit")
    strict.clock.advance(1.0)
    await client.chat_postMessage(channel=CHANNEL, text="a second later")
    assert [m["text"] for m in strict.messages[CHANNEL]] == ["m0", "m1", "m2", "a second later"]


async def test_methods_are_limited_by_their_tier_per_minute(strict):
    client = strict_client(strict)
    for _ in range(50):   # conversations.history is Tier 3: 50+ a minute
        await client.conversations_history(channel=CHANNEL)
    error = await refused(client.conversations_history(channel=CHANNEL))
    assert error.response.status_code == 429 and int(error.response.headers["Retry-After"]) == 60
    await client.users_info(user=USER)   # another method (Tier 4) is counted apart
    strict.clock.advance(60)
    await client.conversations_history(channel=CHANNEL)


async def test_token_problems_answer_200_with_slacks_error(strict):
    for problem, expected in ((lambda: None, "invalid_auth"), (strict.revoke_token, "token_revoked"),
                              (strict.deactivate, "account_inactive")):
        problem()
        token = "xoxb-wrong" if expected == "invalid_auth" else None
        error = await refused(strict_client(strict, token).chat_postMessage(channel=CHANNEL, text="x"))
        assert error.response.status_code == 200
        assert error.response.data == {"ok": False, "error": expected}
    strict.restore_token()
    await strict_client(strict).chat_postMessage(channel=CHANNEL, text="works again")


async def test_a_missing_scope_names_what_is_needed_and_what_was_granted(strict):
    strict.scopes.discard("chat:write")
    error = await refused(strict_client(strict).chat_postMessage(channel=CHANNEL, text="x"))
    assert error.response.status_code == 200
    data = error.response.data
    assert data["ok"] is False and data["error"] == "missing_scope" and data["needed"] == "chat:write"
    assert set(data["provided"].split(",")) == strict.scopes
    strict.add_channel("G0PRIVATE", "secret")
    strict.scopes.discard("groups:history")
    error = await refused(strict_client(strict).conversations_history(channel="G0PRIVATE"))
    assert error.response.data["needed"] == "groups:history"


async def test_channel_errors_are_exactly_slacks(strict):
    client = strict_client(strict)
    strict.add_channel("C0OUT", "not-joined", member=False)
    strict.add_channel("C0OLD", "archived", archived=True)
    strict.add_channel("G0HIDDEN", "private-without-us", member=False)
    for channel, expected in (("C0NOWHERE", "channel_not_found"), ("C0OUT", "not_in_channel"),
                              ("C0OLD", "is_archived"), ("G0HIDDEN", "channel_not_found")):
        error = await refused(client.chat_postMessage(channel=channel, text="x"))
        assert (error.response.status_code, error.response.data) == (200, {"ok": False, "error": expected})


async def slow_app(fake: FakeSlack, *, seconds: float, status: int = 200) -> LoopbackServer:
    """An app that takes `seconds` on the fake's clock to answer (no real waiting)."""
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        fake.clock.advance(seconds)
        return web.Response(status=status, text="")
    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return await LoopbackServer(app).start()


async def test_an_answer_after_three_seconds_is_an_error_the_person_sees(strict):
    body = "command=%2Fpapers&text=help"   # what the app answers does not matter here, only when
    for seconds, status, error in ((0.5, 200, None), (3.5, 200, "operation_timeout"),
                                   (0.1, 500, "dispatch_failed")):
        app = await slow_app(strict, seconds=seconds, status=status)
        try:
            delivery = await strict.deliver(app.base_url + "/slack/events", body,
                                            signing_secret=SIGNING_SECRET, kind="slash_command")
        finally:
            await app.close()
        assert delivery.error == error and delivery.status == status
    assert strict.user_errors == ['/papers failed with the error "operation_timeout"',
                                  '/papers failed with the error "dispatch_failed"']
    clicked = await slow_app(strict, seconds=4)
    try:
        late = await strict.deliver(clicked.base_url + "/slack/events", "payload=%7B%7D",
                                    signing_secret=SIGNING_SECRET, kind="block_actions")
    finally:
        await clicked.close()
    assert late.error == "operation_timeout" and strict.user_errors[-1] == "operation_timeout"


async def test_the_bot_answers_a_delivered_command_within_three_seconds(http_slack, slack):
    reply = await http_slack.command("help")
    assert reply["text"] and slack.deliveries[-1].kind == "slash_command"
    assert slack.deliveries[-1].error is None and slack.user_errors == []


async def test_a_socket_mode_envelope_acknowledged_late_is_an_error(strict):
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(strict.base_url.replace("http", "ws") + "/socket") as ws:
            assert (await ws.receive_json())["type"] == "hello"
            await strict.send_envelope("slash_commands", {"command": "/papers"}, "env-fast")
            await ws.receive_json()
            await ws.send_json({"envelope_id": "env-fast"})
            await strict.send_envelope("slash_commands", {"command": "/papers"}, "env-slow")
            await ws.receive_json()
            strict.clock.advance(3.5)
            await ws.send_json({"envelope_id": "env-slow"})
            await strict.wait_for(lambda: len(strict.socket_acks) == 2)
    assert [a.get("late", False) for a in strict.socket_acks] == [False, True]
    assert strict.user_errors == ["operation_timeout"]


async def test_a_response_url_takes_five_answers_within_thirty_minutes(strict):
    async with aiohttp.ClientSession() as session:
        url = strict.response_url("five")
        for n in range(5):
            async with session.post(url, json={"text": f"answer {n}"}) as answer:
                assert answer.status == 200
        async with session.post(url, json={"text": "a sixth"}) as answer:
            assert answer.status == 404 and (await answer.json())["error"] == "used_url"
        late = strict.response_url("late")
        strict.clock.advance(30 * 60 + 1)
        async with session.post(late, json={"text": "too late"}) as answer:
            assert answer.status == 404 and (await answer.json())["error"] == "expired_url"
    assert len(strict.responses) == 5


async def test_chat_update_only_for_the_bots_own_messages_and_a_click_only_on_a_shown_button(slack, client):
    buttons = {"type": "actions", "block_id": "b", "elements": [
        {"type": "button", "action_id": "up", "text": {"type": "plain_text", "text": "👍"}, "value": "v"}]}
    posted = await client.chat_postMessage(channel=CHANNEL, text="x", blocks=[buttons])
    payload = slack.click_payload(CHANNEL, posted["ts"], USER, "up", block_id="b")
    assert payload["actions"][0]["value"] == "v" and "metadata" not in payload["message"]
    with pytest.raises(AssertionError):
        slack.click_payload(CHANNEL, posted["ts"], USER, "down")

    relabelled = {**buttons, "elements": [{**buttons["elements"][0], "text": {"type": "plain_text", "text": "👍 1"}}]}
    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="x", blocks=[relabelled])
    assert slack.messages[CHANNEL][-1]["blocks"] == [relabelled]
    with pytest.raises(SlackApiError) as refused:
        await client.chat_update(channel=CHANNEL, ts=posted["ts"] + "9", text="x")
    assert refused.value.response["error"] == "message_not_found"
    slack.messages[CHANNEL].append({"type": "message", "ts": "1.000001", "text": "a person's", "user": USER})
    with pytest.raises(SlackApiError) as refused:
        await client.chat_update(channel=CHANNEL, ts="1.000001", text="x")
    assert refused.value.response["error"] == "cant_update_message"
    too_long = {**buttons, "elements": [{**buttons["elements"][0], "text": {"type": "plain_text", "text": "x" * 76}}]}
    duplicate = {**buttons, "elements": buttons["elements"] * 2}
    for bad in (too_long, duplicate, {**buttons, "elements": []}):
        assert block_errors([bad])
        with pytest.raises(SlackApiError) as refused:
            await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="x", blocks=[bad])
        assert refused.value.response["error"] == "invalid_blocks"
