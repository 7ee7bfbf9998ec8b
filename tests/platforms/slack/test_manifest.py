"""config/slack-manifest.yaml asks for exactly the scopes and events the code uses."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import yaml

from bot.daily import digest_for, match_day
from bot.delivery.runner import DONE, DeliveryRunner
from bot.platforms.slack import home
from bot.platforms.slack.app import COMMAND, HOME_EVENT, RESUMING_EVENTS
from tests.fakes.clock import FakeClock
from tests.platforms.slack.test_home import click_body, home_opened_body
from bot.store.personal import PersonRef
from tests.platforms.slack.conftest import (
    ADMIN,
    CHANNEL,
    SEED_DAY,
    abstract_click_body,
    slash_command_body,
    slack_settings,
    start_http,
)

MANIFEST = Path(__file__).resolve().parents[3] / "config" / "slack-manifest.yaml"

# Slack's documented bot scopes of each Web API method and event paperbot uses.
METHOD_SCOPES = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    # public and private channels, and the direct messages of personal digests
    "conversations.history": {"channels:history", "groups:history", "im:history"},
    "conversations.replies": {"channels:history", "groups:history", "im:history"},
    "conversations.open": {"im:write"},   # a person's direct messages (me deliver dm)
    "views.publish": set(),                # the App Home tab
    "views.open": set(),                   # the Add keywords modal
    "users.info": {"users:read"},
    # /papers export bibtex: a .bib file shared in the channel
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
}
EVENT_SCOPES = {
    "member_joined_channel": {"channels:read", "groups:read"},
    "channel_unarchive": {"channels:read"},
    "group_unarchive": {"groups:read"},
    "app_home_opened": set(),
}


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_slash_command_interactivity_and_socket_mode():
    data = manifest()
    [command] = data["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert "subscribe <query>" in command["usage_hint"] and len(command["usage_hint"]) <= 1000
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is True
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == {*RESUMING_EVENTS, HOME_EVENT}
    # The Home tab shows personal keywords; the Messages tab must exist for DM digests.
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["features"]["app_home"]["messages_tab_enabled"] is True


async def test_scopes_are_exactly_those_of_the_calls_the_bot_makes(slack, store):
    """Drive every path that talks to Slack (admins_only command, thread, resume, abstract) and
    derive the scopes from the methods the fake actually saw."""
    running = await start_http(slack, store, slack_settings(slack, admins_only=True))
    try:
        await running.command("subscribe VLM", user=ADMIN)
        await running.command("me add VLM", user=ADMIN)   # a DM digest too
        directory = await running.runtime.directory.load()
        assert len(directory.destinations) == 2
        by_subscription = await match_day(store, SEED_DAY, directory.subscriptions)
        clock = FakeClock(datetime(2025, 4, 21, 15, tzinfo=timezone.utc))
        slack.follow(clock)   # Slack sees the time the runner's pace waits
        for dest in directory.destinations:
            digest = digest_for(dest, SEED_DAY, by_subscription)
            # The parent's answer is lost: the retry finds it (history) and reconciles (replies).
            slack.lose_answer(when=lambda call: not call.params.get("thread_ts"))
            await DeliveryRunner(store, clock).deliver(running.runtime.sink, dest, digest)
            assert (await DeliveryRunner(store, clock).deliver(running.runtime.sink, dest, digest)).outcome == DONE
        await store.run(lambda s: s.votes.cast(f"slack:{slack.team_id}:{CHANNEL}", digest.paper_ids[0],
                                               PersonRef("slack", slack.team_id, ADMIN), 1))
        await running.post(slash_command_body(slack, "export bibtex"))
        await slack.wait_for(lambda: slack.files)
        await running.post(abstract_click_body(slack, digest.paper_ids[0]))
        await slack.wait_for(lambda: slack.ephemerals)
        await running.post(home_opened_body(slack, ADMIN))
        await running.post(click_body(slack, ADMIN, home.ADD_ACTION))
        await slack.wait_for(lambda: slack.home_views and slack.opened_views)
    finally:
        await running.runtime.close()
    called = {call.method for call in slack.calls}
    assert called == set(METHOD_SCOPES)  # every method above really is used
    needed = {"commands"}.union(*METHOD_SCOPES.values(), *(EVENT_SCOPES[e] for e in (*RESUMING_EVENTS, HOME_EVENT)))
    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == needed
