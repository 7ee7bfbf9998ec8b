"""The delivery runner over the real SQLite ledger: resume without duplicates, pausing, pacing."""

from __future__ import annotations

import asyncio
import heapq
from datetime import date, datetime, timedelta, timezone

import pytest

from bot import metrics
from bot.delivery.runner import (
    DONE,
    FAILED,
    INTERRUPTED,
    PAUSED,
    RETRY_BACKOFF_MAX,
    SKIPPED,
    UNDELIVERABLE,
    WAITING,
    MIN_CONCURRENT_DELIVERIES,
    DeliveryRunner,
    concurrent_deliveries,
    deliver_all,
)
from bot.delivery.sink import DestinationUnavailable, Pace, RateLimited, TransientDeliveryError
from bot.destinations import Destination
from bot.digest.model import build_digest
from bot.models import Match, Paper
from bot.store import AsyncStore
from bot.store import ledger
from tests.fakes.clock import FakeClock
from tests.fakes.thread_sink import MemoryChat, MemoryThreadSink

DAY = date(2025, 4, 21)


def paper(n: int) -> Paper:
    return Paper(id=f"2504.{10000 + n}", title=f"Paper {n}", abstract="About VLMs.", authors=("A. Author",),
                 categories=("cs.CV",), announce_type="new", version=1, announced=DAY)


def destination(channel: str = "C1", **kw) -> Destination:
    return Destination(key=f"memory:{channel}", platform="memory", address=channel, title="test",
                       subscription_ids=("s",), **kw)


def digest_of(n: int, dest: Destination | None = None):
    dest = dest or destination()
    return build_digest(dest.key, dest.title, DAY, [Match("s", paper(i), (), float(n - i)) for i in range(n)])


@pytest.fixture
async def store(tmp_path):
    db = await AsyncStore.open(tmp_path / "p.db")
    yield db
    await db.close()


@pytest.fixture
def clock():
    return FakeClock(datetime(2025, 4, 21, 12, tzinfo=timezone.utc))


class Crash(Exception):
    """Stands for the process dying at that point."""


async def test_posts_parent_then_packed_batches_and_records_everything(store, clock):
    chat = MemoryChat()
    sink = MemoryThreadSink(chat, per_message=3)
    dest = destination()
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest_of(7))
    assert result.outcome == DONE and result.messages == 4 and result.papers == 7
    assert sink.calls.count("parent") == 1 and sink.calls.count("items") == 3
    delivered = await store.run(lambda s: s.ledger.delivered_paper_ids(dest.key, DAY))
    assert sorted(delivered) == sorted(p for p in chat.papers_in("C1"))
    record = await store.run(lambda s: s.ledger.get_delivery(dest.key, DAY))
    assert record.state == ledger.DONE and record.parent_ref == "m1"

    again = await DeliveryRunner(store, clock).deliver(MemoryThreadSink(chat), dest, digest_of(7))
    assert again.outcome == DONE and again.messages == 0
    assert len(chat.messages) == 4


async def test_crash_mid_thread_resumes_in_the_same_thread_without_duplicates(store, clock):
    chat = MemoryChat()
    posted = []

    def crash_on_third_batch(kind, ids):
        if kind == "items":
            posted.append(ids)
            if len(posted) == 3:
                raise Crash("killed")

    dest = destination()
    first = await DeliveryRunner(store, clock).deliver(
        MemoryThreadSink(chat, before_post=crash_on_third_batch), dest, digest_of(10))
    assert first.outcome == FAILED and "Crash" in first.detail
    assert len(chat.papers_in("C1")) == 6

    # "Restart": a new runner and sink over the same database and platform.
    resumed = await DeliveryRunner(store, clock).deliver(MemoryThreadSink(chat), dest, digest_of(10))
    assert resumed.outcome == DONE and resumed.papers == 4
    papers = chat.papers_in("C1")
    assert sorted(papers) == sorted(p.id for p in map(paper, range(10)))
    assert len(papers) == len(set(papers)) == 10
    parents = [m for m in chat.messages if m.thread is None]
    assert len(parents) == 1 and all(m.thread == parents[0].ref for m in chat.messages[1:])


