"""Fetch arXiv's listing pages (/list/<archive-or-category>/new) politely.

arXiv's robots.txt allows /list with `Crawl-delay: 15`. Every listing-page request therefore goes
through two pacers: the process-wide `RequestPacer` of the `ArxivClient` (one request at a time,
3 s apart, shared with feeds and the API; retries and Retry-After live there too) and a
crawl-delay pacer of this fetcher, which keeps listing-page requests at least the robots.txt
Crawl-delay apart (end to start). robots.txt is read with the standard library's
`urllib.robotparser`, once a day; a /list path it disallows for our User-Agent is not fetched.

Conditional requests: the first page of each context is requested with the validators (ETag,
Last-Modified) the caller kept from the last time. When every context answers 304, nothing changed
and nothing else is fetched, so polling before the announcement costs one small request per
context per round.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin
from urllib.robotparser import RobotFileParser

from yarl import URL

from bot.arxiv.client import ArxivClient
from bot.arxiv.errors import ArxivError
from bot.arxiv.feeds import Listing
from bot.arxiv.listing_pages import (
    ListingPage,
    ListingPageChanged,
    PagedListing,
    as_listing,
    combine_pages,
    next_skip,
    parse_listing_page,
)
from bot.arxiv.pacing import MonotonicReading, RequestPacer, Sleep

log = logging.getLogger(__name__)

ROBOTS_MAX_AGE_SECONDS = 24 * 3600
MAX_PAGES_PER_CONTEXT = 50  # 100,000 entries at show=2000: more means the paging is not converging


class ListingPagesDisallowed(ArxivError):
    """arXiv's robots.txt does not allow our User-Agent to read the listing pages."""

    def __init__(self, url: str, user_agent: str) -> None:
        self.url = url
        super().__init__(f"arXiv's robots.txt disallows {url} for User-Agent {user_agent!r}; "
                         "the early edition is off until it allows it (the feeds are used)")


class ListingPagesMidUpdate(ListingPageChanged):
    """The pages of different contexts show different days: arXiv is switching to the new
    announcement right now. Worth another try shortly, unlike a page that looks changed."""


