"""The bot-wide pace of Discord requests.

Discord's global limit (topics/rate-limits#global-rate-limit) is 50 requests a second per bot,
counted per REQUEST as it ARRIVES, not per message: a day's parent in a text channel is two (the
message, then its thread), and crash recovery reads history. The core paces messages (`Pace`,
kept by the runner); `RequestPace` additionally bounds every request the sink makes, across all
channels.

A request may reach Discord any time between the moment we start it and the moment its answer
is back, and a busy event loop stretches that (a pace that only spaces the starts lets requests
queued during a stall arrive together, and one 429 wave turns into more as discord.py retries).
So a request counts against the limit from its start until one window after its completion:
whatever the delays, no window of Discord's can see more than `per_second` of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

WINDOW_SECONDS = 1.0
_EPSILON = 1e-6   # a wake-up "exactly" at the window's end may read a hair before it


class RequestPace:
    """At most `per_second` requests counted per second (from start to completion + 1 s), and
    starts spaced by at least half the average interval so that a quiet spell does not release
    a whole second's worth at once. Callers are served in order (one lock)."""

    def __init__(self, per_second: float, *, monotonic: Callable[[], float] | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.limit = max(1, int(per_second * WINDOW_SECONDS))
        self.min_gap = 0.5 / per_second
        self._monotonic = monotonic
        self._sleep = sleep or asyncio.sleep
        self._in_flight = 0
        self._completed: deque[float] = deque()   # completion times within the last window
        self._last_start: float | None = None
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()

    def _now(self) -> float:
        return self._monotonic() if self._monotonic else asyncio.get_running_loop().time()

    @property
    def counted(self) -> int:
        """Requests that count against the limit right now."""
        now = self._now()
        while self._completed and now - self._completed[0] >= WINDOW_SECONDS - _EPSILON:
            self._completed.popleft()
        return self._in_flight + len(self._completed)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """`async with pace.slot(): await the_request()`."""
        async with self._lock:
            while True:
                counted, now = self.counted, self._now()
                if counted < self.limit:
                    gap = 0.0 if self._last_start is None else self._last_start + self.min_gap - now
                    if gap <= _EPSILON:
                        break
                    await self._sleep(gap)
                elif self._completed:
                    await self._sleep(self._completed[0] + WINDOW_SECONDS - now)
                else:   # all in flight: the first to complete starts the clock
                    self._released.clear()
                    await self._released.wait()
            self._in_flight += 1
            self._last_start = self._now()
        try:
            yield
        finally:
            self._in_flight -= 1
            self._completed.append(self._now())
            self._released.set()
