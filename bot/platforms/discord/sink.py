"""Discord behind the core's `ThreadSink` seam: a parent message and its thread per channel-day.

- Text channel: the parent message (date, counts, top titles), a public thread created on it; the
  thread shares the message's id, which is the parent reference the ledger keeps.
- Forum channel: one forum post per day whose starter message is the parent; the post (a thread)
  id is the reference.
- Papers go into the thread as embeds packed up to Discord's limits, each with its Abstract button.

Reconciling after a crash needs no memory of our own: `find_parent` looks for today's heading
among the bot's recent messages (or today's post among the forum's active threads) and
`posted_markers` reads the paper ids back from the Abstract buttons' custom ids in the thread.

A person's daily digest (`options["direct"]`, personal keywords) goes to their direct messages:
the parent and then the papers in the DM channel itself (DMs have no threads); the reference is
`<dm channel id>:<parent message id>`, and resuming reads the DM after that message.

Errors are translated, never handled: retries, pacing and pausing are the core's (runner.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import discord

from bot.delivery.health import PlatformCalls
from bot.delivery.sink import (
    FOLDED,
    MENTIONS,
    PAPERS,
    PARENT,
    ComposedDay,
    DestinationUnavailable,
    OutgoingMessage,
    Pace,
    RateLimited,
    TransientDeliveryError,
    Undelivered,
    mention_marker,
)
from bot.destinations import Destination
from bot.digest.card import day_headline, paper_cards
from bot.digest.model import Digest, DigestItem
from bot.digest.weekly import WeeklyBestOf
from bot.platforms.discord.components import NO_MENTIONS, paper_view
from bot.platforms.discord.render import (
    ABSTRACT_PREVIEW_CHARS,
    MENTION_HEADING,
    PAPERS_PER_MESSAGE,
    folded_paper_ids,
    mentions_content,
    pack_embeds,
    pack_folded,
    pack_mentions,
    paper_embed,
    paper_id_of,
    parent_content,
    parent_heading,
    thread_name,
    weekly_content,
    weekly_heading,
    weekly_thread_name,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# JSON error codes (discord-api-docs, topics/opcodes-and-status-codes#json).
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
CANNOT_MESSAGE_USER = 50007
UNKNOWN_CHANNEL = 10003
SLOWMODE = 20016                 # "cannot be performed due to slowmode rate limit"
CHANNEL_WRITE_LIMIT = 20028      # "the channel you are writing has hit the write rate limit"
OPENING_DMS_TOO_FAST = 40003
FORUM_NEEDS_A_TAG = 40067
NOT_A_TEXT_CHANNEL = 50008
WRONG_CHANNEL_TYPE = 50024
THREAD_ALREADY_CREATED = 160004
# Discord gives no retry time for 40003; its DM-opening limit is counted over minutes.
DM_OPENING_BACKOFF_SECONDS = 60.0
DEFAULT_MESSAGES_PER_SECOND = 40.0   # discord.max_messages_per_second
THREAD_ARCHIVE_MINUTES = 1440   # a day: the thread stays in the channel's list until the next one
NEEDED = ("View Channel, Send Messages, Send Messages in Threads, Create Public Threads, "
          "Embed Links and Read Message History")


@dataclass(frozen=True, slots=True)
class DiscordParent:
    """The day's parent, composed for each place it may land (known only when sending: a text
    channel, a forum, or a person's direct messages)."""

    content: str
    forum_content: str
    direct_content: str
    thread_name: str
    open_thread: bool           # a thread is created on it (the day has papers or mentions)


@dataclass(frozen=True, slots=True)
class DiscordPapers:
    embeds: tuple[discord.Embed, ...]
    paper_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DiscordFolded:
    """A "more papers" message: links to papers over the daily maximum."""

    content: str
    paper_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DiscordMentions:
    content: str
    users: tuple[str, ...]


