"""The fake Slack's external file upload is as strict as Slack's: the scope, the promised length,
the upload before completing it, and the channel."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.platforms.slack.conftest import CHANNEL


@pytest.fixture
def client(slack):
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])


async def test_the_three_steps_and_their_checks(slack, client):
    with pytest.raises(SlackApiError) as unknown:
        await client.files_completeUploadExternal(files=[{"id": "F404", "title": "x"}], channel_id=CHANNEL)
    assert unknown.value.response["error"] == "file_not_found"

    step1 = await client.files_getUploadURLExternal(filename="a.bib", length=5)
    async with aiohttp.ClientSession() as session:
        async with session.post(step1["upload_url"], data=b"too long") as short:
            assert short.status == 400                  # not the length promised
        async with session.post(step1["upload_url"], data=b"hello") as good:
            assert good.status == 200
    with pytest.raises(SlackApiError) as early:
        await client.files_getUploadURLExternal(filename="a.bib", length=0)
    assert early.value.response["error"] == "invalid_arguments"
    slack.add_channel("C0OUTSIDE", "outside", member=False)
    with pytest.raises(SlackApiError) as outside:
        await client.files_completeUploadExternal(files=[{"id": step1["file_id"]}], channel_id="C0OUTSIDE")
    assert outside.value.response["error"] == "not_in_channel"
    done = await client.files_completeUploadExternal(files=[{"id": step1["file_id"], "title": "A"}],
                                                     channel_id=CHANNEL, initial_comment="hi")
    assert done["files"] == [{"id": step1["file_id"], "name": "a.bib", "title": "A"}]
    assert slack.files[step1["file_id"]]["content"] == b"hello"
    assert slack.messages[CHANNEL][-1]["text"] == "hi"


async def test_without_files_write_every_step_is_refused(slack, client):
    slack.scopes.discard("files:write")
    with pytest.raises(SlackApiError) as refused:
        await client.files_upload_v2(channel=CHANNEL, content=b"x", filename="a.bib")
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "files:write"


async def test_the_size_limit(slack, client):
    slack.max_file_bytes = 10
    with pytest.raises(SlackApiError) as big:
        await client.files_upload_v2(channel=CHANNEL, content=b"x" * 11, filename="a.bib")
    assert big.value.response["error"] == "file_too_large"
