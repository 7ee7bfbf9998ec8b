"""What the core asks of a platform: the sink seam every adapter implements.

One shape for chat threads, "compose the destination's day into messages, then send one message":

- `ThreadSink.compose` turns a destination's day (the digest, and what is still undelivered) into
  the parent message and the thread's messages, each rendered ONCE and carrying the ledger
  markers it delivers (paper ids; `mention:<user>` for a message naming people). Packing within
  the platform's limits is the sink's business; which papers and people are pending is the
  core's (`Undelivered`).
- `ThreadSink.send` posts one composed message and returns its reference.
- `find_parent` / `posted_markers` let the core reconcile with what the platform already holds
  after a crash (between posting and recording).
- Each sink declares its `pace` as data; the runner (`bot.delivery.runner`) keeps it, retries,
  and records every message in the ledger, the same way for every platform. Every request a
  chat sink makes goes through the core's `PlatformCalls` (`bot.delivery.health`): the
  workspace-wide problem state and the platform-wide request budget.

`DocumentSink` (Markdown) is the documented variant for a whole-day document: `compose` gives
ONE message (the document, with every paper id as its markers) and `send` writes it atomically;
writing it again is harmless, so resuming is simply writing again. It has no parent, no thread
and no reconciliation.

Adapters report platform failures as the neutral exceptions below; retries, pacing and pausing are
decided by the core, once for every platform.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.destinations.destination import Destination
from bot.digest.model import Digest, DigestItem
from bot.models import Paper


class DeliveryProblem(Exception):
    """A platform failure, in neutral terms."""


class DestinationUnavailable(DeliveryProblem):
    """The destination cannot take messages until someone acts (archived channel, bot removed,
    missing permission, DMs closed). The destination is paused with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PlatformUnavailable(DestinationUnavailable):
    """Not one destination's problem but the whole workspace's or bot's (a revoked token, a
    missing scope, a workspace preference): every destination of the platform is held until it is
    over (`bot.delivery.health.PlatformHealth`). `code` names the problem (the platform's error
    code); `probe_separately`: a dedicated probe (e.g. Slack's auth.test) can tell when it is over,
    otherwise the next real call is the probe. Reported once by the health, not per destination."""

    def __init__(self, reason: str, code: str, probe_separately: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.probe_separately = probe_separately


class RateLimited(DeliveryProblem):
    """The platform asked us to wait `retry_after` seconds before the next call."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(f"rate limited for {retry_after:g} s {detail}".strip())
        self.retry_after = retry_after


class TransientDeliveryError(DeliveryProblem):
    """Worth another try later (timeouts, 5xx)."""


PARENT, PAPERS, MENTIONS, DOCUMENT = "parent", "papers", "mentions", "document"
FOLDED = "folded"   # the final "N more papers" message: links to the papers over the daily maximum


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast a platform takes messages, declared by its sink and kept by the core.

    `per_destination_interval`: minimum seconds between the completion of one message to a
    destination and the start of the next (the platform's per-channel pace; the runner keeps it).
    `platform_messages_per_second`: the workspace-wide rate of MESSAGES across all destinations
    (the runner keeps it with a `RequestBudget` around every send). `platform_requests_per_second`:
    the rate of every REQUEST the sink makes (Discord counts each one, messages, threads and
    reads alike), kept by the `PlatformCalls` the sink sends each request through. None: no such
    limit to keep."""

    per_destination_interval: float = 0.0
    platform_messages_per_second: float | None = None
    platform_requests_per_second: float | None = None


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message, composed and rendered, waiting to be sent.

    `markers` are what the ledger records once it is out: the paper ids it holds, or
    `mention:<user>` for every person it names. `content` is the platform's own rendering; only
    the sink that composed it reads it."""

    kind: str
    markers: tuple[str, ...] = ()
    content: Any = None


@dataclass(frozen=True, slots=True)
class ComposedDay:
    """A destination's day as messages: the parent, then the thread's messages in order."""

    parent: OutgoingMessage
    thread: tuple[OutgoingMessage, ...] = ()


@dataclass(frozen=True, slots=True)
class Undelivered:
    """What of a day's digest the thread does not hold yet: the papers (in digest order), the
    people still to mention (in `digest.mentions` order), and the papers over the daily maximum
    still to list in the final "N more papers" message (`digest.folded`; its messages carry
    their paper ids as markers, so a resumed day lists each of them once)."""

    items: tuple[DigestItem, ...]
    mentions: tuple[str, ...]
    folded: tuple[Paper, ...] = ()

    @classmethod
    def of(cls, digest: Digest, delivered: Set[str] = frozenset()) -> "Undelivered":
        return cls(tuple(item for item in digest.items if item.paper.id not in delivered),
                   tuple(user for user in digest.mentions if mention_marker(user) not in delivered),
                   tuple(paper for paper in digest.folded if paper.id not in delivered))


@runtime_checkable
class DocumentSink(Protocol):
    platform: str

    def compose(self, destination: Destination, digest: Digest) -> OutgoingMessage:
        """The whole day as one document (markers: every paper id in it)."""

    async def send(self, destination: Destination, message: OutgoingMessage) -> str:
        """Write the document; returns a reference (e.g. the file path). Must be idempotent."""


@runtime_checkable
class ThreadSink(Protocol):
    platform: str
    pace: Pace

    def compose(self, destination: Destination, digest: Digest, undelivered: Undelivered) -> ComposedDay:
        """The day's parent message and the thread's messages for what is `undelivered`, packed
        within the platform's limits, each rendered once."""

    async def send(self, destination: Destination, message: OutgoingMessage, parent_ref: str | None) -> str:
        """Post one composed message (the parent when `parent_ref` is None, else in its thread);
        returns the message's reference (for the parent: the thread's)."""

    async def find_parent(self, destination: Destination, digest: Digest) -> str | None:
        """The day's parent message if the platform already holds it (a crash right after posting
        it, before the ledger recorded it), else None."""

    async def posted_markers(self, destination: Destination, parent_ref: str) -> set[str]:
        """The markers the thread already holds (from message metadata), for resuming: paper ids,
        and `mention:<user id>` for every person a mention message names."""


MENTION_PREFIX = "mention:"


def mention_marker(user: str) -> str:
    """How the ledger (and the platform's metadata) records that `user` was mentioned."""
    return f"{MENTION_PREFIX}{user}"
