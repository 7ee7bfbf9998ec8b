"""The learned order where digests are built: `build_digest(order=...)`, the destinations' order
setting, and a scheduler day whose Markdown digest follows the votes (and keeps the top N)."""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.arxiv.client import ArxivClient
from bot.config import ConfigError, Settings, TopicSettings, load_settings
from bot.destinations import LISTING, RELEVANCE
from bot.destinations.channels import ChannelSubscriptions
from bot.destinations.people import personal_destination_key
from bot.destinations.topics import ConfiguredTopics
from bot.digest.model import build_digest
from bot.matching.table import MatchTable
from bot.models import Match, Paper
from bot.platforms.markdown import MarkdownSink
from bot.scheduler import Scheduler
from bot.store import AsyncStore
from bot.store.personal import PersonRef
from bot.store.subscriptions import ChannelRef
from bot.store.votes import DOWN, UP
from tests.fakes.arxiv_server import FakeArxiv, atom_listing
from tests.fakes.clock import FakeClock
from tests.ranking.topics import LIKED_WORDS, OTHER_WORDS

DAY = date(2025, 4, 21)
EASTERN = ZoneInfo("America/New_York")


def _matches(papers: list[Paper], scores: list[float]) -> list[Match]:
    return [Match("s1", paper, (), score) for paper, score in zip(papers, scores)]


def _papers(n: int) -> list[Paper]:
    return [Paper(f"2504.{i:05d}", f"Paper {i}", "Text.", ("A B",), ("cs.CV",)) for i in range(n)]


def test_relevance_orders_the_items_and_max_keeps_the_top_n_of_it():
    papers = _papers(6)
    matches = _matches(papers, [3, 3, 2, 2, 1, 1])
    listing = build_digest("k", "t", DAY, matches)
    assert listing.paper_ids == tuple(p.id for p in papers)
    order = {"2504.00005": 9.0, "2504.00002": 5.0, "2504.00000": -1.0, "2504.00003": 0.5}
    ranked = build_digest("k", "t", DAY, matches, order=order)
    # ranked papers by relevance, then those it did not rank in the match order
    assert ranked.paper_ids == ("2504.00005", "2504.00002", "2504.00003", "2504.00000",
                                "2504.00001", "2504.00004")
    top = build_digest("k", "t", DAY, matches, order=order, max_items=2)
    assert top.paper_ids == ("2504.00005", "2504.00002") and top.truncated == 4
    assert top.counts == listing.counts
    assert build_digest("k", "t", DAY, matches, order={}) == listing


async def test_channels_rank_by_relevance_unless_set_to_listing_and_dms_always_do(tmp_path: Path):
    store = await AsyncStore.open(tmp_path / "p.db")
    try:
        ranked, listed = ChannelRef("slack", "T1", "C1"), ChannelRef("slack", "T1", "C2")
        ada = PersonRef("slack", "T1", "U_ADA")

        def setup(s):
            s.channels.add_subscription(ranked, "VLM")
            s.channels.add_subscription(listed, "VLM")
            s.channels.update_channel_settings(listed, {"paper_order": "listing"})
            s.people.add_personal(ada, "protein")
            s.people.set_delivery(ada, "dm")

        await store.run(setup)
        directory = await ChannelSubscriptions(store, "slack").load()
        orders = {d.key: d.paper_order for d in directory.destinations}
        assert orders == {"slack:T1:C1": RELEVANCE, "slack:T1:C2": LISTING,
                          personal_destination_key(ada): RELEVANCE}
    finally:
        await store.close()


def test_topics_keep_the_listing_order_unless_they_ask():
    plain = TopicSettings(keywords=["VLM"], markdown="out")
    assert plain.order == LISTING and plain.votes_from is None
    settings = Settings(topics={
        "A": plain,
        "B": TopicSettings(keywords=["VLM"], markdown="out", order="relevance", votes_from="slack:T1:C1"),
        "C": TopicSettings(keywords=["VLM"], markdown="out", votes_from="discord:123:456"),
        "D": TopicSettings(keywords=["VLM"], markdown="out", order="listing", votes_from="slack:T1:C1")})
    directory = ConfiguredTopics(settings)._directory
    assert {d.key: (d.paper_order, d.ranking_key) for d in directory.destinations} == {
        "markdown:A": (LISTING, "markdown:A"), "markdown:B": (RELEVANCE, "slack:T1:C1"),
        "markdown:C": (RELEVANCE, "discord:123:456"),         # votes_from alone implies relevance
        "markdown:D": (LISTING, "slack:T1:C1")}               # kept, but off for now
    with pytest.raises(ValueError, match="relevance"):
        TopicSettings(keywords=["VLM"], order="best")