class DiscordSink:
    """`ThreadSink` for Discord. `destination.address` is the channel id."""

    platform = "discord"

    def __init__(self, client: discord.Client, *, abstract_chars: int = ABSTRACT_PREVIEW_CHARS,
                 history_limit: int = 50,
                 max_messages_per_second: float = DEFAULT_MESSAGES_PER_SECOND) -> None:
        self.client = client
        self.abstract_chars = abstract_chars
        self.history_limit = history_limit
        # Discord allows 5 messages per 5 s in a channel, and 50 requests a second bot-wide,
        # counted per REQUEST as it arrives (a parent in a text channel is two: the message and
        # its thread; recovery reads). The core keeps both: the per-channel pace in the runner,
        # and the bot-wide one over every request this sink sends through `self.calls`, each
        # counted from its start to a second after its answer (bot/delivery/budget.py), so the
        # limit holds whatever the mix of requests and however busy the loop is.
        self.pace = Pace(per_destination_interval=1.0, platform_requests_per_second=max_messages_per_second)
        self.calls = PlatformCalls(self.pace)

    # -- ThreadSink -----------------------------------------------------------------------------

    async def find_parent(self, destination: Destination, digest: Digest) -> str | None:
        if _direct(destination):
            dm = await self._dm(destination)
            heading, me = parent_heading(digest.day), self._my_id()

            async def scan_dm() -> discord.Message | None:
                async for message in dm.history(limit=self.history_limit):
                    if message.author.id == me and message.content.startswith(heading):
                        return message
                return None

            found = await self._call(destination, "read your direct messages", scan_dm)
            return f"{dm.id}:{found.id}" if found else None
        channel = await self._readable_channel(destination)
        me = self._my_id()
        if isinstance(channel, discord.ForumChannel):
            prefix = f"arXiv {digest.day.isoformat()} "
            threads = await self._call(destination, "list the forum's posts", channel.guild.active_threads)
            for thread in threads:
                if thread.parent_id == channel.id and thread.owner_id == me and thread.name.startswith(prefix):
                    return str(thread.id)
            return None
        heading = parent_heading(digest.day)

        async def scan() -> discord.Message | None:
            async for message in channel.history(limit=self.history_limit):
                if message.author.id == me and message.content.startswith(heading):
                    return message
            return None

        message = await self._call(destination, "read the channel's history", scan)
        if message is None:
            return None
        if digest.has_thread and message.thread is None:
            # The crash came between posting the parent and creating its thread (or the thread
            # is there and the message read back predates it: 160004 says so; it is ours).
            try:
                await self._call(destination, "create the day's thread",
                                 lambda: message.create_thread(name=thread_name(digest),
                                                               auto_archive_duration=THREAD_ARCHIVE_MINUTES))
            except discord.HTTPException as exc:
                if exc.code != THREAD_ALREADY_CREATED:
                    raise
        return str(message.id)

    def compose(self, destination: Destination, digest: Digest, undelivered: Undelivered) -> ComposedDay:
        cards = paper_cards(undelivered.items)
        headline = day_headline(digest)
        content = parent_content(headline)
        parent = DiscordParent(content=content, forum_content=parent_content(headline, forum=True),
                               direct_content=content.replace("in the thread below", "below"),
                               thread_name=thread_name(digest), open_thread=digest.has_thread)
        # Each paper's embed is rendered once, then packed up to Discord's limits.
        embeds = [paper_embed(card, abstract_chars=self.abstract_chars) for card in cards]
        thread = [OutgoingMessage(PAPERS, ids, DiscordPapers(tuple(embeds[i] for i in group), ids))
                  for group in pack_embeds(embeds, count=PAPERS_PER_MESSAGE)
                  for ids in [tuple(cards[i].id for i in group)]]
        folded = paper_cards(DigestItem(paper=paper) for paper in undelivered.folded)
        for ids, text in pack_folded(digest, folded, continued=len(undelivered.folded) < len(digest.folded)):
            thread.append(OutgoingMessage(FOLDED, ids, DiscordFolded(text, ids)))
        for users in pack_mentions(digest, undelivered.mentions):
            thread.append(OutgoingMessage(MENTIONS, tuple(mention_marker(user) for user in users),
                                          DiscordMentions(mentions_content(digest, users), tuple(users))))
        return ComposedDay(OutgoingMessage(PARENT, (), parent), tuple(thread))

    def compose_weekly(self, destination: Destination, week: WeeklyBestOf) -> OutgoingMessage:
        """The weekly best-of (bot.weekly) as a top-level message without a thread (in a forum:
        a post of its own)."""
        content = weekly_content(week)
        return OutgoingMessage(PARENT, (), DiscordParent(
            content=content, forum_content=content, direct_content=content,
            thread_name=weekly_thread_name(week), open_thread=False))

    async def find_weekly(self, destination: Destination, week: WeeklyBestOf) -> str | None:
        """The week's best-of if the channel already holds it (a crash between posting it and
        recording it)."""
        channel = await self._readable_channel(destination)
        me = self._my_id()
        if isinstance(channel, discord.ForumChannel):
            name = weekly_thread_name(week)
            threads = await self._call(destination, "list the forum's posts", channel.guild.active_threads)
            return next((str(t.id) for t in threads
                         if t.parent_id == channel.id and t.owner_id == me and t.name == name), None)
        heading = weekly_heading(week)

        async def scan() -> discord.Message | None:
            async for message in channel.history(limit=self.history_limit):
                if message.author.id == me and message.content.startswith(heading):
                    return message
            return None

        found = await self._call(destination, "read the channel's history", scan)
        return str(found.id) if found else None

    async def send(self, destination: Destination, message: OutgoingMessage, parent_ref: str | None) -> str:
        content = message.content
        if isinstance(content, DiscordParent):
            return await self._send_parent(destination, content)
        assert parent_ref is not None, "papers and mentions go in the day's thread"
        if isinstance(content, DiscordPapers):
            return await self._send_papers(destination, parent_ref, content)
        if isinstance(content, DiscordFolded):
            return await self._send_folded(destination, parent_ref, content)
        return await self._send_mentions(destination, parent_ref, content)

    async def _send_parent(self, destination: Destination, parent: DiscordParent) -> str:
        if _direct(destination):
            dm = await self._dm(destination)
            message = await self._call(destination, "send you a direct message", lambda: dm.send(
                parent.direct_content, allowed_mentions=NO_MENTIONS))
            return f"{dm.id}:{message.id}"
        channel = await self._channel(destination)
        if isinstance(channel, discord.ForumChannel):
            post = await self._call(destination, "create the day's forum post", lambda: channel.create_thread(
                name=parent.thread_name, content=parent.forum_content,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES, allowed_mentions=NO_MENTIONS))
            return str(post.thread.id)
        message = await self._call(destination, "post the day's message", lambda: channel.send(
            parent.content, allowed_mentions=NO_MENTIONS))
        if parent.open_thread:
            thread = await self._call(destination, "create the day's thread", lambda: message.create_thread(
                name=parent.thread_name, auto_archive_duration=THREAD_ARCHIVE_MINUTES))
            return str(thread.id)
        return str(message.id)

    async def _send_papers(self, destination: Destination, parent_ref: str, papers: DiscordPapers) -> str:
        thread = self._thread(destination, parent_ref)
        view = paper_view(destination.key, list(papers.paper_ids))
        message = await self._call(destination, "post papers in the day's thread", lambda: thread.send(
            embeds=list(papers.embeds), view=view, allowed_mentions=NO_MENTIONS), in_thread=True)
        return str(message.id)

    async def _send_folded(self, destination: Destination, parent_ref: str, folded: "DiscordFolded") -> str:
        thread = self._thread(destination, parent_ref)
        message = await self._call(destination, "post the papers over the daily maximum", lambda: thread.send(
            content=folded.content, allowed_mentions=NO_MENTIONS), in_thread=True)
        return str(message.id)

    async def _send_mentions(self, destination: Destination, parent_ref: str, mentions: DiscordMentions) -> str:
        thread = self._thread(destination, parent_ref)
        # Exactly these people may be pinged: never roles, @everyone, or anyone a title names.
        allowed = discord.AllowedMentions(everyone=False, roles=False, replied_user=False,
                                          users=[discord.Object(id=int(user)) for user in mentions.users])
        message = await self._call(destination, "post the personal mentions", lambda: thread.send(
            content=mentions.content, allowed_mentions=allowed), in_thread=True)
        return str(message.id)

    async def posted_markers(self, destination: Destination, parent_ref: str) -> set[str]:
        if not _direct(destination):
            # Without Read Message History Discord answers an EMPTY history, not an error: an
            # empty thread must not be taken for "nothing posted yet" (that re-posts the day).
            await self._readable_channel(destination)
        thread = self._thread(destination, parent_ref)
        me = self._my_id()
        after = discord.Object(id=int(parent_ref.split(":")[1])) if _direct(destination) else None

        async def read() -> set[str]:
            found: set[str] = set()
            async for message in thread.history(limit=None, after=after):
                if message.author.id != me:
                    continue
                if message.content.startswith(MENTION_HEADING):
                    found.update(mention_marker(user) for user in _MENTIONED.findall(message.content))
                found.update(folded_paper_ids(message.content))
                for row in message.components:
                    for child in getattr(row, "children", ()):
                        paper_id = paper_id_of(getattr(child, "custom_id", None) or "")
                        if paper_id:
                            found.add(paper_id)
            return found

        return await self._call(destination, "read the day's thread", read, in_thread=True)

    # -- pieces ---------------------------------------------------------------------------------

    def _my_id(self) -> int:
        user = self.client.user
        if user is None:
            raise TransientDeliveryError("the Discord client is not logged in yet")
        return user.id

    def _thread(self, destination: Destination, parent_ref: str) -> discord.PartialMessageable:
        if _direct(destination):
            return self.client.get_partial_messageable(int(parent_ref.split(":")[0]),
                                                       type=discord.ChannelType.private)
        guild = destination.options.get("workspace")
        return self.client.get_partial_messageable(
            int(parent_ref), guild_id=int(guild) if guild and str(guild).isdigit() else None,
            type=discord.ChannelType.public_thread)

    async def _dm(self, destination: Destination) -> discord.DMChannel:
        user = str(destination.options.get("user") or destination.address)
        if not user.isdigit():
            raise DestinationUnavailable(f"{user!r} is not a Discord user id")
        # create_dm answers from discord.py's cache after the first time (one request per person).
        return await self._call(destination, "open your direct messages",
                                lambda: self.client.create_dm(discord.Object(id=int(user))))

    async def _channel(self, destination: Destination) -> discord.TextChannel | discord.ForumChannel:
        if not destination.address.isdigit():
            raise DestinationUnavailable(f"{destination.address!r} is not a Discord channel id")
        channel_id = int(destination.address)
        channel = self.client.get_channel(channel_id)
        if channel is None:
            channel = await self._call(destination, "find the channel",
                                       lambda: self.client.fetch_channel(channel_id))
        if not isinstance(channel, (discord.TextChannel, discord.ForumChannel)):
            kind = getattr(getattr(channel, "type", None), "name", type(channel).__name__)
            raise DestinationUnavailable(
                f"{_where(destination)} is a {kind} channel; paperbot posts daily threads only in "
                "text and forum channels")
        return channel

    async def _readable_channel(self, destination: Destination) -> discord.TextChannel | discord.ForumChannel:
        """The channel, fetched fresh (its permission overwrites may have changed since the cache
        was filled), once it is certain the bot can read its history; otherwise the destination
        pauses with the permission to give."""
        if not destination.address.isdigit():
            raise DestinationUnavailable(f"{destination.address!r} is not a Discord channel id")
        channel_id = int(destination.address)
        channel = await self._call(destination, "look at the channel",
                                   lambda: self.client.fetch_channel(channel_id))
        if not isinstance(channel, (discord.TextChannel, discord.ForumChannel)):
            return await self._channel(destination)   # says which kind of channel it is
        me = channel.guild.me
        if me is None:
            me = await self._call(destination, "look up its own roles",
                                  lambda: channel.guild.fetch_member(self._my_id()))
        if not channel.permissions_for(me).read_message_history:
            raise DestinationUnavailable(
                f"paperbot cannot read the history of {_where(destination)} (Read Message History "
                "is missing), so it cannot tell what it already posted there today and will not "
                "post the day twice. Give the bot Read Message History there, then /papers resume.")
        return channel

    async def _call(self, destination: Destination, action: str, call: Callable[[], Awaitable[T]], *,
                    in_thread: bool = False) -> T:
        """One Discord call through the core's door (the bot-wide request budget), its failure
        said in the core's terms."""
        async def request() -> T:
            try:
                return await call()
            except discord.RateLimited as exc:
                # discord.py waits out short limits itself; a long one comes back to the core's clock.
                raise RateLimited(exc.retry_after, f"while trying to {action}") from exc
            except discord.HTTPException as exc:
                raise _translate(exc, destination, action, in_thread) from exc
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                raise TransientDeliveryError(f"could not {action} in {_where(destination)}: "
                                             f"{type(exc).__name__}: {exc}") from exc

        return await self.calls.call(request)


