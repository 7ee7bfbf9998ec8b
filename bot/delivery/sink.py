"""What the core asks of a platform: the sink seam every adapter implements.

Two shapes, because a chat thread and a file are delivered differently:

- `ThreadSink` (Slack, Discord): a parent message, then the papers in batches the platform packs
  within its own limits. The core posts batch by batch and records each in the ledger, so a restart
  resumes in the same thread. `posted_paper_ids` lets the core reconcile with what the platform
  already holds (a crash between posting and recording).
- `DocumentSink` (Markdown): the whole digest is written at once, atomically; writing it again is
  harmless, so resuming is simply writing again.

Adapters report platform failures as the neutral exceptions below; retries, pacing and pausing are
decided by the core (`bot.delivery.runner`), once for every platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Mapping, Protocol, runtime_checkable

from bot.digest.model import Digest, DigestItem


@dataclass(frozen=True)
class Destination:
    """Where one digest goes each announcement day, and how.

    `key` is stable across restarts (`markdown:MLLM`, `slack:T123:C456`); the ledger is keyed by
    it. `subscription_ids` name the matcher subscriptions whose matches this destination receives.
    `mention_subscriptions` (user id -> subscription ids) are people who asked to be mentioned in
    this destination's daily thread with their personal matches (`/papers me deliver here`).
    """

    key: str
    platform: str
    address: str
    title: str
    subscription_ids: tuple[str, ...]
    subscriptions_text: tuple[str, ...] = ()
    post_time: time | None = None
    timezone: str = "America/New_York"
    empty_note: bool = False
    max_papers: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    mention_subscriptions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class DeliveryProblem(Exception):
    """A platform failure, in neutral terms."""


class DestinationUnavailable(DeliveryProblem):
    """The destination cannot take messages until someone acts (archived channel, bot removed,
    missing permission, DMs closed). The destination is paused with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(DeliveryProblem):
    """The platform asked us to wait `retry_after` seconds before the next call."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(f"rate limited for {retry_after:g} s {detail}".strip())
        self.retry_after = retry_after


class TransientDeliveryError(DeliveryProblem):
    """Worth another try later (timeouts, 5xx)."""


@runtime_checkable
class DocumentSink(Protocol):
    platform: str

    async def publish(self, destination: Destination, digest: Digest) -> str:
        """Write the whole digest; returns a reference (e.g. the file path). Must be idempotent."""


@runtime_checkable
class ThreadSink(Protocol):
    platform: str
    # Minimum seconds between two messages to one destination (the platform's per-channel pace).
    min_message_interval: float

    async def find_parent(self, destination: Destination, digest: Digest) -> str | None:
        """The day's parent message if the platform already holds it (a crash right after posting
        it, before the ledger recorded it), else None."""

    async def post_parent(self, destination: Destination, digest: Digest) -> str:
        """Post the day's parent message (or the empty-day note); returns its reference."""

    def pack(self, destination: Destination, digest: Digest,
             items: Sequence[DigestItem]) -> list[Sequence[DigestItem]]:
        """Split items into messages within the platform's limits, in order."""

    async def post_items(self, destination: Destination, digest: Digest, parent_ref: str,
                         items: Sequence[DigestItem]) -> str:
        """Post one message holding `items` in the parent's thread; returns its reference."""

    async def posted_paper_ids(self, destination: Destination, parent_ref: str) -> set[str]:
        """Paper ids the thread already holds (from message metadata), for resuming; a mention
        message counts as `mention:<user id>` for every person it names."""


class MentionSink(Protocol):
    """What a ThreadSink adds to post personal mentions (`/papers me deliver here`); a sink
    without these methods never mentions anyone."""

    def pack_mentions(self, destination: Destination, digest: Digest,
                      users: Sequence[str]) -> list[Sequence[str]]:
        """Split the people to mention (`digest.mentions`) into messages within the limits."""

    async def post_mentions(self, destination: Destination, digest: Digest, parent_ref: str,
                            users: Sequence[str]) -> str:
        """Post one message in the thread naming each of `users` once, with links to their
        papers (`digest.mentions`, titles from `digest.mention_items`); pings exactly them."""


MENTION_PREFIX = "mention:"


def mention_marker(user: str) -> str:
    """How the ledger (and the platform's metadata) records that `user` was mentioned."""
    return f"{MENTION_PREFIX}{user}"


def mentioned_user(marker: str) -> str | None:
    return marker[len(MENTION_PREFIX):] if marker.startswith(MENTION_PREFIX) else None
