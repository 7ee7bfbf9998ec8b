"""Interactions while a real-size day goes out on Discord (issue 12, "Acknowledge first").

A synthetic day of --papers papers (1,500 by default) is stored; --channels text channels (200)
each subscribe to one topic (about 25 papers each) through the real command layer; then the day
is delivered through the real runtime (discord.py logged in over the fake gateway, DiscordSink,
the core's DeliveryRunner with its bot-wide pace) to the strict fake Discord (tests/fakes/discord,
real time), while --interactions interactions (200) arrive spread over the delivery: /papers
list, today, test and search, unsubscribe autocomplete, and Abstract clicks on papers already
posted in the day's threads.

Latency is measured AT THE FAKE, as Discord measures it: from the moment the interaction was
created (dispatched on the gateway) to
  ack     the initial response (callback: an answer, a defer, a modal or autocomplete choices);
          after 3 s Discord refuses it (10062) and the person sees "did not respond": over_3s
  answer  the moment the person sees the answer (the callback's message, or the edit/followup
          that replaces "thinking..."): p50 / p99 (target p99 <= 2 s)
  expired edits or followups refused because the 15-minute token had expired.

    .venv/bin/python benchmarks/bench_interactions_discord.py [--papers 1500] [--channels 200]
        [--interactions 200] [--rate 40]

Prints figures, then a last line of JSON:
{"bench": "interactions", "platform": "discord", "channels", "interactions", "over_3s",
 "expired", "p50", "p99", ...}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import SystemClock  # noqa: E402
from bot.commands import CommandContext, CommandExecutor  # noqa: E402
from bot.config import DiscordSettings, Settings  # noqa: E402
from bot.daily import digest_for, match_day  # noqa: E402
from bot.delivery.runner import DONE, DeliveryRunner, deliver_all  # noqa: E402
from bot.models import Paper  # noqa: E402
from bot.platforms.discord import DiscordRuntime, start_discord  # noqa: E402
from bot.store import AsyncStore  # noqa: E402
from tests.fakes.discord import MANAGER, FakeDiscord  # noqa: E402

DAY = date(2025, 4, 21)
TOPICS = [f"topic{chr(97 + k // 26)}{chr(97 + k % 26)}" for k in range(60)]
FILLER = ("We propose a method and evaluate it on standard benchmarks with strong baselines. "
          "Results show consistent gains across settings, and ablations explain why. ")


class TimedDiscord(FakeDiscord):
    """The fake Discord, noting when each interaction was first answered and when its answer
    (message) was there, on the fake's clock (the one its 3 s rule uses)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.acked_at: dict[int, float] = {}
        self.answered_at: dict[int, float] = {}

    def _interaction_callback(self, query, body, interaction_id, token):
        status, answer = super()._interaction_callback(query, body, interaction_id, token)
        iid, now = int(interaction_id), self.clock.monotonic()
        self.acked_at[iid] = now
        if body.get("type") in (4, 7, 8, 9):   # a message, an update, choices or a form: answered
            self.answered_at.setdefault(iid, now)
        return status, answer

    def _interaction_of(self, token: str) -> int:
        for iid, interaction in self._interactions.items():
            if interaction["token"] == token:
                return iid
        return -1

    def _edit_original(self, query, body, app, token):
        result = super()._edit_original(query, body, app, token)
        self.answered_at.setdefault(self._interaction_of(token), self.clock.monotonic())
        return result

    def _followup(self, query, body, app, token):
        result = super()._followup(query, body, app, token)
        self.answered_at.setdefault(self._interaction_of(token), self.clock.monotonic())
        return result


