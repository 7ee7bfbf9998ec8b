"""The weekly best-of on Slack, driven by the real scheduler on a fake clock: posted once at the
channel's DAY HH:MM (its time zone), with the week's most-voted papers and the best-ranked unvoted
ones, through the ledger (a lost answer is found again, never posted twice)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.arxiv.client import ArxivClient
from bot.commands import CommandExecutor
from bot.commands.context import CommandContext
from bot.config import ArxivSettings, Settings
from bot.delivery.runner import DONE, FAILED
from bot.destinations.channels import ChannelSubscriptions
from bot.ingest import EMPTY
from bot.platforms.slack import SlackSink
from bot.scheduler import Scheduler
from bot.store.personal import PersonRef
from bot.weekly import WeeklyBestOfPoster
from tests.conftest import SEED_DAY
from tests.fakes.clock import FakeClock
from tests.fakes.slack_server import FakeSlack
from tests.platforms.slack.conftest import CHANNEL, all_texts

BERLIN = ZoneInfo("Europe/Berlin")
DUE = datetime(2025, 4, 25, 16, 0, tzinfo=BERLIN)      # Friday 16:00 in Berlin
KEY = None  # set per workspace below


@pytest.fixture
async def slack():
    async with FakeSlack(epoch=DUE.timestamp()) as fake:
        fake.add_channel(CHANNEL, "ml-papers")
        yield fake


def voter(slack, user):
    return PersonRef("slack", slack.team_id, user)


async def prepare(store, slack, seed_papers, *, weekly="settings weekly on fri 16:00 tz Europe/Berlin"):
    """A channel subscribed to VLM with the weekly best-of on; the week's papers delivered to it
    over two days, and votes on some of them."""
    executor = CommandExecutor(store, Settings())
    ctx = CommandContext("slack", slack.team_id, CHANNEL, "U0LEAD", True, "ml-papers")
    assert (await executor.execute(ctx, "subscribe VLM")).outcome == "ok"
    changed = await executor.execute(ctx, weekly)
    assert changed.outcome == "ok", changed.text
    key = ctx.destination_key
    monday, tuesday = seed_papers[:8], seed_papers[8:14]
    stamp = datetime(2025, 4, 22, 9, tzinfo=BERLIN)

    def fill(s):
        s.ledger.record_papers(key, SEED_DAY, [p.id for p in monday], "1.1", stamp)
        s.ledger.record_papers(key, SEED_DAY + timedelta(days=1), [p.id for p in tuesday], "2.1", stamp)
        s.ledger.record_announcement_day(date(2025, 4, 25), EMPTY, 0, stamp)
        a, b, c, old = monday[3].id, tuesday[2].id, monday[0].id, tuesday[0].id
        s.votes.cast(key, a, voter(slack, "U1"), 1, stamp)
        s.votes.cast(key, a, voter(slack, "U2"), 1, stamp)
        s.votes.cast(key, b, voter(slack, "U1"), 1, stamp)
        s.votes.cast(key, b, voter(slack, "U2"), -1, stamp)
        s.votes.cast(key, tuesday[5].id, voter(slack, "U3"), 1, stamp)
        s.votes.cast(key, c, voter(slack, "U1"), -1, stamp)
        s.votes.cast(key, old, voter(slack, "U1"), 1, datetime(2025, 4, 10, tzinfo=BERLIN))  # before the week
        return dict(a=a, b=b, c=c, old=old, liked_once=tuesday[5].id)

    return key, await store.run(fill), monday, tuesday


def scheduler(store, slack, clock, **weekly):
    sink = SlackSink(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[]),
                     slack.team_id)
    return Scheduler(arxiv_settings=ArxivSettings(enrich=False), store=store,
                     arxiv=ArxivClient(ArxivSettings(enrich=False)),
                     directories=[ChannelSubscriptions(store, "slack")], sinks={"slack": sink},
                     clock=clock, weekly=WeeklyBestOfPoster(store, **weekly))


def best_of_messages(slack):
    return [m for m in slack.top_level(CHANNEL) if m["text"].startswith("Best of the week")]


async def test_posted_once_at_the_channels_day_and_time(store, slack, seed_papers):
    key, voted, monday, tuesday = await prepare(store, slack, seed_papers)
    clock = FakeClock(DUE - timedelta(minutes=1))
    slack.follow(clock)
    bot = scheduler(store, slack, clock)
    early = await bot.run_once()
    assert early.weekly == () and best_of_messages(slack) == []
    assert early.next_wake <= DUE   # the scheduler comes back for it

    clock.set(DUE)
    report = await bot.run_once()
    [result] = report.weekly
    assert result.outcome == DONE and result.messages == 1 and result.destination == key + "#weekly"
    [message] = best_of_messages(slack)
    assert message["text"].startswith("Best of the week 2025-04-19 – 2025-04-25")
    texts = all_texts(message["blocks"])
    assert texts[0] == "Best of the week · 2025-04-19 – 2025-04-25"
    most_voted, unvoted = texts[1], texts[2]
    # Net 👍 of the week: a (2 up) first, then the one liked once; b (net 0), c (👎) and the
    # paper voted on before the week are not among them.
    assert most_voted.splitlines()[0] == "*Most voted here*"
    assert f"abs/{voted['a']}|" in most_voted.splitlines()[1] and most_voted.splitlines()[1].endswith("👍 2")
    assert f"abs/{voted['liked_once']}|" in most_voted.splitlines()[2]
    assert len(most_voted.splitlines()) == 3
    # Unvoted: no vote at all in this channel, ever; each day's best first, newest day first.
    assert unvoted.startswith("*Worth a look: nobody voted on these yet* (best keyword match first)")
    listed = [line.split("abs/")[1].split("|")[0] for line in unvoted.splitlines()[1:]]
    # (positions as posted: a voted paper still holds its place in its day)
    assert listed == [tuesday[1].id, monday[1].id, monday[2].id, tuesday[3].id, tuesday[4].id]
    assert not {voted["b"], voted["c"], voted["old"]} & set(listed)
    assert "From 14 papers this channel received this week" in texts[-1]
    record = await store.run(lambda s: s.ledger.get_delivery(key + "#weekly", date(2025, 4, 25)))
    assert record.state == "done" and record.parent_ref == message["ts"]

    # Later passes that week post nothing more.
    clock.set(DUE + timedelta(hours=2))
    again = await bot.run_once()
    assert again.weekly == () and len(best_of_messages(slack)) == 1
    # The daily thread's ledger row of the channel is untouched by the weekly one.
    assert await store.run(lambda s: s.ledger.latest_delivery(key)) is None


async def test_turned_on_mid_week_waits_for_its_day_and_off_stops_it(store, slack, seed_papers):
    await prepare(store, slack, seed_papers)
    clock = FakeClock(DUE + timedelta(hours=7))    # past the catch-up window
    slack.follow(clock)
    report = await scheduler(store, slack, clock).run_once()
    assert report.weekly == () and best_of_messages(slack) == []

    await prepare_off(store, slack)
    clock.set(DUE)
    report = await scheduler(store, slack, clock).run_once()
    assert report.weekly == () and best_of_messages(slack) == []


async def prepare_off(store, slack):
    executor = CommandExecutor(store, Settings())
    ctx = CommandContext("slack", slack.team_id, CHANNEL, "U0LEAD", True, "ml-papers")
    assert (await executor.execute(ctx, "settings weekly off")).outcome == "ok"


async def test_a_lost_answer_is_found_again_not_posted_twice(store, slack, seed_papers):
    key, *_ = await prepare(store, slack, seed_papers)
    clock = FakeClock(DUE + timedelta(minutes=3))
    slack.follow(clock)
    slack.lose_answer(when=lambda call: str(call.params.get("text", "")).startswith("Best of the week"))
    first = await scheduler(store, slack, clock).run_once()
    assert first.weekly[0].outcome == FAILED and len(best_of_messages(slack)) == 1
    clock.set(DUE + timedelta(minutes=10))
    second = await scheduler(store, slack, clock).run_once()     # a restarted process
    assert second.weekly[0].outcome == DONE and second.weekly[0].messages == 0
    assert len(best_of_messages(slack)) == 1
    assert slack.calls_to("conversations.history")   # found on Slack by its metadata


class ReversedRanker:
    """A stand-in for bot.ranking's learned ranker at the seam: scores the papers in reverse."""

    def __init__(self, answer_none: bool = False) -> None:
        self.answer_none = answer_none
        self.asked: list[tuple[str, list[str]]] = []

    async def scores(self, destination_key, papers):
        self.asked.append((destination_key, [p.id for p in papers]))
        return None if self.answer_none else {p.id: float(n) for n, p in enumerate(papers)}


@pytest.mark.parametrize("answer_none", [False, True])
async def test_unvoted_papers_follow_the_ranker_or_fall_back(store, slack, seed_papers, answer_none):
    key, voted, monday, tuesday = await prepare(store, slack, seed_papers)
    clock = FakeClock(DUE)
    slack.follow(clock)
    ranker = ReversedRanker(answer_none)
    await scheduler(store, slack, clock, ranker=ranker).run_once()
    [(asked_key, candidates)] = ranker.asked
    assert asked_key == key and voted["b"] not in candidates and len(candidates) == 14 - 5
    unvoted = all_texts(best_of_messages(slack)[0]["blocks"])[2]
    listed = [line.split("abs/")[1].split("|")[0] for line in unvoted.splitlines()[1:]]
    if answer_none:
        assert "(best keyword match first)" in unvoted and listed[0] == tuesday[1].id
    else:
        assert "(ranked by what this channel votes for)" in unvoted
        assert listed == list(reversed(candidates))[:5]
