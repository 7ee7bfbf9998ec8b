"""Scheduler-pass benchmark (DESIGN.md §9, issue 12): one pass of the real Scheduler at 100,000
channel subscriptions over 1,000 channels on a 1,500-paper synthetic day, then a second pass with
nothing due (every destination delivered).

The store is a real SQLite file; the directory is the real ChannelSubscriptions; delivery goes
through the real DeliveryRunner into an in-memory chat (tests/fakes/thread_sink.py, no pacing),
so the figures are the core's own work: loading the directory, matching, building digests, the
ledger. A 10 ms ticker on the event loop measures the longest stall while the pass runs.

As in `paperbot run`, the scheduler is prepared first (`Scheduler.prepare`: the directory loaded
and compiled before the platforms connect, when no interaction can wait on the loop); that
startup step is timed and its stall reported apart (`prepare_seconds`, `prepare_stall_ms`), and
`pass_seconds` + `prepare_seconds` is what a pass that had to compile would take.

    .venv/bin/python benchmarks/bench_pass.py [--subscriptions 100000] [--channels 1000] [--papers 1500]
                                              [--trace-stalls]

`--trace-stalls` names the culprit of each stall: a watcher thread that wakes every 5 ms prints,
when it overslept by 80 ms or more, where every other thread was (a single C call holding the
GIL, e.g. building the matcher's automaton, shows as the line that made it).

Last line: JSON {"bench":"pass","subscriptions":...,"channels":...,"pass_seconds":...,
"second_pass_seconds":...,"max_loop_stall_ms":...}. Targets: max_loop_stall_ms <= 100,
second_pass_seconds <= 0.5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.arxiv.calendar import AnnouncementCalendar  # noqa: E402
from bot.config import ArxivSettings  # noqa: E402
from bot.delivery.runner import DONE  # noqa: E402
from bot.destinations.channels import ChannelSubscriptions  # noqa: E402
from bot.models import Paper  # noqa: E402
from bot.scheduler import Scheduler  # noqa: E402
from bot.store import AsyncStore  # noqa: E402
from bot.store.subscriptions import ChannelRef  # noqa: E402
from tests.fakes.thread_sink import MemoryChat, MemoryThreadSink  # noqa: E402
from loop_lag import LoopLag  # noqa: E402

# 10:00 in New York on a Tuesday: Monday's feed is out and the default post time has passed.
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
TARGET_STALL_MS = 100
TARGET_SECOND_PASS = 0.5

# Abstracts are mostly common words nobody subscribes to, plus a few topic words from a large
# vocabulary; queries use topic words. So a channel of 100 subscriptions gets tens of papers a
# day, as real channels do, rather than the whole listing.
COMMON = ("the of and to in we a is for that on with this our by as are from be an which can "
          "show results method approach paper propose based using new these it has have also "
          "such than more two both model models data performance task tasks").split()
TOPIC_WORDS = 20_000
WORDS = ("vision language model transformer diffusion graph neural network reinforcement learning "
         "robot policy quantum error correction sparse attention benchmark dataset retrieval "
         "agent planning segmentation detection tracking speech audio video generation protein "
         "molecule federated privacy adversarial robustness causal inference bayesian optimization "
         "kernel manifold contrastive self supervised multimodal reasoning alignment instruction "
         "tuning distillation pruning quantization compiler hardware memory scheduling").split()


class FixedClock:
    """The wall clock held at NOW (so the day and post times are fixed); real monotonic time."""

    def now(self) -> datetime:
        return NOW

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class NoArxiv:
    """The pass must not poll (the day is stored) nor enrich (enrichment is off)."""

    settings = ArxivSettings(enrich=False)


def topic_word(rng: random.Random) -> str:
    """A made-up topic word (`zorvex`-like), one of TOPIC_WORDS, or now and then a real one."""
    if rng.random() < 0.05:
        return rng.choice(WORDS)
    n = rng.randrange(TOPIC_WORDS)
    syllables = ("ka", "lo", "mi", "ne", "ru", "si", "ta", "vo", "xe", "zu")
    return "".join(syllables[int(d)] for d in f"{n:05d}")


def synthetic_day(n: int, rng: random.Random, day) -> list[Paper]:
    def sentence(k: int) -> str:
        return " ".join(topic_word(rng) if rng.random() < 0.15 else rng.choice(COMMON) for _ in range(k))
    return [Paper(id=f"2611.{i:05d}", title=sentence(10).capitalize(), abstract=sentence(180) + ".",
                  authors=tuple(f"Author {rng.randrange(5000)}" for _ in range(4)),
                  categories=(rng.choice(("cs.CV", "cs.CL", "cs.LG", "cs.RO", "quant-ph")),),
                  announce_type=rng.choice(("new", "new", "new", "cross", "replace")), version=1,
                  announced=day)
            for i in range(n)]


def synthetic_queries(n: int, rng: random.Random) -> list[str]:
    queries = []
    for _ in range(n):
        shape = rng.random()
        if shape < 0.4:
            queries.append(topic_word(rng))
        elif shape < 0.7:
            queries.append(f'"{topic_word(rng)} {rng.choice(COMMON)}"')
        elif shape < 0.9:
            queries.append(f"{topic_word(rng)} AND {rng.choice(WORDS)}")
        else:
            queries.append(f"{topic_word(rng)} -{rng.choice(WORDS)}")
    return queries


async def timed_pass(scheduler: Scheduler) -> tuple[float, float, object]:
    """(seconds, longest loop stall in ms, report) of one scheduler pass."""
    async with LoopLag() as lag:
        started = time.perf_counter()
        report = await scheduler.run_once()
        seconds = time.perf_counter() - started
    return seconds, lag.max_ms, report


async def run(subscriptions: int, channels: int, papers: int) -> dict:
    rng = random.Random(12)
    calendar = AnnouncementCalendar(())
    day = calendar.latest_feed_day(NOW)
    with tempfile.TemporaryDirectory() as tmp:
        store = await AsyncStore.open(Path(tmp) / "pass.db")
        listing = synthetic_day(papers, rng, day)
        queries = synthetic_queries(subscriptions, rng)

        def seed(s) -> None:
            s.papers.save_listing(day, listing)
            with s.transaction():
                for i, query in enumerate(queries):
                    ref = ChannelRef("memory", "W1", f"C{i % channels:05d}")
                    s.channels.add_subscription(ref, query, now=NOW)
            s.ledger.record_announcement_day(day, "announced", len(listing), NOW)

        seeding = time.perf_counter()
        await store.run(seed)
        seeding = time.perf_counter() - seeding
        chat = MemoryChat()
        scheduler = Scheduler(arxiv_settings=ArxivSettings(), store=store, arxiv=NoArxiv(),
                              directories=[ChannelSubscriptions(store, "memory")],
                              sinks={"memory": MemoryThreadSink(chat, per_message=10)}, clock=FixedClock())
        async with LoopLag() as startup:
            prepared = time.perf_counter()
            await scheduler.prepare()
            prepared = time.perf_counter() - prepared
        first, first_stall, report = await timed_pass(scheduler)
        delivered = sum(d.outcome == DONE for d in report.deliveries)
        second, second_stall, again = await timed_pass(scheduler)
        await store.close()
    return {
        "bench": "pass", "subscriptions": subscriptions, "channels": channels, "papers": papers,
        "pass_seconds": round(first, 3), "second_pass_seconds": round(second, 3),
        "max_loop_stall_ms": round(max(first_stall, second_stall), 1),
        "first_pass_stall_ms": round(first_stall, 1), "second_pass_stall_ms": round(second_stall, 1),
        "delivered": delivered, "messages": len(chat.messages), "seed_seconds": round(seeding, 2),
        "second_pass_deliveries": len(again.deliveries),
        "prepare_seconds": round(prepared, 3), "prepare_stall_ms": round(startup.max_ms, 1),
    }


def trace_stalls(threshold: float = 0.080) -> None:
    """Start a daemon thread that prints where the other threads were after each stall."""

    def watch() -> None:
        last = time.perf_counter()
        while True:
            time.sleep(0.005)
            now = time.perf_counter()
            if now - last >= threshold:
                lines = [f"stall {1000 * (now - last):.0f} ms; threads:"]
                for ident, frame in sys._current_frames().items():
                    if ident == threading.get_ident():
                        continue
                    stack = traceback.extract_stack(frame)[-3:]
                    where = " <- ".join(f"{f.name}:{f.lineno} {f.line}" for f in reversed(stack))
                    if "work_queue.get" not in where and "select" not in where:  # idle ones
                        lines.append(f"  {where}")
                print("\n".join(lines), flush=True)
            last = time.perf_counter()

    threading.Thread(target=watch, name="stall-watcher", daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument("--papers", type=int, default=1_500)
    parser.add_argument("--trace-stalls", action="store_true",
                        help="print where the threads were after each stall of 80 ms or more")
    args = parser.parse_args()
    if args.trace_stalls:
        trace_stalls()
    result = asyncio.run(run(args.subscriptions, args.channels, args.papers))
    print(f"scheduler pass: {args.subscriptions} subscriptions over {args.channels} channels, "
          f"{args.papers}-paper day (seeded in {result['seed_seconds']} s)")
    print(f"  startup prepare {result['prepare_seconds']:.2f} s (directory + compile, before the "
          f"platforms connect); loop stall {result['prepare_stall_ms']:.0f} ms")
    print(f"  first pass  {result['pass_seconds']:.2f} s, {result['delivered']} destinations delivered, "
          f"{result['messages']} messages; longest loop stall {result['first_pass_stall_ms']:.0f} ms")
    print(f"  second pass {result['second_pass_seconds']:.3f} s (nothing due; target <= {TARGET_SECOND_PASS} s); "
          f"longest loop stall {result['second_pass_stall_ms']:.0f} ms")
    print(f"  max loop stall {result['max_loop_stall_ms']:.0f} ms (target <= {TARGET_STALL_MS} ms)")
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
