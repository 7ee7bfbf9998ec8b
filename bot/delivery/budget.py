"""A platform-wide request budget that holds whatever the delays between us and the platform.

Platforms count requests as they ARRIVE (Slack's workspace posting rate, Discord's 50 requests a
second per bot), and a request may reach them any time between the moment we start it and the
moment its answer is back. A busy event loop, a full connection pool or a slow network stretch
that span. A pace that only spaces the STARTS (a slot per request) lets requests delayed during a
stall arrive together once it ends: on a loaded machine that is a wave of 429s, each costing a
whole Retry-After.

So a request counts against the budget from its start until one window after its completion.
Whatever happened in between, every request that arrives within one window [t, t + 1 s) is still
counted when the last of them starts (it started before t + 1 s; the others completed at or after
t, or are in flight), so no window of the platform's can see more than the limit of ours. The
price is the latency of each request (a request holds its unit for latency + 1 s): a few percent
when the platform answers in tens of milliseconds.

Starts are also spaced by at least half the average interval (0.5/rate), so a quiet spell does
not release a whole second's worth at once; not by the whole interval, because a busy loop
overshoots every such sleep and the budget would then fall short of the rate it may use. Callers
are served in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

WINDOW_SECONDS = 1.0
_EPSILON = 1e-6   # a wake-up "exactly" at the window's end may read a hair before it


class RequestBudget:
    """At most `per_second` requests counted per window of one second, a request being counted
    from its start until one window after its completion; starts at least 0.5/`per_second` apart.

    `monotonic` and `sleep` default to the event loop's own time; the delivery runner passes
    its Clock's, so tests that skip time skip the waits too."""

    def __init__(self, per_second: float, *, monotonic: Callable[[], float] | None = None,
                 sleep: Callable[[float], Awaitable[None]] | None = None) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.per_second = per_second
        self.limit = max(1, int(per_second * WINDOW_SECONDS + _EPSILON))
        self.min_gap = 0.5 / per_second
        self._monotonic = monotonic
        self._sleep = sleep or asyncio.sleep
        self._in_flight = 0
        self._completed: deque[float] = deque()   # completion times within the last window
        self._last_start: float | None = None
        self._busy = False
        self._turns: deque[asyncio.Future[None]] = deque()
        self._completion: asyncio.Future[None] | None = None
        # Callers parked on the lock or on a completion rather than asleep on the clock (a test
        # clock that moves only when every task sleeps on it must not wait for them).
        self.parked = 0

    def _now(self) -> float:
        return self._monotonic() if self._monotonic else asyncio.get_running_loop().time()

    @property
    def counted(self) -> int:
        """Requests that count against the limit right now."""
        now = self._now()
        while self._completed and now - self._completed[0] >= WINDOW_SECONDS - _EPSILON:
            self._completed.popleft()
        return self._in_flight + len(self._completed)

    async def acquire(self) -> None:
        """Wait until one more request may start, and count it (pair with `release`)."""
        await self._take_turn()
        try:
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
                    self._completion = asyncio.get_running_loop().create_future()
                    self.parked += 1
                    try:
                        await self._completion
                    finally:
                        if self._completion is not None:   # cancelled, not woken by release()
                            self._completion = None
                            self.parked -= 1
            self._in_flight += 1
            self._last_start = self._now()
        finally:
            self._pass_turn()

    def release(self) -> None:
        """The request started by the matching `acquire` has completed (or failed)."""
        self._in_flight -= 1
        self._completed.append(self._now())
        if self._completion is not None:
            waiting, self._completion = self._completion, None
            self.parked -= 1
            if not waiting.done():
                waiting.set_result(None)

    # Callers are served one at a time, in order: a hand-off queue rather than asyncio.Lock, so
    # that `parked` is exact at every moment (a caller stops being parked when its turn is
    # handed to it, not when the event loop gets round to running it).
    async def _take_turn(self) -> None:
        if not self._busy:
            self._busy = True
            return
        turn = asyncio.get_running_loop().create_future()
        self._turns.append(turn)
        self.parked += 1
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._pass_turn()       # handed over just as it was cancelled: pass it on
            else:
                self._turns.remove(turn)
                self.parked -= 1
            raise

    def _pass_turn(self) -> None:
        while self._turns:
            turn = self._turns.popleft()
            self.parked -= 1
            if not turn.done():
                turn.set_result(None)
                return
        self._busy = False

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """`async with budget.slot(): await the_request()`."""
        await self.acquire()
        try:
            yield
        finally:
            self.release()
