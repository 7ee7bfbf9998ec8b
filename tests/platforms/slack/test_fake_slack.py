"""The fake Slack answers in the shapes of Slack's recorded responses (../shared/fixtures/slack/)."""

from __future__ import annotations

import json

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.conftest import shared_path
from tests.fakes.slack_server import block_errors
from tests.platforms.slack.conftest import CHANNEL, USER


def recorded(name: str) -> dict:
    return json.loads(shared_path("fixtures", "slack", name).read_text())


@pytest.fixture
def client(slack):
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])


async def test_answers_carry_the_recorded_fields(slack, client):
    auth = await client.auth_test()
    assert set(recorded("method_auth.test.json")) <= set(auth.data)
    for n in range(5):
        await client.chat_postMessage(channel=CHANNEL, text=f"m{n}")
    page = await client.conversations_history(channel=CHANNEL, limit=2)
    first_page = recorded("method_conversations.history_first_page.json")
    assert set(first_page) <= set(page.data)
    assert set(first_page["messages"][0]) <= set(page["messages"][0])
    user = await client.users_info(user=USER)
    assert set(recorded("method_users.info.json")) - {"is_bot"} <= set(user.data)


async def test_history_pages_newest_first_with_cursors(slack, client):
    for n in range(5):
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
