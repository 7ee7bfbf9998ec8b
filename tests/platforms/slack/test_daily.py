"""The issue's done-when, end to end with the fakes: `/papers subscribe` from a signed request
leads to the next day's thread (the real scheduler pass: fetch from the fake arXiv, store, match,
digest, runner + SlackSink), and the Show abstract button works after a restart."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.arxiv.client import ArxivClient
from bot.config import Settings, SlackSettings
from bot.daily import digest_for, match_day
from bot.delivery.runner import DONE
from bot.platforms.slack import render
from bot.scheduler import Scheduler
from bot.store import AsyncStore
from tests.conftest import SYNTHETIC_LISTING
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.clock import FakeClock
from tests.platforms.slack.conftest import CHANNEL, SEED_DAY, USER, abstract_click_body, all_texts, start_http

CATEGORIES = ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO"]
QUERY = 'VLM, MLLM, "vision language model", "multimodal language model"'


@pytest.fixture
async def arxiv():
    async with FakeArxiv() as server:
        server.serve_listing(CATEGORIES, SYNTHETIC_LISTING.read_bytes(), etag='"day"')
        yield server


async def test_subscribe_then_the_next_days_thread_then_the_abstract_after_a_restart(slack, arxiv, tmp_path):
    clock = FakeClock(datetime(2025, 4, 21, 0, 10, tzinfo=ZoneInfo("America/New_York")))
    slack.follow(clock)   # Slack sees the time the runner's pace waits
    settings = Settings(arxiv=arxiv.settings(categories=CATEGORIES, enrich=False),
                        slack=SlackSettings(api_url=slack.api_url, mode="http"))
    db_path = tmp_path / "data" / "paperbot.db"
    store = await AsyncStore.open(db_path, clock=clock)
    running = await start_http(slack, store, settings)
    try:
        # Before the day: a member subscribes the channel from Slack.
        reply = await running.command(f"subscribe {QUERY}")
        assert reply["response_type"] == "in_channel"
        assert "No day is stored yet" in " ".join(all_texts(reply["blocks"]))

        # The scheduler's pass: fetch the day, match every subscription once, post the thread.
        async with ArxivClient(settings.arxiv) as client:
            scheduler = Scheduler(arxiv_settings=settings.arxiv, store=store, arxiv=client,
                                  directories=[running.runtime.directory],
                                  sinks={"slack": running.runtime.sink}, clock=clock)
            report = await scheduler.run_once()
        assert report.target_day == SEED_DAY and report.day_status == "announced"
        [delivery] = report.deliveries
        assert delivery.destination == f"slack:{slack.team_id}:{CHANNEL}" and delivery.outcome == DONE

        # What the thread holds is exactly what the matcher found for the subscription.
        directory = await running.runtime.directory.load()
        by_subscription = await match_day(store, SEED_DAY, directory.subscriptions)
        expected = digest_for(directory.destinations[0], SEED_DAY, by_subscription)
        assert expected.total >= 10 and delivery.papers == expected.total
        [parent] = slack.top_level(CHANNEL)
        assert parent["text"].startswith(f"arXiv papers for 2025-04-21: {expected.total} papers")
        replies = slack.thread(CHANNEL, parent["ts"])[1:]
        shown = [paper_id for r in replies for paper_id in render.shown_paper_ids(r["blocks"])]
        assert shown == list(expected.paper_ids)
        assert len(replies) == -(-expected.total // 10)
    finally:
        await running.runtime.close()
        await store.close()

    # A restart: new store connection, new app; a click on a button posted before still works.
    store = await AsyncStore.open(db_path, clock=clock)
    restarted = await start_http(slack, store, settings)
    try:
        clicked = shown[-1]
        status, _ = await restarted.post(abstract_click_body(slack, clicked, thread_ts=parent["ts"]))
        assert status == 200
        [ephemeral] = await slack.wait_for(lambda: slack.ephemerals)
        assert ephemeral["user"] == USER and ephemeral["thread_ts"] == parent["ts"]
        paper = (await store.run(lambda s: s.papers.get_many([clicked])))[clicked]
        text = " ".join(all_texts(ephemeral["blocks"]))
        assert " ".join(paper.abstract.split())[:150].replace("&", "&amp;") in text
    finally:
        await restarted.runtime.close()
        await store.close()
