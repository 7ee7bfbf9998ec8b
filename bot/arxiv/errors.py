"""What can go wrong when talking to arXiv, each told apart and each with a readable message.

`str(error)` is what a log line or a chat reply shows; the attributes are for code that reacts
(the scheduler retries a `FetchFailed` at the next poll, honouring `retry_after`).
"""

from __future__ import annotations

from collections.abc import Sequence


class ArxivError(Exception):
    """Base of every error raised by `bot.arxiv`."""


class InvalidArxivId(ArxivError, ValueError):
    """A string that is not an arXiv identifier (new style `2504.13365v2`, old style `hep-th/9901001`)."""

    def __init__(self, raw: object) -> None:
        self.raw = raw
        super().__init__(
            f"not an arXiv id: {raw!r} (expected e.g. 2504.13365, 2504.13365v2 or hep-th/9901001)"
        )


class FeedError(ArxivError):
    """arXiv answered a listing request with its error feed (HTTP 200, title "Feed error for query")."""

    def __init__(self, categories: Sequence[str], message: str, *, url: str | None = None) -> None:
        self.categories = tuple(categories)
        self.message = message
        self.url = url
        named = ", ".join(repr(c) for c in self.categories) or "(unnamed)"
        where = f" ({url})" if url else ""
        super().__init__(f"arXiv rejected the listing for {named}{where}: {message}")


class ApiError(ArxivError):
    """The arXiv API answered with its `Error` entry (e.g. HTTP 400 for a malformed id)."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.message = message
        self.url = url
        where = f" for {url}" if url else ""
        super().__init__(f"arXiv API error{where}: {message}")


class MalformedFeed(ArxivError):
    """A response that is not a complete, well-formed RSS/Atom document (truncated, HTML, empty)."""

    def __init__(self, detail: str, *, url: str | None = None) -> None:
        self.detail = detail
        self.url = url
        where = f" from {url}" if url else ""
        super().__init__(f"malformed arXiv document{where}: {detail}")


class FetchFailed(ArxivError):
    """A request that did not succeed within the allowed tries (or failed in a way not worth retrying)."""

    def __init__(
        self,
        url: str,
        *,
        tries: int,
        last_status: int | None = None,
        cause: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.url = url
        self.tries = tries
        self.last_status = last_status
        self.cause = cause
        self.retry_after = retry_after
        last = cause or (f"HTTP {last_status}" if last_status is not None else "unknown error")
        plural = "try" if tries == 1 else "tries"
        hint = f"; arXiv asked to wait {retry_after:g} s" if retry_after is not None else ""
        super().__init__(f"fetching {url} failed after {tries} {plural}: {last}{hint}")


class FutureDatedFeed(ArxivError):
    """A listing dated after today (US Eastern): a misconfigured mirror or a clock gone wrong.
    Storing it would make it the latest announcement day and stop polling until that date, so it
    is refused (nothing stored) and the next poll tries again."""

    def __init__(self, feed_date, today, *, url: str | None = None) -> None:
        self.feed_date = feed_date
        self.today = today
        self.url = url
        where = f" from {url}" if url else ""
        super().__init__(f"refusing the arXiv listing{where} dated {feed_date}: that is after today "
                         f"({today}, US Eastern); nothing stored, polling continues")


class ResponseTooLarge(ArxivError):
    """An answer bigger than `arxiv.max_response_bytes`: refused before it fills the memory."""

    def __init__(self, url: str, limit: int) -> None:
        self.url = url
        self.limit = limit
        super().__init__(f"arXiv answer from {url} exceeds {limit:,} bytes (arxiv.max_response_bytes); refused")
