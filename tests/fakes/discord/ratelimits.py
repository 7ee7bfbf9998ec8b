"""Discord's rate limits (topics/rate-limits): per-route buckets counted per top-level resource
(channel, guild, webhook / interaction token), answered with `X-RateLimit-*` headers on every
response, and a global limit of 50 requests a second per bot that interaction endpoints are not
bound to. A request over a limit gets 429 with Discord's body (`message`, `retry_after`,
`global`) and headers (`Retry-After`, `X-RateLimit-Scope`, `X-RateLimit-Global` for the global
one, `Via` as Discord's edge adds; without it discord.py takes a 429 for a Cloudflare ban).

Discord does not publish per-route numbers ("should not be hard coded"); the defaults below are
the ones DESIGN.md §5 plans for (5 messages per 5 s per channel) and apply alike to the other
write routes; reads count only toward the global limit. Tests may pass their own table."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from tests.fakes.clock import ServiceClock

GLOBAL_PER_SECOND = 50


@dataclass(frozen=True)
class RouteLimit:
    method: str
    pattern: str          # path regex; its first group is the top-level resource id
    bucket: str           # the X-RateLimit-Bucket hash Discord would send
    limit: int
    per: float            # seconds


DEFAULT_ROUTE_LIMITS: tuple[RouteLimit, ...] = (
    RouteLimit("POST", r"/channels/(\d+)/messages", "a1b2c3d4e5f60001", 5, 5.0),
    RouteLimit("POST", r"/channels/(\d+)/messages/\d+/threads", "a1b2c3d4e5f60002", 5, 5.0),
    RouteLimit("POST", r"/channels/(\d+)/threads", "a1b2c3d4e5f60002", 5, 5.0),
    RouteLimit("POST", r"/users/@me/channels", "a1b2c3d4e5f60005", 5, 5.0),
    RouteLimit("PATCH", r"/webhooks/(\d+/[^/]+)/messages/@original", "a1b2c3d4e5f60006", 5, 5.0),
    RouteLimit("POST", r"/webhooks/(\d+/[^/]+)", "a1b2c3d4e5f60006", 5, 5.0),
)


def is_interaction_endpoint(path: str) -> bool:
    """Interaction responses and followups (interactions/receiving-and-responding#endpoints)."""
    return path.startswith(("/interactions/", "/webhooks/"))


@dataclass
class _Window:
    started: float
    used: int = 0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]
    body: dict[str, Any] | None = None   # the 429 body when refused


# (t + w) - t is not always exactly w in floating point: a test that skips exactly a window's
# length must find it renewed.
WINDOW_TOLERANCE = 1e-6


class RateLimiter:
    def __init__(self, clock: ServiceClock, routes: tuple[RouteLimit, ...] = DEFAULT_ROUTE_LIMITS,
                 global_per_second: int = GLOBAL_PER_SECOND) -> None:
        self.clock = clock
        self.routes = [(route, re.compile(route.pattern)) for route in routes]
        self.global_per_second = global_per_second
        self._buckets: dict[tuple[str, str], _Window] = {}
        self._global = _Window(started=-math.inf)
        self.refused: list[tuple[str, str, str]] = []   # (scope, method, path) of every 429

    def check(self, method: str, path: str) -> Verdict:
        """Count one request; say whether it may go through and with which headers."""
        now = self.clock.monotonic()
        route, resource = self._route(method, path)
        if not is_interaction_endpoint(path):
            if now - self._global.started >= 1.0 - WINDOW_TOLERANCE:
                self._global = _Window(started=now)
            if self._global.used >= self.global_per_second:
                retry = round(self._global.started + 1.0 - now, 3)
                self.refused.append(("global", method, path))
                return Verdict(False, {"Retry-After": str(max(1, math.ceil(retry))),
                                       "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global",
                                       "Via": "1.1 google"},
                               {"message": "You are being rate limited.", "retry_after": retry,
                                "global": True})
        if route is None:
            if not is_interaction_endpoint(path):
                self._global.used += 1
            return Verdict(True, {})
        key = (route.bucket, resource)
        window = self._buckets.get(key)
        if window is None or now - window.started >= route.per - WINDOW_TOLERANCE:
            window = self._buckets[key] = _Window(started=now)
        reset_after = round(window.started + route.per - now, 3)
        headers = {"X-RateLimit-Limit": str(route.limit),
                   "X-RateLimit-Reset": f"{self.clock.wall() + reset_after:.3f}",
                   "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                   "X-RateLimit-Bucket": route.bucket}
        if window.used >= route.limit:
            self.refused.append(("user", method, path))
            return Verdict(False, {**headers, "X-RateLimit-Remaining": "0",
                                   "Retry-After": str(max(1, math.ceil(reset_after))),
                                   "X-RateLimit-Scope": "user", "Via": "1.1 google"},
                           {"message": "You are being rate limited.", "retry_after": reset_after,
                            "global": False})
        window.used += 1
        if not is_interaction_endpoint(path):
            self._global.used += 1
        return Verdict(True, {**headers, "X-RateLimit-Remaining": str(route.limit - window.used)})

    def _route(self, method: str, path: str) -> tuple[RouteLimit | None, str]:
        for route, pattern in self.routes:
            if route.method == method:
                found = pattern.fullmatch(path)
                if found:
                    return route, (found.group(1) or "") if found.groups() else ""
        return None, ""
