import asyncio
import time

import pytest

from bot.arxiv.pacing import RequestPacer
from tests.fakes.clock import SteppedMonotonic


async def test_first_request_starts_at_once_and_later_ones_wait_from_the_previous_end():
    clock = SteppedMonotonic()
    pacer = RequestPacer(3.0, clock=clock, sleep=clock.sleep)
    starts, ends = [], []
    for duration in (0.5, 2.0, 0.0):
        async with pacer:
            starts.append(clock.now)
            clock.now += duration  # the request takes this long
            ends.append(clock.now)
    assert clock.sleeps == [3.0, 3.0]
    assert [starts[i + 1] - ends[i] for i in range(2)] == [3.0, 3.0]  # end-to-start


async def test_no_wait_when_the_interval_has_already_passed():
    clock = SteppedMonotonic()
    pacer = RequestPacer(3.0, clock=clock, sleep=clock.sleep)
    async with pacer:
        pass
    clock.now += 10
    async with pacer:
        pass
    assert clock.sleeps == []
    assert pacer.wait_needed() == 3.0


async def test_concurrent_requests_never_overlap_and_keep_the_interval_with_a_real_clock():
    interval = 0.05
    pacer = RequestPacer(interval)
    spans: list[tuple[float, float]] = []

    async def request() -> None:
        async with pacer:
            start = time.monotonic()
            await asyncio.sleep(0.005)
            spans.append((start, time.monotonic()))

    began = time.monotonic()
    await asyncio.gather(*(request() for _ in range(6)))
    assert len(spans) == 6
    spans.sort()
    for (start, end), (next_start, _) in zip(spans, spans[1:]):
        assert next_start - end >= interval - 0.002  # monotonic clock resolution slack
        assert next_start - start >= interval
    assert time.monotonic() - began >= 5 * interval


async def test_hold_off_delays_every_request_and_is_never_shortened():
    clock = SteppedMonotonic()
    pacer = RequestPacer(0.0, clock=clock, sleep=clock.sleep)
    pacer.hold_off(7)
    pacer.hold_off(2)  # a shorter hold-off does not cut the longer one
    async with pacer:
        pass
    assert clock.sleeps == [7.0]


async def test_a_hold_off_made_while_another_request_waits_extends_its_wait():
    clock = SteppedMonotonic()
    pacer = RequestPacer(3.0, clock=clock, sleep=clock.sleep)
    order: list[str] = []

    async def first() -> None:
        async with pacer:
            order.append("first")
            await asyncio.sleep(0)  # let the second request queue up behind us
            pacer.hold_off(10)  # e.g. arXiv answered 429 with Retry-After: 10

    async def second() -> None:
        async with pacer:
            order.append(f"second at {clock.now - 100:g}")

    await asyncio.gather(first(), second())
    assert order == ["first", "second at 10"]


async def test_an_error_inside_the_block_releases_the_pacer():
    clock = SteppedMonotonic()
    pacer = RequestPacer(1.0, clock=clock, sleep=clock.sleep)
    with pytest.raises(RuntimeError):
        async with pacer:
            raise RuntimeError("request failed")
    async with pacer:
        pass
    assert clock.sleeps == [1.0]


async def test_cancelled_while_waiting_releases_the_pacer():
    clock = SteppedMonotonic()
    never = asyncio.get_running_loop().create_future()

    async def blocking_sleep(seconds: float) -> None:
        await never  # a wait that only ends by cancellation

    pacer = RequestPacer(60.0, clock=clock, sleep=blocking_sleep)
    async with pacer:
        pass
    waiting = asyncio.ensure_future(pacer.__aenter__())
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    clock.now += 60
    await asyncio.wait_for(pacer.__aenter__(), timeout=1)  # not stuck behind the cancelled waiter
    await pacer.__aexit__(None, None, None)


def test_negative_interval_is_refused():
    with pytest.raises(ValueError, match="min_interval"):
        RequestPacer(-1)
