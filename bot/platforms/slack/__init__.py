"""The Slack adapter (DESIGN.md §5-7): Block Kit rendering, the ThreadSink, and the bolt app.

The only package besides `bot.platforms.*` siblings allowed to import slack_bolt / slack_sdk.
"""

from bot.platforms.slack.app import (
    SlackHandlers,
    SlackRuntime,
    SlackSetupError,
    build_slack_app,
    start_slack,
)
from bot.platforms.slack.sink import SlackSink

__all__ = [
    "SlackHandlers",
    "SlackRuntime",
    "SlackSetupError",
    "SlackSink",
    "build_slack_app",
    "start_slack",
]
