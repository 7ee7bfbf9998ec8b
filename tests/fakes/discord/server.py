"""FakeDiscord: the pieces of this package on one LoopbackServer (see __init__ for the tour)."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from typing import Any

from aiohttp import web

from tests.fakes.clock import ServiceClock
from tests.fakes.discord.gateway import MAX_GUILDS_PER_SESSION, Gateway
from tests.fakes.discord.interactions import UPLOAD_LIMIT_BYTES, UPLOADED_FILES, Interactions
from tests.fakes.discord.ratelimits import DEFAULT_ROUTE_LIMITS, GLOBAL_PER_SECOND, RateLimiter, RouteLimit
from tests.fakes.discord.rest import RestRoutes
from tests.fakes.discord.state import (
    API_PREFIX,
    ERRORS,
    GATEWAY_PATH,
    DiscordError,
    FakeGuild,
    RecordedCall,
    ScriptedFailure,
    Snowflakes,
    user_payload,
)
from tests.fakes.discord.world import DiscordWorld
from tests.fakes.loopback import LoopbackServer


class FakeDiscord(LoopbackServer, DiscordWorld, RestRoutes, Interactions, Gateway):
    def __init__(self, *, token: str = "fake-discord-token", heartbeat_interval_ms: int = 45_000,
                 clock: ServiceClock | None = None,
                 route_limits: tuple[RouteLimit, ...] = DEFAULT_ROUTE_LIMITS,
                 global_per_second: int = GLOBAL_PER_SECOND,
                 max_guilds_per_session: int = MAX_GUILDS_PER_SESSION,
                 dm_openings_limit: int = 10, dm_openings_window: float = 60.0) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.clock = clock or ServiceClock()
        self.rate_limits = RateLimiter(self.clock, route_limits, global_per_second)
        self.max_guilds_per_session = max_guilds_per_session
        self.dm_openings_limit = dm_openings_limit
        self.dm_openings_window = dm_openings_window
        self._ids = Snowflakes()
        self.application_id = self._ids.next()
        self.bot_user = user_payload(self.application_id, "paperbot", bot=True)
        self.calls: list[RecordedCall] = []
        self.channels: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}   # channel id -> oldest first
        self.guilds: dict[int, FakeGuild] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}   # None = global
        self.command_puts: list[int | None] = []
        self.callbacks: dict[int, dict[str, Any]] = {}
        self.followups: dict[int, list[dict[str, Any]]] = {}
        self.uploads: dict[str, bytes] = {}       # attachment id -> the file's bytes
        self.upload_limit = UPLOAD_LIMIT_BYTES    # a test may lower it to reach Discord's 413
        self.late_callbacks: list[int] = []      # answered after the 3 s deadline
        self.expired_followups: list[int] = []   # edits / followups after the 15 minutes
        self.identifies: list[dict[str, Any]] = []
        self.gateway_closes: list[int] = []      # close codes the fake sent (4010, 4011)
        self._interactions: dict[int, dict[str, Any]] = {}
        self._interaction_times: dict[int, float] = {}
        self._edits: dict[int, list[dict[str, Any]]] = {}
        self._dm_openings: list[float] = []
        self._failures: list[ScriptedFailure] = []
        self._sockets: dict[web.WebSocketResponse, tuple[int, int]] = {}
        self._sequence = itertools.count(1)
        self._changed = asyncio.Condition()
        self.user = user_payload(self._ids.next(), "ada")
        self.guild = self.add_guild("Paper Lab")
        self.people: dict[int, dict[str, Any]] = {int(self.user["id"]): self.user}
        self.dm_channels: dict[int, int] = {}   # user id -> DM channel id
        self.closed_dms: set[int] = set()
        app = web.Application()
        app.router.add_get(GATEWAY_PATH, self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        super().__init__(app)

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + GATEWAY_PATH

    def calls_to(self, method: str, pattern: str) -> list[RecordedCall]:
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    # -- scripting ------------------------------------------------------------------------------

    def fail(self, method: str, path: str, *, status: int | None = None, code: int = 0,
             message: str = "", retry_after: float | None = None, via: bool = True, times: int = 1,
             after: int = 0) -> None:
        """After letting `after` matching calls through, the next `times` calls matching `method`
        and the path regex (without /api/v10) get this error instead of their answer. A known
        `code` brings Discord's status and message (state.ERRORS) unless given."""
        known_status, known_message = ERRORS.get(code, (None, ""))
        status = status or known_status
        if status is None:
            raise ValueError(f"fail(): give a status for code {code}")
        self._failures.append(ScriptedFailure(method, re.compile(path), status, code,
                                              message or known_message or _default_message(status),
                                              retry_after, via, times, after))

    def _scripted(self, method: str, path: str) -> ScriptedFailure | None:
        for failure in self._failures:
            if failure.method == method and failure.path.fullmatch(path) and failure.times > 0:
                if failure.after > 0:
                    failure.after -= 1
                    continue
                failure.times -= 1
                return failure
        return None

    # -- REST -----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await _read_body(request)
        query = dict(request.query)
        status, payload, headers = await self._answer(request, path, query, body)
        self.calls.append(RecordedCall(request.method, path, query, body, status))
        async with self._changed:
            self._changed.notify_all()
        if status == 204:
            return web.Response(status=204, headers=headers)
        # Discord's exact header: discord.py parses JSON only when it reads `application/json`.
        return web.Response(body=json.dumps(payload).encode(), status=status,
                            headers={**headers, "Content-Type": "application/json"})

    async def _answer(self, request: web.Request, path: str, query: dict[str, str],
                      body: Any) -> tuple[int, Any, dict[str, str]]:
        is_webhook = path.startswith(("/interactions/", "/webhooks/"))
        if not is_webhook and request.headers.get("Authorization") != f"Bot {self.token}":
            return 401, {"message": "401: Unauthorized", "code": 0}, {}
        failure = self._scripted(request.method, path)
        if failure is not None:
            return _scripted_answer(failure)
        verdict = self.rate_limits.check(request.method, path)
        if not verdict.allowed:
            return 429, verdict.body, verdict.headers
        try:
            status, payload = self._route(request.method, path, query, body)
        except DiscordError as exc:
            error: dict[str, Any] = {"message": exc.message, "code": exc.code}
            if exc.errors is not None:
                error["errors"] = exc.errors
            return exc.status, error, verdict.headers
        return status, payload, verdict.headers

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        for route_method, pattern, handler in self._routes():
            if method == route_method:
                found = re.fullmatch(pattern, path)
                if found:
                    return handler(query, body, *found.groups())
        raise DiscordError(404, 0, f"404: Not Found ({method} {path} is not in the fake)")