def synthetic_day(n: int) -> list[Paper]:
    papers = []
    for i in range(n):
        topic, other = TOPICS[i % len(TOPICS)], TOPICS[(i * 7 + 3) % len(TOPICS)]
        papers.append(Paper(
            id=f"2504.{10000 + i}", title=f"Scaling {topic} with structured priors, part {i}",
            abstract=f"We study {topic} and its relation to {other}. " + FILLER * (4 + i % 8),
            authors=tuple(f"Author {j}" for j in range(2 + i % 9)), categories=("cs.CV", "cs.LG"),
            announce_type=("new", "cross", "replace")[(i // len(TOPICS)) % 3], version=1 + i % 2,
            announced=DAY))
    return papers


def _kind(payload: dict) -> str:
    """What an interaction was: "click", "autocomplete", or the subcommand's name."""
    if payload["type"] == 3:
        return "click"
    if payload["type"] == 4:
        return "autocomplete"
    options = payload.get("data", {}).get("options") or [{}]
    return str(options[0].get("name"))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def interact(fake: TimedDiscord, rng: random.Random, channels: list[int], number: int) -> int:
    """One interaction of the mix; returns its id."""
    kind = number % 10
    channel = rng.choice(channels)
    if kind in (0, 1, 2, 3):   # an Abstract click on a paper already posted in some thread
        posted = [m for thread in list(fake.threads_with_papers) for m in fake.messages[thread]
                  if m.get("components")]
        if posted:
            message = rng.choice(posted)
            button = rng.choice([b for row in message["components"] for b in row["components"]])
            return await fake.click(message, button["custom_id"])
    topic = rng.choice(TOPICS)
    if kind == 4:
        return await fake.slash_command("papers", "today", channel_id=channel)
    if kind == 5:
        return await fake.slash_command("papers", "test", {"query": topic}, channel_id=channel)
    if kind == 6:
        return await fake.slash_command("papers", "search", {"text": topic}, channel_id=channel)
    if kind == 7:
        return await fake.autocomplete("papers", "unsubscribe", {"which": ""}, "which",
                                       channel_id=channel, permissions=MANAGER)
    return await fake.slash_command("papers", "list", channel_id=channel)


async def run(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    papers = synthetic_day(args.papers)
    with tempfile.TemporaryDirectory(prefix="paperbot-interactions-") as tmp:
        async with TimedDiscord() as fake:
            fake.threads_with_papers = []
            channels = [fake.add_text_channel(fake.guild, f"papers-{i}") for i in range(args.channels)]
            store = await AsyncStore.open(Path(tmp) / "paperbot.db")
            await store.run(lambda s: s.papers.save_listing(DAY, papers))
            settings = Settings(discord=DiscordSettings(api_url=fake.api_url, gateway_url=fake.gateway_url,
                                                        max_messages_per_second=args.rate))
            commands = CommandExecutor(store, settings)
            for i, channel in enumerate(channels):
                ctx = CommandContext("discord", str(fake.guild.id), str(channel), str(fake.user["id"]),
                                     True, f"papers-{i}")
                await commands.execute(ctx, f"subscribe {TOPICS[i % len(TOPICS)]}")
            runtime = await start_discord(settings, commands, environ={"DISCORD_TOKEN": fake.token},
                                          sync_state_path=Path(tmp) / "sync.json", guild_ready_timeout=0.05)
            assert isinstance(runtime, DiscordRuntime)
            await runtime.start(timeout=120)
            directory = await runtime.directory.load()
            by_subscription = await match_day(store, DAY, directory.subscriptions)
            jobs = [(runtime.sink, d, digest_for(d, DAY, by_subscription)) for d in directory.destinations]
            papers_out = sum(len(digest.items) for _, _, digest in jobs)

            # Threads fill as the day goes out; clicks pick from what is already there.
            original_store = fake.store_message

            def noting_threads(channel_id, *a, **kw):
                message = original_store(channel_id, *a, **kw)
                if message.get("components") and channel_id and channel_id not in fake.threads_with_papers:
                    fake.threads_with_papers.append(channel_id)
                return message
            fake.store_message = noting_threads

            messages_estimate = sum(2 + -(-len(digest.items) // 5) for _, _, digest in jobs)
            expected_seconds = messages_estimate / args.rate
            interval = expected_seconds / args.interactions
            runner = DeliveryRunner(store, SystemClock())
            started = time.monotonic()
            delivery = asyncio.ensure_future(deliver_all(runner, jobs))
            ids = []
            for number in range(args.interactions):
                ids.append(await interact(fake, rng, channels, number))
                await asyncio.sleep(interval * rng.uniform(0.5, 1.5))
            results = await delivery
            delivery_seconds = time.monotonic() - started
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not all(i in fake.answered_at or i in fake.late_callbacks
                                                          for i in ids):
                await asyncio.sleep(0.1)
            created = {i: fake._interaction_times[i] for i in ids}
            acks = [fake.acked_at[i] - created[i] for i in ids if i in fake.acked_at]
            answers = [fake.answered_at[i] - created[i] for i in ids if i in fake.answered_at]
            late = [i for i in ids if i not in fake.acked_at or fake.acked_at[i] - created[i] > 3.0]
            over_3s = len(late)
            late_kinds = sorted(_kind(fake._interactions[i]) for i in late)
            unanswered = sum(1 for i in ids if i not in fake.answered_at)
            expired = len(fake.expired_followups)
            deferred = sum(1 for i in ids if fake.callbacks.get(i, {}).get("type") in (5, 6))
            global_429 = sum(1 for scope, _, _ in fake.rate_limits.refused if scope == "global")
            await runtime.close()
            await store.close()
    failed = [r for r in results if r.outcome != DONE]
    summary = {
        "bench": "interactions", "platform": "discord",
        "papers": args.papers, "channels": args.channels, "papers_delivered": papers_out,
        "interactions": len(ids), "over_3s": over_3s, "expired": expired, "unanswered": unanswered,
        "p50": round(statistics.median(answers), 3) if answers else None,
        "p99": round(percentile(answers, 0.99), 3) if answers else None,
        "ack_p50": round(statistics.median(acks), 3) if acks else None,
        "ack_p99": round(percentile(acks, 0.99), 3) if acks else None,
        "ack_max": round(max(acks), 3) if acks else None,
        "deferred": deferred, "delivery_seconds": round(delivery_seconds, 1),
        "failed_deliveries": len(failed), "global_429": global_429,
        "load_average_1m": round(os.getloadavg()[0], 2), "late_kinds": late_kinds,
    }
    print(f"{'day':>22}: {args.papers} papers; {papers_out} delivered to {args.channels} channels "
          f"in {delivery_seconds:.1f} s ({len(failed)} failed, {global_429} global 429s)")
    print(f"{'interactions':>22}: {len(ids)} over the delivery ({deferred} deferred)")
    print(f"{'ack (initial response)':>22}: p50 {summary['ack_p50']} s, p99 {summary['ack_p99']} s, "
          f"max {summary['ack_max']} s; over 3 s: {over_3s}")
    print(f"{'answer seen':>22}: p50 {summary['p50']} s, p99 {summary['p99']} s (target <= 2 s); "
          f"unanswered {unanswered}; expired tokens {expired}")
    print(f"{'machine load (1 min)':>22}: {summary['load_average_1m']}")
    for result in failed[:5]:
        print(f"  failed: {result.destination}: {result.outcome} {result.detail}")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=1500)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--interactions", type=int, default=200)
    parser.add_argument("--rate", type=float, default=40.0, help="discord.max_messages_per_second")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    summary = asyncio.run(run(args))
    print(json.dumps(summary))
    return 0 if summary["over_3s"] == 0 and summary["expired"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
