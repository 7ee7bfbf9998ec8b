"""The latest day held for commands: its index (bot/matching/day_index.py) is built once per day
on the command worker, never on the event loop, and replaced when the day changes; answers
computed on it are the matcher's own over the whole day."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from datetime import timedelta

import pytest

from bot.commands import CommandExecutor
from bot.commands import context as command_context
from bot.commands.context import COMMAND_WORKER_THREAD
from bot.commands.responses import Heading, PaperList
from bot.matching import Subscription, find_near_misses, parse_query
from bot.matching.day_index import DayIndex

from .conftest import SEED_DAY, context
from .test_execute import matched_ids, sections_of

VISITOR = context(user="U0002", can_manage=False)


@pytest.fixture
def index_builds(monkeypatch) -> list[tuple[str, int]]:
    """(thread name, papers) of every DayIndex the commands build: the real index, watched."""
    builds: list[tuple[str, int]] = []

    class WatchedDayIndex(DayIndex):
        def __init__(self, papers):
            super().__init__(papers)
            builds.append((threading.current_thread().name, len(self.papers)))

    monkeypatch.setattr(command_context, "DayIndex", WatchedDayIndex)
    return builds


async def test_the_index_is_built_once_per_day_on_the_worker(store, settings, synthetic_listing,
                                                              index_builds):
    executor = CommandExecutor(store, settings)
    replies = await asyncio.gather(*(executor.execute(VISITOR, text) for text in (
        "today MLLM", "test VLM", "today transformer", "test MLLM NOT grasping")))
    assert all(reply.ephemeral and "papers of 20" in reply.text for reply in replies)
    await executor.execute(VISITOR, "today world model")
    assert len(index_builds) == 1
    thread, papers = index_builds[0]
    assert thread.startswith(COMMAND_WORKER_THREAD) and papers == 20

    # A new day stored: the next question builds the new day's index, once.
    next_day = SEED_DAY + timedelta(days=1)
    fresh = [dataclasses.replace(p, id=f"2504.7{n:04d}", announced=next_day)
             for n, p in enumerate(synthetic_listing.papers[:12])]
    await store.run(lambda s: s.papers.save_listing(next_day, fresh))
    reply = await executor.execute(VISITOR, "today MLLM")
    assert f" papers of 12 on {next_day.isoformat()} match MLLM" in reply.text
    await executor.execute(VISITOR, "test MLLM")
    assert [papers for _, papers in index_builds] == [20, 12]
    assert all(thread.startswith(COMMAND_WORKER_THREAD) for thread, _ in index_builds)


@pytest.mark.parametrize("query", ["MLLM", "ti:MLLM", "ti:language", "ti:robot*", "MLLM NOT grasping",
                                   "diffusion AND video", 'au:Chen AND vision', "cat:cs.CV",
                                   '"world model" OR (VLM NOT cat:cs.RO)'])
async def test_a_dry_run_finds_the_matches_and_near_misses_of_the_whole_day(executor, synthetic_listing,
                                                                           query):
    """`/papers test` looks only at the papers the index says a term is in; what it reports is
    what the matcher and `find_near_misses` say over the whole day (as `paperbot test-query`
    does), including near misses whose term is in another field (`ti:MLLM`, MLLM in an
    abstract)."""
    papers = synthetic_listing.papers
    reply = await executor.execute(VISITOR, f"test {query}")
    expected = matched_ids(papers, query)
    assert reply.text.startswith(f"Dry run on 2025-04-21: {len(expected)} paper")
    lists = sections_of(reply, PaperList)
    if expected:
        matched, *near_lists = lists
        assert {item.paper.id for item in matched.items} <= set(expected)
        assert len(matched.items) + matched.more == len(expected)
    else:
        near_lists = lists
    headings = [s.text for s in reply.sections
                if isinstance(s, Heading) and s.text.startswith("Near misses: ")]
    shown = {heading.removeprefix("Near misses: "): (
        [item.paper.id for item in near.items], len(near.items) + near.more)
        for heading, near in zip(headings, near_lists)}
    trial = Subscription("query", parse_query(query))
    whole_day = find_near_misses(trial, papers)
    assert shown == {group.title: ([miss.paper.id for miss in group.items], group.total)
                     for group in whole_day.groups}


async def test_a_field_near_miss_is_shown(executor):
    reply = await executor.execute(VISITOR, "test ti:MLLM")
    headings = [s.text for s in reply.sections if isinstance(s, Heading)]
    assert "Near misses: the term is there, but in another field" in headings
