"""The bot-wide pace of Discord requests.

Discord's global limit (topics/rate-limits#global-rate-limit) is 50 requests a second per bot,
counted per REQUEST, not per message: a day's parent in a text channel is two (the message, then
its thread), and crash recovery reads history. The core paces messages (`Pace`, kept by the
runner); `RequestPace` additionally spaces every request the sink makes, across all channels,
so that no second ever holds more than `per_second + burst` of them, whatever the mix.

It runs on the event loop's clock: Discord counts real seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class RequestPace:
    """A shared pace (GCRA, the token bucket's scheduling form): `per_second` requests a second,
    up to `burst` at once after a quiet spell, so any one-second window sees at most about
    `per_second + burst`. Each caller reserves its slot before awaiting anything, so concurrent
    deliveries never take the same one."""

    def __init__(self, per_second: float, *, burst: int = 5,
                 monotonic: Callable[[], float] | None = None) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be positive and burst at least 1")
        self.per_second = per_second
        self.interval = 1.0 / per_second
        self.tolerance = (burst - 1) * self.interval
        self._monotonic = monotonic
        self._theoretical_next = float("-inf")   # when the next request would be due at the pace

    def _now(self) -> float:
        return self._monotonic() if self._monotonic else asyncio.get_running_loop().time()

    def reserve(self) -> float:
        """Take the next slot; the seconds to wait before using it (0: now)."""
        now = self._now()
        due = max(self._theoretical_next, now)
        self._theoretical_next = due + self.interval
        return max(0.0, due - self.tolerance - now)

    async def slot(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)
