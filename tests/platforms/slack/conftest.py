"""Slack test fixtures: the fake Slack, a real store holding the synthetic 2025-04-21 listing,
signed requests built from the synthetic payloads in tests/data/slack/ (Slack's field sets,
invented values)."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.commands import CommandExecutor
from bot.config import Settings, SlackSettings
from bot.platforms.slack import start_slack
from bot.store import AsyncStore
from tests.conftest import DATA, SEED_DAY  # SEED_DAY: re-exported for the tests here
from tests.fakes.slack_server import FakeSlack, sign_request

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0PAPERS"
USER = "U0READER"
ADMIN = "U0ADMIN"
# Slack's clock in the fake: the listing day's afternoon, so message ts fall on that day.
SEED_EPOCH = datetime(2025, 4, 21, 14, tzinfo=timezone.utc).timestamp()


@pytest.fixture(scope="session")
def seed_papers(synthetic_listing):
    return synthetic_listing.papers


@pytest.fixture
async def slack():
    async with FakeSlack(epoch=SEED_EPOCH) as fake:
        fake.add_channel(CHANNEL, "ml-papers")
        fake.add_user(USER, "reader")
        fake.add_user(ADMIN, "admin", is_admin=True)
        yield fake


@pytest.fixture
async def store(tmp_path, seed_papers):
    db = await AsyncStore.open(tmp_path / "paperbot.db")
    await db.run(lambda s: s.papers.save_listing(SEED_DAY, seed_papers))
    yield db
    await db.close()


def slack_settings(fake: FakeSlack, **slack: object) -> Settings:
    return Settings(slack=SlackSettings(api_url=fake.api_url, **{"mode": "http", **slack}))


def environ(fake: FakeSlack, **extra: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_SIGNING_SECRET": SIGNING_SECRET, **extra}


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends: `v0=` HMAC-SHA256 of `v0:<timestamp>:<body>`."""
    return sign_request(body, secret, timestamp)


def slash_command_body(fake: FakeSlack, text: str, *, user: str = USER, channel: str = CHANNEL,
                       response: str = "r1", channel_name: str = "ml-papers") -> str:
    """A slash-command payload, pointed at /papers in our fake workspace."""
    recorded = (DATA / "slack" / "payload_slash_command.urlencoded").read_text().strip()
    fields = dict(parse_qsl(recorded, keep_blank_values=True))
    fields.update(command="/papers", text=text, team_id=fake.team_id, channel_id=channel,
                  channel_name=channel_name, user_id=user, response_url=fake.response_url(response))
    return urlencode(fields)


def abstract_click_body(fake: FakeSlack, paper_id: str, *, user: str = USER, channel: str = CHANNEL,
                        thread_ts: str | None = "1745244001.000001", response: str = "click") -> str:
    """A block_actions payload, as a click on a paper's Show abstract button."""
    recorded = (DATA / "slack" / "payload_block_action_button.urlencoded").read_text().strip()
    payload = json.loads(dict(parse_qsl(recorded))["payload"])
    payload["user"].update(id=user, team_id=fake.team_id)
    payload["team"]["id"] = fake.team_id
    payload["channel"]["id"] = channel
    payload["container"].update(channel_id=channel)
    if thread_ts:
        payload["container"]["thread_ts"] = thread_ts
    payload["response_url"] = fake.response_url(response)
    payload["actions"] = [{"action_id": "paperbot_abstract", "block_id": "b1", "type": "button",
                           "value": paper_id, "text": {"type": "plain_text", "text": "Show abstract"},
                           "action_ts": "1745244100.000000"}]
    return urlencode({"payload": json.dumps(payload)})


class HttpSlack:
    """A running HTTP-mode runtime and a way to send it signed requests."""

    def __init__(self, runtime, fake: FakeSlack) -> None:
        self.runtime = runtime
        self.fake = fake
        self.url = f"http://127.0.0.1:{runtime.bound_port}/slack/events"

    async def post(self, body: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        """Slack delivers `body` to the app, judging the answer by its 3 s rule (fake.user_errors)."""
        kind = _payload_type(body)
        delivery = await self.fake.deliver(self.url, body, signing_secret=SIGNING_SECRET, kind=kind,
                                           headers=headers)
        return delivery.status or 0, delivery.body

    async def command(self, text: str, **kw) -> dict:
        """Send `/papers <text>`; return what the bot posted to the response_url."""
        name = f"r{len(self.fake.responses) + 1}-{time.monotonic_ns()}"
        status, body = await self.post(slash_command_body(self.fake, text, response=name, **kw))
        assert status == 200, body
        assert self.fake.deliveries[-1].error is None, self.fake.user_errors
        return await self.fake.wait_for(
            lambda: next((r for r in self.fake.responses if r["name"] == name), None))


async def start_http(fake: FakeSlack, store: AsyncStore, settings: Settings | None = None) -> HttpSlack:
    settings = settings or slack_settings(fake)
    runtime = await start_slack(settings, CommandExecutor(store, settings), environ=environ(fake),
                                http_host="127.0.0.1", http_port=0)
    assert runtime is not None
    await runtime.start()
    return HttpSlack(runtime, fake)


@pytest.fixture
async def http_slack(slack, store):
    running = await start_http(slack, store)
    yield running
    await running.runtime.close()


def _payload_type(body: str) -> str:
    fields = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in fields:
        try:
            return str(json.loads(fields["payload"]).get("type") or "interactive")
        except ValueError:
            return "interactive"
    return "slash_command" if "command" in fields else "request"


def all_texts(blocks: list[dict]) -> list[str]:
    """Every mrkdwn / plain text in a message's blocks."""
    texts = []
    for block in blocks or []:
        if isinstance(block.get("text"), dict):
            texts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                texts.append(element["text"])
    return texts
