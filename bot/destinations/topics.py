"""The configuration file's topics as destinations: each topic is a subscription, and a topic with
a `markdown:` folder is a Markdown destination. Chat channels and people join the scheduler
through the same `DestinationDirectory` seam (`bot.destinations.channels`, `.people`)."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings, TopicSettings, parse_hh_mm
from bot.destinations.destination import Destination, Directory
from bot.matching import QueryLimits, Subscription, parse_query, query_from_keywords


def topic_subscription_id(name: str) -> str:
    return f"topic:{name}"


def topic_query(topic: TopicSettings, limits: QueryLimits | None = None):
    """A configured topic's query: `query` in the /papers language, else the seed's keywords form."""
    if topic.query:
        return parse_query(topic.query, limits or QueryLimits())
    return query_from_keywords(topic.keyword_list, topic.filter_list, limits)


def topic_subscription(name: str, topic: TopicSettings, limits: QueryLimits | None = None) -> Subscription:
    return Subscription(
        id=topic_subscription_id(name),
        query=topic_query(topic, limits),
        types=frozenset(topic.types),
        categories=frozenset(topic.categories),
    )


def topic_destination(name: str, topic: TopicSettings, settings: Settings,
                      out_dir: str | Path | None = None) -> Destination:
    """The Markdown destination of a topic (`markdown: <folder>`, or `out_dir` when given)."""
    folder = str(out_dir if out_dir is not None else topic.markdown)
    subscription = topic_subscription(name, topic)
    keywords = [k if isinstance(k, str) else " AND ".join(k) for k in topic.keyword_list]
    return Destination(
        key=f"markdown:{name}",
        platform="markdown",
        address=folder,
        title=name,
        subscription_ids=(subscription.id,),
        subscriptions_text=(subscription.query.describe(),),
        post_time=parse_hh_mm(settings.schedule.post_time),
        timezone=settings.schedule.timezone,
        max_papers=topic.max_papers,
        paper_order=topic.order,
        votes_from=topic.votes_from,
        options={
            "topic": name,
            "keywords": keywords if topic.keywords else [topic.query or ""],
            "filters": topic.filter_list,
            "open_abstracts": topic.open_abstracts,
        },
    )


class ConfiguredTopics:
    """The topics of the configuration file that have a Markdown folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        limits = QueryLimits.from_settings(settings.limits)
        self._directory = Directory(
            destinations=tuple(
                topic_destination(name, topic, settings)
                for name, topic in settings.topics.items() if topic.markdown
            ),
            subscriptions=tuple(
                topic_subscription(name, topic, limits) for name, topic in settings.topics.items()
            ),
        )

    async def load(self) -> Directory:
        return self._directory
