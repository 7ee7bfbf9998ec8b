"""The Slack ThreadSink: the day's parent message and packed replies in its thread.

This module only translates. Retries, pacing and pausing are the core's (`bot.delivery.runner`):
Slack errors become the neutral `DestinationUnavailable` / `RateLimited` /
`TransientDeliveryError`. Every message carries metadata (`paperbot_digest`: destination, day,
kind, paper ids), so after a crash the thread and the papers already in it are found again from
Slack itself (`conversations.history` / `conversations.replies` with `include_all_metadata`).

The WebClient should be built without slack_sdk's retry handlers (`retry_handlers=[]`, as
`start_slack` does): its rate-limit handler would sleep out 429s where the core cannot see them
(and so cannot pace other work or stop), and its connection-error handler re-sends a
chat.postMessage whose answer was lost, which posts the papers twice. Without them a lost answer
is a `TransientDeliveryError`, and the next pass reconciles from the thread's metadata.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from time import monotonic as _monotonic
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from datetime import datetime, time, timedelta, timezone
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.health import PlatformCalls, PlatformHealth
from bot.delivery.sink import (
    FOLDED,
    MENTIONS,
    PAPERS,
    PARENT,
    ComposedDay,
    DeliveryProblem,
    DestinationUnavailable,
    OutgoingMessage,
    Pace,
    PlatformUnavailable,
    RateLimited,
    TransientDeliveryError,
    Undelivered,
    mention_marker,
)
from bot.destinations import Destination
from bot.digest.model import Digest
from bot.digest.weekly import WeeklyBestOf
from bot.models import Paper
from bot.platforms.slack import render

log = logging.getLogger(__name__)

# What a lost channel needs before posts can resume; shown in `/papers list` and the log.
UNAVAILABLE_REASONS = {
    "not_in_channel": "paperbot is not a member of this channel. Invite it with `/invite @paperbot`; "
                      "daily posts resume when it joins.",
    "channel_not_found": "Slack says this channel does not exist or paperbot cannot see it (deleted, "
                         "or private without paperbot in it). Invite paperbot with `/invite @paperbot`.",
    "is_archived": "this channel is archived. Daily posts resume when it is unarchived.",
    "missing_scope": "paperbot's Slack app lacks a permission it needs ({needed}). Reinstall the app "
                     "from config/slack-manifest.yaml.",
    "account_inactive": "paperbot's Slack token belongs to a deactivated account or an uninstalled "
                        "app; reinstall the app.",
    "restricted_action": "a workspace preference does not allow paperbot to post. An admin can "
                         "change it; posts resume by themselves once Slack accepts them.",
    "team_access_not_granted": "paperbot's token has no access to this workspace.",
    "invalid_auth": "Slack no longer accepts paperbot's bot token (SLACK_BOT_TOKEN). Set the current "
                    "Bot User OAuth Token (xoxb-...) and restart paperbot.",
    "token_revoked": "paperbot's Slack token was revoked (the app was uninstalled?). Reinstall the app "
                     "and set the new SLACK_BOT_TOKEN.",
    "wrong_workspace": "this channel belongs to workspace {workspace}, but paperbot's token is for "
                       "workspace {team}.",
}
# Problems of the whole workspace (the token, the app's scopes, a workspace preference), not of
# one channel: raised as the core's `PlatformUnavailable`, whose `PlatformHealth` holds every
# channel's calls, probes after a back-off and lifts the pauses once Slack accepts calls again
# (`SlackSink.pause_lifted`); `SlackSink.problem` shows it (/healthz).
WORKSPACE_CODES = frozenset({"account_inactive", "missing_scope", "restricted_action",
                             "team_access_not_granted", "invalid_auth", "token_revoked"})
# Of those, the ones auth.test can tell are gone (the token itself); for the others the next real
# call is the probe.
TOKEN_CODES = frozenset({"account_inactive", "team_access_not_granted", "invalid_auth", "token_revoked"})
# Opening or posting in a person's direct messages failed for a reason only they or an admin can fix.
DM_UNAVAILABLE_REASONS = {
    "user_not_found": "Slack cannot find this person in the workspace, so paperbot cannot send them "
                      "direct messages.",
    "user_disabled": "this person's Slack account is deactivated, so paperbot cannot send them "
                     "direct messages.",
    "cannot_dm_bot": "this Slack user is a bot; direct messages to it are not possible.",
    "messages_tab_disabled": "paperbot's Messages tab is turned off, so it cannot send direct "
                             "messages; an admin can enable it in the app's App Home settings.",
    "channel_not_found": "Slack refused paperbot's direct-message channel with this person.",
    "restricted_action": "this workspace does not allow paperbot to send this person direct messages.",
    "not_in_channel": "paperbot is not part of its direct messages with this person any more.",
}
# Slack refused the blocks themselves; the same papers go out once more as plain text.
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_blocks"})
DEFAULT_RETRY_AFTER = 30.0  # seconds, if a 429 comes without Retry-After (Slack always sends it)
HISTORY_PAGE = 200
HISTORY_PAGES = 10


def pause_code(reason: str) -> str | None:
    """The Slack error code a pause reason ends with (`... (Slack: missing_scope)`), if any."""
    found = re.search(r"\(Slack: ([a-z_]+)\)\s*$", reason or "")
    return found.group(1) if found else None


def slack_error_code(exc: SlackApiError) -> str:
    response = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return ""


def _status(exc: SlackApiError) -> int | None:
    response = exc.response
    return getattr(response, "status_code", None) or getattr(response, "status", None)


def _retry_after(exc: SlackApiError) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    value = None
    for name, header in dict(headers).items():
        if str(name).lower() == "retry-after":
            value = header[0] if isinstance(header, list) else header
    try:
        return max(0.0, float(value)) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


def translate_error(exc: Exception, destination: Destination, method: str) -> DeliveryProblem:
    """A Slack failure as the core's neutral error."""
    if isinstance(exc, SlackApiError):
        code = slack_error_code(exc)
        status = _status(exc)
        if status == 429 or code == "ratelimited":
            return RateLimited(_retry_after(exc), f"by Slack {method} in {destination.address}")
        if destination.options.get("direct") and code in DM_UNAVAILABLE_REASONS:
            return DestinationUnavailable(f"{DM_UNAVAILABLE_REASONS[code]} (Slack: {code})")
        if code in WORKSPACE_CODES and not _personal_refusal(destination, code):
            return PlatformUnavailable(f"{_workspace_reason(exc, code)} (Slack: {code})", code,
                                       probe_separately=code in TOKEN_CODES)
        if code in UNAVAILABLE_REASONS:
            return DestinationUnavailable(f"{_workspace_reason(exc, code)} (Slack: {code})")
        if (status is not None and status >= 500) or code in ("internal_error", "fatal_error",
                                                                "service_unavailable", "request_timeout"):
            return TransientDeliveryError(f"Slack {method} failed with HTTP {status} {code}".strip())
        return DeliveryProblem(f"Slack {method} refused: {code or 'HTTP ' + str(status)}")
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ClientError, SlackClientError, OSError)):
        return TransientDeliveryError(f"Slack {method}: {type(exc).__name__}: {exc}".rstrip(": "))
    raise TypeError(f"not a Slack failure: {exc!r}")


