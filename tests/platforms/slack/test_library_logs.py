"""slack_sdk's debug guards read the configured level once its logger has its level set."""

from __future__ import annotations

import logging

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.library_logs import WEB_CLIENT_LOGGER, library_logger
from tests.platforms.slack.conftest import CHANNEL


class CountedText(str):
    """A message text that counts how often it is turned into a debug message."""

    reprs = 0

    def __repr__(self) -> str:
        CountedText.reprs += 1
        return super().__repr__()


@pytest.fixture
def fresh_web_client_logger():
    logger = logging.getLogger(WEB_CLIENT_LOGGER)
    before = logger.level
    logger.setLevel(logging.NOTSET)
    root = logging.getLogger()
    root_before = root.level
    root.setLevel(logging.INFO)
    yield logger
    logger.setLevel(before)
    root.setLevel(root_before)


async def test_a_post_builds_no_debug_message_at_info_level(slack, fresh_web_client_logger):
    # The library's default: its logger's own level unset, the payload is put into a debug
    # message that INFO throws away (slackapi/python-slack-sdk#1957).
    plain = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])
    CountedText.reprs = 0
    await plain.chat_postMessage(channel=CHANNEL, text=CountedText("hello"))
    assert CountedText.reprs > 0

    ours = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[],
                          logger=library_logger(WEB_CLIENT_LOGGER))
    assert ours.logger.level == logging.INFO
    assert logging.getLogger(WEB_CLIENT_LOGGER).level == logging.NOTSET   # nothing set globally
    CountedText.reprs = 0
    await ours.chat_postMessage(channel=CHANNEL, text=CountedText("hello"))
    assert CountedText.reprs == 0


def test_the_level_follows_the_configuration_and_messages_reach_its_handlers(
        fresh_web_client_logger, caplog):
    logger = library_logger(WEB_CLIENT_LOGGER)
    assert logger.level == logging.INFO and not logger.isEnabledFor(logging.DEBUG)
    caplog.set_level(logging.DEBUG)   # configured after the client was built
    assert logger.level == logging.DEBUG and logger.isEnabledFor(logging.DEBUG)
    logger.debug("a request")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [(WEB_CLIENT_LOGGER, "a request")]