async def test_crash_between_posting_and_recording_is_reconciled_from_the_thread(store, clock):
    chat = MemoryChat()
    calls = []

    def crash_after_second_batch_is_posted(kind, ids):
        if kind == "items":
            calls.append(ids)
            if len(calls) == 2:
                raise Crash("killed after the platform stored the message")

    dest = destination()
    await DeliveryRunner(store, clock).deliver(
        MemoryThreadSink(chat, after_post=crash_after_second_batch_is_posted), dest, digest_of(9))
    recorded = await store.run(lambda s: s.ledger.delivered_paper_ids(dest.key, DAY))
    assert len(recorded) == 3 and len(chat.papers_in("C1")) == 6  # the ledger is behind the platform

    sink = MemoryThreadSink(chat)
    result = await DeliveryRunner(store, clock).deliver(sink, dest, digest_of(9))
    assert result.outcome == DONE and result.papers == 3
    assert "history" in sink.calls
    papers = chat.papers_in("C1")
    assert len(papers) == len(set(papers)) == 9


async def test_crash_right_after_the_parent_finds_it_instead_of_posting_another(store, clock):
    chat = MemoryChat()

    def crash_after_parent(kind, ids):
        if kind == "parent":
            raise Crash("killed before the ledger heard of the parent")

    dest = destination()
    await DeliveryRunner(store, clock).deliver(MemoryThreadSink(chat, after_post=crash_after_parent), dest, digest_of(4))
    assert [m.thread for m in chat.messages] == [None]
    result = await DeliveryRunner(store, clock).deliver(MemoryThreadSink(chat), dest, digest_of(4))
    assert result.outcome == DONE
    assert len([m for m in chat.messages if m.thread is None]) == 1
    assert len(chat.papers_in("C1")) == 4


async def test_lost_channel_pauses_only_that_destination(store, clock):
    chat = MemoryChat()

    def channel_gone(kind, ids):
        raise DestinationUnavailable("channel_not_found: the channel was deleted or the bot cannot see it")

    lost, fine = destination("C1"), destination("C2")
    runner = DeliveryRunner(store, clock)
    r1 = await runner.deliver(MemoryThreadSink(chat, before_post=channel_gone), lost, digest_of(3, lost))
    r2 = await runner.deliver(MemoryThreadSink(chat), fine, digest_of(3, fine))
    assert r1.outcome == PAUSED and "channel_not_found" in r1.detail
    assert r2.outcome == DONE and len(chat.papers_in("C2")) == 3
    reason = await store.run(lambda s: s.ledger.paused_reason(lost.key))
    assert reason.startswith("channel_not_found")
    # Paused stays paused (no more calls) until resumed.
    sink = MemoryThreadSink(chat)
    assert (await runner.deliver(sink, lost, digest_of(3, lost))).outcome == PAUSED
    assert sink.calls == []
    await store.run(lambda s: s.ledger.resume_destination(lost.key))
    assert (await runner.deliver(sink, lost, digest_of(3, lost))).outcome == DONE


async def test_rate_limit_is_waited_out_on_the_injected_clock(store, clock):
    chat = MemoryChat()
    limited = []

    def once_rate_limited(kind, ids):
        if kind == "items" and not limited:
            limited.append(1)
            raise RateLimited(30)

    result = await DeliveryRunner(store, clock).deliver(
        MemoryThreadSink(chat, before_post=once_rate_limited), destination(), digest_of(2))
    assert result.outcome == DONE
    assert 30 in clock.sleeps
    assert len(chat.papers_in("C1")) == 2


async def test_messages_to_one_channel_are_paced(store, clock):
    chat = MemoryChat()
    sink = MemoryThreadSink(chat, per_message=1, min_message_interval=1.0)
    start = clock.now()
    await DeliveryRunner(store, clock).deliver(sink, destination(), digest_of(5))
    # 6 messages at least 1 s apart: 5 gaps.
    assert (clock.now() - start).total_seconds() >= 5.0
    assert all(s <= 1.0 for s in clock.sleeps)


async def test_the_pace_counts_from_when_a_message_arrived_not_when_its_request_started(store, clock):
    chat = MemoryChat()
    arrivals: list[float] = []
    # Each request takes 0.6 s before the platform has the message (a slow network, a busy
    # loop): the next one must still arrive at least the interval after this one did.
    sink = MemoryThreadSink(chat, per_message=1, min_message_interval=1.0,
                            before_post=lambda kind, ids: clock.advance(0.6),
                            after_post=lambda kind, ids: arrivals.append(clock.monotonic()))
    await DeliveryRunner(store, clock).deliver(sink, destination(), digest_of(4))
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
    assert len(gaps) == 4 and all(gap >= 1.6 - 1e-9 for gap in gaps)  # not 1.0: from arrival


