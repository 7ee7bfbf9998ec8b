"""The Markdown sink: digests as dated files, no chat account needed."""

from bot.platforms.markdown.sink import MarkdownSink

__all__ = ["MarkdownSink"]
