"""Time as a seam: the scheduler and delivery code ask a Clock, so tests can run a week in a second.

The one Clock of the core: `now()` for what a reader or the calendar sees (wall time, UTC),
`monotonic()` for measuring intervals (pacing), which a wall clock stepped backwards must not
stretch, and `sleep()`. Tests inject `tests.fakes.clock.FakeClock`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards, for measuring intervals."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


async def sleep_unless_stopped(clock: Clock, seconds: float, stop: asyncio.Event) -> bool:
    """Sleep on `clock`, waking early when `stop` is set. Returns True when stopped."""
    if stop.is_set():
        return True
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, stopper):
            if not task.done():
                task.cancel()
        await asyncio.gather(sleeper, stopper, return_exceptions=True)
    return stop.is_set()