async def test_empty_day_is_silent_unless_a_note_was_asked_for(store, clock):
    chat = MemoryChat()
    silent = await DeliveryRunner(store, clock).deliver(MemoryThreadSink(chat), destination(), digest_of(0))
    assert silent.outcome == SKIPPED and chat.messages == []
    noted = destination("C9", empty_note=True)
    result = await DeliveryRunner(store, clock).deliver(MemoryThreadSink(chat), noted, digest_of(0, noted))
    assert result.outcome == DONE and [m.channel for m in chat.messages] == ["C9"]


async def test_an_outage_of_any_length_never_abandons_the_day(store, clock):
    # Formerly the day was dropped after 5 failed attempts (a 25-minute Slack outage lost it).
    chat = MemoryChat()
    down = True

    def outage(kind, ids):
        if down:
            raise TransientDeliveryError("HTTP 503")

    runner = DeliveryRunner(store, clock)
    sink = MemoryThreadSink(chat, before_post=outage)
    dest = destination()
    backoffs = []
    for _ in range(40):  # hours of failures
        result = await runner.deliver(sink, dest, digest_of(5))
        assert result.outcome == FAILED and "HTTP 503" in result.detail
        backoffs.append((result.retry_at - clock.now()).total_seconds())
        clock.advance(backoffs[-1])
    # Exponential backoff between attempts, capped: an outage is not hammered, and the day goes
    # out at most the cap after the platform is back.
    assert backoffs[:5] == [30, 60, 120, 240, 480]
    assert max(backoffs) == RETRY_BACKOFF_MAX.total_seconds() == backoffs[-1]
    record = await store.run(lambda s: s.ledger.get_delivery(dest.key, DAY))
    assert record.state == ledger.FAILED and record.attempts == 40 and "HTTP 503" in record.last_error
    down = False
    result = await runner.deliver(sink, dest, digest_of(5))
    assert result.outcome == DONE and sorted(chat.papers_in("C1")) == sorted(paper(i).id for i in range(5))


async def test_a_retry_before_its_backoff_ends_waits_without_posting(store, clock):
    chat = MemoryChat()
    failures = []

    def fail_once(kind, ids):
        if not failures:
            failures.append(kind)
            raise TransientDeliveryError("HTTP 502")

    runner = DeliveryRunner(store, clock)
    sink = MemoryThreadSink(chat, before_post=fail_once)
    first = await runner.deliver(sink, destination(), digest_of(2))
    assert first.outcome == FAILED
    early = await runner.deliver(sink, destination(), digest_of(2))
    assert early.outcome == WAITING and early.retry_at == first.retry_at and chat.messages == []
    clock.advance((first.retry_at - clock.now()).total_seconds())
    assert (await runner.deliver(sink, destination(), digest_of(2))).outcome == DONE


class Killed(BaseException):
    """Stands for SIGKILL: nothing after this point runs, no handler records anything."""


async def test_a_crash_never_spends_an_attempt(store, clock):
    # Formerly every start counted an attempt: six crashes in a day lost the rest of it.
    chat = MemoryChat()
    dest = destination()
    for crash in range(6):
        posted_this_run = []

        def kill_after_one_message(kind, ids):
            posted_this_run.append(kind)
            if len(posted_this_run) == 2:
                raise Killed

        with pytest.raises(Killed):
            await DeliveryRunner(store, clock).deliver(
                MemoryThreadSink(chat, per_message=1, before_post=kill_after_one_message), dest, digest_of(12))
        record = await store.run(lambda s: s.ledger.get_delivery(dest.key, DAY))
        assert record.attempts == 0 and record.state == ledger.POSTING
    result = await DeliveryRunner(store, clock).deliver(MemoryThreadSink(chat, per_message=1), dest, digest_of(12))
    papers = chat.papers_in("C1")
    assert result.outcome == DONE and sorted(papers) == sorted(paper(i).id for i in range(12))
    assert len(papers) == len(set(papers))


async def test_a_day_given_up_is_recorded_counted_and_never_posted(store, clock, caplog):
    chat = MemoryChat()
    runner = DeliveryRunner(store, clock)
    before = metrics.REGISTRY.get_sample_value("paperbot_undeliverable_days_total") or 0
    await runner.give_up("memory:C1", DAY, "superseded by 2025-04-23 before the platform came back")
    record = await store.run(lambda s: s.ledger.get_delivery("memory:C1", DAY))
    assert record.state == ledger.UNDELIVERABLE and "superseded" in record.last_error
    assert metrics.REGISTRY.get_sample_value("paperbot_undeliverable_days_total") == before + 1
    assert any(r.levelname == "ERROR" and "undeliverable" in r.getMessage() for r in caplog.records)
    result = await runner.deliver(MemoryThreadSink(chat), destination(), digest_of(3))
    assert result.outcome == UNDELIVERABLE and chat.messages == []


