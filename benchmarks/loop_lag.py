"""The event loop's longest stall while a block of work runs, measured the way a user feels it:
a 10 ms ticker that notes how much later than asked each tick came (DESIGN.md §9)."""

from __future__ import annotations

import asyncio
import time

TICK = 0.010


class LoopLag:
    """`async with LoopLag() as lag: ...`; afterwards `lag.max_ms` is the longest stall seen."""

    def __init__(self, tick: float = TICK) -> None:
        self.tick = tick
        self.max_seconds = 0.0
        self._running = False
        self._task: asyncio.Task | None = None

    @property
    def max_ms(self) -> float:
        return self.max_seconds * 1000

    async def _ticker(self) -> None:
        last = time.perf_counter()
        while self._running:
            await asyncio.sleep(self.tick)
            now = time.perf_counter()
            self.max_seconds = max(self.max_seconds, now - last - self.tick)
            last = now

    async def __aenter__(self) -> "LoopLag":
        self._running = True
        self._task = asyncio.ensure_future(self._ticker())
        await asyncio.sleep(0)  # the ticker's first reading starts before the work
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._running = False
        assert self._task is not None
        await self._task
