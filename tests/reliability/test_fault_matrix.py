"""The fault matrix (issue 8): one test per fault, each driving the real pieces end to end.

Every row runs the real Scheduler pass (fetch from the fake arXiv -> store -> match -> digest ->
DeliveryRunner -> the platform's sink -> the fake Slack / Discord) with the fault injected at the
boundary, and checks the outcome a user or operator would see: a clear log line (never a
traceback), nothing posted twice, nothing lost that was already stored, the ledger in the right
state, and the next pass finishing the day.

    arXiv    429 / 503 / timeout / reset / truncated XML / error feed / empty weekday feed
    Slack    429 / invalid_blocks / msg_too_long / lost channel
    Discord  429 / 403 / 404 / DMs closed
    SQLite   locked while delivering / disk full while storing the day
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.arxiv.client import ArxivClient
from bot.commands import CommandExecutor
from bot.config import DiscordSettings, Settings, SlackSettings
from bot.delivery.runner import DONE, PAUSED, DeliveryRunner
from bot.destinations import Destination
from bot.models import Match
from bot.platforms.slack import start_slack
from bot.scheduler import Scheduler
from bot.store import AsyncStore, ledger
from bot.store.subscriptions import ChannelRef
from tests.conftest import eventually
from tests.fakes.arxiv_server import FakeArxiv, Reply, atom_listing
from tests.fakes.clock import FakeClock, ServiceClock
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack_server import FakeSlack

EASTERN = ZoneInfo("America/New_York")
CATEGORY = "cs.CV"
DAY = date(2026, 11, 23)                                    # a Monday
START = datetime(2026, 11, 23, 0, 5, tzinfo=EASTERN)        # five minutes after the feed rebuild
MATCHING = 14                                               # 10 per Slack message: parent + 2 replies
CHANNELS = ("C0ALPHA", "C0BETA")
POLL = timedelta(minutes=15)
SIGNING_SECRET = "fault-matrix-signing-secret"


def listing(day: str = DAY.isoformat(), matching: int = MATCHING) -> bytes:
    entries = [
        {"id": f"2611.{10000 + i}v1", "title": f"A VLM for task {i}", "abstract": "Vision-language models.",
         "authors": ["Ann Author"], "categories": [CATEGORY]}
        for i in range(matching)
    ] + [
        {"id": f"2611.{20000 + i}v1", "title": f"Graph note {i}", "abstract": "No pictures.",
         "authors": ["C. Other"], "categories": [CATEGORY]}
        for i in range(3)
    ]
    return atom_listing(entries, title=f"{CATEGORY} updates on arXiv.org", day=day)


EXPECTED = {f"2611.{10000 + i}" for i in range(MATCHING)}


class World:
    """The fakes, a real store and the real scheduler wired as `paperbot run` wires them."""

    def __init__(self, arxiv: FakeArxiv, tmp_path, *, busy_timeout: float = 0.1) -> None:
        self.arxiv = arxiv
        self.db_path = tmp_path / "data" / "paperbot.db"
        self.clock = FakeClock(START)
        self.busy_timeout = busy_timeout
        self.arxiv_settings = arxiv.settings(categories=[CATEGORY], enrich=False, max_tries=3,
                                             backoff_base_seconds=1, poll_interval_minutes=15)
        self.store: AsyncStore | None = None
        self.client: ArxivClient | None = None
        self.scheduler: Scheduler | None = None
        self.runtimes: list = []

    async def open(self, directories, sinks) -> Scheduler:
        self.store = self.store or await AsyncStore.open(self.db_path, clock=self.clock,
                                                         busy_timeout=self.busy_timeout)
        self.client = ArxivClient(self.arxiv_settings, sleep=self.clock.sleep,
                                  clock=lambda: self.clock.now().timestamp())
        self.scheduler = Scheduler(arxiv_settings=self.arxiv_settings, store=self.store, arxiv=self.client,
                                   directories=directories, sinks=sinks, clock=self.clock)
        return self.scheduler

    async def subscribe(self, platform: str, workspace: str, channel: str, query: str = "VLM") -> None:
        ref = ChannelRef(platform, workspace, channel)
        now = self.clock.now()
        await self.store.run(lambda s: s.channels.add_subscription(ref, query, now=now))

    async def delivery(self, key: str):
        return await self.store.run(lambda s: s.ledger.get_delivery(key, DAY))

    async def announced(self):
        return await self.store.run(lambda s: s.ledger.latest_announcement_day())

    async def paused(self, key: str) -> str | None:
        return await self.store.run(lambda s: s.ledger.paused_reason(key))

    async def close(self) -> None:
        for runtime in self.runtimes:
            await runtime.close()
        if self.client is not None:
            await self.client.close()
        if self.store is not None:
            await self.store.close()


@pytest.fixture
async def arxiv():
    async with FakeArxiv() as server:
        server.serve_listing(CATEGORY, listing(), etag='"monday"')
        yield server


@pytest.fixture
async def slack():
    epoch = datetime(2026, 11, 23, 6, tzinfo=timezone.utc).timestamp()
    async with FakeSlack(epoch=epoch) as fake:
        for channel in CHANNELS:
            fake.add_channel(channel, channel.lower())
        yield fake


@pytest.fixture
async def slack_world(arxiv, slack, tmp_path):
    """Two Slack channels subscribed to `VLM`; the scheduler with the real Slack runtime."""
    world = World(arxiv, tmp_path)
    slack.follow(world.clock)   # the fake Slack sees the time the runner's pace waits
    world.store = await AsyncStore.open(world.db_path, clock=world.clock, busy_timeout=world.busy_timeout)
    settings = Settings(arxiv=world.arxiv_settings, slack=SlackSettings(api_url=slack.api_url, mode="http"))
    runtime = await start_slack(settings, CommandExecutor(world.store, settings), environ={
        "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SIGNING_SECRET},
        http_host="127.0.0.1", http_port=0)
    world.runtimes.append(runtime)
    for channel in CHANNELS:
        await world.subscribe("slack", slack.team_id, channel)
    await world.open([runtime.directory], {"slack": runtime.sink})
    world.slack = slack
    try:
        yield world
    finally:
        await world.close()


def slack_key(slack: FakeSlack, channel: str) -> str:
    return f"slack:{slack.team_id}:{channel}"


def slack_papers(slack: FakeSlack, channel: str) -> tuple[int, Counter]:
    """(parent messages, how often each paper id appears in the channel's threads)."""
    messages = slack.messages.get(channel, [])
    parents = [m for m in messages if not m.get("thread_ts")]
    seen: Counter = Counter()
    for message in messages:
        if message.get("thread_ts"):
            seen.update((message.get("metadata") or {}).get("event_payload", {}).get("paper_ids", []))
    return len(parents), seen


def assert_each_paper_once(slack: FakeSlack, channel: str) -> None:
    parents, seen = slack_papers(slack, channel)
    assert parents == 1
    assert seen == Counter(EXPECTED), f"{channel}: duplicates or losses: {seen}"


def assert_clear_log(caplog, needle: str) -> None:
    assert needle in caplog.text, caplog.text
    assert "Traceback" not in caplog.text


async def assert_nothing_posted_then_recovery(world: World, caplog, needle: str) -> None:
    """A failed poll: one clear line, no digest (not even an empty one), the day not recorded,
    another poll soon; then arXiv recovers and the next pass delivers the day once."""
    report = await world.scheduler.run_once()
    assert_clear_log(caplog, needle)
    assert report.day_status is None and await world.announced() is None
    assert all(not world.slack.messages[c] for c in CHANNELS)
    assert world.clock.now() < report.next_wake <= world.clock.now() + POLL   # polls again soon
    world.clock.set(report.next_wake)
    report = await world.scheduler.run_once()
    assert report.day_status == "announced"
    assert [d.outcome for d in report.deliveries] == [DONE, DONE]
    for channel in CHANNELS:
        assert_each_paper_once(world.slack, channel)


# -- arXiv ------------------------------------------------------------------------------------------

async def test_arxiv_429_is_waited_out_as_asked_and_the_day_goes_out(slack_world, arxiv, caplog):
    arxiv.script(Reply.rate_limited(retry_after=40))
    caplog.set_level(logging.INFO)
    report = await slack_world.scheduler.run_once()
    assert report.day_status == "announced" and [d.outcome for d in report.deliveries] == [DONE, DONE]
    assert 40 in [round(s) for s in slack_world.clock.sleeps]   # Retry-After, on the injected clock
    assert_clear_log(caplog, "HTTP 429")
    for channel in CHANNELS:
        assert_each_paper_once(slack_world.slack, channel)


async def test_arxiv_503_on_every_try_posts_nothing_and_the_next_poll_delivers(slack_world, arxiv, caplog):
    arxiv.script(*[Reply.unavailable()] * slack_world.arxiv_settings.max_tries)
    await assert_nothing_posted_then_recovery(slack_world, caplog, "HTTP 503")


async def test_arxiv_timeout_on_every_try_posts_nothing_and_the_next_poll_delivers(slack_world, arxiv, caplog):
    slack_world.arxiv_settings.timeout_seconds = 0.05
    arxiv.script(*[Reply.slow(0.5)] * slack_world.arxiv_settings.max_tries)
    await assert_nothing_posted_then_recovery(slack_world, caplog, "no complete answer within 0.05 s")


async def test_arxiv_connection_reset_on_every_try_posts_nothing_and_the_next_poll_delivers(
        slack_world, arxiv, caplog):
    arxiv.script(*[Reply.reset_connection()] * slack_world.arxiv_settings.max_tries)
    await assert_nothing_posted_then_recovery(slack_world, caplog, "connection failed")


async def test_arxiv_truncated_xml_is_never_a_partial_day(slack_world, arxiv, caplog):
    body = listing()
    arxiv.script(Reply(status=200, body=body[: len(body) // 2]))   # a complete answer, half a document
    await assert_nothing_posted_then_recovery(slack_world, caplog, "failed, will retry at the next poll")
    assert "malformed" in caplog.text.lower() or "truncated" in caplog.text.lower()


async def test_arxiv_error_feed_names_the_bad_category_and_posts_nothing(slack_world, arxiv, caplog):
    error_feed = atom_listing([], title="Feed error for query: cs.CV", day=DAY.isoformat())
    arxiv.script(Reply(status=200, body=error_feed))
    await assert_nothing_posted_then_recovery(slack_world, caplog, "cs.CV")
    assert "error" in caplog.text.lower()


async def test_arxiv_empty_weekday_feed_is_no_announcement_not_an_empty_digest(slack_world, arxiv, caplog):
    arxiv.serve_listing(CATEGORY, atom_listing([], title=f"{CATEGORY} updates on arXiv.org",
                                               day=DAY.isoformat()), etag='"empty"')
    caplog.set_level(logging.INFO)
    report = await slack_world.scheduler.run_once()
    assert report.day_status == "empty" and await slack_world.announced() == (DAY, "empty")
    assert report.deliveries == () and all(not slack_world.slack.messages[c] for c in CHANNELS)
    assert_clear_log(caplog, f"no announcement for {DAY}")
    # Recorded, so the rest of the day asks arXiv nothing more: the next wake is Tuesday's rebuild.
    assert report.next_wake == datetime(2026, 11, 24, tzinfo=EASTERN)
    before = len(arxiv.requests)
    slack_world.clock.advance(3600)
    await slack_world.scheduler.run_once()
    assert len(arxiv.requests) == before


# -- Slack ------------------------------------------------------------------------------------------

async def test_slack_429_is_waited_out_by_the_core_and_nothing_doubles(slack_world, slack, caplog):
    slack.fail("chat.postMessage", "ratelimited", retry_after=9, channel=CHANNELS[0], times=2,
               when=lambda call: bool(call.params.get("thread_ts")))
    caplog.set_level(logging.INFO)
    report = await slack_world.scheduler.run_once()
    assert [d.outcome for d in report.deliveries] == [DONE, DONE]
    assert slack_world.clock.sleeps.count(9.0) == 2
    assert_clear_log(caplog, "rate limited, waiting 9.0 s")
    for channel in CHANNELS:
        assert_each_paper_once(slack, channel)


@pytest.mark.parametrize("code", ["invalid_blocks", "msg_too_long"])
async def test_slack_refusing_the_blocks_gets_the_same_papers_as_plain_text(slack_world, slack, caplog, code):
    slack.fail("chat.postMessage", code, channel=CHANNELS[0],
               when=lambda call: bool(call.params.get("thread_ts")) and "blocks" in call.params)
    caplog.set_level(logging.INFO)
    report = await slack_world.scheduler.run_once()
    assert [d.outcome for d in report.deliveries] == [DONE, DONE]
    assert_clear_log(caplog, f"Slack refused the blocks for {slack_key(slack, CHANNELS[0])} ({code})")
    replies = [m for m in slack.messages[CHANNELS[0]] if m.get("thread_ts")]
    assert ["blocks" in m for m in replies] == [False, True]
    assert "https://arxiv.org/abs/2611.10000" in replies[0]["text"]
    for channel in CHANNELS:
        assert_each_paper_once(slack, channel)


async def test_slack_lost_channel_pauses_only_that_channel_with_a_reason(slack_world, slack, caplog):
    slack.channels[CHANNELS[0]].archived = True
    caplog.set_level(logging.INFO)
    report = await slack_world.scheduler.run_once()
    outcomes = {d.destination: d.outcome for d in report.deliveries}
    lost, kept = slack_key(slack, CHANNELS[0]), slack_key(slack, CHANNELS[1])
    assert outcomes == {lost: PAUSED, kept: DONE}
    assert "archived" in await slack_world.paused(lost)
    assert (await slack_world.delivery(lost)).state == ledger.FAILED
    assert_clear_log(caplog, f"pausing {lost}: this channel is archived")
    assert not slack.messages[CHANNELS[0]]
    assert_each_paper_once(slack, CHANNELS[1])
    # Later passes leave the paused channel alone (no retry storm against an archived channel).
    calls = len(slack.calls)
    slack_world.clock.advance(600)
    await slack_world.scheduler.run_once()
    assert [c for c in slack.calls[calls:] if c.channel == CHANNELS[0]] == []


# -- SQLite -----------------------------------------------------------------------------------------

async def test_sqlite_locked_while_delivering_loses_nothing_and_posts_nothing_twice(slack_world, slack, caplog):
    """Another process takes the write lock right after Slack stored the first reply: the ledger
    cannot record it. The pass ends with one clear line; the next pass reconciles from the thread."""
    holder = sqlite3.connect(slack_world.db_path, isolation_level=None)
    locked = []

    def lock_after_the_first_reply(call) -> bool:
        if call.params.get("thread_ts") and call.channel == CHANNELS[0] and not locked:
            holder.execute("BEGIN EXCLUSIVE")
            locked.append(call)
        return False

    slack.fail("chat.postMessage", "unused", when=lock_after_the_first_reply)
    caplog.set_level(logging.INFO)
    try:
        task = asyncio.ensure_future(slack_world.scheduler.run_forever())
        await eventually(lambda: "database problem (locked)" in caplog.text, what="the locked-database line")
        assert_clear_log(caplog, "database problem (locked)")
        holder.execute("ROLLBACK")

        async def every_channel_done() -> bool:
            states = [await slack_world.delivery(slack_key(slack, c)) for c in CHANNELS]
            return all(s is not None and s.state == ledger.DONE for s in states)

        await eventually(every_channel_done, what="both channels' deliveries to be done")
        slack_world.scheduler.stop.set()
        await asyncio.wait_for(task, 30)
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
    assert locked, "the lock was never taken"
    # The reply stored while the ledger was locked was found in the thread, not posted again.
    assert slack.calls_to("conversations.replies")
    for channel in CHANNELS:
        assert_each_paper_once(slack, channel)
    assert "Traceback" not in caplog.text


async def test_sqlite_disk_full_while_storing_keeps_what_was_stored(slack_world, arxiv, caplog):
    """The day before went out; the disk fills while today's listing is stored: one clear line,
    nothing of today half-stored, yesterday and every subscription intact, today delivered once
    there is room again."""
    world = slack_world
    world.clock.set(datetime(2026, 11, 20, 0, 5, tzinfo=EASTERN))      # Friday first
    arxiv.serve_listing(CATEGORY, listing("2026-11-20", matching=2), etag='"friday"')
    friday = await world.scheduler.run_once()
    assert [d.outcome for d in friday.deliveries] == [DONE, DONE]
    subscriptions = await world.store.run(lambda s: s.db.execute(
        "SELECT id, channel, query FROM channel_subscriptions ORDER BY id").fetchall())
    pages = await world.store.run(lambda s: s.db.execute("PRAGMA page_count").fetchone()[0])
    await world.store.run(lambda s: s.db.execute(f"PRAGMA max_page_count = {pages + 1}"))
    big = [{"id": f"2611.{30000 + i}v1", "title": f"A VLM study {i}", "abstract": "long words " * 300,
            "authors": ["Ann Author"], "categories": [CATEGORY]} for i in range(200)]
    arxiv.serve_listing(CATEGORY, atom_listing(big, title=f"{CATEGORY} updates on arXiv.org",
                                               day=DAY.isoformat()), etag='"monday-big"')
    world.clock.set(START)
    caplog.set_level(logging.INFO)
    task = asyncio.ensure_future(world.scheduler.run_forever())
    await eventually(lambda: "database problem" in caplog.text, what="the database-problem line")
    world.scheduler.stop.set()
    await asyncio.wait_for(task, 30)
    assert_clear_log(caplog, "database problem (disk_full)")
    assert await world.announced() == (date(2026, 11, 20), "announced")
    assert await world.store.run(lambda s: s.papers.for_day(DAY)) == []
    assert len(await world.store.run(lambda s: s.papers.for_day(date(2026, 11, 20)))) == 5
    assert await world.store.run(lambda s: s.db.execute(
        "SELECT id, channel, query FROM channel_subscriptions ORDER BY id").fetchall()) == subscriptions
    # Room again: the same scheduler stores Monday and posts it.
    await world.store.run(lambda s: s.db.execute("PRAGMA max_page_count = 1073741823"))
    world.scheduler.stop.clear()
    report = await world.scheduler.run_once()
    assert report.day_status == "announced" and [d.outcome for d in report.deliveries] == [DONE, DONE]


# -- Discord ----------------------------------------------------------------------------------------

@contextlib.asynccontextmanager
async def discord_world(arxiv, tmp_path):
    from bot.platforms.discord import start_discord

    world = World(arxiv, tmp_path)
    # The fake Discord sees the time the runner's pace waits on the world's clock.
    async with FakeDiscord(clock=ServiceClock(following=world.clock)) as fake:
        world.store = await AsyncStore.open(world.db_path, clock=world.clock)
        settings = Settings(arxiv=world.arxiv_settings,
                            discord=DiscordSettings(api_url=fake.api_url, gateway_url=fake.gateway_url))
        runtime = await start_discord(settings, CommandExecutor(world.store, settings),
                                      environ={"DISCORD_TOKEN": fake.token},
                                      guild_ready_timeout=0.02)
        await runtime.start(timeout=10)
        world.runtimes.append(runtime)
        guild = fake.guild
        for channel in (guild.text_channel, guild.forum_channel):
            await world.subscribe("discord", str(guild.id), str(channel))
        await world.open([runtime.directory], {"discord": runtime.sink})
        world.discord = fake
        try:
            yield world
        finally:
            await world.close()


def discord_key(fake: FakeDiscord, channel: int) -> str:
    return f"discord:{fake.guild.id}:{channel}"


def discord_papers(fake: FakeDiscord, thread_id: int) -> Counter:
    # The Abstract buttons name the papers (each paper's row also holds its 👍 and 👎).
    return Counter(b["custom_id"].removeprefix("paperbot:abs:")
                   for m in fake.thread_messages(thread_id)
                   for row in m.get("components", []) for b in row["components"]
                   if b["custom_id"].startswith("paperbot:abs:"))


async def test_discord_429_is_waited_out_on_the_core_clock(arxiv, tmp_path, caplog):
    async with discord_world(arxiv, tmp_path) as world:
        fake = world.discord
        # Longer than discord.py will sleep itself: it hands the wait back to the core.
        fake.fail("POST", rf"/channels/(?!{fake.guild.text_channel}/)\d+/messages", status=429, retry_after=90)
        caplog.set_level(logging.INFO)
        report = await world.scheduler.run_once()
        assert {d.outcome for d in report.deliveries} == {DONE}
        assert 90 in world.clock.sleeps
        assert_clear_log(caplog, "rate limited, waiting 90.0 s")
        parent = fake.messages[fake.guild.text_channel][-1]
        assert discord_papers(fake, int(parent["id"])) == Counter(EXPECTED)


@pytest.mark.parametrize("status, code, message, reason", [
    (403, 50013, "Missing Permissions", "lacks a permission"),
    (404, 10003, "Unknown Channel", "no longer exists"),
])
async def test_discord_lost_channel_pauses_only_that_channel(arxiv, tmp_path, caplog, status, code, message, reason):
    async with discord_world(arxiv, tmp_path) as world:
        fake = world.discord
        text = fake.guild.text_channel
        fake.fail("POST", rf"/channels/{text}/messages", status=status, code=code, message=message)
        caplog.set_level(logging.INFO)
        report = await world.scheduler.run_once()
        outcomes = {d.destination: d.outcome for d in report.deliveries}
        assert outcomes == {discord_key(fake, text): PAUSED, discord_key(fake, fake.guild.forum_channel): DONE}
        paused = await world.paused(discord_key(fake, text))
        assert reason in paused and f"({code})" in paused
        assert_clear_log(caplog, f"pausing {discord_key(fake, text)}")
        assert fake.messages[text] == []
        [post] = fake.threads_of(fake.guild.forum_channel)
        assert discord_papers(fake, int(post["id"])) == Counter(EXPECTED)


async def test_discord_dms_closed_pause_that_person_only(arxiv, tmp_path, caplog):
    from bot.digest.model import build_digest as digest_of

    async with discord_world(arxiv, tmp_path) as world:
        fake = world.discord
        person = 4242
        dm = Destination(key=f"discord-dm:{fake.guild.id}:{person}", platform="discord", address=str(person),
                         title="your personal keywords", subscription_ids=(),
                         options={"direct": True, "workspace": str(fake.guild.id), "user": str(person)})
        caplog.set_level(logging.INFO)
        report = await world.scheduler.run_once()
        assert {d.outcome for d in report.deliveries} == {DONE}
        # The person has closed their DMs: opening the DM channel or posting in it is refused.
        fake.fail("POST", r"/users/@me/channels", status=403, code=50007,
                  message="Cannot send messages to this user", times=5)
        fake.fail("POST", r"/channels/\d+/messages", status=403, code=50007,
                  message="Cannot send messages to this user", times=1)
        papers = await world.store.run(lambda s: s.papers.for_day(DAY))
        digest = digest_of(dm.key, dm.title, DAY, [Match("me:1", p, (), 1.0) for p in papers[:2]])
        result = await DeliveryRunner(world.store, world.clock).deliver(world.runtimes[0].sink, dm, digest)
        assert result.outcome == PAUSED and "direct messages" in result.detail.lower()
        assert_clear_log(caplog, f"pausing {dm.key}")