@dataclass(frozen=True, slots=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class PagesFetch:
    """The outcome of `ListingPageFetcher.fetch`.

    `not_modified`: every context answered 304 (`listing` is None). Otherwise `listing` holds every
    context's papers, each paper once, dated `announced`. `validators` are what to send next time,
    per first-page URL. `requests` counts HTTP requests (robots.txt included).
    """

    not_modified: bool
    listing: Listing | None
    announced: date | None
    validators: dict[str, Validators] = field(default_factory=dict)
    requests: int = 0
    parts: tuple[PagedListing, ...] = ()


class ListingPageFetcher:
    """Fetches /list/<context>/new for configured contexts. Share one per process (it owns the
    crawl-delay pacer). `clock`/`sleep` drive the crawl-delay pacer (tests inject fakes)."""

    def __init__(self, client: ArxivClient, *, clock: MonotonicReading = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.client = client
        self.settings = client.settings
        self._clock = clock
        self.crawl_pacer = RequestPacer(0, clock=clock, sleep=sleep)
        self._robots: RobotFileParser | None = None
        self._robots_read_at: float | None = None

    @property
    def robots_url(self) -> str:
        return urljoin(self.settings.listing_pages_url, "/robots.txt")

    def page_url(self, context: str, *, skip: int = 0) -> str:
        base = URL(self.settings.listing_pages_url.rstrip("/") + f"/{context}/new")
        query = {"show": str(self.settings.listing_page_size)}
        if skip:
            query = {"skip": str(skip), **query}
        return str(base.with_query(query))

    # -- robots.txt ------------------------------------------------------------------------------

    async def robots(self) -> tuple[RobotFileParser, int]:
        """The parsed robots.txt (re-read once a day) and the requests it took (0 when cached)."""
        now = self._clock()
        if self._robots is not None and self._robots_read_at is not None \
                and now - self._robots_read_at < ROBOTS_MAX_AGE_SECONDS:
            return self._robots, 0
        answer = await self.client.get(self.robots_url, accept=(200, 401, 403, 404, 410))
        robots = RobotFileParser(self.robots_url)
        if answer.status in (401, 403):
            robots.disallow_all = True  # as RobotFileParser.read() does for these
        elif answer.status >= 400:
            robots.allow_all = True
        else:
            robots.parse(answer.body.decode("utf-8", "replace").splitlines())
        robots.modified()
        self._robots, self._robots_read_at = robots, now
        delay = robots.crawl_delay(self.settings.user_agent)
        # At least the process-wide interval; more when robots.txt asks for it.
        self.crawl_pacer.min_interval = max(float(delay or 0), self.settings.min_interval_seconds)
        log.info("arXiv robots.txt read: listing pages %s, crawl delay %g s",
                 "allowed" if robots.can_fetch(self.settings.user_agent, self.page_url("x")) else "disallowed",
                 self.crawl_pacer.min_interval)
        return robots, answer.tries

    # -- pages -----------------------------------------------------------------------------------

    async def fetch(self, contexts: Sequence[str], validators: Mapping[str, Validators] | None = None, *,
                    expect: date | None = None) -> PagesFetch:
        """Every page of /list/<context>/new for `contexts`. Raises `ListingPageChanged` (a page that
        cannot be read), `ListingPagesDisallowed`, `FetchFailed`.

        With `expect` (the announcement date awaited), the first context's page is a probe: while it
        is unchanged (304) or shows an older date, nothing else is requested and the result has
        `listing` None (`not_modified`, or `announced` the older date). Waiting for an announcement
        then costs one request per round, whatever the number of contexts.
        """
        contexts = list(dict.fromkeys(c.strip() for c in contexts if c.strip()))
        if not contexts:
            raise ValueError("fetch needs at least one archive or category")
        validators = dict(validators or {})
        robots, requests = await self.robots()
        for context in contexts:
            url = self.page_url(context)
            if not robots.can_fetch(self.settings.user_agent, url):
                raise ListingPagesDisallowed(url, self.settings.user_agent)

        first_pages: dict[str, ListingPage | None] = {}
        new_validators: dict[str, Validators] = {}
        for context in contexts:
            url = self.page_url(context)
            page, kept, tries = await self._first_page(context, validators.get(url))
            requests += tries
            first_pages[context] = page
            new_validators[url] = kept
            if expect is not None and len(first_pages) == 1 and (page is None or page.announced < expect):
                return PagesFetch(page is None, None, page.announced if page else None, new_validators, requests)
        if all(page is None for page in first_pages.values()):
            return PagesFetch(True, None, None, new_validators, requests)

        parts: list[PagedListing] = []
        for context in contexts:
            page = first_pages[context]
            if page is None:
                # Not modified while another context changed: its content is needed all the same.
                page, kept, tries = await self._first_page(context, None)
                requests += tries
                new_validators[self.page_url(context)] = kept
                assert page is not None
            paged, tries = await self._rest(context, page)
            requests += tries
            parts.append(paged)
        dates = {p.announced for p in parts}
        if len(dates) > 1:
            # Some pages show the new day, some still the old one: arXiv is mid-update. Try later.
            raise ListingPagesMidUpdate(f"the listing pages of {', '.join(contexts)} show different days "
                                     f"{sorted(dates)} (arXiv mid-update?)")
        return PagesFetch(False, as_listing(parts), parts[0].announced, new_validators, requests, tuple(parts))

    async def _first_page(self, context: str, validators: Validators | None) -> tuple[ListingPage | None, Validators, int]:
        url = self.page_url(context)
        headers: dict[str, str] = {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        async with self.crawl_pacer:
            answer = await self.client.get(url, headers=headers, accept=(200, 304))
        if answer.status == 304:
            return None, Validators(answer.etag or (validators.etag if validators else None),
                                    answer.last_modified or (validators.last_modified if validators else None)), \
                answer.tries
        page = await asyncio.to_thread(parse_listing_page, answer.body, context=context, url=url)
        return page, Validators(answer.etag, answer.last_modified), answer.tries

    async def _rest(self, context: str, first: ListingPage) -> tuple[PagedListing, int]:
        """The pages after `first` ("showing N of M entries" with M > N), then the whole checked."""
        pages = [first]
        requests = 0
        skip = next_skip(first, 0)
        while skip is not None:
            if len(pages) >= MAX_PAGES_PER_CONTEXT:
                raise ListingPageChanged(f"more than {MAX_PAGES_PER_CONTEXT} pages for {context}", url=first.url)
            url = self.page_url(context, skip=skip)
            async with self.crawl_pacer:
                answer = await self.client.get(url)
            requests += answer.tries
            page = await asyncio.to_thread(parse_listing_page, answer.body, context=context, url=url)
            pages.append(page)
            skip = next_skip(page, skip)
        return combine_pages(pages), requests