def _scripted_answer(failure: ScriptedFailure) -> tuple[int, Any, dict[str, str]]:
    headers: dict[str, str] = {"Via": "1.1 google"} if failure.via else {}
    payload: dict[str, Any] = {"message": failure.message, "code": failure.code}
    if failure.status == 429:
        retry = failure.retry_after if failure.retry_after is not None else 1.0
        # Discord's 429 body; `code` only for the limits that have one (20016 slowmode).
        payload = {"message": failure.message, "retry_after": retry, "global": False}
        if failure.code:
            payload["code"] = failure.code
        headers.update({"Retry-After": f"{retry:g}", "X-RateLimit-Scope": "shared"})
    return failure.status, payload, headers


def _default_message(status: int) -> str:
    return {403: "Missing Permissions", 404: "Unknown Channel", 429: "You are being rate limited.",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")


async def _read_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        payload = form.get("payload_json")
        body = json.loads(payload) if isinstance(payload, str) else {}
        files = [{"field": name, "filename": part.filename, "content": part.file.read(),
                  "content_type": part.content_type}
                 for name, part in form.items() if isinstance(part, web.FileField)]
        if files:
            body[UPLOADED_FILES] = files   # checked and taken by the route (see Interactions.attach)
        return body
    text = await request.text()
    return json.loads(text) if text else None