_NO_DESTINATION = Destination(key="slack:workspace", platform="slack", address="(workspace)", title="",
                              subscription_ids=())


def _day_start(day) -> str:
    """A lower bound for the ts of any message about `day`: its parent is posted after the
    announcement, which is after midnight UTC of the day before."""
    start = datetime.combine(day, time(0), tzinfo=timezone.utc) - timedelta(days=1)
    return f"{start.timestamp():.6f}"


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A composed Slack message: the Block Kit message, its metadata, and how to write the same
    content as plain text if Slack refuses the blocks (None: the message's own `text`). The plain
    text of papers is written only then, not for every message."""

    message: render.Message
    metadata: dict[str, Any]
    plain_text: Callable[[], str] | None = None


PER_CHANNEL_INTERVAL = 1.0  # Slack: about one message a second per channel
RECENT_PAPERS = 20_000      # a few days of every paper posted anywhere (a paper is ~2 KB)


def _personal_refusal(destination: Destination, code: str) -> bool:
    """A refusal about one person's direct messages (restricted_action there is a workspace rule
    about that person), not about the whole workspace."""
    return bool(destination.options.get("direct")) and code in DM_UNAVAILABLE_REASONS


def _workspace_reason(exc: SlackApiError, code: str) -> str:
    needed = (getattr(exc.response, "data", None) or {}).get("needed", "a scope") if code == "missing_scope" else ""
    return UNAVAILABLE_REASONS[code].format(needed=needed, workspace="", team="")


class SlackSink:
    """ThreadSink over the Slack Web API for one workspace (`team_id`)."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, team_id: str, *,
                 papers_per_message: int = render.PAPERS_PER_MESSAGE,
                 max_messages_per_second: float | None = None,
                 monotonic: Callable[[], float] = _monotonic,
                 own_identity: tuple[str, str] | None = None) -> None:
        self.client = client
        # (bot_id, bot user id) from auth.test: only messages the bot posted itself count when a
        # thread is read back; another app can post the same metadata. Asked lazily if not given.
        self._own_identity = own_identity if own_identity and any(own_identity) else None
        self.team_id = team_id
        self.papers_per_message = papers_per_message
        # The core keeps both: ~1 message/s per channel, and the workspace-wide rate across all
        # channels (slack.max_messages_per_second).
        self.pace = Pace(PER_CHANNEL_INTERVAL, max_messages_per_second)
        self._direct_channels: dict[str, str] = {}  # user id -> their IM channel with paperbot
        # The core holds every channel's calls while the workspace as a whole is refused.
        self.health = PlatformHealth(f"Slack workspace {team_id or '?'}", "Slack", monotonic=monotonic,
                                     probe=self._probe_token)
        self.calls = PlatformCalls(self.pace, self.health)
        # The papers of the threads composed lately, so a Show abstract click on them is answered
        # from memory: during a fan-out the database thread is busy with ledger writes, and the
        # click is the moment people wait. compose() may run in worker threads, hence the lock.
        self._recent_papers: dict[str, Paper] = {}
        self._recent_lock = threading.Lock()

    def recent_paper(self, paper_id: str) -> Paper | None:
        """A paper this sink composed lately (its full abstract included), or None."""
        return self._recent_papers.get(paper_id)

    def _remember(self, papers: Iterable[Paper]) -> None:
        with self._recent_lock:
            for paper in papers:
                self._recent_papers[paper.id] = paper
            while len(self._recent_papers) > RECENT_PAPERS:
                del self._recent_papers[next(iter(self._recent_papers))]

    @property
    def problem(self) -> str | None:
        """The workspace-wide problem Slack reports (token, scopes), None while calls go through."""
        return self.health.describe()

    async def pause_lifted(self, destination: Destination, reason: str) -> bool:
        """Asked by the runner for a paused destination: may it try again? Yes for a pause caused by
        a workspace problem that is over (or unknown to this process: after a restart the delivery
        itself finds out) or whose next probe is due; channel problems (not invited, archived) wait
        for Slack's events or /papers resume."""
        code = pause_code(reason)
        if code not in WORKSPACE_CODES or _personal_refusal(destination, code):
            return False
        return self.health.probe_due()

    async def _channel(self, destination: Destination) -> str:
        """The channel to post in: the destination's, or for a person (`options["direct"]`) the
        direct-message channel `conversations.open` gives (the same one every time)."""
        if not destination.options.get("direct"):
            return destination.address
        user = destination.address
        channel = self._direct_channels.get(user)
        if channel is None:
            self._check_workspace(destination)
            response = await self._call(destination, "conversations.open",
                                        lambda: self.client.conversations_open(users=user))
            channel = str((response.get("channel") or {}).get("id") or "")
            if not channel:
                raise TransientDeliveryError("Slack conversations.open answered without a channel")
            self._direct_channels[user] = channel
        return channel

    def _check_workspace(self, destination: Destination) -> None:
        workspace = destination.options.get("workspace")
        if workspace and self.team_id and workspace != self.team_id:
            raise DestinationUnavailable(UNAVAILABLE_REASONS["wrong_workspace"].format(
                needed="", workspace=workspace, team=self.team_id))

    async def _call(self, destination: Destination, method: str, call):
        """One Slack call through the core's door (workspace health), its failure translated."""
        async def request():
            try:
                return await call()
            except (SlackApiError, SlackClientError, asyncio.TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise translate_error(exc, destination, method) from exc

        return await self.calls.call(request)

    async def _probe_token(self) -> None:
        """Whether Slack takes the token again (auth.test), for a token problem's probe."""
        try:
            await self.client.auth_test()
        except (SlackApiError, SlackClientError, asyncio.TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise translate_error(exc, _NO_DESTINATION, "auth.test") from exc

    async def _post(self, destination: Destination, message: render.Message, metadata: dict[str, Any],
                    thread_ts: str | None, plain_text: str | Callable[[], str] | None) -> str:
        self._check_workspace(destination)
        channel = await self._channel(destination)

        def post(**content):
            return self._call(destination, "chat.postMessage", lambda: self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, metadata=metadata,
                unfurl_links=False, unfurl_media=False, **content))

        try:
            response = await post(text=message.text, blocks=message.blocks)
        except DeliveryProblem as problem:
            cause = problem.__cause__
            code = slack_error_code(cause) if isinstance(cause, SlackApiError) else ""
            if code not in BLOCK_ERRORS or plain_text is None:
                raise
            log.warning("Slack refused the blocks for %s (%s); posting the same papers as plain text",
                        destination.key, code)
            response = await post(text=plain_text() if callable(plain_text) else plain_text)
        return str(response["ts"])

    # -- ThreadSink ----------------------------------------------------------------------------

    async def own_identity(self, destination: Destination) -> tuple[str, str]:
        if self._own_identity is None:
            auth = await self._call(destination, "auth.test", self.client.auth_test)
            self._own_identity = (str(auth.get("bot_id") or ""), str(auth.get("user_id") or ""))
        return self._own_identity

    def _ours(self, message: dict[str, Any], identity: tuple[str, str]) -> dict[str, Any] | None:
        """The paperbot metadata of `message` if the bot itself posted it, else None."""
        bot_id, user_id = identity
        if not ((bot_id and message.get("bot_id") == bot_id) or (user_id and message.get("user") == user_id)):
            return None
        return _our_payload(message)

    async def find_parent(self, destination: Destination, digest: Digest) -> str | None:
        self._check_workspace(destination)
        identity = await self.own_identity(destination)
        day = digest.day.isoformat()
        channel = await self._channel(destination)
        cursor = None
        for _ in range(HISTORY_PAGES):
            response = await self._call(destination, "conversations.history", lambda c=cursor: (
                self.client.conversations_history(channel=channel, oldest=_day_start(digest.day),
                                                  limit=HISTORY_PAGE, include_all_metadata=True, cursor=c)))
            for message in response.get("messages", []):
                payload = self._ours(message, identity)
                if (payload and payload.get("kind") == "parent" and payload.get("day") == day
                        and payload.get("destination") == destination.key):
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def compose(self, destination: Destination, digest: Digest, undelivered: Undelivered) -> ComposedDay:
        self._remember(item.paper for item in undelivered.items)
        parent = render.parent_message(digest)
        thread = [
            OutgoingMessage(PAPERS, tuple(card.id for card in packed.cards), SlackMessage(
                packed.message, render.digest_metadata(digest, [card.id for card in packed.cards], "papers"),
                plain_text=partial(render.items_plain_text, digest, packed.cards)))
            for packed in render.compose_items(digest, undelivered.items, self.papers_per_message)
        ]
        # The papers over the daily maximum: one final message of links (split only by Slack's limits).
        continued = len(undelivered.folded) < len(digest.folded)
        for folded in render.compose_folded(digest, undelivered.folded, continued):
            thread.append(OutgoingMessage(FOLDED, folded.paper_ids, SlackMessage(
                folded.message, render.digest_metadata(digest, folded.paper_ids, render.FOLDED_EVENT_KIND),
                plain_text=lambda text=folded.plain_text: text)))
        for users in render.pack_mentions(digest, undelivered.mentions):
            # Recorded as `mention:<user>` ids, so a restart that reads the thread back sees them.
            markers = tuple(mention_marker(user) for user in users)
            thread.append(OutgoingMessage(MENTIONS, markers, SlackMessage(
                render.mentions_message(digest, users), render.digest_metadata(digest, markers, "mentions"))))
        return ComposedDay(
            parent=OutgoingMessage(PARENT, (), SlackMessage(parent, render.digest_metadata(digest, (), "parent"))),
            thread=tuple(thread))

    def compose_weekly(self, destination: Destination, week: WeeklyBestOf) -> OutgoingMessage:
        """The weekly best-of (bot.weekly) as a top-level message; its metadata (the weekly key
        and the week's last day, kind parent) lets `find_parent` find it again after a crash."""
        return OutgoingMessage(PARENT, (), SlackMessage(
            render.weekly_message(week), render.digest_metadata(week.as_digest(), (), "parent")))

    async def send(self, destination: Destination, message: OutgoingMessage, parent_ref: str | None) -> str:
        content: SlackMessage = message.content
        return await self._post(destination, content.message, content.metadata, parent_ref,
                                content.plain_text or content.message.text)

    async def posted_markers(self, destination: Destination, parent_ref: str) -> set[str]:
        self._check_workspace(destination)
        identity = await self.own_identity(destination)
        channel = await self._channel(destination)
        found: set[str] = set()
        cursor = None
        while True:
            response = await self._call(destination, "conversations.replies", lambda c=cursor: (
                self.client.conversations_replies(channel=channel, ts=parent_ref,
                                                  limit=HISTORY_PAGE, include_all_metadata=True, cursor=c)))
            for message in response.get("messages", []):
                payload = self._ours(message, identity)
                if payload and payload.get("destination") == destination.key:
                    found.update(str(pid) for pid in payload.get("paper_ids") or ())
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor or not response.get("has_more", True):
                return found


def _our_payload(message: dict[str, Any]) -> dict[str, Any] | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != render.METADATA_EVENT:
        return None
    payload = metadata.get("event_payload")
    return payload if isinstance(payload, dict) else None
