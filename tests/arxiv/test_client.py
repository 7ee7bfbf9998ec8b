import asyncio
import json
import logging
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime

import aiohttp
import pytest

from bot.arxiv.client import API_BATCH_SIZE, LISTING_CAP, ArxivClient, parse_retry_after
from bot.arxiv.errors import ApiError, FeedError, FetchFailed, InvalidArxivId, MalformedFeed
from bot.arxiv.pacing import RequestPacer
from bot.models import Paper
from tests.conftest import DATA, SYNTHETIC_LISTING, shared_path
from tests.fakes.arxiv_server import FakeArxiv, Reply, api_feed, atom_listing
from tests.fakes.clock import SteppedMonotonic

CS_CV = "/atom/cs.CV"
# The synthetic 2025-04-21 listing (20 papers), an empty feed (a weekend's) and an error feed.
DAY_LISTING = SYNTHETIC_LISTING.read_bytes()
EMPTY_LISTING = atom_listing([], title="cs.CV updates on arXiv.org", day="2025-04-26")
ERROR_LISTING = (DATA / "error-bad-archive.atom.xml").read_bytes()


def api_recording(name: str) -> bytes:
    data = json.loads(shared_path("fixtures", "arxiv-api", "current", name).read_text(encoding="utf-8"))
    return data["body"].encode("latin-1")


@pytest.fixture
async def fake():
    async with FakeArxiv() as server:
        yield server


@pytest.fixture
def clock() -> SteppedMonotonic:
    return SteppedMonotonic(start=1000.0)


def make_client(fake: FakeArxiv, clock: SteppedMonotonic, **settings) -> ArxivClient:
    return ArxivClient(fake.settings(**settings), sleep=clock.sleep, clock=clock, random=lambda: 0.5)


async def test_fetches_and_parses_a_listing_with_the_user_agent(fake, clock):
    fake.serve_listing("cs.CV", DAY_LISTING)
    async with make_client(fake, clock, user_agent="paperbot-test/1 (mailto:lab@example.org)") as client:
        fetch = await client.fetch_listing(["cs.CV"])
    assert fetch.url == fake.listing_url + "cs.CV"
    assert not fetch.not_modified and fetch.requests == 1 and fetch.truncated == ()
    assert len(fetch.listing.papers) == 20
    assert fetch.listing.feed_date == date(2025, 4, 21)
    [request] = fake.requests
    assert request.path == CS_CV
    assert request.header("User-Agent") == "paperbot-test/1 (mailto:lab@example.org)"
    assert request.header("If-None-Match") is None
    assert clock.sleeps == []


async def test_categories_are_joined_with_plus_in_one_request(fake, clock):
    body = DAY_LISTING
    fake.serve_listing(["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO"], body)
    async with make_client(fake, clock) as client:
        fetch = await client.fetch_listing(["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO"])
    assert len(fetch.listing.papers) == 20
    assert [r.path for r in fake.requests] == ["/atom/cs.AI+cs.CL+cs.CV+cs.LG+cs.MA+cs.RO"]


async def test_conditional_get_with_etag_gives_not_modified(fake, clock):
    fake.serve_listing("cs.CV", DAY_LISTING, etag='"day-2025-04-28"')
    async with make_client(fake, clock) as client:
        first = await client.fetch_listing(["cs.CV"])
        second = await client.fetch_listing(["cs.CV"], etag=first.etag)
        fake.serve_listing("cs.CV", EMPTY_LISTING, etag='"day-2025-04-29"')
        third = await client.fetch_listing(["cs.CV"], etag=second.etag)
    assert first.etag == '"day-2025-04-28"'
    assert second.not_modified and second.listing is None and second.etag == first.etag
    assert [r.header("If-None-Match") for r in fake.requests] == [None, '"day-2025-04-28"', '"day-2025-04-28"']
    assert not third.not_modified and third.listing.is_empty and third.etag == '"day-2025-04-29"'


async def test_conditional_get_with_last_modified(fake, clock):
    stamp = "Mon, 21 Apr 2025 04:00:00 GMT"
    fake.serve_listing("cs.CV", DAY_LISTING, last_modified=stamp)
    async with make_client(fake, clock) as client:
        first = await client.fetch_listing(["cs.CV"])
        second = await client.fetch_listing(["cs.CV"], last_modified=first.last_modified)
        older = await client.fetch_listing(["cs.CV"], last_modified="Sun, 20 Apr 2025 04:00:00 GMT")
    assert first.last_modified == stamp
    assert second.not_modified and second.last_modified == stamp
    assert not older.not_modified and len(older.listing.papers) == 20
    assert fake.requests[1].header("If-Modified-Since") == stamp


