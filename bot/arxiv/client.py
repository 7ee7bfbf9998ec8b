"""The one place paperbot talks to arXiv: listing feeds and the metadata API, politely.

Every request goes through a `RequestPacer` (one at a time, `min_interval_seconds` apart), carries
the configured User-Agent, and is retried on 429, 5xx, timeouts, resets and cut-short bodies with
exponential backoff and jitter, honouring Retry-After, up to `max_tries`; then `FetchFailed`.
A 4xx other than 429 is an answer, not a hiccup, and is not retried. Parsing runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import aiohttp
from yarl import URL

from bot import metrics
from bot.arxiv.api import Enrichment, apply_enrichment, parse_api_response
from bot.arxiv.errors import ApiError, FeedError, FetchFailed, MalformedFeed, ResponseTooLarge
from bot.arxiv.feeds import Listing, parse_listing
from bot.arxiv.ids import versionless_id
from bot.arxiv.pacing import MonotonicReading, RequestPacer, Sleep
from bot.config import ArxivSettings
from bot.models import Paper

log = logging.getLogger(__name__)

LISTING_CAP = 2000  # rss.arxiv.org returns at most this many items per request
API_BATCH_SIZE = 100  # ids per API request (DESIGN.md §3)

_RETRYABLE_STATUS = frozenset({429}) | frozenset(range(500, 600))


@dataclass(frozen=True, slots=True)
class ListingFetch:
    """The outcome of `fetch_listing`.

    `not_modified` means arXiv answered 304 to the conditional GET: the caller's copy is current and
    `listing` is None. `etag`/`last_modified` are the validators to send next time (those of the
    request for the whole category set). `truncated` names single categories whose own feed hit the
    2000-item cap, so some of their papers are missing. `requests` counts HTTP requests made.
    """

    url: str
    not_modified: bool
    listing: Listing | None
    etag: str | None = None
    last_modified: str | None = None
    truncated: tuple[str, ...] = ()
    requests: int = 1


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    reason: str
    body: bytes
    etag: str | None
    last_modified: str | None
    tries: int


Answer = _Answer  # what `ArxivClient.get` returns: status, reason, body, etag, last_modified, tries


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from `now`: delta-seconds (`"7"`) or an HTTP date. None if absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


class ConnectionDropped(aiohttp.ClientConnectionError):
    """The connection broke after the request was sent (reset, closed without an answer)."""


async def _no_silent_resend(request: aiohttp.ClientRequest, handler) -> aiohttp.ClientResponse:
    """aiohttp resends an idempotent request once, at once, when the connection drops: a second
    request with no pause, behind the pacer's back. Raised under another name, the drop reaches
    our own paced retry instead (aiohttp's public middleware seam, no private attribute)."""
    try:
        return await handler(request)
    except aiohttp.ClientConnectorError:
        raise  # could not connect: aiohttp does not resend these anyway
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        raise ConnectionDropped(f"{type(exc).__name__}: {exc}") from exc


class ArxivClient:
    """Fetches listings and metadata from arXiv. Use one per process (it owns the pacer), e.g.

        async with ArxivClient(settings.arxiv) as arxiv:
            fetch = await arxiv.fetch_listing(settings.arxiv.categories, etag=saved_etag)

    `session`: an aiohttp session to use (not closed by us); by default we open one with a single
    connection. `pacer`: share one across clients; by default one is built from
    `settings.min_interval_seconds` with `clock` and `sleep`, which are also what backoff waits use
    (backoff goes through the pacer, so a Retry-After holds off every request of the process).
    `random` (0..1) jitters the backoff; `wall_clock` reads Retry-After dates.
    """

    def __init__(
        self,
        settings: ArxivSettings,
        *,
        session: aiohttp.ClientSession | None = None,
        pacer: RequestPacer | None = None,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        clock: MonotonicReading = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        listing_cap: int = LISTING_CAP,
    ) -> None:
        self.settings = settings
        self.pacer = pacer or RequestPacer(settings.min_interval_seconds, clock=clock, sleep=sleep)
        self._session = session
        self._owns_session = session is None
        self._random = random
        self._wall_clock = wall_clock
        self.listing_cap = listing_cap

    async def __aenter__(self) -> "ArxivClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None if self._owns_session else self._session

    # -- listings -------------------------------------------------------------------------------

    def listing_url(self, categories: Sequence[str]) -> str:
        return self.settings.listing_url + "+".join(categories)

    async def fetch_listing(
        self,
        categories: Sequence[str],
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> ListingFetch:
        """Today's listing for `categories` (one request for all of them, split if arXiv's cap is hit).

        Raises `FeedError` (a category arXiv does not know), `MalformedFeed`, `FetchFailed`.
        """
        categories = list(dict.fromkeys(c.strip() for c in categories if c.strip()))
        if not categories:
            raise ValueError("fetch_listing needs at least one category")
        url = self.listing_url(categories)
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        answer = await self._get(url, headers, accept=(200, 304))
        if answer.status == 304:
            return ListingFetch(url=url, not_modified=True, listing=None,
                                etag=answer.etag or etag, last_modified=answer.last_modified or last_modified,
                                requests=answer.tries)
        listing = await self._parse_listing(answer.body, url, categories)
        truncated: tuple[str, ...] = ()
        requests = answer.tries
        if listing.entry_count >= self.listing_cap:
            listing, truncated, extra = await self._split_at_cap(categories, listing)
            requests += extra
        return ListingFetch(url=url, not_modified=False, listing=listing, etag=answer.etag,
                            last_modified=answer.last_modified, truncated=truncated, requests=requests)

    async def _fetch_listing_unconditional(self, categories: list[str]) -> tuple[Listing, int]:
        url = self.listing_url(categories)
        answer = await self._get(url, {}, accept=(200,))
        return await self._parse_listing(answer.body, url, categories), answer.tries

    async def _split_at_cap(self, categories: list[str], listing: Listing) -> tuple[Listing, tuple[str, ...], int]:
        """`listing` (for `categories`) hit the cap: fetch halves until each is under it, then merge."""
        if len(categories) == 1:
            log.warning("arXiv listing for %s holds %d items, its cap: the day is truncated (%s)",
                        categories[0], listing.entry_count, self.listing_url(categories))
            return listing, (categories[0],), 0
        middle = len(categories) // 2
        parts: list[Listing] = []
        truncated: list[str] = []
        requests = 0
        for half in (categories[:middle], categories[middle:]):
            part, tries = await self._fetch_listing_unconditional(half)
            requests += tries
            if part.entry_count >= self.listing_cap:
                part, cut, extra = await self._split_at_cap(half, part)
                truncated.extend(cut)
                requests += extra
            parts.append(part)
        return merge_listings(listing.title, parts), tuple(truncated), requests

    async def _parse_listing(self, body: bytes, url: str, categories: Sequence[str]) -> Listing:
        try:
            return await asyncio.to_thread(parse_listing, body)
        except FeedError as exc:
            raise FeedError(exc.categories or categories, exc.message, url=url) from None
        except MalformedFeed as exc:
            raise MalformedFeed(exc.detail, url=url) from None

    # -- metadata API ---------------------------------------------------------------------------

    async def fetch_metadata(self, ids: Iterable[str]) -> dict[str, Enrichment]:
        """API metadata for `ids` (versions ignored), keyed by versionless id; unknown ids are absent.

        Asks in batches of at most 100 ids. Raises `ApiError`, `MalformedFeed`, `FetchFailed`.
        """
        wanted = list(dict.fromkeys(versionless_id(i) for i in ids))
        found: dict[str, Enrichment] = {}
        for start in range(0, len(wanted), API_BATCH_SIZE):
            batch = wanted[start:start + API_BATCH_SIZE]
            url = str(URL(self.settings.api_url).update_query(id_list=",".join(batch), max_results=str(len(batch))))
            answer = await self._get(url, {}, accept=(200, 400))
            try:
                enrichments = await asyncio.to_thread(parse_api_response, answer.body)
            except ApiError as exc:
                raise ApiError(exc.message, url=url) from None
            except MalformedFeed as exc:
                if answer.status != 200:
                    raise FetchFailed(url, tries=answer.tries, last_status=answer.status,
                                      cause=f"HTTP {answer.status} {answer.reason} without an API error entry") from None
                raise MalformedFeed(exc.detail, url=url) from None
            if answer.status != 200:
                raise FetchFailed(url, tries=answer.tries, last_status=answer.status,
                                  cause=f"HTTP {answer.status} {answer.reason}")
            for enrichment in enrichments:
                found[enrichment.id] = enrichment
        return found

    async def enrich(self, papers: Sequence[Paper]) -> list[Paper]:
        """`papers` with comment, journal ref, DOI and the API's primary category first.

        Papers the API does not know come back unchanged. With `settings.enrich` off, no request
        is made. Errors propagate: enrichment is optional, so callers may post unenriched papers.
        """
        if not self.settings.enrich or not papers:
            return list(papers)
        metadata = await self.fetch_metadata(p.id for p in papers)
        return [apply_enrichment(p, metadata[p.id]) if p.id in metadata else p for p in papers]

    # -- transport ------------------------------------------------------------------------------

    async def get(self, url: str, *, headers: dict[str, str] | None = None,
                  accept: tuple[int, ...] = (200,)) -> "Answer":
        """One GET with the client's pacing, User-Agent, retries and errors (`FetchFailed`), for
        resources other than feeds and the API (listing pages, robots.txt)."""
        return await self._get(url, dict(headers or {}), accept=accept)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RuntimeError("the aiohttp session given to ArxivClient is closed")
            # One connection: arXiv asks for "a single connection at a time". `trust_env`:
            # HTTP(S)_PROXY / NO_PROXY. The middleware stops aiohttp's silent resend.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=1), trust_env=True, middlewares=(_no_silent_resend,))
        return self._session

    async def _read_capped(self, url: str, response: aiohttp.ClientResponse) -> bytes:
        """The body, refused with `ResponseTooLarge` past `max_response_bytes` (announced by
        Content-Length or found while reading), so a huge answer never sits in memory whole."""
        limit = self.settings.max_response_bytes
        if response.content_length is not None and response.content_length > limit:
            raise ResponseTooLarge(url, limit)
        body = bytearray()
        async for chunk in response.content.iter_chunked(256 * 1024):
            body += chunk
            if len(body) > limit:
                raise ResponseTooLarge(url, limit)
        return bytes(body)

    def _backoff(self, attempt: int) -> float:
        # "Equal jitter": at least half the exponential step, so retries never bunch up at zero.
        step = min(self.settings.backoff_max_seconds, self.settings.backoff_base_seconds * 2 ** (attempt - 1))
        return step / 2 + self._random() * step / 2

    async def _get(self, url: str, headers: dict[str, str], *, accept: tuple[int, ...]) -> _Answer:
        session = self._get_session()
        headers = {**headers, "User-Agent": self.settings.user_agent}
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
        max_tries = self.settings.max_tries
        last_status: int | None = None
        for attempt in range(1, max_tries + 1):
            retry_after: float | None = None
            async with self.pacer:
                metrics.ARXIV_REQUESTS.inc()
                try:
                    async with session.get(url, headers=headers, timeout=timeout) as response:
                        body = await self._read_capped(url, response)
                        answer = _Answer(response.status, response.reason or "", body,
                                         response.headers.get("ETag"), response.headers.get("Last-Modified"), attempt)
                        retry_after = parse_retry_after(response.headers.get("Retry-After"), self._wall_clock())
                except TimeoutError:
                    cause = f"no complete answer within {self.settings.timeout_seconds:g} s"
                except aiohttp.ClientPayloadError as exc:
                    cause = f"response body cut short ({exc})"
                except ConnectionDropped as exc:
                    cause = f"connection failed ({exc})"
                except aiohttp.ClientConnectionError as exc:
                    cause = f"connection failed ({type(exc).__name__}: {exc})"
                else:
                    last_status = answer.status
                    if answer.status in accept:
                        return answer
                    if answer.status not in _RETRYABLE_STATUS:
                        raise FetchFailed(url, tries=attempt, last_status=answer.status,
                                          cause=f"HTTP {answer.status} {answer.reason}: {_snippet(answer.body)}")
                    cause = f"HTTP {answer.status} {answer.reason}"

                if attempt == max_tries:
                    break
                if retry_after is not None and retry_after > self.settings.backoff_max_seconds:
                    # Waiting that long inside one fetch would stall the bot; the next poll retries.
                    raise FetchFailed(url, tries=attempt, last_status=last_status, cause=cause, retry_after=retry_after)
                delay = max(self._backoff(attempt), retry_after or 0.0)
                # Hold off inside the pacer, so no other request of the process slips in first.
                self.pacer.hold_off(delay)
                metrics.ARXIV_RETRIES.inc()
            log.warning("arXiv request %s failed (%s), try %d of %d; retrying in %.1f s",
                        url, cause, attempt, max_tries, delay)
        log.error("arXiv request %s failed after %d tries: %s", url, max_tries, cause)
        raise FetchFailed(url, tries=max_tries, last_status=last_status, cause=cause, retry_after=retry_after)


def merge_listings(title: str, parts: Sequence[Listing]) -> Listing:
    """One listing from several (the halves of a split request): papers in order, each id once.

    A paper cross-listed into both halves is "cross" in one and "new" in the other; the merged
    entry keeps the first position but the non-cross type, as one combined request would show it.
    """
    merged: dict[str, Paper] = {}
    for part in parts:
        for paper in part.papers:
            seen = merged.get(paper.id)
            if seen is None:
                merged[paper.id] = paper
            elif seen.is_cross_list and not paper.is_cross_list:
                merged[paper.id] = seen.with_changes(announce_type=paper.announce_type)
    dates = {part.feed_date for part in parts if part.feed_date is not None}
    if len(dates) > 1:
        log.warning("parts of a split arXiv listing carry different dates: %s", sorted(dates))
    feed_date = max(dates) if dates else None
    return Listing(
        title=title,
        feed_date=feed_date,
        papers=list(merged.values()),
        entry_count=len(merged),
        skipped=tuple(reason for part in parts for reason in part.skipped),
    )


def _snippet(body: bytes, limit: int = 200) -> str:
    text = " ".join(body[:limit * 2].decode("utf-8", "replace").split())
    return (text[:limit] + "...") if len(text) > limit else (text or "(empty body)")
