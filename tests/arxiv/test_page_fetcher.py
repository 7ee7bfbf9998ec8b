"""The listing-page fetcher against the fake arXiv serving pages in arXiv's markup (real aiohttp)."""

from datetime import date

import pytest

from bot.arxiv.client import ArxivClient
from bot.arxiv.listing_pages import ListingPageChanged
from bot.arxiv.page_fetcher import ListingPageFetcher, ListingPagesDisallowed, ListingPagesMidUpdate
from tests.fakes.arxiv_pages import ListingSite, quant_ph_papers, synthetic_papers
from tests.fakes.arxiv_server import FakeArxiv, Reply
from tests.fakes.clock import SteppedMonotonic

DAY = date(2025, 4, 28)


@pytest.fixture
async def arxiv():
    async with FakeArxiv() as server:
        yield server


@pytest.fixture
def site(arxiv) -> ListingSite:
    return ListingSite(arxiv)


def fetcher_for(arxiv: FakeArxiv, site: ListingSite, **overrides):
    clock = SteppedMonotonic(start=1000.0)
    client = ArxivClient(arxiv.settings(listing_pages_url=site.base_url, **overrides))
    return client, ListingPageFetcher(client, clock=clock, sleep=clock.sleep), clock


async def test_fetches_every_page_with_paging_and_the_user_agent(arxiv, site):
    papers = quant_ph_papers()
    site.publish("quant-ph", papers, DAY)
    client, fetcher, _ = fetcher_for(arxiv, site, listing_page_size=25)
    async with client:
        fetch = await fetcher.fetch(["quant-ph"])
    assert not fetch.not_modified and fetch.announced == DAY
    assert [p.id for p in fetch.listing.papers] == [p.id for p in papers]
    assert fetch.listing.feed_date == DAY
    pages = site.page_requests()
    assert len(pages) == -(-len(papers) // 25)
    assert [r.query.get("skip", "0") for r in pages] == [str(25 * i) for i in range(len(pages))]
    assert {r.query["show"] for r in pages} == {"25"}
    assert all(r.header("User-Agent") == "paperbot-tests (mailto:tests@example.org)" for r in arxiv.requests)
    assert [r.path for r in arxiv.requests][0] == "/robots.txt"
    assert fetch.requests == len(pages) + 1


async def test_listing_page_requests_keep_the_robots_crawl_delay(arxiv, site):
    site.publish("quant-ph", quant_ph_papers(), DAY)
    site.publish("cs.LG", synthetic_papers(), DAY)
    client, fetcher, clock = fetcher_for(arxiv, site, listing_page_size=2)
    async with client:
        await fetcher.fetch(["quant-ph", "cs.LG"])
    assert fetcher.crawl_pacer.min_interval == 15  # the fake's robots.txt, like arXiv's
    pages = len(site.page_requests())
    assert pages > 3
    # The first page goes at once; every later one waits out the crawl delay (nothing else
    # advances the simulated clock, so each wait is the whole delay).
    assert clock.sleeps == [15.0] * (pages - 1)


async def test_unchanged_pages_cost_one_conditional_request_per_context(arxiv, site):
    site.publish("quant-ph", synthetic_papers(), DAY)
    site.publish("cs.LG", synthetic_papers(), DAY)
    client, fetcher, _ = fetcher_for(arxiv, site)
    async with client:
        first = await fetcher.fetch(["quant-ph", "cs.LG"])
        before = len(arxiv.requests)
        again = await fetcher.fetch(["quant-ph", "cs.LG"], first.validators)
    assert again.not_modified and again.listing is None
    later = arxiv.requests[before:]
    assert [r.path for r in later] == ["/list/quant-ph/new", "/list/cs.LG/new"]  # robots.txt is cached
    assert all(r.header("If-None-Match") and r.header("If-Modified-Since") for r in later)
    assert again.validators == first.validators


async def test_one_changed_context_brings_the_unchanged_ones_along(arxiv, site):
    site.publish("quant-ph", synthetic_papers(), DAY)
    site.publish("cs.LG", synthetic_papers(), DAY)
    client, fetcher, _ = fetcher_for(arxiv, site)
    async with client:
        first = await fetcher.fetch(["quant-ph", "cs.LG"])
        site.publish("quant-ph", synthetic_papers(date(2025, 4, 29)), date(2025, 4, 29))
        site.publish("cs.LG", synthetic_papers(date(2025, 4, 29))[:2], date(2025, 4, 29))
        second = await fetcher.fetch(["quant-ph", "cs.LG"], first.validators)
    assert second.announced == date(2025, 4, 29)
    # synthetic 2504.17901 is quant-ph primary, cross-listed to cs.LG: one paper, type "new".
    assert {p.id: p.announce_type for p in second.listing.papers}["2504.17901"] == "new"


async def test_pages_of_different_days_mean_arxiv_is_mid_update(arxiv, site):
    site.publish("quant-ph", synthetic_papers(), date(2025, 4, 29))
    site.publish("cs.LG", synthetic_papers(), DAY)
    client, fetcher, _ = fetcher_for(arxiv, site)
    async with client:
        with pytest.raises(ListingPagesMidUpdate, match="different days"):
            await fetcher.fetch(["quant-ph", "cs.LG"])


async def test_a_changed_layout_raises_a_clear_error(arxiv, site):
    site.publish("quant-ph", synthetic_papers(), DAY, layout="changed")
    client, fetcher, _ = fetcher_for(arxiv, site)
    async with client:
        with pytest.raises(ListingPageChanged, match="/list/quant-ph/new.*list-title"):
            await fetcher.fetch(["quant-ph"])


async def test_robots_txt_that_disallows_list_stops_before_any_page(arxiv, site):
    site.robots_txt = "User-agent: *\nDisallow: /list\n"
    site.publish("quant-ph", synthetic_papers(), DAY)
    client, fetcher, _ = fetcher_for(arxiv, site)
    async with client:
        with pytest.raises(ListingPagesDisallowed, match="robots.txt disallows"):
            await fetcher.fetch(["quant-ph"])
    assert site.page_requests() == []


async def test_no_robots_txt_means_allowed_at_the_process_interval(arxiv, site):
    site.robots_txt = None
    site.publish("quant-ph", synthetic_papers(), DAY)
    client, fetcher, _ = fetcher_for(arxiv, site)
    async with client:
        fetch = await fetcher.fetch(["quant-ph"])
    assert arxiv.requests_to("/robots.txt")[0] and len(fetch.listing.papers) == len(synthetic_papers())
    assert fetcher.crawl_pacer.min_interval == 0


async def test_a_busy_arxiv_is_retried_by_the_client(arxiv, site):
    site.publish("quant-ph", synthetic_papers(), DAY)
    arxiv.script(Reply.unavailable(retry_after=0), path="/list/quant-ph/new")
    client, fetcher, _ = fetcher_for(arxiv, site, backoff_base_seconds=0)
    async with client:
        fetch = await fetcher.fetch(["quant-ph"])
    assert len(fetch.listing.papers) == len(synthetic_papers())
    assert len(site.page_requests()) == 2 and fetch.requests == 3


async def test_waiting_for_an_announcement_costs_one_probe_request_a_round(arxiv, site):
    for context in ("quant-ph", "cs.LG", "cs.CV"):
        site.publish(context, synthetic_papers(), DAY)
    client, fetcher, _ = fetcher_for(arxiv, site)
    tomorrow = date(2025, 4, 29)
    async with client:
        stale = await fetcher.fetch(["quant-ph", "cs.LG", "cs.CV"], expect=tomorrow)
        assert stale.listing is None and stale.announced == DAY and not stale.not_modified
        unchanged = await fetcher.fetch(["quant-ph", "cs.LG", "cs.CV"], stale.validators, expect=tomorrow)
        assert unchanged.not_modified
        for context in ("quant-ph", "cs.LG", "cs.CV"):
            site.publish(context, synthetic_papers(tomorrow), tomorrow)
        fresh = await fetcher.fetch(["quant-ph", "cs.LG", "cs.CV"], unchanged.validators, expect=tomorrow)
    assert fresh.announced == tomorrow and fresh.listing is not None
    assert [r.path for r in site.page_requests()] == ["/list/quant-ph/new"] * 3 + ["/list/cs.LG/new", "/list/cs.CV/new"]


async def test_robots_rules_for_our_user_agent_apply_to_us(arxiv, site):
    site.robots_txt = "User-agent: paperbot\nDisallow: /list\n\nUser-agent: *\nCrawl-delay: 15\nAllow: /list\n"
    site.publish("quant-ph", synthetic_papers(), DAY)
    client, fetcher, _ = fetcher_for(arxiv, site)
    async with client:
        with pytest.raises(ListingPagesDisallowed):
            await fetcher.fetch(["quant-ph"])
    assert site.page_requests() == []
