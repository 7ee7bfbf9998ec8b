"""A clock whose sleep advances time instantly: a simulated week runs in milliseconds."""

from __future__ import annotations

import asyncio
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