def _direct(destination: Destination) -> bool:
    return bool(destination.options.get("direct"))


_MENTIONED = re.compile(r"<@!?(\d+)>")


def _where(destination: Destination) -> str:
    if _direct(destination):
        return f"the direct messages of user {destination.options.get('user') or destination.address}"
    name = destination.options.get("channel_name") or (
        destination.title if destination.title != destination.address else None)
    return f"#{name} ({destination.address})" if name else f"channel {destination.address}"


def _translate(exc: discord.HTTPException, destination: Destination, action: str,
               in_thread: bool) -> Exception:
    where = _where(destination)
    said = (f"Discord says {exc.text or exc.status} ({exc.code})" if exc.code
            else f"Discord answered {exc.status} {exc.text}".rstrip())
    if exc.code == CANNOT_MESSAGE_USER:
        return DestinationUnavailable(
            f"Discord does not let paperbot send direct messages to this person ({said}): they "
            "may have closed direct messages from server members, or share no server with it. "
            "Once they allow them, /papers me deliver dm resumes the daily message.")
    if exc.code in (SLOWMODE, CHANNEL_WRITE_LIMIT) or exc.status == 429:
        retry = _retry_after(exc)
        why = " (slowmode)" if exc.code == SLOWMODE else ""
        return RateLimited(retry, f"while trying to {action} in {where}{why}")
    if exc.code == OPENING_DMS_TOO_FAST:
        # Not a lost permission: Discord limits how fast a bot opens new DMs. Back off, retry.
        return RateLimited(DM_OPENING_BACKOFF_SECONDS, f"opening direct messages too fast ({said})")
    if exc.code == FORUM_NEEDS_A_TAG:
        return DestinationUnavailable(
            f"the forum {where} requires a tag on every post ({said}). Turn off \"Require people "
            "to select tags when posting\" in the forum's settings, then /papers resume.")
    if exc.code in (NOT_A_TEXT_CHANNEL, WRONG_CHANNEL_TYPE):
        return DestinationUnavailable(
            f"{where} cannot take paperbot's daily thread ({said}); subscribe a text or forum "
            "channel instead.")
    if isinstance(exc, discord.DiscordServerError) or exc.status >= 500:
        return TransientDeliveryError(f"could not {action} in {where}: {said}")
    if exc.code == MISSING_ACCESS:
        return DestinationUnavailable(f"paperbot cannot see {where}: {said}. Give the bot View Channel "
                                      "and Read Message History there, or invite it again.")
    if exc.code == MISSING_PERMISSIONS or isinstance(exc, discord.Forbidden):
        return DestinationUnavailable(f"paperbot lacks a permission in {where} to {action}: {said}. "
                                      f"It needs {NEEDED}.")
    if exc.code == UNKNOWN_CHANNEL or isinstance(exc, discord.NotFound):
        if in_thread:
            # The day's thread is gone, not the channel: retry later, then give up on that day.
            return TransientDeliveryError(f"the day's thread in {where} no longer exists ({said})")
        return DestinationUnavailable(f"{where} no longer exists or the bot was removed from its "
                                      f"server ({said}).")
    return exc


def _retry_after(exc: discord.HTTPException) -> float:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return max(0.0, float(header)) if header is not None else 5.0
    except ValueError:
        return 5.0
