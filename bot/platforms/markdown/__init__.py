"""The Markdown sink: digests as dated files, no chat account needed."""

from bot.platforms.markdown.render import MarkdownWriter, render_markdown
from bot.platforms.markdown.sink import MarkdownSink

__all__ = ["MarkdownSink", "MarkdownWriter", "render_markdown"]
