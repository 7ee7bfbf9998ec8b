"""Process-wide pacing of requests to arXiv.

arXiv's terms of use (reference/arxiv/tou.md): "make no more than one request every three seconds,
and limit requests to a single connection at a time". `RequestPacer` enforces both, measured
end-to-start: a request may start only `min_interval` seconds after the previous one *ended*.
That is the stricter reading: it implies start-to-start spacing of at least `min_interval` too, and a
slow 2000-item download cannot eat the pause that follows it.

Use one pacer for every arXiv request of the process (listing and API alike); `ArxivClient` makes
one if none is given, so share a client (or pass the same pacer to every client).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# Seconds on a monotonic scale (time.monotonic by default; tests pass their own).
MonotonicReading = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


class RequestPacer:
    """`async with pacer:` around each request: one at a time, `min_interval` s from end to start.

    `hold_off(seconds)` additionally keeps every request of the process from starting before
    `seconds` from now: used when arXiv answers 429/503 with Retry-After.
    """

    def __init__(self, min_interval: float, clock: MonotonicReading = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        if min_interval < 0:
            raise ValueError(f"min_interval must be >= 0, got {min_interval}")
        self.min_interval = float(min_interval)
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._last_end: float | None = None
        self._not_before: float | None = None

    def hold_off(self, seconds: float) -> None:
        """No request starts until `seconds` from now (later hold-offs never shorten earlier ones)."""
        until = self._clock() + max(0.0, seconds)
        if self._not_before is None or until > self._not_before:
            self._not_before = until

    def _earliest_start(self) -> float | None:
        candidates: list[float] = []
        if self._not_before is not None:
            candidates.append(self._not_before)
        if self._last_end is not None:
            candidates.append(self._last_end + self.min_interval)
        return max(candidates) if candidates else None

    def wait_needed(self) -> float:
        """Seconds a request starting now would have to wait (0 when it could start at once)."""
        earliest = self._earliest_start()
        return 0.0 if earliest is None else max(0.0, earliest - self._clock())

    async def __aenter__(self) -> "RequestPacer":
        await self._lock.acquire()
        try:
            while (target := self._earliest_start()) is not None and (wait := target - self._clock()) > 0:
                await self._sleep(wait)
                # Sleep again only if a hold-off moved the target while we slept; an injected
                # sleep that does not move the clock must not make us spin.
                if (self._earliest_start() or target) <= target:
                    break
        except BaseException:
            self._lock.release()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._last_end = self._clock()
        self._lock.release()
