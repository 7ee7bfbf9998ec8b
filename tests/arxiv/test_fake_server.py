"""The fake arXiv itself: others reuse it, so its documented behaviour is pinned here."""

from collections.abc import Mapping

import aiohttp
import pytest

from tests.fakes.arxiv_server import FakeArxiv, Reply, api_feed


@pytest.fixture
async def fake():
    async with FakeArxiv() as server:
        yield server


async def get(url: str, **headers: str) -> tuple[int, bytes, Mapping[str, str]]:
    async with aiohttp.ClientSession() as session:
        session._retry_connection = False  # see a reset as the client does, not aiohttp's silent resend
        async with session.get(url, headers=headers) as response:
            return response.status, await response.read(), response.headers.copy()


async def test_serves_listings_and_records_requests(fake):
    fake.serve_listing(["cs.AI", "cs.CL"], b"<feed/>", etag='"e1"', last_modified="Mon, 28 Apr 2025 04:00:00 GMT")
    status, body, headers = await get(fake.listing_url + "cs.AI+cs.CL", **{"User-Agent": "probe"})
    assert (status, body, headers["ETag"]) == (200, b"<feed/>", '"e1"')
    assert headers["Content-Type"].startswith("application/atom+xml")
    [request] = fake.requests
    assert (request.method, request.path, request.header("user-agent")) == ("GET", "/atom/cs.AI+cs.CL", "probe")
    assert fake.requests_to("/atom/cs.AI+cs.CL") == [request]
    assert (await get(fake.listing_url + "cs.AI+cs.CL", **{"If-None-Match": '"e1"'}))[0] == 304
    assert (await get(fake.listing_url + "cs.AI+cs.CL", **{"If-None-Match": '"old"'}))[0] == 200
    assert (await get(fake.listing_url + "cs.AI+cs.CL",
                      **{"If-Modified-Since": "Tue, 29 Apr 2025 04:00:00 GMT"}))[0] == 304
    assert (await get(fake.listing_url + "math.AG"))[0] == 404


async def test_script_is_consumed_in_order_and_can_target_one_path(fake):
    fake.serve_listing("quant-ph", b"<feed/>")
    fake.serve_listing("cs.AI", b"<feed>ai</feed>")
    fake.script(Reply.rate_limited(retry_after=5), path="/atom/cs.AI")
    fake.script(Reply(status=200, body=b"override"))
    assert fake.pending_script == 2
    status, body, _ = await get(fake.listing_url + "quant-ph")
    assert (status, body) == (200, b"override")  # the unscoped reply; the cs.AI one waits
    status, _, headers = await get(fake.listing_url + "cs.AI")
    assert (status, headers["Retry-After"]) == (429, "5")
    assert (await get(fake.listing_url + "cs.AI"))[1] == b"<feed>ai</feed>"
    assert fake.pending_script == 0


async def test_api_answers_by_exact_id_list_or_by_function(fake):
    fake.serve_api(b"<feed>exact</feed>", id_list="1605.08386")
    fake.serve_api(lambda ids: api_feed([{"id": f"{i}v1", "title": "t", "abstract": "a", "authors": ["x"],
                                          "categories": ["cs.AI"]} for i in ids]))
    assert (await get(fake.api_url + "?id_list=1605.08386"))[1] == b"<feed>exact</feed>"
    _, body, _ = await get(fake.api_url + "?id_list=2504.00001,2504.00002&max_results=2")
    assert body.count(b"<entry>") == 2 and b"2504.00002v1" in body
    assert fake.requests[-1].query == {"id_list": "2504.00001,2504.00002", "max_results": "2"}


async def test_cut_short_and_reset_break_the_transfer(fake):
    fake.serve_listing("quant-ph", b"x" * 1000)
    fake.script(Reply.cut_short(10), Reply.reset_connection())
    with pytest.raises(aiohttp.ClientPayloadError):
        await get(fake.listing_url + "quant-ph")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await get(fake.listing_url + "quant-ph")
    assert (await get(fake.listing_url + "quant-ph"))[0] == 200


def test_settings_point_at_the_fake(fake):
    settings = fake.settings(max_tries=2)
    assert settings.listing_url == fake.listing_url and settings.listing_url.startswith("http://127.0.0.1:")
    assert settings.api_url == fake.api_url
    assert (settings.min_interval_seconds, settings.max_tries) == (0, 2)