def test_a_topic_ordered_by_relevance_must_say_whose_votes_rank_it():
    # A Markdown file has no vote buttons: without votes_from the topic could never learn.
    with pytest.raises(ValueError, match="order: relevance needs votes_from: a Markdown file has no vote buttons"):
        TopicSettings(keywords=["VLM"], markdown="out", order="relevance")
    for bad in ("markdown:VLMs", "slack:T1", "C0123", "slack:T1:C1:extra", "telegram:1:2", ""):
        with pytest.raises(ValueError, match="votes_from must name a chat channel as slack:<team id>:<channel id>"):
            TopicSettings(keywords=["VLM"], markdown="out", votes_from=bad)
    assert TopicSettings(keywords=["VLM"], votes_from=" slack:T1:C1 ").votes_from == "slack:T1:C1"


def test_check_config_names_the_topic_and_the_fix(tmp_path: Path):
    config = tmp_path / "paperbot.yaml"
    config.write_text("topics:\n  VLMs:\n    keywords: [VLM]\n    markdown: out\n    order: relevance\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    message = str(raised.value)
    assert "VLMs" in message and "order: relevance needs votes_from" in message
    assert "Traceback" not in message


def _entries(day: str, count: int, seed: int) -> list[dict]:
    """VLM papers, alternating between the liked subject (even) and the other (odd)."""
    rng = random.Random(seed)
    prefix = f"{day[2:4]}{day[5:7]}.{day[8:10]}"
    entries = []
    for i in range(count):
        words = LIKED_WORDS if i % 2 == 0 else OTHER_WORDS
        entries.append({
            "id": f"{prefix}{i:03d}v1", "title": f"A VLM for {' and '.join(rng.sample(words, 2))}",
            "abstract": f"We study {rng.choice(words)} and {rng.choice(words)} with vision-language models.",
            "authors": ["Ann Author"], "categories": ["cs.CV"]})
    return entries


@pytest.fixture
async def fake():
    async with FakeArxiv() as server:
        yield server


@pytest.mark.parametrize("order", ["relevance", "listing"])
async def test_a_days_digest_follows_the_votes_of_the_days_before(fake, tmp_path: Path, order: str):
    out = tmp_path / "digests"
    clock = FakeClock(datetime(2026, 11, 23, 0, 5, tzinfo=EASTERN))
    settings = Settings(
        arxiv=fake.settings(categories=["cs.CV"], enrich=False, backoff_base_seconds=0),
        topics={"VLMs": TopicSettings(keywords=["VLM"], markdown=str(out), max_papers=4, order=order,
                                      votes_from="slack:T1:C1")})
    store = await AsyncStore.open(tmp_path / "p.db", clock=clock)
    try:
        scheduler = Scheduler(arxiv_settings=settings.arxiv, store=store,
                              arxiv=ArxivClient(settings.arxiv),
                              directories=[ConfiguredTopics(settings)], sinks={"markdown": MarkdownSink()},
                              clock=clock)
        monday = _entries("2026-11-23", 20, seed=1)
        fake.serve_listing("cs.CV", atom_listing(monday, title="cs.CV updates", day="2026-11-23"), etag='"mon"')
        await scheduler.run_once()
        # Someone voted on Monday's papers in the channel the topic learns from (votes_from):
        # the protein ones up.
        reader = PersonRef("slack", "T1", "U_ADA")

        def vote(s):
            for i, entry in enumerate(monday):
                s.votes.cast("slack:T1:C1", entry["id"][:-2], reader, UP if i % 2 == 0 else DOWN)

        await store.run(vote)
        tuesday = _entries("2026-11-24", 10, seed=2)
        fake.serve_listing("cs.CV", atom_listing(tuesday, title="cs.CV updates", day="2026-11-24"), etag='"tue"')
        clock.set(datetime(2026, 11, 24, 0, 5, tzinfo=EASTERN))
        report = await scheduler.run_once()
        assert report.day_status == "announced"
        text = (out / "VLMs" / "2026-11-24.md").read_text()
        ids = [entry["id"][:-2] for entry in tuesday]
        shown = sorted((i for i in ids if f"arXiv:{i}" in text), key=lambda i: text.index(f"arXiv:{i}"))
        assert len(shown) == 4  # max 4 of 10
        if order == "relevance":
            # the top 4 of the learned order: four of the five papers of the liked subject
            assert set(shown) <= set(ids[0::2])
            assert await store.read(lambda s: s.votes.load_model("slack:T1:C1")) is not None
        else:
            # the listing order (match score, then id), as before; no model is trained
            assert shown == [e["id"][:-2] for e in tuesday[:4]]
            assert await store.read(lambda s: s.votes.load_model("slack:T1:C1")) is None
    finally:
        await store.close()


async def test_a_ranking_failure_costs_the_order_not_the_digest(tmp_path: Path, caplog):
    from bot.daily import DayMatches, digest_for, relevance_orders
    from bot.destinations import Destination
    from bot.ranking import Ranker

    from bot.matching import Subscription, compile_subscriptions, parse_query

    store = await AsyncStore.open(tmp_path / "p.db")
    await store.close()  # every read now fails with a StoreError
    papers = _papers(3)
    table = compile_subscriptions([Subscription("s1", parse_query("cat:cs.CV"))]).match_day(papers)
    matches = DayMatches(DAY, table, {p.id: p for p in papers})
    destination = Destination("slack:T1:C1", "slack", "C1", "c", ("s1",), paper_order=RELEVANCE)
    orders = await relevance_orders(Ranker(store), [destination], matches)
    assert orders == {} and "keep the match order" in caplog.text
    assert digest_for(destination, DAY, matches, orders.get(destination.key)).paper_ids == (
        digest_for(destination, DAY, matches).paper_ids) == ("2504.00000", "2504.00001", "2504.00002")


async def test_a_topic_and_its_votes_from_channel_share_one_model_in_one_pass(tmp_path: Path):
    from bot.daily import DayMatches, digest_for, relevance_orders
    from bot.destinations import Destination
    from bot.ranking import Ranker
    from tests.ranking.topics import topic_papers

    voted, later = topic_papers("2504", 20), topic_papers("2505", 12, seed=3)
    store = await AsyncStore.open(tmp_path / "p.db")
    try:
        ada = PersonRef("slack", "T1", "U_ADA")

        def setup(s):
            s.papers.save_listing(DAY, [p for p, _ in voted + later])
            for paper, liked in voted:
                s.votes.cast("slack:T1:C1", paper.id, ada, UP if liked else DOWN)

        await store.run(setup)
        papers = [p for p, _ in later]
        # The channel matches the first half of the day, the topic the second: one model, both.
        table = MatchTable(tuple(papers), {"c": ({i: 1.0 for i in range(6)},),
                                           "t": ({i: 1.0 for i in range(6, 12)},)},
                           lambda sid, index: ())
        matches = DayMatches(DAY, table, {p.id: p for p in papers})
        channel = Destination("slack:T1:C1", "slack", "C1", "c", ("c",), paper_order=RELEVANCE)
        topic = Destination("markdown:T", "markdown", "out", "T", ("t",), paper_order=RELEVANCE,
                            votes_from="slack:T1:C1")
        ranker = Ranker(store)
        orders = await relevance_orders(ranker, [channel, topic], matches)
        assert [t.destination for t in ranker.last_training] == ["slack:T1:C1"]   # trained once
        assert set(orders) == {"slack:T1:C1", "markdown:T"}
        liked = {p.id for p, is_liked in later if is_liked}
        for destination in (channel, topic):
            ids = digest_for(destination, DAY, matches, orders[destination.key]).paper_ids
            assert set(ids[:3]) == liked & set(ids)                # the liked half first
        assert await store.read(lambda s: s.votes.load_model("markdown:T")) is None
    finally:
        await store.close()
