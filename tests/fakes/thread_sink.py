"""A chat platform in memory, behind the ThreadSink seam: threads, messages with paper ids in their
metadata, and scripted failures. It stands in for Slack/Discord where the test is about the core's
delivery logic, not about a platform's wire format."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.delivery.sink import (
    PAPERS,
    PARENT,
    ComposedDay,
    OutgoingMessage,
    Pace,
    Undelivered,
)
from bot.destinations import Destination
from bot.digest.model import Digest


@dataclass
class Message:
    ref: str
    channel: str
    thread: str | None
    text: str
    paper_ids: tuple[str, ...] = ()


@dataclass
class MemoryChat:
    """The platform's state, which survives a 'restart' of our process (a new sink instance)."""

    messages: list[Message] = field(default_factory=list)

    def thread(self, parent_ref: str) -> list[Message]:
        return [m for m in self.messages if m.thread == parent_ref]

    def papers_in(self, channel: str) -> list[str]:
        return [pid for m in self.messages if m.channel == channel for pid in m.paper_ids]


class MemoryThreadSink:
    platform = "memory"

    def __init__(self, chat: MemoryChat, *, per_message: int = 3, min_message_interval: float = 0.0,
                 max_messages_per_second: float | None = None,
                 before_post: Callable[[str, Sequence[str]], None] | None = None,
                 after_post: Callable[[str, Sequence[str]], None] | None = None) -> None:
        self.chat = chat
        self.per_message = per_message
        self.pace = Pace(min_message_interval, max_messages_per_second)
        # Hooks to script failures: called with (kind, paper ids) before / after the platform
        # stores a message ("after" models a crash between posting and hearing back).
        self.before_post = before_post
        self.after_post = after_post
        self.calls: list[str] = []

    def _post(self, channel: str, thread: str | None, text: str, paper_ids: Sequence[str], kind: str) -> str:
        if self.before_post:
            self.before_post(kind, paper_ids)
        ref = f"m{len(self.chat.messages) + 1}"
        self.chat.messages.append(Message(ref, channel, thread, text, tuple(paper_ids)))
        self.calls.append(kind)
        if self.after_post:
            self.after_post(kind, paper_ids)
        return ref

    async def find_parent(self, destination: Destination, digest: Digest) -> str | None:
        self.calls.append("find_parent")
        marker = f"digest {digest.day}"
        for m in self.chat.messages:
            if m.channel == destination.address and m.thread is None and m.text == marker:
                return m.ref
        return None

    def compose(self, destination: Destination, digest: Digest, undelivered: Undelivered) -> ComposedDay:
        items = undelivered.items
        batches = [items[i:i + self.per_message] for i in range(0, len(items), self.per_message)]
        return ComposedDay(
            OutgoingMessage(PARENT, (), f"digest {digest.day}"),
            tuple(OutgoingMessage(PAPERS, ids, " ".join(ids))
                  for ids in (tuple(item.paper.id for item in batch) for batch in batches)))

    async def send(self, destination: Destination, message: OutgoingMessage, parent_ref: str | None) -> str:
        if message.kind == PARENT:
            return self._post(destination.address, None, message.content, (), "parent")
        return self._post(destination.address, parent_ref, message.content, message.markers, "items")

    async def posted_markers(self, destination: Destination, parent_ref: str) -> set[str]:
        self.calls.append("history")
        return {pid for m in self.chat.thread(parent_ref) for pid in m.paper_ids}
