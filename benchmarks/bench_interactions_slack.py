"""Interactions during a real-size delivery, Slack (issue 12, "Acknowledge first"; issue 13).

A synthetic day of --papers papers (>= 1,500) goes out to --channels Slack channels through the
real adapter (SlackRuntime's directory and SlackSink, the real DeliveryRunner) against the strict
fake Slack, while --interactions signed requests arrive spread over the delivery: `/papers`
commands, Show abstract clicks and Add keywords form submissions, in HTTP mode through real bolt.

Latency is measured at the fake, as Slack measures it: the acknowledgement is the app's HTTP
answer (Slack's 3 s rule, `over_3s`); the answer is what the person then sees (the command's
response_url post, the ephemeral abstract, the Home tab published after a form). `expired`:
answers that never arrived (a used or expired response_url, or nothing within --answer-timeout).

    .venv/bin/python benchmarks/bench_interactions_slack.py [--channels 200] [--papers 1500]
        [--interactions 240] [--rate 40]

The workspace pace (`--rate`, slack.max_messages_per_second) is raised above the default (5/s) so
that a run takes about a minute; the per-channel pace stays Slack's 1/s.

Last line: {"bench": "interactions", "platform": "slack", "channels":…, "interactions":…,
"over_3s":…, "expired":…, "p50":…, "p99":…} (p50/p99: answer latency, seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import SystemClock  # noqa: E402
from bot.commands import CommandExecutor  # noqa: E402
from bot.config import Settings, SlackSettings  # noqa: E402
from bot.daily import digest_for, match_day  # noqa: E402
from bot.delivery.runner import DeliveryRunner, deliver_all  # noqa: E402
from bot.models import Paper  # noqa: E402
from bot.platforms.slack import home, render, start_slack  # noqa: E402
from bot.store import AsyncStore  # noqa: E402
from bot.store.subscriptions import ChannelRef  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
DAY = date(2025, 4, 21)
TOPICS = ["vision language model", "diffusion", "reinforcement learning", "robot", "graph neural",
          "speech", "retrieval", "agents", "benchmark", "3D", "segmentation", "theorem proving"]
WORDS = ("model data learning network training method results approach task performance large "
         "language vision robust efficient scalable neural sparse dense causal").split()
COMMANDS = ["help", "list", "today", "test VLM", "search vision language", "today diffusion NOT robot",
            "settings", "test \"vision language model\" AND cat:cs.CV"]


def synthetic_day(n: int, seed: int = 7) -> list[Paper]:
    rng = random.Random(seed)
    papers = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        title = f"{topic.title()} {' '.join(rng.sample(WORDS, 6))} ({i})"
        abstract = " ".join(rng.choice(WORDS) for _ in range(180)) + f" about {topic}."
        papers.append(Paper(id=f"2504.{20000 + i}", title=title, abstract=abstract,
                            authors=tuple(f"Author {i}-{k}" for k in range(rng.randint(1, 12))),
                            categories=(rng.choice(["cs.CV", "cs.CL", "cs.LG", "cs.AI", "cs.RO"]), "cs.AI"),
                            announce_type=rng.choice(["new", "new", "new", "cross", "replace"]),
                            version=1, announced=DAY))
    return papers


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Interactions:
    """Builds signed requests as Slack sends them and measures what the person sees."""

    def __init__(self, fake: FakeSlack, url: str, channels: list[str], paper_ids: list[str]) -> None:
        self.fake, self.url, self.channels, self.paper_ids = fake, url, channels, paper_ids
        self.acks: list[float] = []
        self.answers: list[float] = []
        self.by_kind: dict[str, list[float]] = {}
        self.over_3s = 0
        self.expired = 0
        self.kinds: dict[str, int] = {}

    async def _wait(self, found, timeout: float) -> float | None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if found():
                return time.monotonic()
            await asyncio.sleep(0.01)
        return None

    async def one(self, n: int, timeout: float) -> None:
        kind = ("command", "abstract", "form")[n % 3]
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        channel = self.channels[n % len(self.channels)]
        user = f"U{n:07d}"
        self.fake.add_user(user, user.lower())
        fake = self.fake
        if kind == "command":
            name = f"cmd{n}"
            body = urlencode({"token": "t", "team_id": fake.team_id, "team_domain": "fake", "channel_id": channel,
                              "channel_name": channel.lower(), "user_id": user, "user_name": user.lower(),
                              "command": "/papers", "text": COMMANDS[n % len(COMMANDS)],
                              "api_app_id": "A0PAPERBOT", "response_url": fake.response_url(name),
                              "trigger_id": f"trigger-{n}"})
            seen = lambda: any(r["name"] == name for r in fake.responses)  # noqa: E731
            slack_kind = "slash_command"
        else:
            base = {"team": {"id": fake.team_id, "domain": "fake"}, "user": {"id": user, "team_id": fake.team_id},
                    "api_app_id": "A0PAPERBOT", "token": "t", "trigger_id": f"trigger-{n}"}
            if kind == "abstract":
                name = f"click{n}"
                # People click buttons that are there: a paper already posted in this channel
                # (read from the fake's messages), else any paper of the day.
                posted = [pid for m in fake.messages.get(channel, [])
                          for pid in ((m.get("metadata") or {}).get("event_payload") or {}).get("paper_ids") or ()]
                paper_id = posted[n % len(posted)] if posted else self.paper_ids[n % len(self.paper_ids)]
                payload = {**base, "type": "block_actions", "channel": {"id": channel},
                           "container": {"type": "message", "channel_id": channel, "thread_ts": "1745244001.000001"},
                           "response_url": fake.response_url(name),
                           "actions": [{"action_id": render.ABSTRACT_ACTION, "block_id": "b", "type": "button",
                                        "value": paper_id, "action_ts": "1745244100.0"}]}
                before = len(fake.ephemerals)
                seen = lambda: any(e.get("user") == user for e in fake.ephemerals[before:]) or any(  # noqa: E731
                    r["name"] == name for r in fake.responses)
                slack_kind = "block_actions"
            else:
                query = TOPICS[n % len(TOPICS)] + f", term{n}"
                view = {"id": f"V{n}", "team_id": fake.team_id, "type": "modal", "callback_id": home.ADD_MODAL,
                        "state": {"values": {home.ADD_BLOCK: {home.ADD_INPUT: {"type": "plain_text_input",
                                                                               "value": query}}}}}
                payload = {**base, "type": "view_submission", "view": view}
                seen = lambda: f"term{n}" in json.dumps(fake.home_views.get(user) or {})  # noqa: E731
                slack_kind = "view_submission"
            body = urlencode({"payload": json.dumps(payload)})
        started = time.monotonic()
        delivery = await fake.deliver(self.url, body, signing_secret=SECRET, kind=slack_kind)
        self.acks.append(delivery.seconds)
        if delivery.error == "operation_timeout" or delivery.seconds > 3.0:
            self.over_3s += 1
        if delivery.status != 200:
            self.expired += 1
            return
        done = await self._wait(seen, timeout)
        if done is None:
            self.expired += 1
        else:
            self.answers.append(done - started)
            self.by_kind.setdefault(kind, []).append(done - started)


async def run(args) -> dict:
    papers = synthetic_day(args.papers)
    with tempfile.TemporaryDirectory() as tmp:
        store = await AsyncStore.open(Path(tmp) / "p.db")
        await store.run(lambda s: s.papers.save_listing(DAY, papers))
        async with FakeSlack() as fake:
            channels = [f"C{i:07d}" for i in range(args.channels)]
            for channel in channels:
                fake.add_channel(channel, channel.lower())

            def subscribe(s):
                for i, channel in enumerate(channels):
                    s.channels.add_subscription(ChannelRef("slack", fake.team_id, channel),
                                                f'"{TOPICS[i % len(TOPICS)]}"', channel_name=channel.lower())
            await store.run(subscribe)
            settings = Settings(slack=SlackSettings(api_url=fake.api_url, mode="http",
                                                    max_messages_per_second=args.rate))
            runtime = await start_slack(settings, CommandExecutor(store, settings), http_host="127.0.0.1",
                                        http_port=0, environ={"SLACK_BOT_TOKEN": fake.bot_token,
                                                              "SLACK_SIGNING_SECRET": SECRET})
            await runtime.start()
            url = f"http://127.0.0.1:{runtime.bound_port}/slack/events"
            clock = SystemClock()
            try:
                directory = await runtime.directory.load()
                started = time.monotonic()
                matches = await match_day(store, DAY, directory.subscriptions)
                jobs = [(runtime.sink, d, digest_for(d, DAY, matches)) for d in directory.destinations]
                messages = sum(1 + -(-len(j[2].items) // render.PAPERS_PER_MESSAGE) for j in jobs)
                expected = max(messages / args.rate, 10.0)
                delivery = asyncio.ensure_future(deliver_all(DeliveryRunner(store, clock), jobs))
                bench = Interactions(fake, url, channels, [p.id for p in papers])
                # Spread over the expected delivery time (the first 90% of it).
                gaps = expected * 0.9 / args.interactions
                tasks = []
                for n in range(args.interactions):
                    tasks.append(asyncio.ensure_future(bench.one(n, args.answer_timeout)))
                    await asyncio.sleep(gaps)
                await asyncio.gather(*tasks)
                results = await delivery
                elapsed = time.monotonic() - started
            finally:
                await runtime.close()
        await store.close()
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    print(f"{'day':>22}: {args.papers} papers to {args.channels} channels, {messages} messages at "
          f"{args.rate:g}/s workspace pace; delivery took {elapsed:.1f} s ({outcomes})")
    print(f"{'interactions':>22}: {args.interactions} {bench.kinds}")
    print(f"{'ack (HTTP answer)':>22}: p50 {percentile(bench.acks, .5):.3f} s, p99 {percentile(bench.acks, .99):.3f} s, "
          f"max {max(bench.acks):.3f} s, over 3 s: {bench.over_3s}")
    print(f"{'answer seen':>22}: p50 {percentile(bench.answers, .5):.3f} s, p99 {percentile(bench.answers, .99):.3f} s, "
          f"max {max(bench.answers or [0]):.3f} s, never: {bench.expired}")
    for kind, values in sorted(bench.by_kind.items()):
        print(f"{'answer, ' + kind:>22}: p50 {percentile(values, .5):.3f} s, p99 {percentile(values, .99):.3f} s")
    print(f"{'429 answers':>22}: {len(fake.rate_limits.refused)}; user errors: {len(fake.user_errors)}")
    print(f"{'load average':>22}: {os.getloadavg()}")
    return {"bench": "interactions", "platform": "slack", "channels": args.channels,
            "interactions": args.interactions, "over_3s": bench.over_3s, "expired": bench.expired,
            "p50": round(percentile(bench.answers, .5), 3), "p99": round(percentile(bench.answers, .99), 3),
            "ack_p99": round(percentile(bench.acks, .99), 3), "papers": args.papers,
            "delivery_seconds": round(elapsed, 1),
            "p99_by_kind": {k: round(percentile(v, .99), 3) for k, v in sorted(bench.by_kind.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--papers", type=int, default=1500)
    parser.add_argument("--interactions", type=int, default=240)
    parser.add_argument("--rate", type=float, default=40.0, help="workspace messages/s (slack.max_messages_per_second)")
    parser.add_argument("--answer-timeout", type=float, default=60.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