async def test_429_with_retry_after_then_success(fake, clock):
    fake.serve_listing("cs.CV", DAY_LISTING)
    fake.script(Reply.rate_limited(retry_after=7))
    async with make_client(fake, clock) as client:
        fetch = await client.fetch_listing(["cs.CV"])
    assert len(fetch.listing.papers) == 20 and fetch.requests == 2
    assert clock.sleeps == [7.0]  # Retry-After beats the 0.75 s backoff
    assert len(fake.requests) == 2


async def test_retry_after_as_an_http_date(fake, clock):
    now = datetime(2026, 4, 20, 4, 0, 0, tzinfo=timezone.utc)
    fake.serve_listing("cs.CV", DAY_LISTING)
    fake.script(Reply.unavailable(retry_after=format_datetime(now + timedelta(seconds=12), usegmt=True)))
    client = ArxivClient(fake.settings(), sleep=clock.sleep, clock=clock, random=lambda: 0.5, wall_clock=lambda: now)
    async with client:
        await client.fetch_listing(["cs.CV"])
    assert clock.sleeps == [12.0]


def test_parse_retry_after():
    now = datetime(2026, 4, 20, 4, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(" 2.5 ", now) == 2.5
    assert parse_retry_after("Mon, 20 Apr 2026 04:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 20 Apr 2026 03:00:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


async def test_503_then_success_backs_off_with_jitter(fake, clock):
    fake.serve_listing("cs.CV", DAY_LISTING)
    fake.script(Reply.unavailable(), Reply.unavailable(status=502))
    async with make_client(fake, clock, max_tries=3, backoff_base_seconds=2) as client:
        fetch = await client.fetch_listing(["cs.CV"])
    assert len(fetch.listing.papers) == 20 and fetch.requests == 3
    # Steps of 2 s then 4 s, "equal jitter" with random()=0.5: 3/4 of each step.
    assert clock.sleeps == [1.5, 3.0]


async def test_backoff_is_capped_and_jitter_varies_it(fake, clock):
    fake.serve_listing("cs.CV", EMPTY_LISTING)
    fake.script(*[Reply.unavailable()] * 4)
    draws = iter([0.0, 1.0, 0.0, 1.0])
    client = ArxivClient(fake.settings(max_tries=5, backoff_base_seconds=4, backoff_max_seconds=10),
                         sleep=clock.sleep, clock=clock, random=lambda: next(draws))
    async with client:
        await client.fetch_listing(["cs.CV"])
    assert clock.sleeps == [2.0, 8.0, 5.0, 10.0]  # steps 4, 8, 10 (cap), 10 (cap)


async def test_timeout_then_success(fake, clock):
    fake.serve_listing("cs.CV", DAY_LISTING)
    fake.script(Reply.slow(2.0))
    async with make_client(fake, clock, timeout_seconds=0.2) as client:
        fetch = await client.fetch_listing(["cs.CV"])
    assert len(fetch.listing.papers) == 20
    assert len(fake.requests) == 2 and clock.sleeps == [0.75]


async def test_connection_reset_then_success(fake, clock):
    fake.serve_listing("cs.CV", DAY_LISTING)
    fake.script(Reply.reset_connection())
    async with make_client(fake, clock) as client:
        fetch = await client.fetch_listing(["cs.CV"])
    assert len(fetch.listing.papers) == 20 and len(fake.requests) == 2
    assert clock.sleeps == [0.75]  # our paced retry, not aiohttp's instant resend


async def test_resets_are_counted_as_tries_with_no_hidden_resends(fake, clock):
    fake.serve_listing("cs.CV", DAY_LISTING)
    async with make_client(fake, clock, max_tries=2) as client:
        await client.fetch_listing(["cs.CV"])  # warm a kept-alive connection first
        fake.script(*[Reply.reset_connection()] * 4)
        with pytest.raises(FetchFailed, match=r"after 2 tries: connection failed \(ServerDisconnectedError"):
            await client.fetch_listing(["cs.CV"])
    assert len(fake.requests) == 1 + 2


async def test_body_cut_short_in_transfer_then_success(fake, clock):
    fake.serve_listing("cs.CV", DAY_LISTING)
    fake.script(Reply.cut_short(5000))
    async with make_client(fake, clock) as client:
        fetch = await client.fetch_listing(["cs.CV"])
    assert len(fetch.listing.papers) == 20 and len(fake.requests) == 2


async def test_a_complete_response_with_a_truncated_document_is_malformed(fake, clock):
    body = DAY_LISTING
    fake.serve_listing("cs.CV", body[: len(body) // 2])
    async with make_client(fake, clock) as client:
        with pytest.raises(MalformedFeed) as caught:
            await client.fetch_listing(["cs.CV"])
    assert fake.listing_url + "cs.CV" in str(caught.value)
    assert "not well-formed XML" in str(caught.value)
    assert len(fake.requests) == 1


async def test_bounded_tries_end_in_fetch_failed(fake, clock, caplog):
    fake.serve_listing("cs.CV", DAY_LISTING)
    fake.script(*[Reply.unavailable()] * 5)
    caplog.set_level(logging.WARNING, logger="bot.arxiv.client")
    async with make_client(fake, clock, max_tries=3) as client:
        with pytest.raises(FetchFailed) as caught:
            await client.fetch_listing(["cs.CV"])
    failure = caught.value
    assert (failure.tries, failure.last_status) == (3, 503)
    assert str(failure) == f"fetching {fake.listing_url}cs.CV failed after 3 tries: HTTP 503 Service Unavailable"
    assert len(fake.requests) == 3 and len(clock.sleeps) == 2
    assert any("failed after 3 tries" in r.getMessage() for r in caplog.records)


async def test_a_timeout_on_every_try_names_the_cause(fake, clock):
    fake.serve_listing("cs.CV", DAY_LISTING)
    fake.script(Reply.slow(1.0), Reply.slow(1.0))
    async with make_client(fake, clock, max_tries=2, timeout_seconds=0.1) as client:
        with pytest.raises(FetchFailed, match=r"after 2 tries: no complete answer within 0.1 s"):
            await client.fetch_listing(["cs.CV"])


async def test_a_retry_after_longer_than_the_backoff_cap_fails_now_and_says_so(fake, clock):
    fake.serve_listing("cs.CV", DAY_LISTING)
    fake.script(Reply.rate_limited(retry_after=3600))
    async with make_client(fake, clock, backoff_max_seconds=120) as client:
        with pytest.raises(FetchFailed) as caught:
            await client.fetch_listing(["cs.CV"])
    assert caught.value.retry_after == 3600 and caught.value.tries == 1
    assert "asked to wait 3600 s" in str(caught.value)
    assert clock.sleeps == [] and len(fake.requests) == 1


async def test_a_4xx_other_than_429_is_not_retried(fake, clock):
    async with make_client(fake, clock) as client:
        with pytest.raises(FetchFailed) as caught:
            await client.fetch_listing(["cs.CV"])  # nothing served: 404
    assert caught.value.last_status == 404 and caught.value.tries == 1
    assert "no listing served" in str(caught.value)
    assert len(fake.requests) == 1


async def test_error_feed_names_the_bad_category(fake, clock):
    fake.serve_listing("astroph", ERROR_LISTING)
    async with make_client(fake, clock) as client:
        with pytest.raises(FeedError) as caught:
            await client.fetch_listing(["astroph"])
    assert caught.value.categories == ("astroph",)
    assert caught.value.url == fake.listing_url + "astroph"


async def test_empty_feed_is_no_announcement_not_an_error(fake, clock):
    fake.serve_listing("test", EMPTY_LISTING)
    async with make_client(fake, clock) as client:
        fetch = await client.fetch_listing(["test"])
    assert fetch.listing.is_empty and fetch.listing.papers == []


def synthetic(pid: int, categories: list[str], announce_type: str = "new") -> dict:
    return {"id": f"2504.{pid:05d}v1", "title": f"Paper {pid}", "abstract": f"Abstract {pid}.",
            "authors": ["A. Author"], "categories": categories, "announce_type": announce_type}


async def test_a_listing_at_the_cap_is_split_and_merged(fake, clock):
    # The real cap is 2000 (test_the_real_2000_cap_is_detected); a cap of 24 exercises the same
    # split with 1/100 of the papers.
    cap = 24
    ai_cl = [synthetic(i, ["cs.AI"]) for i in range(13)]
    # 2 cs.CV papers cross-listed to cs.CL: "cross" in the first half, "new" in the second.
    shared = [synthetic(5000 + i, ["cs.CV", "cs.CL"]) for i in range(2)]
    cv_lg = [synthetic(3000 + i, ["cs.LG"]) for i in range(9)]
    combined = (ai_cl + [dict(e, announce_type="new") for e in shared] + cv_lg)[:cap]
    fake.serve_listing("cs.AI+cs.CL+cs.CV+cs.LG", atom_listing(combined))
    fake.serve_listing("cs.AI+cs.CL", atom_listing(ai_cl + [dict(e, announce_type="cross") for e in shared]))
    fake.serve_listing("cs.CV+cs.LG", atom_listing([dict(e, announce_type="new") for e in shared] + cv_lg))
    client = ArxivClient(fake.settings(), sleep=clock.sleep, clock=clock, random=lambda: 0.5, listing_cap=cap)
    async with client:
        fetch = await client.fetch_listing(["cs.AI", "cs.CL", "cs.CV", "cs.LG"], etag=None)
    papers = fetch.listing.papers
    assert len(papers) == 13 + 2 + 9 == len({p.id for p in papers})
    assert [p.id for p in papers[:13]] == [f"2504.{i:05d}" for i in range(13)]
    assert {p.announce_type for p in papers[13:15]} == {"new"}  # the primary's view wins
    assert [r.path for r in fake.requests] == ["/atom/cs.AI+cs.CL+cs.CV+cs.LG", "/atom/cs.AI+cs.CL", "/atom/cs.CV+cs.LG"]
    assert fetch.requests == 3 and fetch.truncated == ()
    assert fetch.url.endswith("cs.AI+cs.CL+cs.CV+cs.LG")


async def test_a_single_category_at_the_cap_is_reported_truncated(fake, clock, caplog):
    caplog.set_level(logging.WARNING, logger="bot.arxiv.client")
    ai = [synthetic(i, ["cs.AI"]) for i in range(10)]
    cl = [synthetic(100 + i, ["cs.CL"]) for i in range(3)]
    fake.serve_listing("cs.AI+cs.CL+cs.CV", atom_listing(ai))
    fake.serve_listing("cs.AI", atom_listing(ai))
    fake.serve_listing("cs.CL+cs.CV", atom_listing(cl))
    client = ArxivClient(fake.settings(), sleep=clock.sleep, clock=clock, listing_cap=10)
    async with client:
        fetch = await client.fetch_listing(["cs.AI", "cs.CL", "cs.CV"])
    assert fetch.truncated == ("cs.AI",)
    assert len(fetch.listing.papers) == 13
    assert any("cs.AI" in r.getMessage() and "truncated" in r.getMessage() for r in caplog.records)


async def test_split_recurses_until_every_part_is_under_the_cap(fake, clock):
    cats = ["cs.AI", "cs.CL", "cs.CV", "cs.LG"]
    sizes = {"cs.AI": 4, "cs.CL": 4, "cs.CV": 4, "cs.LG": 1}
    per_cat = {c: [synthetic(100 * n + i, [c]) for i in range(sizes[c])] for n, c in enumerate(cats)}
    everything = [e for c in cats for e in per_cat[c]]
    fake.serve_listing(cats, atom_listing(everything[:6]))  # cap 6: split
    fake.serve_listing(cats[:2], atom_listing(everything[:6]))  # 8 papers, cut at 6: split again
    fake.serve_listing(cats[2:], atom_listing(per_cat["cs.CV"] + per_cat["cs.LG"]))  # 5: complete
    for c in cats:
        fake.serve_listing(c, atom_listing(per_cat[c]))
    client = ArxivClient(fake.settings(), sleep=clock.sleep, clock=clock, listing_cap=6)
    async with client:
        fetch = await client.fetch_listing(cats)
    assert [p.id for p in fetch.listing.papers] == [p["id"][:-2] for p in everything]
    assert [r.path for r in fake.requests] == [
        "/atom/cs.AI+cs.CL+cs.CV+cs.LG", "/atom/cs.AI+cs.CL", "/atom/cs.AI", "/atom/cs.CL", "/atom/cs.CV+cs.LG"]
    assert fetch.requests == 5 and fetch.truncated == ()


@pytest.mark.slow  # 2000 entries to build, serve and parse: about a second
async def test_the_real_2000_cap_is_detected(fake, clock):
    full = atom_listing([synthetic(i, ["cs.AI"]) for i in range(LISTING_CAP)])
    fake.serve_listing("cs.AI", full)
    async with make_client(fake, clock) as client:
        fetch = await client.fetch_listing(["cs.AI"])
    assert len(fetch.listing.papers) == 2000 and fetch.truncated == ("cs.AI",)


async def test_pacing_keeps_requests_apart_at_the_server(fake):
    interval = 0.05
    fake.serve_listing("test", EMPTY_LISTING)
    async with ArxivClient(fake.settings(min_interval_seconds=interval)) as client:
        await asyncio.gather(*(client.fetch_listing(["test"]) for _ in range(5)))
    arrivals = [r.arrived_at for r in fake.requests]
    assert len(arrivals) == 5
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert min(gaps) >= interval, gaps


async def test_one_pacer_shared_by_two_clients_paces_both(fake):
    interval = 0.05
    fake.serve_listing("test", EMPTY_LISTING)
    pacer = RequestPacer(interval)
    async with ArxivClient(fake.settings(), pacer=pacer) as a, ArxivClient(fake.settings(), pacer=pacer) as b:
        await asyncio.gather(a.fetch_listing(["test"]), b.fetch_listing(["test"]), a.fetch_listing(["test"]))
    arrivals = sorted(r.arrived_at for r in fake.requests)
    assert min(b - a for a, b in zip(arrivals, arrivals[1:])) >= interval


def api_entry(pid: str, **extra) -> dict:
    return {"id": f"{pid}v1", "title": f"T {pid}", "abstract": "A.", "authors": ["X Y"],
            "categories": ["cs.CV", "cs.AI"], **extra}


async def test_metadata_is_fetched_in_batches_of_at_most_100(fake, clock):
    known = {f"2504.{i:05d}" for i in range(250) if i % 7}  # every seventh id is unknown to the API
    fake.serve_api(lambda ids: api_feed([api_entry(i, comment=f"c {i}") for i in ids if i in known]))
    wanted = [f"2504.{i:05d}v2" for i in range(250)]
    async with make_client(fake, clock) as client:
        metadata = await client.fetch_metadata(wanted)
    assert set(metadata) == known
    assert metadata["2504.00001"].comment == "c 2504.00001"
    batches = [r.query["id_list"].split(",") for r in fake.requests]
    assert [len(b) for b in batches] == [API_BATCH_SIZE, API_BATCH_SIZE, 50]
    assert [r.query["max_results"] for r in fake.requests] == ["100", "100", "50"]
    assert sum(batches, []) == [w[:-2] for w in wanted]  # versionless, in order, each once
    assert all(r.header("User-Agent") == fake.settings().user_agent for r in fake.requests)


async def test_enrich_fills_fields_and_puts_the_primary_first(fake, clock):
    fake.serve_api(lambda ids: api_feed([
        api_entry("2504.00001", primary="cs.CV", comment="Accepted at CVPR 2025", doi="10.1/x",
                  journal_ref="CVPR 2025"),
    ]))
    papers = [
        Paper(id="2504.00001", title="t", abstract="a", authors=("X",), categories=("cs.AI", "cs.CV"),
              announce_type="cross", version=1, announced=date(2025, 4, 21)),
        Paper(id="2504.00002", title="u", abstract="b", authors=("Z",), categories=("cs.AI",)),
    ]
    async with make_client(fake, clock) as client:
        enriched = await client.enrich(papers)
    assert enriched[0].categories == ("cs.CV", "cs.AI")
    assert (enriched[0].comment, enriched[0].doi, enriched[0].journal_ref) == ("Accepted at CVPR 2025", "10.1/x", "CVPR 2025")
    assert enriched[0].announced == date(2025, 4, 21) and enriched[0].announce_type == "cross"
    assert enriched[1] == papers[1]
    assert fake.requests[0].query["id_list"] == "2504.00001,2504.00002"


async def test_enrich_is_a_no_op_when_disabled(fake, clock):
    paper = Paper(id="2504.00001", title="t", abstract="a", authors=("X",), categories=("cs.AI",))
    async with make_client(fake, clock, enrich=False) as client:
        assert await client.enrich([paper]) == [paper]
        assert await client.fetch_metadata([]) == {}
    assert fake.requests == []


async def test_fetch_metadata_refuses_a_non_id_before_asking(fake, clock):
    async with make_client(fake, clock) as client:
        with pytest.raises(InvalidArxivId, match="'abc'"):
            await client.fetch_metadata(["2504.00001", "abc"])
    assert fake.requests == []


async def test_api_400_error_entry_raises_api_error(fake, clock):
    fake.serve_api((DATA / "api" / "error-bad-id.xml").read_bytes(), status=400)
    async with make_client(fake, clock) as client:
        with pytest.raises(ApiError) as caught:
            await client.fetch_metadata(["2504.00001"])
    assert caught.value.message == "incorrect id format for xyz"
    assert fake.api_url in str(caught.value)
    assert len(fake.requests) == 1 and clock.sleeps == []


async def test_api_answers_through_the_client_latin1_and_old_style(fake, clock):
    fake.serve_api((DATA / "api" / "old-style-and-accents.xml").read_bytes(),
                   id_list="astro-ph/0601999,hep-th/0512001,2504.90031")
    fake.serve_api((DATA / "api" / "empty.xml").read_bytes(), id_list="2412.99999")
    async with make_client(fake, clock) as client:
        answered = await client.fetch_metadata(["astro-ph/0601999v1", "hep-th/0512001", "2504.90031"])
        unknown = await client.fetch_metadata(["2412.99999"])
    assert "Dörte Wübbel" in answered["2504.90031"].authors
    assert answered["astro-ph/0601999"].journal_ref == "Invented Astron. 12:1-41,2006"
    assert answered["hep-th/0512001"].version == 2
    assert unknown == {}


async def test_recorded_api_answers_through_the_client(fake, clock):
    """arXiv's real answers (../shared): the 400 error entry, latin-1-looking UTF-8, an old-style id."""
    fake.serve_api(api_recording("id_abc_s0_m100_b79c8dcf6bc3.json"), status=400, id_list="2504.00001")
    fake.serve_api(api_recording("id_1707.08567_s0_m100_6a1afebfc6a3.json"), id_list="1707.08567")
    fake.serve_api(api_recording("id_astro-ph_0601001_s0_m100_3150dca9dc76.json"), id_list="astro-ph/0601001")
    fake.serve_api(api_recording("id_0808.05394_s0_m100_7b0c7d0a7cdd.json"), id_list="0808.05394")
    async with make_client(fake, clock) as client:
        with pytest.raises(ApiError) as caught:
            await client.fetch_metadata(["2504.00001"])
        proceedings = await client.fetch_metadata(["1707.08567"])
        astro = await client.fetch_metadata(["astro-ph/0601001v1"])
        unknown = await client.fetch_metadata(["0808.05394"])
    assert caught.value.message == "incorrect id format for abc"
    assert fake.api_url in str(caught.value)
    assert "Dirk Wübben" in proceedings["1707.08567"].authors
    assert astro["astro-ph/0601001"].journal_ref == "ActaAstron.56:1-50,2006"
    assert unknown == {}


async def test_api_503_then_success(fake, clock):
    fake.serve_api(api_feed([api_entry("1605.08386", comment="20 pages, 3 figures")]))
    fake.script(Reply.unavailable(retry_after=4), path="/api/query")
    async with make_client(fake, clock) as client:
        metadata = await client.fetch_metadata(["1605.08386"])
    assert metadata["1605.08386"].comment == "20 pages, 3 figures"
    assert clock.sleeps == [4.0]


async def test_close_closes_the_session_it_opened_but_not_a_given_one(fake, clock):
    fake.serve_listing("test", EMPTY_LISTING)
    client = make_client(fake, clock)
    await client.fetch_listing(["test"])
    session = client._session
    await client.close()
    assert session.closed
    async with aiohttp.ClientSession() as own:
        async with ArxivClient(fake.settings(), session=own) as borrowed:
            await borrowed.fetch_listing(["test"])
        assert not own.closed
    assert all(r.header("User-Agent") == fake.settings().user_agent for r in fake.requests)


async def test_an_oversized_answer_is_refused_with_a_clear_error(fake, clock):
    # Formerly a 50 MB answer was read whole (289 MB of memory), once per category.
    from bot.arxiv.errors import ResponseTooLarge
    big = DAY_LISTING + b"<!--" + b"x" * 300_000 + b"-->"
    fake.serve_listing("cs.CV", big)
    async with make_client(fake, clock, max_response_bytes=100_000) as client:
        with pytest.raises(ResponseTooLarge, match=r"exceeds 100,000 bytes \(arxiv.max_response_bytes\)"):
            await client.fetch_listing(["cs.CV"])
    assert len(fake.requests) == 1  # not retried: the same answer would come again
    async with make_client(fake, clock) as client:  # the default cap is far above a real listing
        assert len((await client.fetch_listing(["cs.CV"])).listing.papers) == 20


async def test_the_client_honours_proxy_environment_variables(fake, clock):
    async with make_client(fake, clock) as client:
        session = client._get_session()
        assert session.trust_env is True
