"""A fake Slack on 127.0.0.1: the Web API methods paperbot uses, response_url endpoints, and a
Socket Mode websocket, with scripted failures. slack_sdk and slack_bolt talk to it for real.

    async with FakeSlack() as slack:
        slack.add_channel("C1", "ml-papers")                  # the bot is a member unless member=False
        slack.add_user("U1", is_admin=True)
        slack.fail("chat.postMessage", "not_in_channel", channel="C1")
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ...
        slack.calls                 # every Web API call: method, params (query, form or JSON), headers
        slack.messages["C1"]        # stored messages (ts, text, blocks, metadata, thread_ts)
        slack.responses             # bodies POSTed to response_url endpoints
        slack.ephemerals            # chat.postEphemeral calls that succeeded
        slack.updates               # chat.update calls that succeeded (channel, ts, blocks...)
        slack.click_payload("C1", ts, "U1", "paperbot_vote_up", block_id=...)  # a block_actions
                                    # payload for a button of a stored message, as Slack sends it
        slack.dm_channel("U1")      # the IM channel conversations.open gave for a person (D...)
        slack.home_views["U1"]      # the last App Home view views.publish set for a person
        slack.opened_views          # views.open calls (modals), with their trigger_id

Answers have Slack's shapes (`{"ok": true, ...}` / `{"ok": false, "error": "..."}`, 429 with
Retry-After; see ../shared/fixtures/slack/). chat.postMessage checks blocks the way Slack does
(at most 50 blocks, 3000 characters a section text, 150 a header...) and answers `invalid_blocks`
when they break a limit, so a renderer bug cannot hide behind the fake.

Strict where Slack is (docs.slack.dev: apis/web-api/rate-limits, each method's reference page,
interactivity/handling-user-interaction, slash commands):
- tokens: `not_authed`, `invalid_auth` (a wrong token), `token_revoked` (slack.revoke_token()),
  `account_inactive` (slack.deactivate()), all HTTP 200 with ok:false like every Web API error;
- scopes: each method needs its scope (SCOPES_NEEDED); without it `missing_scope` with `needed`
  and `provided` (slack.scopes starts as the manifest's bot scopes);
- channels: `channel_not_found` (unknown, or private without the bot), `not_in_channel`,
  `is_archived` when posting;
- rate limits (only these answer 429, with Retry-After): each method's tier per minute
  (METHOD_TIERS, TIER_PER_MINUTE: Slack's documented floors) and chat.postMessage's special
  limit of about one message a second per channel, a short burst of `post_burst` allowed;
- the 3 s acknowledgement: `deliver()` sends a signed request to the app the way Slack does; an
  answer after 3 s, a non-200 answer or no answer is recorded in `slack.user_errors` as the user
  would see it (`/papers failed with the error "operation_timeout"`); Socket Mode envelopes
  acknowledged after 3 s likewise;
- response_url: at most 5 uses within 30 minutes (`used_url`, `expired_url`);
- chat.update: only a message the bot posted (`cant_update_message`), found by channel and ts
  (`message_not_found`), blocks checked as for chat.postMessage; a click is only possible on a
  button the stored message shows (`click_payload`), and its payload carries the message as it is
  now (without metadata, which Slack sends only to callers that ask for it).
Time-based rules read `slack.clock` (a ServiceClock: real time plus what a test skips; `follow`
makes it follow a test's FakeClock too, as the runner's pace sleeps on that).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web

from tests.fakes.clock import ServiceClock
from tests.fakes.loopback import LoopbackServer

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
TEAM_ID = "T0FAKE01"
BOT_USER_ID = "U0PAPERBOT"
BOT_ID = "B0PAPERBOT"

SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
MAX_BLOCKS = 50
MESSAGE_TEXT_LIMIT = 40_000
KNOWN_BLOCKS = {"section", "header", "context", "divider", "actions", "image", "rich_text", "input"}

# The app's bot scopes as config/slack-manifest.yaml asks for them at install.
MANIFEST_SCOPES = ("chat:write", "commands", "channels:history", "groups:history", "im:history",
                   "im:write", "users:read", "channels:read", "groups:read", "files:write")
# The scope each method needs (its reference page's "Required scopes"); history and replies
# depend on the kind of conversation (public, private, im, mpim).
HISTORY_SCOPES = {"public": "channels:history", "private": "groups:history", "im": "im:history",
                  "mpim": "mpim:history"}
INFO_SCOPES = {"public": "channels:read", "private": "groups:read", "im": "im:read", "mpim": "mpim:read"}
SCOPES_NEEDED = {"chat.postMessage": "chat:write", "chat.postEphemeral": "chat:write",
                 "chat.update": "chat:write", "conversations.open": "im:write",
                 "users.info": "users:read", "files.getUploadURLExternal": "files:write",
                 "files.completeUploadExternal": "files:write"}
# Rate-limit tiers per method (each method's reference page) and requests a minute per tier
# (apis/web-api/rate-limits: "1+", "20+", "50+", "100+" per minute; the fake allows the floor,
# and for Tier 1 the "small amount of burst behavior" the docs tolerate: 3 in a minute).
TIER_PER_MINUTE = {1: 3, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {"apps.connections.open": 1, "auth.test": 4, "chat.postEphemeral": 4,
                "chat.update": 3, "conversations.history": 3, "conversations.replies": 3,
                "conversations.info": 3, "conversations.open": 3, "conversations.join": 3,
                "users.info": 4, "views.open": 4, "views.publish": 4, "views.update": 4,
                "files.getUploadURLExternal": 4, "files.completeUploadExternal": 4}
# Uploads (files.getUploadURLExternal / the upload URL / files.completeUploadExternal): Slack's
# file size limit is 1 GB; the fake keeps it configurable (`max_file_bytes`) so a test can reach it.
MAX_FILE_BYTES = 1024 ** 3
ACK_DEADLINE = 3.0                 # seconds Slack waits for the app's HTTP answer / envelope ack
RESPONSE_URL_USES = 5              # "up to 5 times within 30 minutes"
RESPONSE_URL_LIFETIME = 30 * 60.0


@dataclass
class Call:
    method: str           # Web API method, e.g. "chat.postMessage"
    http_method: str
    params: dict[str, Any]
    headers: dict[str, str]

    @property
    def channel(self) -> str | None:
        return self.params.get("channel")


@dataclass
class Failure:
    """A scripted answer for the next `times` calls of `method` (in `channel`, when given)."""

    method: str
    error: str
    channel: str | None = None
    times: int = 1
    status: int = 200
    retry_after: float | None = None
    when: Callable[[Call], bool] | None = None
    drop_after_store: bool = False  # store the message, then cut the connection (a lost answer)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Channel:
    id: str
    name: str
    member: bool = True
    archived: bool = False
    kind: str = "public"          # public, private, im, mpim


@dataclass
class Delivery:
    """One request Slack sent to the app, and how it went for the person who caused it."""

    kind: str                     # slash_command, block_actions, view_submission, ...
    status: int | None            # the app's HTTP status (None: no answer)
    seconds: float                # on the fake's clock
    body: str                     # the app's answer
    error: str | None = None      # what Slack shows the person: operation_timeout, dispatch_failed


class SlackRateLimits:
    """Per method per workspace: a one-minute window of the method's tier; chat.postMessage: a
    token bucket per channel, one message a second with a burst of `post_burst`."""

    def __init__(self, clock: ServiceClock, post_burst: int = 3) -> None:
        self.clock = clock
        self.post_burst = post_burst
        self._windows: dict[str, tuple[float, int]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}   # channel -> (tokens, at)
        self.refused: list[tuple[str, str | None]] = []

    def retry_after(self, method: str, channel: str | None) -> float | None:
        """None if the call may go through (and count it), else the seconds to wait."""
        now = self.clock.monotonic()
        if method == "chat.postMessage" and channel:
            tokens, at = self._buckets.get(channel, (float(self.post_burst), now))
            tokens = min(float(self.post_burst), tokens + (now - at))
            if tokens < 1.0:
                self.refused.append((method, channel))
                return 1.0 - tokens
            self._buckets[channel] = (tokens - 1.0, now)
            return None
        tier = METHOD_TIERS.get(method)
        if tier is None:
            return None
        started, used = self._windows.get(method, (now, 0))
        # A hair of tolerance: (t + 60) - t is not always exactly 60.0 in floating point, and a
        # test that skips exactly a minute must find the window renewed.
        if now - started >= 60.0 - 1e-6:
            started, used = now, 0
        if used >= TIER_PER_MINUTE[tier]:
            self.refused.append((method, channel))
            return started + 60.0 - now
        self._windows[method] = (started, used + 1)
        return None


class FakeSlack(LoopbackServer):
    def __init__(self, *, team_id: str = TEAM_ID, epoch: float | None = None,
                 clock: ServiceClock | None = None, post_burst: int = 3) -> None:
        self.team_id = team_id
        self.clock = clock or ServiceClock()
        self.rate_limits = SlackRateLimits(self.clock, post_burst)
        self.scopes: set[str] = set(MANIFEST_SCOPES)
        self.token_problem: str | None = None     # token_revoked / account_inactive once set
        self.deliveries: list[Delivery] = []
        self.user_errors: list[str] = []          # what people saw instead of an answer
        self._response_urls: dict[str, tuple[float, int]] = {}   # name -> (issued at, uses)
        self._envelopes_sent: dict[str, float] = {}
        self.bot_token = BOT_TOKEN
        self.app_token = APP_TOKEN
        self.bot_user_id = BOT_USER_ID
        # ts of posted messages count up from `epoch` (seconds), like Slack's clock would.
        self.epoch = int(epoch if epoch is not None else time.time())
        self._seq = 0
        self.calls: list[Call] = []
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self.socket_acks: list[dict[str, Any]] = []
        self.home_views: dict[str, dict[str, Any]] = {}
        self.opened_views: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}      # completed uploads: id -> name, title, content, channel
        self._uploads: dict[str, dict[str, Any]] = {}   # upload URLs handed out, not completed yet
        self.max_file_bytes = MAX_FILE_BYTES
        self._sockets: list[web.WebSocketResponse] = []
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        super().__init__(app)

    async def close_connections(self) -> None:
        for ws in list(self._sockets):
            await ws.close()

    # -- configuration ----------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """What `slack.api_url` / AsyncWebClient(base_url=...) should be."""
        return self.base_url + "/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url as Slack issues one with a command or an action (its clock starts)."""
        self._response_urls.setdefault(name, (self.clock.monotonic(), 0))
        return f"{self.base_url}/response/{name}"

    def add_channel(self, channel_id: str, name: str = "", *, member: bool = True,
                    archived: bool = False, kind: str | None = None) -> Channel:
        kind = kind or ("im" if channel_id.startswith("D") else
                        "private" if channel_id.startswith("G") else "public")
        channel = self.channels[channel_id] = Channel(channel_id, name or channel_id.lower(), member,
                                                      archived, kind)
        self.messages.setdefault(channel_id, [])
        return channel

    def follow(self, clock: Any) -> None:
        """Let the fake's time follow a test's FakeClock too (the runner's pace sleeps on it)."""
        self.clock = self.rate_limits.clock = ServiceClock(following=clock)

    def revoke_token(self) -> None:
        """The app was uninstalled or its token revoked: every call answers token_revoked."""
        self.token_problem = "token_revoked"

    def deactivate(self) -> None:
        """The token's user or workspace was deactivated: account_inactive."""
        self.token_problem = "account_inactive"

    def restore_token(self) -> None:
        self.token_problem = None

    def add_user(self, user_id: str, name: str = "", *, is_admin: bool = False, is_owner: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id, "team_id": self.team_id, "name": name or user_id.lower(), "deleted": False,
            "is_admin": is_admin, "is_owner": is_owner, "is_primary_owner": False,
            "is_bot": False, "is_app_user": False, "profile": {"real_name": name or user_id},
        }

    def fail(self, method: str, error: str, *, channel: str | None = None, times: int = 1,
             status: int | None = None, retry_after: float | None = None,
             when: Callable[[Call], bool] | None = None, **extra: Any) -> Failure:
        """Answer the next `times` matching calls with `error` (ratelimited: HTTP 429 + Retry-After)."""
        if status is None:
            status = 429 if error == "ratelimited" else 200
        failure = Failure(method, error, channel, times, status, retry_after, when, extra=extra)
        self.failures.append(failure)
        return failure

    def lose_answer(self, method: str = "chat.postMessage", *, channel: str | None = None,
                    times: int = 1, when: Callable[[Call], bool] | None = None) -> Failure:
        """Do the call (store the message), then drop the connection before answering."""
        failure = Failure(method, "", channel, times, when=when, drop_after_store=True)
        self.failures.append(failure)
        return failure

    # -- inspection -------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The parent and its replies, oldest first."""
        return [m for m in self.messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts]

    def top_level(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.messages.get(channel, []) if not m.get("thread_ts")]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
        """Poll until `predicate()` is truthy (work bolt finishes after its ack)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
            await asyncio.sleep(0.005)

    # -- Web API ----------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        call = Call(method, request.method, params, dict(request.headers))
        self.calls.append(call)

        token = _bearer(request) or params.get("token")
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        if not token:
            return _error("not_authed")
        if token != wanted:
            return _error("invalid_auth")
        if self.token_problem and token == self.bot_token:
            return _error(self.token_problem)
        needed = self._scope_needed(method, params)
        if needed and needed not in self.scopes:
            return _error("missing_scope", needed=needed, provided=",".join(sorted(self.scopes)))

        failure = self._scripted(call)
        if failure is not None and not failure.drop_after_store:
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = f"{failure.retry_after:g}"
            if failure.status >= 500:
                return web.Response(status=failure.status, text="upstream failure", headers=headers)
            return _error(failure.error, status=failure.status, headers=headers, **failure.extra)

        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return _error("unknown_method", status=404)
        wait = self.rate_limits.retry_after(method, call.channel)
        if wait is not None:
            return _error("ratelimited", status=429, headers={"Retry-After": str(max(1, math.ceil(wait)))})
        response = handler(params)
        if failure is not None and failure.drop_after_store:
            assert request.transport is not None
            request.transport.abort()
            raise web.HTTPInternalServerError()  # never reaches the client
        return response

    def _scope_needed(self, method: str, params: dict[str, Any]) -> str | None:
        if method in ("conversations.history", "conversations.replies", "conversations.info"):
            channel = self.channels.get(params.get("channel") or "")
            table = INFO_SCOPES if method == "conversations.info" else HISTORY_SCOPES
            return table[channel.kind] if channel else None
        return SCOPES_NEEDED.get(method)

    def _scripted(self, call: Call) -> Failure | None:
        for failure in self.failures:
            if failure.times <= 0 or failure.method != call.method:
                continue
            if failure.channel is not None and failure.channel != call.channel:
                continue
            if failure.when is not None and not failure.when(call):
                continue
            failure.times -= 1
            return failure
        return None

    def _next_ts(self) -> str:
        self._seq += 1
        return f"{self.epoch + self._seq}.{self._seq:06d}"

    def _channel_problem(self, channel_id: str | None, *, posting: bool) -> web.Response | None:
        channel = self.channels.get(channel_id or "")
        if channel is None or (channel.kind in ("private", "mpim") and not channel.member):
            return _error("channel_not_found")   # a private channel without the bot is invisible
        if channel.archived and posting:
            return _error("is_archived")
        if not channel.member:
            return _error("not_in_channel")
        return None

    def _auth_test(self, params: dict[str, Any]) -> web.Response:
        return _ok(url="https://fake-workspace.slack.com/", team="Fake Workspace", user="paperbot",
                   team_id=self.team_id, user_id=self.bot_user_id, bot_id=BOT_ID,
                   is_enterprise_install=False)

    def _chat_postMessage(self, params: dict[str, Any]) -> web.Response:
        channel_id = params.get("channel")
        problem = self._channel_problem(channel_id, posting=True)
        if problem is not None:
            return problem
        text = params.get("text") or ""
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not text and not blocks:
            return _error("no_text")
        if len(text) > MESSAGE_TEXT_LIMIT:
            return _error("msg_too_long")
        if blocks is not None:
            errors = block_errors(blocks)
            if errors:
                return _error("invalid_blocks", errors=errors)
        thread_ts = params.get("thread_ts") or None
        messages = self.messages[channel_id]
        if thread_ts and not any(m["ts"] == thread_ts for m in messages):
            return _error("thread_not_found")
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        message = {"type": "message", "subtype": "bot_message", "ts": self._next_ts(), "text": text,
                   "bot_id": BOT_ID, "user": self.bot_user_id, "team": self.team_id}
        if blocks is not None:
            message["blocks"] = blocks
        if thread_ts:
            message["thread_ts"] = thread_ts
        if metadata:
            message["metadata"] = metadata
        messages.append(message)
        return _ok(channel=channel_id, ts=message["ts"], message=message)

    def _chat_update(self, params: dict[str, Any]) -> web.Response:
        channel_id = params.get("channel")
        problem = self._channel_problem(channel_id, posting=True)
        if problem is not None:
            return problem
        message = next((m for m in self.messages[channel_id] if m["ts"] == params.get("ts")), None)
        if message is None:
            return _error("message_not_found")
        if message.get("bot_id") != BOT_ID:
            return _error("cant_update_message")
        text = params.get("text")
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not text and not blocks:
            return _error("no_text")
        if text and len(text) > MESSAGE_TEXT_LIMIT:
            return _error("msg_too_long")
        if blocks is not None:
            errors = block_errors(blocks)
            if errors:
                return _error("invalid_blocks", errors=errors)
            message["blocks"] = blocks
        elif text:
            message.pop("blocks", None)   # text without blocks replaces the blocks
        if text:
            message["text"] = text
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata:
            message["metadata"] = metadata
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self.updates.append({"channel": channel_id, "ts": message["ts"], "blocks": blocks,
                             "text": text, "metadata": metadata})
        return _ok(channel=channel_id, ts=message["ts"], text=message["text"], message=message)

    def click_payload(self, channel: str, ts: str, user: str, action_id: str, *,
                      block_id: str | None = None, response: str = "click") -> dict[str, Any]:
        """The block_actions payload Slack sends when `user` clicks the button `action_id` (in
        block `block_id`, when given) of the stored message `ts` in `channel`: the message as it
        is now, the button's value as posted. Raises if the message shows no such button."""
        message = next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)
        if message is None:
            raise AssertionError(f"no message {ts} in {channel}")
        for block in message.get("blocks") or []:
            if block_id is not None and block.get("block_id") != block_id:
                continue
            buttons = ([block["accessory"]] if "accessory" in block else
                       block.get("elements") or [] if block.get("type") == "actions" else [])
            button = next((b for b in buttons if b.get("action_id") == action_id), None)
            if button is not None:
                break
        else:
            raise AssertionError(f"message {ts} shows no button {action_id!r} in {block_id!r}")
        self._seq += 1
        return {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": self.team_id},
            "api_app_id": "A0PAPERBOT", "token": "verification-token",
            "container": {"type": "message", "message_ts": ts, "channel_id": channel,
                          "is_ephemeral": False, **({"thread_ts": message["thread_ts"]}
                                                    if message.get("thread_ts") else {})},
            "trigger_id": f"{self._seq}.{self._seq}.trigger",
            "team": {"id": self.team_id, "domain": "fake-workspace"},
            "enterprise": None, "is_enterprise_install": False,
            "channel": {"id": channel, "name": self.channels[channel].name},
            "message": {k: v for k, v in message.items() if k != "metadata"},
            "state": {"values": {}},
            "response_url": self.response_url(response),
            "actions": [{"action_id": action_id, "block_id": block.get("block_id", ""),
                         "text": button.get("text"), "value": button.get("value", ""),
                         "type": "button", "action_ts": f"{self.epoch + self._seq}.000000"}],
        }

    # -- file uploads (docs.slack.dev/messaging/working-with-files#uploading_files) ----------------

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> web.Response:
        filename = params.get("filename") or ""
        length = str(params.get("length") or "")
        if not filename or not length.isdigit() or int(length) < 1:
            return _error("invalid_arguments")
        if int(length) > self.max_file_bytes:
            return _error("file_too_large")
        file_id = f"F{len(self._uploads) + len(self.files) + 1:08d}"
        self._uploads[file_id] = {"id": file_id, "name": filename, "length": int(length), "content": None}
        return _ok(upload_url=f"{self.base_url}/upload/{file_id}", file_id=file_id)

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self._uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        body = await request.read()
        if len(body) != upload["length"]:
            # Slack checks the bytes against the length promised in getUploadURLExternal.
            return web.Response(status=400, text=f"expected {upload['length']} bytes, got {len(body)}")
        upload["content"] = body
        return web.Response(text=f"OK - {len(body)}")

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> web.Response:
        try:
            files = json.loads(params.get("files") or "")
        except ValueError:
            return _error("invalid_arguments")
        if not isinstance(files, list) or not files:
            return _error("invalid_arguments")
        uploads = [self._uploads.get(str(item.get("id"))) for item in files]
        if any(upload is None or upload["content"] is None for upload in uploads):
            return _error("file_not_found")
        channel_id = params.get("channel_id")
        if channel_id:
            problem = self._channel_problem(channel_id, posting=True)
            if problem is not None:
                return problem
        shared = []
        for item, upload in zip(files, uploads):
            entry = {"id": upload["id"], "name": upload["name"], "title": item.get("title") or upload["name"],
                     "content": upload["content"], "channel": channel_id}
            self.files[upload["id"]] = entry
            del self._uploads[upload["id"]]
            shared.append({"id": entry["id"], "name": entry["name"], "title": entry["title"]})
        if channel_id:
            message = {"type": "message", "ts": self._next_ts(), "text": params.get("initial_comment") or "",
                       "user": self.bot_user_id, "bot_id": BOT_ID, "files": shared}
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            self.messages[channel_id].append(message)
        return _ok(files=shared)

    def _chat_postEphemeral(self, params: dict[str, Any]) -> web.Response:
        problem = self._channel_problem(params.get("channel"), posting=True)
        if problem is not None:
            return problem
        if params.get("user") not in self.users:
            return _error("user_not_in_channel")
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if blocks is not None and block_errors(blocks):
            return _error("invalid_blocks", errors=block_errors(blocks))
        ts = self._next_ts()
        self.ephemerals.append({**params, "blocks": blocks, "message_ts": ts})
        return _ok(message_ts=ts)

    def _conversations_history(self, params: dict[str, Any]) -> web.Response:
        channel_id = params.get("channel")
        problem = self._channel_problem(channel_id, posting=False)
        if problem is not None:
            return problem
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        found = [m for m in reversed(self.messages[channel_id])
                 if not m.get("thread_ts") and oldest < float(m["ts"]) <= latest]
        page, cursor = _page(found, params)
        return _ok(messages=[_visible(m, params) for m in page], has_more=bool(cursor), pin_count=0,
                   response_metadata={"next_cursor": cursor})

    def _conversations_replies(self, params: dict[str, Any]) -> web.Response:
        channel_id = params.get("channel")
        problem = self._channel_problem(channel_id, posting=False)
        if problem is not None:
            return problem
        thread = self.thread(channel_id, params.get("ts") or "")
        if not thread:
            return _error("thread_not_found")
        page, cursor = _page(thread, params)
        return _ok(messages=[_visible(m, params) for m in page], has_more=bool(cursor),
                   response_metadata={"next_cursor": cursor})

    def _conversations_open(self, params: dict[str, Any]) -> web.Response:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            return _error("not_enough_users" if not users else "too_many_users")
        user = self.users.get(users[0])
        if user is None:
            return _error("user_not_found")
        if user.get("deleted"):
            return _error("user_disabled")
        if user.get("is_bot"):
            return _error("cannot_dm_bot")
        channel_id = self.dm_channel(users[0])
        if channel_id not in self.channels:
            self.add_channel(channel_id, "")
        return _ok(channel={"id": channel_id}, already_open=bool(self.messages[channel_id]))

    def dm_channel(self, user_id: str) -> str:
        return "D" + user_id[1:]

    def _views_publish(self, params: dict[str, Any]) -> web.Response:
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        user = params.get("user_id")
        if user not in self.users:
            return _error("user_not_found")
        if not isinstance(view, dict) or view.get("type") != "home":
            return _error("invalid_arguments")
        if len(view.get("blocks") or []) > 100 or block_errors(view.get("blocks") or []):
            return _error("invalid_blocks", errors=block_errors(view.get("blocks") or []))
        self.home_views[user] = view
        return _ok(view={**view, "id": f"V{len(self.home_views):04d}"})

    def _views_open(self, params: dict[str, Any]) -> web.Response:
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if not params.get("trigger_id"):
            return _error("invalid_arguments")
        if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("title"):
            return _error("invalid_arguments")
        if block_errors(view.get("blocks") or []):
            return _error("invalid_blocks", errors=block_errors(view.get("blocks") or []))
        self.opened_views.append({"trigger_id": params["trigger_id"], "view": view})
        return _ok(view={**view, "id": f"VM{len(self.opened_views):03d}"})

    def _users_info(self, params: dict[str, Any]) -> web.Response:
        user = self.users.get(params.get("user") or "")
        if user is None:
            return _error("user_not_found")
        return _ok(user=user)

    def _apps_connections_open(self, params: dict[str, Any]) -> web.Response:
        return _ok(url=f"{self.base_url.replace('http://', 'ws://')}/socket")

    # -- response_url and Socket Mode ---------------------------------------------------------------

    async def _response_url(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.json()
        issued, uses = self._response_urls.get(name, (self.clock.monotonic(), 0))
        if self.clock.monotonic() - issued > RESPONSE_URL_LIFETIME:
            return _error("expired_url", status=404)
        if uses >= RESPONSE_URL_USES:
            return _error("used_url", status=404)
        self._response_urls[name] = (issued, uses + 1)
        self.responses.append({"name": name, **body})
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake", "approximate_connection_time": 18060},
                            "connection_info": {"app_id": "A0PAPERBOT"}})
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    ack = json.loads(message.data)
                    sent = self._envelopes_sent.pop(str(ack.get("envelope_id")), None)
                    if sent is not None and self.clock.monotonic() - sent > ACK_DEADLINE:
                        self.user_errors.append("operation_timeout")
                        ack = {**ack, "late": True}
                    self.socket_acks.append(ack)
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def send_envelope(self, kind: str, payload: dict[str, Any], envelope_id: str) -> None:
        """Push a Socket Mode envelope (`slash_commands`, `interactive`, `events_api`) to every
        connected client."""
        await self.wait_for(lambda: self._sockets)
        self._envelopes_sent[envelope_id] = self.clock.monotonic()
        for ws in self._sockets:
            await ws.send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                "accepts_response_payload": kind != "events_api", "retry_attempt": 0,
                                "retry_reason": ""})

    # -- requests Slack sends to the app ------------------------------------------------------

    async def deliver(self, url: str, body: str, *, signing_secret: str, kind: str = "request",
                      headers: dict[str, str] | None = None, command: str = "/papers") -> Delivery:
        """POST `body` to the app as Slack does (signed unless `headers` are given) and judge the
        answer as Slack would: after 3 s the person sees `<command> failed with the error
        "operation_timeout"` (an action or a form shows an error mark instead); a status other
        than 200, or no answer, is `dispatch_failed`."""
        headers = headers or sign_request(body, signing_secret)
        started = self.clock.monotonic()
        status: int | None = None
        text = ""
        try:
            async with aiohttp.ClientSession() as session:
                async with session.post(url, data=body.encode(), headers=headers) as response:
                    status, text = response.status, await response.text()
        except aiohttp.ClientError:
            status = None
        seconds = self.clock.monotonic() - started
        error = None
        if status is not None and seconds > ACK_DEADLINE:
            error = "operation_timeout"
        elif status != 200:
            error = "dispatch_failed"
        delivery = Delivery(kind, status, seconds, text, error)
        self.deliveries.append(delivery)
        if error:
            self.user_errors.append(f'{command} failed with the error "{error}"'
                                    if kind == "slash_command" else error)
        return delivery


