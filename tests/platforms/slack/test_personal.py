"""Personal keywords on Slack, end to end with the fakes: /papers me ... from signed requests, the
scheduler's one pass, then mentions in the channel's daily thread and a DM digest."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.arxiv.client import ArxivClient
from bot.config import Settings, SlackSettings
from bot.delivery.runner import DONE, PAUSED
from bot.matching import Subscription, compile_subscriptions, parse_query
from bot.platforms.slack import render
from bot.scheduler import Scheduler
from bot.store import AsyncStore
from tests.conftest import SYNTHETIC_LISTING
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.clock import FakeClock
from tests.platforms.slack.conftest import CHANNEL, SEED_DAY, all_texts, start_http

CATEGORIES = ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO"]
ANNA, BEN, CAROL, DAN = "U0ANNA", "U0BEN", "U0CAROL", "U0DAN"


@pytest.fixture
async def arxiv():
    async with FakeArxiv() as server:
        server.serve_listing(CATEGORIES, SYNTHETIC_LISTING.read_bytes(), etag='"day"')
        yield server


@pytest.fixture
async def world(slack, arxiv, tmp_path):
    for user in (ANNA, BEN, CAROL, DAN):
        slack.add_user(user)
    clock = FakeClock(datetime(2025, 4, 21, 0, 10, tzinfo=ZoneInfo("America/New_York")))
    slack.follow(clock)   # Slack sees the time the runner's pace waits
    settings = Settings(arxiv=arxiv.settings(categories=CATEGORIES, enrich=False),
                        slack=SlackSettings(api_url=slack.api_url, mode="http"))
    store = await AsyncStore.open(tmp_path / "paperbot.db", clock=clock)
    running = await start_http(slack, store, settings)
    async with ArxivClient(settings.arxiv) as client:
        scheduler = Scheduler(arxiv_settings=settings.arxiv, store=store, arxiv=client,
                              directories=[running.runtime.directory],
                              sinks={"slack": running.runtime.sink}, clock=clock)
        yield running, scheduler, store
    await running.runtime.close()
    await store.close()


def matched(papers, query: str) -> list[str]:
    subscription = Subscription("x", parse_query(query), types=frozenset(("new", "cross")))
    return sorted({m.paper.id for m in compile_subscriptions([subscription]).match(papers)})


async def test_two_people_get_exactly_their_mentions_and_a_dm_person_a_digest(world, slack):
    running, scheduler, store = world
    assert (await running.command("subscribe VLM"))["response_type"] == "in_channel"
    for user, query in ((ANNA, "MLLM"), (BEN, "diffusion"), (CAROL, "benchmark")):
        reply = await running.command(f"me add {query}", user=user)
        assert reply["response_type"] == "ephemeral" and "Added to your personal keywords" in reply["text"]
    for user in (ANNA, BEN):
        reply = await running.command("me deliver here", user=user)
        assert reply["response_type"] == "ephemeral"
    # Dan chose here too but has no keywords: nothing to mention him for.
    await running.command("me deliver here", user=DAN)

    report = await scheduler.run_once()
    assert {d.outcome for d in report.deliveries} == {DONE}
    papers = await store.run(lambda s: s.papers.for_day(SEED_DAY))
    anna, ben, carol = matched(papers, "MLLM"), matched(papers, "diffusion"), matched(papers, "benchmark")
    assert anna and ben and carol

    # The channel's thread: its own papers, then ONE message naming Anna and Ben once each.
    [parent] = slack.top_level(CHANNEL)
    replies = slack.thread(CHANNEL, parent["ts"])[1:]
    mentioning = [r for r in replies if "<@" in r["text"] + " ".join(all_texts(r.get("blocks")))]
    assert mentioning == [replies[-1]]
    text = " ".join(all_texts(mentioning[0]["blocks"]))
    assert re.findall(r"<@(U[A-Z0-9]+)>", text) == [ANNA, BEN]
    anna_line, ben_line = [t for t in all_texts(mentioning[0]["blocks"]) if t.startswith("<@")]
    assert sorted(re.findall(r"arxiv\.org/abs/([\d.]+)", anna_line)) == anna  # 3: all shown
    assert sorted(re.findall(r"arxiv\.org/abs/([\d.]+)", ben_line)) == ben
    # Privacy: the channel sees its own subscriptions only, never anyone's keywords.
    assert "Matching: VLM" in " ".join(all_texts(parent["blocks"]))
    # Carol (dm, the default) got her digest in her DM: same format, folded abstracts.
    dm = slack.dm_channel(CAROL)
    [dm_parent] = slack.top_level(dm)
    assert dm_parent["text"].startswith(f"arXiv papers for 2025-04-21: {len(carol)} paper")
    dm_replies = slack.thread(dm, dm_parent["ts"])[1:]
    shown = sorted(paper_id for r in dm_replies for paper_id in render.shown_paper_ids(r["blocks"]))
    assert shown == carol
    buttons = [[e["text"]["text"] for e in b["elements"]] for r in dm_replies for b in r["blocks"]
               if b["type"] == "actions"]
    assert buttons and all(labels == ["Show abstract", "👍", "👎"] for labels in buttons)
    assert not any(m["ts"] for u in (ANNA, BEN, DAN) for m in slack.messages.get(slack.dm_channel(u), []))

    # Another pass (or a restart) posts nothing again: the ledger holds the mentions too.
    posted = len(slack.calls_to("chat.postMessage"))
    again = await scheduler.run_once()
    assert {d.outcome for d in again.deliveries} <= {DONE} and len(slack.calls_to("chat.postMessage")) == posted


async def test_a_mention_posted_but_not_recorded_is_found_in_the_thread(world, slack):
    running, scheduler, store = world
    await running.command("subscribe VLM")
    await running.command("me add MLLM", user=ANNA)
    await running.command("me deliver here", user=ANNA)
    # The mention message goes out but its answer is lost: the ledger never hears of it.
    slack.lose_answer("chat.postMessage", when=lambda call: "Personal matches" in str(call.params.get("text")))
    first = await scheduler.run_once()
    assert [d.outcome for d in first.deliveries] == ["failed"]
    [parent] = slack.top_level(CHANNEL)
    assert len([r for r in slack.thread(CHANNEL, parent["ts"]) if "Personal matches" in r["text"]]) == 1
    # The retry (after its backoff) reads the thread's metadata back (mention:<user>) and posts
    # nothing twice.
    scheduler.clock.advance((first.deliveries[0].retry_at - scheduler.clock.now()).total_seconds())
    second = await scheduler.run_once()
    assert [d.outcome for d in second.deliveries] == [DONE] and second.deliveries[0].messages == 0
    assert len([r for r in slack.thread(CHANNEL, parent["ts"]) if "Personal matches" in r["text"]]) == 1


async def test_closed_dms_pause_that_person_with_the_reason_in_me_list(world, slack):
    running, scheduler, store = world
    await running.command("subscribe VLM")
    await running.command("me add MLLM", user=ANNA)
    await running.command("me add benchmark", user=BEN)
    slack.users[ANNA]["deleted"] = True
    report = await scheduler.run_once()
    outcomes = {d.destination: d.outcome for d in report.deliveries}
    assert outcomes[f"slack-dm:{slack.team_id}:{ANNA}"] == PAUSED
    assert outcomes[f"slack-dm:{slack.team_id}:{BEN}"] == DONE
    assert outcomes[f"slack:{slack.team_id}:{CHANNEL}"] == DONE
    listed = await running.command("me list", user=ANNA)
    assert listed["response_type"] == "ephemeral"
    assert "deactivated" in listed["text"] and "user_disabled" in listed["text"]
    assert "paused" not in (await running.command("me list", user=BEN))["text"].lower()
    # Back again: choosing dm resumes, and the next pass delivers.
    slack.users[ANNA]["deleted"] = False
    await running.command("me deliver dm", user=ANNA)
    again = await scheduler.run_once()
    assert {d.destination: d.outcome for d in again.deliveries}[f"slack-dm:{slack.team_id}:{ANNA}"] == DONE
    assert slack.top_level(slack.dm_channel(ANNA))


async def test_other_people_cannot_read_or_change_personal_keywords(world, slack):
    running, scheduler, store = world
    await running.command('me add "secret topic"', user=ANNA)
    for text in ("me list", "me remove 1", "me remove all", "list", "today"):
        reply = await running.command(text, user=BEN)
        assert "secret topic" not in str(reply)
    mine = await running.command("me list", user=ANNA)
    assert '1. "secret topic"' in " ".join(all_texts(mine["blocks"]))
