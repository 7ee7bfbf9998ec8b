"""Whether a platform accepts our calls at all, and what every call to it goes through.

Some refusals are not about one destination but about the whole workspace or bot: a revoked token,
the app missing a scope, a workspace preference. Calling again for every other channel would only
collect the same refusal a thousand times (and pause a thousand channels with a thousand log
lines). So the core keeps one `PlatformHealth` per workspace/bot, fed by the sink's neutral
`PlatformUnavailable` errors:

- `failed()` records the problem (logged once, in one line; shown on /healthz via `describe()`);
- `gate()` runs before every call: while a problem holds it refuses at once, without calling the
  platform, until the back-off (`PROBE_BACKOFF`) is over; then exactly one caller probes (the
  sink's `probe`, e.g. Slack's auth.test, when the problem says a dedicated probe can tell;
  otherwise the caller's own call is the probe) and the rest keep waiting;
- any call that succeeds ends the problem (`succeeded()`), which lifts the pauses it caused
  (the sink's `pause_lifted` asks `probe_due()`); `reset()` (/papers resume) makes the next call
  a probe at once.

`PlatformCalls` is the one door of a sink's requests: the health gate, then the platform-wide
request budget the sink declares in its `Pace` (`platform_requests_per_second`, counted by
`bot.delivery.budget.RequestBudget`), then the request, then the bookkeeping. Adapters only
translate their library's errors into the neutral ones of `bot.delivery.sink`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import monotonic as _monotonic
from typing import TypeVar

from bot.delivery.budget import RequestBudget
from bot.delivery.sink import Pace, PlatformUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_BACKOFF = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0)  # seconds before the 1st, 2nd, ... probe


@dataclass(slots=True)
class PlatformProblem:
    code: str
    reason: str
    probe_separately: bool
    since: float          # monotonic seconds
    probes: int = 0       # failed probes since it began (picks the next back-off)
    next_probe_at: float = 0.0


class PlatformHealth:
    """See the module docstring. `name` says whose health it is in the log ("Slack workspace
    T123"), `platform` the platform's name ("Slack"); `probe` asks the platform whether a problem
    that can be probed separately is over (raising `PlatformUnavailable` while it is not)."""

    def __init__(self, name: str, platform: str, *, monotonic: Callable[[], float] = _monotonic,
                 probe: Callable[[], Awaitable[object]] | None = None) -> None:
        self.name = name
        self.platform = platform
        self.monotonic = monotonic
        self.probe = probe
        self.problem: PlatformProblem | None = None
        self._probe_lock = asyncio.Lock()

    def describe(self) -> str | None:
        return None if self.problem is None else self.problem.reason

    def probe_due(self) -> bool:
        return self.problem is None or self.monotonic() >= self.problem.next_probe_at

    def failed(self, unavailable: PlatformUnavailable) -> None:
        now = self.monotonic()
        problem = self.problem
        if problem is None or problem.code != unavailable.code:
            self.problem = PlatformProblem(unavailable.code, unavailable.reason, unavailable.probe_separately,
                                           now, 0, now + PROBE_BACKOFF[0])
            log.error("%s: %s. Posting to every %s destination is held; paperbot asks %s again in %.0f s "
                      "and resumes the paused destinations by itself once %s accepts calls (or on "
                      "/papers resume).", self.name, unavailable.reason, self.platform, self.platform,
                      PROBE_BACKOFF[0], self.platform)
            return
        problem.probes += 1
        wait = PROBE_BACKOFF[min(problem.probes, len(PROBE_BACKOFF) - 1)]
        problem.next_probe_at = now + wait
        log.info("%s still refuses calls (%s); next try in %.0f s", self.name, problem.code, wait)

    def succeeded(self) -> None:
        problem = self.problem
        # Any accepted call ends it: for a scope or a preference the probe's calls may succeed
        # and the refused one fail again, which only starts the problem over (one more log line).
        if problem is not None:
            log.warning("%s accepts calls again (the %s problem is over); paused destinations resume",
                        self.name, problem.code)
            self.problem = None

    def reset(self) -> None:
        """Someone says it is fixed (/papers resume): the next call is a probe, right away."""
        if self.problem is not None:
            self.problem.next_probe_at = self.monotonic()

    async def gate(self) -> None:
        """Raise PlatformUnavailable while a problem holds and no probe is due."""
        if self.problem is None:
            return
        async with self._probe_lock:
            problem = self.problem
            if problem is None:
                return
            if self.monotonic() < problem.next_probe_at:
                raise PlatformUnavailable(problem.reason, problem.code, problem.probe_separately)
            # This caller probes; everyone arriving meanwhile waits for the next back-off.
            problem.next_probe_at = self.monotonic() + PROBE_BACKOFF[min(problem.probes + 1, len(PROBE_BACKOFF) - 1)]
            if not problem.probe_separately or self.probe is None:
                return  # the caller's own call is the probe
            try:
                await self.probe()
            except PlatformUnavailable as unavailable:
                self.failed(unavailable)
                raise PlatformUnavailable(self.describe() or problem.reason, problem.code,
                                          problem.probe_separately) from None
            self.succeeded()


class PlatformCalls:
    """Every request a sink makes goes through `call`: the health gate, the platform-wide
    request budget its `Pace` declares, the request, the bookkeeping of the outcome."""

    def __init__(self, pace: Pace, health: PlatformHealth | None = None) -> None:
        self.health = health
        rate = pace.platform_requests_per_second
        # Real time (the event loop's): the platform counts real seconds.
        self.budget = RequestBudget(rate) if rate else None

    async def call(self, request: Callable[[], Awaitable[T]]) -> T:
        """`request()` raises the neutral errors of `bot.delivery.sink` (the adapter translates)."""
        health = self.health
        if health is not None:
            await health.gate()
        try:
            if self.budget is None:
                result = await request()
            else:
                async with self.budget.slot():
                    result = await request()
        except PlatformUnavailable as unavailable:
            if health is not None:
                health.failed(unavailable)
            raise
        if health is not None:
            health.succeeded()
        return result