async def test_stop_between_messages_leaves_the_day_resumable(store, clock):
    chat = MemoryChat()
    runner = DeliveryRunner(store, clock)

    def stop_after_first_batch(kind, ids):
        if kind == "items":
            runner.stop.set()

    dest = destination()
    result = await runner.deliver(MemoryThreadSink(chat, after_post=stop_after_first_batch), dest, digest_of(6))
    assert result.outcome == INTERRUPTED and result.papers == 3
    record = await store.run(lambda s: s.ledger.get_delivery(dest.key, DAY))
    assert record.state == ledger.POSTING
    resumed = await DeliveryRunner(store, clock).deliver(MemoryThreadSink(chat), dest, digest_of(6))
    assert resumed.outcome == DONE and len(set(chat.papers_in("C1"))) == len(chat.papers_in("C1")) == 6


async def test_a_first_attempt_does_not_look_for_a_parent_it_cannot_have(store, clock):
    chat = MemoryChat()
    sink = MemoryThreadSink(chat)
    await DeliveryRunner(store, clock).deliver(sink, destination(), digest_of(4))
    assert "find_parent" not in sink.calls and "history" not in sink.calls
    assert sink.calls == ["parent", "items", "items"]  # 1 + ceil(4 / 3) calls


class LockstepClock(FakeClock):
    """A fake clock for tasks that sleep concurrently. FakeClock's sleep moves time at once, which
    is right for one task but not for several: two sleepers would each move it, and a task busy
    in a database call would find time jumped past its turn (how the order of the threads'
    answers decided this test on a busy machine). Here time moves only when every task taking
    part is asleep on the clock, and then to the earliest wake-up."""

    def __init__(self, start: datetime, tasks: int) -> None:
        super().__init__(start)
        self.awake = tasks
        self._sleepers: list[tuple[datetime, int, asyncio.Future]] = []
        # Tasks parked behind another one (waiting their turn in the platform's request budget,
        # whose head sleeps on this clock): they move when it does, so time may move without them.
        self.parked = lambda: 0
        self._checking = False

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now() + timedelta(seconds=max(0.0, seconds)), len(self.sleeps), wake))
        self.awake -= 1
        self._advance_when_all_asleep()
        await wake

    def leave(self) -> None:
        """A task is done: the others no longer wait for it."""
        self.awake -= 1
        self._advance_when_all_asleep()

    def _advance_when_all_asleep(self) -> None:
        if self._sleepers and self.awake <= self.parked():
            when, _, wake = heapq.heappop(self._sleepers)
            self.advance(max(0.0, (when - self.now()).total_seconds()))  # wall and monotonic
            self.awake += 1
            wake.set_result(None)
        elif self._sleepers and not self._checking:
            # A task may park without calling the clock: look again shortly.
            self._checking = True
            asyncio.get_running_loop().call_later(0.001, self._check_again)

    def _check_again(self) -> None:
        self._checking = False
        self._advance_when_all_asleep()


async def test_messages_of_all_channels_share_the_platforms_rate(store):
    channels = [destination(f"C{i}") for i in range(6)]
    clock = LockstepClock(datetime(2025, 4, 21, 12, tzinfo=timezone.utc), tasks=len(channels))
    chat = MemoryChat()
    sink = MemoryThreadSink(chat, per_message=10, max_messages_per_second=4.0)
    stamps = []
    sink.before_post = lambda kind, ids: stamps.append(clock.now().timestamp())
    runner = DeliveryRunner(store, clock)
    clock.parked = lambda: sum(budget.parked for budget in runner._platform_budgets.values())

    async def deliver(channel: Destination):
        try:
            return await runner.deliver(sink, channel, digest_of(2, channel))
        finally:
            clock.leave()

    results = await asyncio.gather(*(deliver(d) for d in channels))
    assert all(r.outcome == DONE for r in results)
    assert len(stamps) == 12  # a parent and one batch for each channel
    stamps.sort()
    busiest = max(sum(1 for s in stamps if t <= s < t + 1.0 - 1e-9) for t in stamps)
    assert busiest <= 4  # never more than 4 in a second across channels
    assert max(stamps) - min(stamps) < 12 / 4.0 + 1.0  # and not much slower than that either


