"""A clock whose sleep advances time instantly: a simulated week runs in milliseconds."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone


class FakeClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(timezone.utc)
        self.sleeps: list[float] = []
        self._monotonic = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        # Moves only with sleep/advance; `set` steps the wall clock alone (as NTP would), which
        # anything measuring intervals on `monotonic()` must survive.
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self._monotonic += max(0.0, seconds)
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


class ServiceClock:
    """The time a fake service keeps for its own rules (interaction deadlines, rate-limit windows):
    real monotonic time, plus whatever a test skips with `advance`, plus (when `following` a
    FakeClock) however far that clock has moved since. A rule about 3 s or 15 minutes is checked
    without waiting for it, while time still flows for clients that sleep on their own (discord.py
    waits out `X-RateLimit-Reset-After` in real time). `frozen=True` stops the real flow, for tests
    of the rules themselves that must not depend on how busy the machine is."""

    def __init__(self, *, following: FakeClock | None = None, frozen: bool = False) -> None:
        self._frozen = frozen
        self._start = time.monotonic()
        self._skipped = 0.0
        self._following = following
        self._followed_at = following.now() if following is not None else None

    def monotonic(self) -> float:
        if self._following is not None and self._followed_at is not None:
            # Only forward moves count: a test that sets its clock back a day does not make the
            # service's rate-limit windows run backwards.
            now = self._following.now()
            self._skipped += max(0.0, (now - self._followed_at).total_seconds())
            self._followed_at = now
        return (self._start if self._frozen else time.monotonic()) + self._skipped

    def wall(self) -> float:
        """Epoch seconds on the same clock (for headers such as X-RateLimit-Reset)."""
        return time.time() + (self.monotonic() - time.monotonic())

    def advance(self, seconds: float) -> None:
        self._skipped += seconds


class SteppedMonotonic:
    """A monotonic reading (`time.monotonic`'s stand-in) that moves only when slept on, or when a
    test moves `now` itself; the waits are recorded (rounded to the microsecond), never slept."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
        await asyncio.sleep(0)
