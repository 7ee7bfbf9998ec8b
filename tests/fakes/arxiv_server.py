"""A fake arXiv on 127.0.0.1 for tests: listing feeds and the API, with scripted misbehaviour.

    async with FakeArxiv() as arxiv:
        arxiv.serve_listing("quant-ph", body, etag='"v1"')          # GET /atom/quant-ph
        arxiv.serve_api(api_body, id_list="2504.17830")                # GET /api/query?id_list=...
        arxiv.script(Reply.rate_limited(retry_after=7), Reply.unavailable())   # next two requests
        settings = arxiv.settings(max_tries=3)                         # ArxivSettings pointing here
        ...
        arxiv.requests     # every request: path, query, headers, arrival time (time.monotonic)

Served resources answer conditional GETs: `If-None-Match` equal to the ETag, or `If-Modified-Since`
not older than Last-Modified, gives 304. Scripted replies are consumed in order, each by the next
request whose path matches (any path when `path` is None), before the served resources are
consulted; a `Reply` without a body serves the resource as usual after its delay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web
from tests.fakes.loopback import LoopbackServer

from bot.config import ArxivSettings

LISTING_PREFIX = "/atom/"
API_PATH = "/api/query"

ApiResponder = Callable[[list[str]], bytes]
# Hook for other resources (listing pages, robots.txt: tests/fakes/arxiv_pages.py): the request in,
# the resource to answer with (conditional GETs and scripted replies apply) or None for a 404.
PageResolver = Callable[[web.Request], "_Resource | None"]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    arrived_at: float  # time.monotonic() when the handler saw the request

    def header(self, name: str) -> str | None:
        """Case-insensitive header lookup."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Leave `status`/`body` None to serve the registered resource.

    `delay`: seconds to wait before answering (for client timeouts). `reset`: drop the connection
    without answering. `cut_after`: send the headers with the full Content-Length, then only this many
    body bytes, then close (a transfer cut short).
    """

    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False
    cut_after: int | None = None
    path: str | None = None

    @classmethod
    def rate_limited(cls, retry_after: str | int | float | None = None, **kw: Any) -> "Reply":
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return cls(status=429, body=b"Rate exceeded.", headers=headers, **kw)

    @classmethod
    def unavailable(cls, status: int = 503, retry_after: str | int | float | None = None, **kw: Any) -> "Reply":
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return cls(status=status, body=b"Service Unavailable", headers=headers, **kw)

    @classmethod
    def slow(cls, seconds: float, **kw: Any) -> "Reply":
        return cls(delay=seconds, **kw)

    @classmethod
    def reset_connection(cls, **kw: Any) -> "Reply":
        return cls(reset=True, **kw)

    @classmethod
    def cut_short(cls, nbytes: int, **kw: Any) -> "Reply":
        return cls(cut_after=nbytes, **kw)


@dataclass
class _Resource:
    body: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200


class FakeArxiv(LoopbackServer):
    """The fake server. `listing_url` and `api_url` are what `ArxivSettings` needs."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._listings: dict[str, _Resource] = {}
        self._api_exact: dict[str, _Resource] = {}
        self._api_default: ApiResponder | _Resource | None = None
        self._script: list[Reply] = []
        self._page_resolvers: list[tuple[str, PageResolver]] = []
        app = web.Application()
        app.router.add_get(LISTING_PREFIX + "{categories:.+}", self._handle_listing)
        app.router.add_get(API_PATH, self._handle_api)
        app.router.add_get("/{path:.*}", self._handle_page)
        super().__init__(app)

    # -- configuration --------------------------------------------------------------------------

    @property
    def listing_url(self) -> str:
        return self.base_url + LISTING_PREFIX

    @property
    def api_url(self) -> str:
        return self.base_url + API_PATH

    def settings(self, **overrides: Any) -> ArxivSettings:
        """ArxivSettings aimed at this server, with test-friendly pacing (no interval, fast backoff)."""
        values: dict[str, Any] = {
            "listing_url": self.listing_url,
            "api_url": self.api_url,
            "min_interval_seconds": 0,
            "user_agent": "paperbot-tests (mailto:tests@example.org)",
            "timeout_seconds": 5,
            "max_tries": 3,
            "backoff_base_seconds": 1,
            "backoff_max_seconds": 60,
            # The fake serves listing pages only where a test sets them up (tests/fakes/arxiv_pages.py);
            # without this, a test of `paperbot run` would depend on the time of day (20:00-24:00 ET).
            "early_edition": False,
        }
        values.update(overrides)
        return ArxivSettings(**values)

    @staticmethod
    def listing_path(categories: str | Sequence[str]) -> str:
        joined = categories if isinstance(categories, str) else "+".join(categories)
        return LISTING_PREFIX + joined

    def serve_listing(
        self,
        categories: str | Sequence[str],
        body: bytes,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        content_type: str = "application/atom+xml; charset=utf-8",
        status: int = 200,
    ) -> None:
        """Serve `body` at /atom/<categories> (a "+"-joined string or a list). Replaces any earlier body."""
        self._listings[self.listing_path(categories)] = _Resource(body, content_type, etag, last_modified, status)

    def serve_api(
        self,
        body: bytes | ApiResponder,
        *,
        id_list: str | None = None,
        status: int = 200,
        content_type: str = "application/atom+xml; charset=utf-8",
    ) -> None:
        """Serve API answers. With `id_list`, only for that exact `id_list=` value; without, for any
        query. `body` may be a function of the requested ids (a list) returning bytes."""
        if id_list is not None:
            if callable(body):
                raise TypeError("a responder function is only for the catch-all API answer (id_list=None)")
            self._api_exact[id_list] = _Resource(body, content_type, status=status)
        elif callable(body):
            self._api_default = body
        else:
            self._api_default = _Resource(body, content_type, status=status)

    def serve_pages(self, prefix: str, resolver: PageResolver) -> None:
        """Answer GETs of paths starting with `prefix` with what `resolver` returns."""
        self._page_resolvers.append((prefix, resolver))

    def script(self, *replies: Reply, path: str | None = None) -> None:
        """Queue replies for the next requests (to `path` only, when given, e.g. "/atom/quant-ph")."""
        for reply in replies:
            self._script.append(reply if path is None or reply.path else _with_path(reply, path))

    @property
    def pending_script(self) -> int:
        return len(self._script)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    # -- handlers -------------------------------------------------------------------------------

    def _record(self, request: web.Request) -> None:
        self.requests.append(RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            arrived_at=time.monotonic(),
        ))

    def _next_reply(self, path: str) -> Reply | None:
        for index, reply in enumerate(self._script):
            if reply.path is None or reply.path == path:
                return self._script.pop(index)
        return None

    async def _handle_listing(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        resource = self._listings.get(request.path)
        return await self._answer(request, resource, not_found=f"no listing served at {request.path}")

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        id_list = request.query.get("id_list", "")
        resource = self._api_exact.get(id_list)
        if resource is None and callable(self._api_default):
            ids = [i for i in id_list.split(",") if i]
            resource = _Resource(self._api_default(ids), "application/atom+xml; charset=utf-8")
        elif resource is None:
            resource = self._api_default
        return await self._answer(request, resource, not_found=f"no API answer for id_list={id_list!r}")

    async def _handle_page(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        resolver = next((r for prefix, r in self._page_resolvers if request.path.startswith(prefix)), None)
        resource = resolver(request) if resolver else None
        return await self._answer(request, resource, not_found=f"nothing served at {request.path}")

    async def _answer(self, request: web.Request, resource: _Resource | None, *, not_found: str) -> web.StreamResponse:
        reply = self._next_reply(request.path) or Reply()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.reset:
            assert request.transport is not None
            request.transport.abort()
            raise web.HTTPInternalServerError()  # never reaches the client: the connection is gone

        headers = dict(reply.headers)
        if reply.status is not None or reply.body is not None:
            status = reply.status or 200
            body = reply.body or b""
            content_type = resource.content_type if resource else "text/plain"
        elif resource is None:
            return web.Response(status=404, text=not_found)
        else:
            if resource.etag:
                headers["ETag"] = resource.etag
            if resource.last_modified:
                headers["Last-Modified"] = resource.last_modified
            if _not_modified(request, resource):
                return web.Response(status=304, headers=headers)
            status, body, content_type = resource.status, resource.body, resource.content_type

        if reply.cut_after is not None:
            response = web.StreamResponse(status=status, headers=headers)
            response.content_type = content_type.split(";")[0]
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body[:reply.cut_after])
            assert request.transport is not None
            request.transport.close()
            return response
        response = web.Response(status=status, body=body, headers=headers)
        response.headers["Content-Type"] = content_type
        return response


ServedResource = _Resource  # what a PageResolver returns


def _with_path(reply: Reply, path: str) -> Reply:
    return replace(reply, path=path)


def _not_modified(request: web.Request, resource: _Resource) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None and resource.etag:
        return resource.etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since and resource.last_modified:
        try:
            return parsedate_to_datetime(if_modified_since) >= parsedate_to_datetime(resource.last_modified)
        except (TypeError, ValueError):
            return False
    return False


def atom_listing(entries: Iterable[dict[str, Any]], *, title: str = "test updates on arXiv.org",
                 day: str = "2025-04-28") -> bytes:
    """A synthetic rss.arxiv.org Atom listing. Each entry: id (with version), title, abstract,
    authors (list), categories (list), announce_type (default "new").

    Dates are written as arXiv does: midnight US Eastern of `day`, with that day's UTC offset
    (-04:00 in summer, -05:00 in winter)."""
    midnight = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=ZoneInfo("America/New_York"))
    published = midnight.isoformat()
    updated = midnight.astimezone(timezone.utc).isoformat()
    parts = [
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f"  <id>http://rss.arxiv.org/atom/</id>\n  <title>{escape(title)}</title>\n"
        f"  <updated>{updated}</updated>\n"
    ]
    for entry in entries:
        announce_type = entry.get("announce_type", "new")
        categories = "".join(f"<category term={quoteattr(c)}/>" for c in entry["categories"])
        parts.append(
            f"  <entry><id>oai:arXiv.org:{escape(entry['id'])}</id><title>{escape(entry['title'])}</title>"
            f"<summary>arXiv:{escape(entry['id'])} Announce Type: {announce_type} \n"
            f"Abstract: {escape(entry['abstract'])}</summary>{categories}"
            f"<published>{published}</published>"
            f"<arxiv:announce_type>{announce_type}</arxiv:announce_type>"
            f"<dc:creator>{escape(', '.join(entry['authors']))}</dc:creator></entry>\n"
        )
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8")


def api_feed(entries: Iterable[dict[str, Any]]) -> bytes:
    """A synthetic export.arxiv.org API answer. Each entry: id (with version), title, abstract,
    authors, categories, primary (default first category), comment, journal_ref, doi (optional)."""
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
        "  <title>arXiv Query</title>\n"
    ]
    for entry in entries:
        primary = entry.get("primary", entry["categories"][0])
        extra = "".join(
            f"<arxiv:{tag}>{escape(entry[tag])}</arxiv:{tag}>"
            for tag in ("comment", "journal_ref", "doi") if entry.get(tag)
        )
        parts.append(
            f"  <entry><id>http://arxiv.org/abs/{escape(entry['id'])}</id><title>{escape(entry['title'])}</title>"
            f"<summary>{escape(entry['abstract'])}</summary>"
            + "".join(f'<category term={quoteattr(c)} scheme="http://arxiv.org/schemas/atom"/>'
                      for c in entry["categories"])
            + f'<arxiv:primary_category term={quoteattr(primary)}/>{extra}'
            + "".join(f"<author><name>{escape(a)}</name></author>" for a in entry["authors"])
            + "</entry>\n"
        )
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8")