async def test_a_wall_clock_stepped_back_does_not_hold_posting_back(store, clock):
    """Pacing measures intervals on the clock's monotonic reading (issue 14): an hour's backward
    step of the wall clock between two messages costs no extra wait."""
    chat = MemoryChat()

    def step_back_after_parent(kind, ids):
        if kind == "parent":
            clock.set(clock.now() - timedelta(hours=1))

    sink = MemoryThreadSink(chat, per_message=1, min_message_interval=1.0, after_post=step_back_after_parent)
    result = await DeliveryRunner(store, clock).deliver(sink, destination(), digest_of(3))
    assert result.outcome == DONE and result.messages == 4
    assert clock.sleeps and max(clock.sleeps) <= 1.0


async def test_a_stop_during_a_pace_wait_ends_the_wait_and_posts_nothing_more(store):
    class StoppingClock(FakeClock):
        """Time stands still while waiting; the stop arrives during the wait."""

        runner: DeliveryRunner | None = None

        async def sleep(self, seconds: float) -> None:
            self.sleeps.append(seconds)
            self.runner.stop.set()
            await asyncio.Event().wait()  # never wakes by itself: only the stop can end it

    clock = StoppingClock(datetime(2025, 4, 21, 12, tzinfo=timezone.utc))
    chat = MemoryChat()
    runner = clock.runner = DeliveryRunner(store, clock)
    sink = MemoryThreadSink(chat, per_message=1, min_message_interval=30.0)
    result = await asyncio.wait_for(runner.deliver(sink, destination(), digest_of(3)), 10)
    assert result.outcome == INTERRUPTED and result.messages == 1  # the parent, then the stop
    assert clock.sleeps == [30.0] and sink.calls == ["parent"]
    record = await store.run(lambda s: s.ledger.get_delivery(destination().key, DAY))
    assert record.state == ledger.POSTING and record.parent_ref == "m1"


async def test_a_big_day_is_composed_off_the_loop_and_delivered_whole(store, clock):
    chat = MemoryChat()
    sink = MemoryThreadSink(chat, per_message=40)
    n = 150
    result = await DeliveryRunner(store, clock).deliver(sink, destination(), digest_of(n))
    assert result.outcome == DONE and result.papers == n and result.messages == 1 + -(-n // 40)
    papers = chat.papers_in("C1")
    assert len(papers) == len(set(papers)) == n


def test_deliveries_in_flight_are_enough_to_keep_the_platform_rate_busy():
    # A 3-message day to one Slack channel lasts 2 s (1 s between messages): 200 messages a
    # second across the workspace take ~200 channels at once; the bound leaves half again.
    assert concurrent_deliveries(Pace(1.0, 200.0)) == 300
    assert concurrent_deliveries(Pace(1.0, 5.0)) == MIN_CONCURRENT_DELIVERIES
    assert concurrent_deliveries(Pace(0.0, None)) == MIN_CONCURRENT_DELIVERIES


class GatedParents(MemoryThreadSink):
    """Parents wait at a gate, so a test sees how many deliveries are in flight at once."""

    def __init__(self, chat: MemoryChat, **kw) -> None:
        super().__init__(chat, **kw)
        self.gate = asyncio.Event()
        self.waiting = 0
        self.enough = asyncio.Event()
        self.wanted = 0

    async def send(self, destination, message, parent_ref):
        if parent_ref is None:
            self.waiting += 1
            if self.waiting >= self.wanted:
                self.enough.set()
            await self.gate.wait()
        return await super().send(destination, message, parent_ref)


async def test_deliver_all_posts_to_as_many_channels_at_once_as_the_pace_needs(store, clock):
    """With a 1 s pace per channel and 100 messages a second for the workspace, 100 channels'
    parents are on their way at once (the budget's whole second; a fixed 32 deliveries in flight
    left the rest of it unused), and every channel then gets its whole day."""
    chat = MemoryChat()
    sink = GatedParents(chat, per_message=3, min_message_interval=1.0, max_messages_per_second=100)
    sink.wanted = 100
    assert concurrent_deliveries(sink.pace) == 150
    runner = clock.runner = DeliveryRunner(store, clock)
    channels = [destination(f"C{i}") for i in range(200)]
    delivering = asyncio.ensure_future(deliver_all(runner, [(sink, d, digest_of(6, d)) for d in channels]))
    await asyncio.wait_for(sink.enough.wait(), 30)
    assert sink.waiting == 100   # the budget holds the 101st until one of them is answered
    sink.gate.set()
    results = await asyncio.wait_for(delivering, 60)
    assert all(r.outcome == DONE and r.messages == 3 for r in results)
    assert all(chat.papers_in(d.address) for d in channels)
