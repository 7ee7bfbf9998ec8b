"""People as delivery destinations: what `/papers me add` and `/papers me deliver` stored.

- `dm`: one Destination per person (`slack-dm:<workspace>:<user>`) fed by their own
  subscriptions; the platform's ThreadSink opens the direct-message channel itself
  (`options["direct"]`), so DMs go through the same runner, ledger and format as channels.
- `here`: no destination of its own. The person's subscriptions ride along with the channel they
  chose (`Destination.mention_subscriptions`, user -> subscription ids); the channel's digest then
  names them once, after the day's papers, with links to their matches (`Digest.mentions`).
- `off`: the subscriptions are kept but feed nothing.

Personal subscriptions join the same matcher pass as every channel's (`me:<row id>`), so a day
costs one pass however many people subscribe. `ChannelSubscriptions.load()` reads this module too:
a platform's chat directory is its channels and its people.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import ScheduleSettings, parse_hh_mm
from bot.destinations.destination import RELEVANCE, Destination, destination_parts
from bot.matching import Query, QueryLimits, QuerySyntaxError, Subscription, parse_query
from bot.store import ReadStore, Store
from bot.store.personal import PersonalSubscriptionRecord, PersonRef

log = logging.getLogger(__name__)

PERSONAL_TYPES: tuple[str, ...] = ("new", "cross")
DM_TITLE = "your personal keywords"


def personal_destination_key(person: PersonRef) -> str:
    """The ledger key of a person's daily direct message: `slack-dm:T123:U456`."""
    return f"{person.platform}-dm:{person.workspace}:{person.user}"


def person_of_destination_key(key: str) -> PersonRef | None:
    """The person whose daily direct message `key` is (`personal_destination_key` read back);
    None for any other destination."""
    parts = destination_parts(key)
    if parts is None or not parts[1]:
        return None
    platform, _, workspace, user = parts
    return PersonRef(platform, workspace, user)


def personal_subscription_id(row_id: int) -> str:
    return f"me:{row_id}"


def personal_subscription(row: PersonalSubscriptionRecord, limits: QueryLimits,
                          parse: Callable[[str, QueryLimits], Query] = parse_query) -> Subscription:
    return Subscription(id=personal_subscription_id(row.id), query=parse(row.query, limits),
                        types=frozenset(PERSONAL_TYPES))


@dataclass
class PersonalRoutes:
    """What people add to one platform's directory."""

    dm_destinations: list[Destination] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    # (workspace, channel) -> user -> that user's subscription ids, for `here`
    mentions: dict[tuple[str, str], dict[str, tuple[str, ...]]] = field(default_factory=dict)
    channel_names: dict[tuple[str, str], str] = field(default_factory=dict)


def load_personal_routes(store: Store | ReadStore, platform: str, schedule: ScheduleSettings | None,
                         limits: QueryLimits,
                         parse: Callable[[str, QueryLimits], Query] = parse_query) -> PersonalRoutes:
    schedule = schedule or ScheduleSettings()
    routes = PersonalRoutes()
    for delivery, rows in store.people.all_personal(platform):
        if delivery.mode == "off":
            continue
        subscriptions = []
        for row in rows:
            try:
                subscriptions.append(personal_subscription(row, limits, parse))
            except (QuerySyntaxError, ValueError) as exc:
                log.warning("skipping personal subscription %s (%r): %s", row.id, row.query, exc)
        if not subscriptions:
            continue
        routes.subscriptions += subscriptions
        ids = tuple(s.id for s in subscriptions)
        person = delivery.person
        if delivery.mode == "here" and delivery.channel:
            where = (person.workspace, delivery.channel)
            routes.mentions.setdefault(where, {})[person.user] = ids
            if delivery.channel_name:
                routes.channel_names[where] = delivery.channel_name
            continue
        routes.dm_destinations.append(Destination(
            key=personal_destination_key(person),
            platform=person.platform,
            address=person.user,
            title=DM_TITLE,
            subscription_ids=ids,
            subscriptions_text=tuple(s.query.describe() for s in subscriptions),
            post_time=parse_hh_mm(schedule.post_time),
            timezone=schedule.timezone,
            options={"workspace": person.workspace, "user": person.user, "direct": True},
            # The person's own votes rank their direct message (bot.ranking).
            paper_order=RELEVANCE,
        ))
    return routes
