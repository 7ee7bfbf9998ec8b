"""Deliver a digest as Markdown files (`DocumentSink`): the whole day composed as one document,
then written atomically at once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from bot.delivery.sink import DOCUMENT, OutgoingMessage
from bot.destinations import Destination
from bot.digest.model import Digest
from bot.platforms.markdown.render import MarkdownWriter, render_markdown


@dataclass(frozen=True, slots=True)
class MarkdownDocument:
    """A day's digest as Markdown text, and where it goes."""

    folder: str
    topic: str
    day: date
    text: str


class MarkdownSink:
    """`destination.address` is the output folder; `destination.options` may carry `topic`,
    `keywords`, `filters` and `open_abstracts` for the rendering."""

    platform = "markdown"

    def compose(self, destination: Destination, digest: Digest) -> OutgoingMessage:
        options = destination.options
        text = render_markdown(digest, keywords=list(options.get("keywords", ())),
                               filters=list(options.get("filters", ())),
                               open_abstracts=bool(options.get("open_abstracts", False)))
        document = MarkdownDocument(destination.address, options.get("topic", destination.title),
                                    digest.day, text)
        return OutgoingMessage(DOCUMENT, digest.paper_ids, document)

    async def send(self, destination: Destination, message: OutgoingMessage) -> str:
        document: MarkdownDocument = message.content
        writer = MarkdownWriter(document.folder)
        # File writes block (fsync); keep them off the event loop.
        paths = await asyncio.to_thread(writer.write_text, document.topic, document.day, document.text)
        return str(paths[0])

    async def publish(self, destination: Destination, digest: Digest) -> str:
        """Compose and write in one step (the one-shot `paperbot digest`, which keeps no ledger)."""
        return await self.send(destination, self.compose(destination, digest))
