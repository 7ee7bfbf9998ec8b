"""A chat platform in memory, behind the ThreadSink seam: threads, messages with paper ids in their
metadata, and scripted failures. It stands in for Slack/Discord where the test is about the core's
delivery logic, not about a platform's wire format."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.delivery.sink import Destination
from bot.digest.model import Digest, DigestItem


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
                 before_post: Callable[[str, Sequence[str]], None] | None = None,
                 after_post: Callable[[str, Sequence[str]], None] | None = None) -> None:
        self.chat = chat
        self.per_message = per_message
        self.min_message_interval = min_message_interval
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

    async def post_parent(self, destination: Destination, digest: Digest) -> str:
        return self._post(destination.address, None, f"digest {digest.day}", (), "parent")

    def pack(self, destination: Destination, digest: Digest,
             items: Sequence[DigestItem]) -> list[Sequence[DigestItem]]:
        return [items[i:i + self.per_message] for i in range(0, len(items), self.per_message)]

    async def post_items(self, destination: Destination, digest: Digest, parent_ref: str,
                         items: Sequence[DigestItem]) -> str:
        ids = [item.paper.id for item in items]
        return self._post(destination.address, parent_ref, " ".join(ids), ids, "items")

    async def posted_paper_ids(self, destination: Destination, parent_ref: str) -> set[str]:
        self.calls.append("history")
        return {pid for m in self.chat.thread(parent_ref) for pid in m.paper_ids}