def sign_request(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends: `v0=` HMAC-SHA256 of `v0:<timestamp>:<body>` with the signing
    secret (authentication/verifying-requests-from-slack)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def block_errors(blocks: Any) -> list[str]:
    """Slack's Block Kit checks that matter to paperbot, as Slack words them (roughly)."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    errors = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"must provide an array of no more than {MAX_BLOCKS} items [json-pointer:/blocks]")
    block_ids: set[str] = set()
    for n, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{n}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in KNOWN_BLOCKS:
            errors.append(f"unsupported type: {kind!r} {where}")
            continue
        if "block_id" in block:
            if block["block_id"] in block_ids:
                errors.append(f"duplicate block_id {where}")
            block_ids.add(block["block_id"])
        text = block.get("text") or {}
        if kind == "section":
            if not block.get("text") and not block.get("fields"):
                errors.append(f"must provide text or fields {where}")
            if len(text.get("text", "")) > SECTION_TEXT_LIMIT:
                errors.append(f"must be less than {SECTION_TEXT_LIMIT + 1} characters {where}/text")
            accessory = block.get("accessory")
            if accessory and accessory.get("type") == "button":
                if len(accessory.get("value", "")) > 2000 or len(accessory.get("text", {}).get("text", "")) > 75:
                    errors.append(f"button too long {where}/accessory")
        if kind == "header" and (text.get("type") != "plain_text" or len(text.get("text", "")) > HEADER_TEXT_LIMIT):
            errors.append(f"header must be plain_text of at most {HEADER_TEXT_LIMIT} characters {where}")
        if kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                errors.append(f"context needs 1 to 10 elements {where}")
        if kind == "actions":
            errors += _actions_errors(block, where)
        if len(str(block.get("block_id", ""))) > 255:
            errors.append(f"block_id must be at most 255 characters {where}")
        if text and text.get("type") not in ("mrkdwn", "plain_text"):
            errors.append(f"unknown text type {where}/text")
        if text and not text.get("text"):
            errors.append(f"text must not be empty {where}/text")
    return errors


def _actions_errors(block: dict[str, Any], where: str) -> list[str]:
    """An actions block: 1 to 25 elements; a button's text plain_text of 1-75 characters, its
    value at most 2000, its action_id at most 255 and unique within the block."""
    errors = []
    elements = block.get("elements") or []
    if not 1 <= len(elements) <= 25:
        errors.append(f"actions needs 1 to 25 elements {where}")
    action_ids: set[str] = set()
    for n, element in enumerate(elements):
        at = f"{where}/elements/{n}"
        if element.get("type") != "button":
            continue
        text = element.get("text") or {}
        if text.get("type") != "plain_text" or not 1 <= len(text.get("text", "")) <= 75:
            errors.append(f"button text must be plain_text of 1 to 75 characters {at}")
        if len(element.get("value", "")) > 2000:
            errors.append(f"button value must be at most 2000 characters {at}")
        action_id = element.get("action_id", "")
        if len(action_id) > 255:
            errors.append(f"action_id must be at most 255 characters {at}")
        if action_id and action_id in action_ids:
            errors.append(f"duplicate action_id {at}")
        action_ids.add(action_id)
    return errors


def _visible(message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    # Slack returns metadata only to callers that ask for it.
    if str(params.get("include_all_metadata", "")).lower() in ("1", "true"):
        return dict(message)
    return {k: v for k, v in message.items() if k != "metadata"}


def _page(items: list[dict[str, Any]], params: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    limit = int(params.get("limit") or 100)
    start = int(base64.b64decode(params["cursor"]).decode().split(":")[1]) if params.get("cursor") else 0
    page = items[start:start + limit]
    more = start + limit < len(items)
    cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    return page, cursor


def _bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    return value[len("Bearer "):] if value.startswith("Bearer ") else None


def _ok(**fields: Any) -> web.Response:
    return web.json_response({"ok": True, **fields})


def _error(error: str, *, status: int = 200, headers: dict[str, str] | None = None, **fields: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error": error, **fields}
    if error == "invalid_blocks":
        body.setdefault("response_metadata", {"messages": [f"[ERROR] {e}" for e in fields.get("errors", [])]})
    return web.json_response(body, status=status, headers=headers)
