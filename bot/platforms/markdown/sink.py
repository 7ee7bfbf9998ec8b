"""Deliver a digest as Markdown files (`DocumentSink`): the whole day written atomically at once."""

from __future__ import annotations

import asyncio

from bot.delivery.sink import Destination
from bot.platforms.markdown.render import MarkdownWriter
from bot.digest.model import Digest


class MarkdownSink:
    """`destination.address` is the output folder; `destination.options` may carry `topic`,
    `keywords`, `filters` and `open_abstracts` for the rendering."""

    platform = "markdown"

    async def publish(self, destination: Destination, digest: Digest) -> str:
        options = destination.options
        writer = MarkdownWriter(destination.address)
        # File writes block (fsync); keep them off the event loop.
        paths = await asyncio.to_thread(
            writer.write,
            digest,
            options.get("topic", destination.title),
            keywords=list(options.get("keywords", ())),
            filters=list(options.get("filters", ())),
            open_abstracts=bool(options.get("open_abstracts", False)),
        )
        return str(paths[0])
