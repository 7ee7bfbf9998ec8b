"""The bot-wide request pace: never more than `per_second` requests reaching Discord in any
window, however long requests take and however late the event loop wakes."""

from __future__ import annotations

import asyncio

from bot.platforms.discord.pacing import RequestPace


class SteppedTime:
    """Time that moves only when someone sleeps (or a request takes `latency`)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def busiest_window(spans: list[tuple[float, float]]) -> int:
    """The most requests whose [start, end] span touches one window [t, t + 1): any of them
    may have arrived in it."""
    return max(sum(1 for start, end in spans if start < t + 1 and end >= t)
               for t in [s for s, _ in spans] + [e for _, e in spans])


async def test_no_window_sees_more_than_the_limit_even_with_slow_requests():
    time = SteppedTime()
    pace = RequestPace(40, monotonic=time, sleep=time.sleep)
    spans = []

    async def request(latency: float) -> None:
        async with pace.slot():
            start = time.now
            time.now += latency   # the request takes this long (the loop is busy meanwhile)
            spans.append((start, time.now))

    await asyncio.gather(*(request(0.3 if n % 7 == 0 else 0.01) for n in range(400)))
    assert len(spans) == 400
    assert busiest_window(spans) <= 40


async def test_the_pace_is_kept_not_undershot_by_much():
    time = SteppedTime()
    pace = RequestPace(40, monotonic=time, sleep=time.sleep)
    starts = []

    async def request() -> None:
        async with pace.slot():
            starts.append(time.now)

    await asyncio.gather(*(request() for _ in range(400)))
    assert 9.0 <= starts[-1] - starts[0] <= 10.5   # about 40 a second
