"""Who receives what: a `Destination` (a Markdown topic, a chat channel, a person), and the
`DestinationDirectory` seam through which each source of destinations (the configuration's
topics, a platform's channels and people) hands the scheduler its destinations and the
subscriptions feeding them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the record needs no matcher at run time
    from bot.matching import Subscription


RELEVANCE = "relevance"
LISTING = "listing"
PAPER_ORDERS = (RELEVANCE, LISTING)
CHAT_PLATFORMS = ("slack", "discord")


def destination_parts(key: str) -> tuple[str, bool, str, str] | None:
    """A chat destination's ledger key read back (`channel_destination_key`,
    `personal_destination_key`): (platform, is a person's direct message, workspace, channel or
    user), or None when it is not a chat destination's key (a Markdown topic, a weekly best-of)."""
    head, _, rest = key.partition(":")
    workspace, _, address = rest.partition(":")
    direct = head.endswith("-dm")
    platform = head[:-3] if direct else head
    if platform not in CHAT_PLATFORMS or not workspace or not address or ":" in address:
        return None
    return platform, direct, workspace, address


@dataclass(frozen=True)
class Destination:
    """Where one digest goes each announcement day, and how.

    `key` is stable across restarts (`markdown:MLLM`, `slack:T123:C456`); the ledger is keyed by
    it. `subscription_ids` name the matcher subscriptions whose matches this destination receives.
    `mention_subscriptions` (user id -> subscription ids) are people who asked to be mentioned in
    this destination's daily thread with their personal matches (`/papers me deliver here`).
    `paper_order`: RELEVANCE ranks the papers by the destination's learned model once it has
    enough votes (`bot.ranking`), its own or those of `votes_from`; LISTING keeps the match order.
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
    # The weekly best-of (bot.weekly): 0..6 = Monday..Sunday at `weekly_time` in `timezone`;
    # None = off (the default; only channels turn it on).
    weekly_day: int | None = None
    weekly_time: time | None = None
    mention_subscriptions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    paper_order: str = LISTING
    # Whose votes rank this destination: the ledger key of another destination (a Markdown topic's
    # `votes_from` channel, as files have no vote buttons); None: its own.
    votes_from: str | None = None

    @property
    def ranking_key(self) -> str:
        """The key of the relevance model that orders this destination (bot.ranking)."""
        return self.votes_from or self.key


@dataclass(frozen=True)
class Directory:
    """Everything the scheduler delivers to on one pass."""

    destinations: tuple[Destination, ...]
    subscriptions: tuple[Subscription, ...]


class DestinationDirectory(Protocol):
    async def load(self) -> Directory: ...


