"""Outage benchmark (issue 14): nothing lost, nothing twice, through platform and arXiv outages
and restarts.

On a simulated clock (FakeClock: every wait of the core advances it at once), the real
Scheduler, DeliveryRunner, SlackSink and DiscordSink (slack_sdk and discord.py over aiohttp) and a
real SQLite file, against the local fakes (tests/fakes/):

  arXiv     answers 503 with Retry-After for the first OUTAGE_ARXIV minutes after the feed rebuild
  Slack and Discord REST  unreachable (connection refused, open connections dropped) for
            --outage-minutes, starting when --outage-at of the day's messages have gone out
  restarts  --restarts SIGKILL-style restarts while the day goes out: the pass is cancelled at
            that moment (nothing after it runs, nothing is recorded) and a fresh store, arXiv
            client, scheduler and runner open the same SQLite file (as crash_resume.py does
            with real processes; the platform connections are kept)

Then every destination's threads on the fakes are read back: each matching paper must appear
exactly once (`lost`, `duplicates`), under one parent per destination.

    .venv/bin/python benchmarks/bench_outage.py [--slack 8] [--discord 4] [--papers 45]

Prints the timeline, the figures, then a last line of JSON.

Measured (2026-11-29, defaults): lost 0, duplicates 0 of 540 paper deliveries, 1 arXiv request
during its outage, every destination done 5.6 minutes after the platforms' return (at most the retry backoff's 10-minute cap). The same
script against the code before issue 14 (5 attempts a day, Retry-After over 120 s ignored):
lost 400 of 540, 4 arXiv requests during its outage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.arxiv.client import ArxivClient  # noqa: E402
from bot.commands import CommandExecutor  # noqa: E402
from bot.config import DiscordSettings, Settings, SlackSettings  # noqa: E402
from bot.platforms.discord import start_discord  # noqa: E402
from bot.platforms.slack import start_slack  # noqa: E402
from bot.scheduler import Scheduler  # noqa: E402
from bot.store import AsyncStore, ledger  # noqa: E402
from bot.store.subscriptions import ChannelRef  # noqa: E402
from tests.fakes.arxiv_server import FakeArxiv, Reply, atom_listing  # noqa: E402
from tests.fakes.clock import FakeClock, ServiceClock  # noqa: E402
from tests.fakes.discord import FakeDiscord  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402

EASTERN = ZoneInfo("America/New_York")
CATEGORY = "cs.CV"
DAY = "2026-11-23"                                              # a Monday
START = datetime(2026, 11, 23, 0, 1, tzinfo=EASTERN)            # just after the feed rebuild
OUTAGE_ARXIV = timedelta(minutes=60)
SIGNING_SECRET = "bench-outage-signing-secret"


class SwitchableProxy:
    """A TCP relay in front of a fake's REST API that can be made unreachable: `down()` stops
    listening (connection refused) and drops the open connections; `up()` listens again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.server: asyncio.Server | None = None
        self.open: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.open):
            writer.transport.abort()
        self.open.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.open.update((writer, up_writer))

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort() if sink.transport else None

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.open.discard(writer)
        self.open.discard(up_writer)

    def url(self, original: str) -> str:
        # http://127.0.0.1:<port>/rest -> the same path through the relay
        head, _, rest = original.partition("//")
        hostport, slash, path = rest.partition("/")
        return f"{head}//127.0.0.1:{self.port}{slash}{path}"


class ArxivWithOutage(FakeArxiv):
    """The fake arXiv answering 503 + Retry-After (the seconds left) until `up_at`."""

    def __init__(self, clock: FakeClock, up_at: datetime) -> None:
        super().__init__()
        self.clock, self.up_at = clock, up_at
        self.refused = 0

    def _next_reply(self, path: str) -> Reply | None:
        left = (self.up_at - self.clock.now()).total_seconds()
        if left > 0:
            self.refused += 1
            return Reply.unavailable(retry_after=int(left) + 1)
        return super()._next_reply(path)


def listing(papers: int) -> bytes:
    entries = [{"id": f"2611.{10000 + i}v1", "title": f"A VLM for problem {i}",
                "abstract": "We study vision-language models on many tasks. " * 6,
                "authors": [f"Author {i}", "Second Author"], "categories": [CATEGORY, "cs.AI"]}
               for i in range(papers)]
    entries += [{"id": f"2611.{20000 + i}v1", "title": f"Graph note {i}", "abstract": "No pictures.",
                 "authors": ["C. Other"], "categories": [CATEGORY]} for i in range(10)]
    return atom_listing(entries, title=f"{CATEGORY} updates on arXiv.org", day=DAY)


def slack_papers(slack: FakeSlack, channel: str) -> tuple[int, Counter]:
    messages = slack.messages.get(channel, [])
    parents = sum(1 for m in messages if not m.get("thread_ts"))
    seen: Counter = Counter()
    for message in messages:
        if message.get("thread_ts"):
            seen.update((message.get("metadata") or {}).get("event_payload", {}).get("paper_ids", []))
    return parents, seen


def discord_papers(fake: FakeDiscord, channel: int) -> tuple[int, Counter]:
    threads = fake.threads_of(channel)
    seen: Counter = Counter()
    for thread in threads:
        for message in fake.thread_messages(int(thread["id"])):
            for row in message.get("components", []):
                for button in row["components"]:
                    if button.get("custom_id", "").startswith("paperbot:abs:"):
                        seen[button["custom_id"].removeprefix("paperbot:abs:")] += 1
    return len(threads), seen


class Bot:
    """One 'process': store, arXiv client and scheduler over the shared SQLite file."""

    def __init__(self, settings: Settings, db_path: Path, clock: FakeClock, sinks: dict) -> None:
        self.settings, self.db_path, self.clock, self.sinks = settings, db_path, clock, sinks

    async def start(self) -> Scheduler:
        self.store = await AsyncStore.open(self.db_path, clock=self.clock)
        self.arxiv = ArxivClient(self.settings.arxiv, sleep=self.clock.sleep,
                                 clock=lambda: self.clock.now().timestamp())
        commands = CommandExecutor(self.store, self.settings)
        self.scheduler = Scheduler(arxiv_settings=self.settings.arxiv, store=self.store, arxiv=self.arxiv,
                                   directories=[commands.channel_directory("slack"),
                                                commands.channel_directory("discord")],
                                   sinks=self.sinks, clock=self.clock)
        return self.scheduler


async def run(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    clock = FakeClock(START)
    tmp = Path(tempfile.mkdtemp(prefix="bench-outage-"))
    db_path = tmp / "paperbot.db"
    arxiv_up = START.replace(minute=0) + OUTAGE_ARXIV
    started = time.perf_counter()
    async with ArxivWithOutage(clock, arxiv_up) as arxiv_fake, \
            FakeSlack(epoch=START.timestamp()) as slack, \
            FakeDiscord(clock=ServiceClock(following=clock)) as discord_fake:
        slack.follow(clock)
        arxiv_fake.serve_listing(CATEGORY, listing(args.papers), etag='"monday"')
        slack_channels = [f"C0BENCH{i:02d}" for i in range(args.slack)]
        for channel in slack_channels:
            slack.add_channel(channel, channel.lower())
        guild = discord_fake.guild
        discord_channels = [guild.text_channel, guild.forum_channel]
        discord_channels += [discord_fake.add_text_channel(guild, f"papers-{i}")
                             for i in range(max(0, args.discord - 2))]
        slack_proxy = SwitchableProxy(int(slack.api_url.split(":")[2].split("/")[0]))
        discord_proxy = SwitchableProxy(int(discord_fake.api_url.split(":")[2].split("/")[0]))
        for proxy in (slack_proxy, discord_proxy):
            await proxy.up()
        settings = Settings(
            arxiv=arxiv_fake.settings(categories=[CATEGORY], enrich=False, max_tries=3,
                                      backoff_base_seconds=1, poll_interval_minutes=15),
            slack=SlackSettings(api_url=slack_proxy.url(slack.api_url), mode="http"),
            discord=DiscordSettings(api_url=discord_proxy.url(discord_fake.api_url),
                                    gateway_url=discord_fake.gateway_url),
        )
        first_store = await AsyncStore.open(db_path, clock=clock)
        slack_runtime = await start_slack(settings, CommandExecutor(first_store, settings), environ={
            "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SIGNING_SECRET},
            http_host="127.0.0.1", http_port=0)
        discord_runtime = await start_discord(settings, CommandExecutor(first_store, settings),
                                              environ={"DISCORD_TOKEN": discord_fake.token},
                                              guild_ready_timeout=0.02)
        await discord_runtime.start(timeout=10)
        now = clock.now()
        for channel in slack_channels:
            ref = ChannelRef("slack", slack.team_id, channel)
            await first_store.run(lambda s, ref=ref: s.channels.add_subscription(ref, "VLM", now=now))
        for channel in discord_channels:
            ref = ChannelRef("discord", str(guild.id), str(channel))
            await first_store.run(lambda s, ref=ref: s.channels.add_subscription(ref, "VLM", now=now))
        destinations = len(slack_channels) + len(discord_channels)
        sinks = {"slack": slack_runtime.sink, "discord": discord_runtime.sink}

        def posted() -> int:
            return (len(slack.calls_to("chat.postMessage"))
                    + sum(1 for c in discord_fake.calls if c.method == "POST" and c.path.endswith("/messages")
                          or c.path.endswith("/threads")))

        # ~1 parent + ceil(papers / 10) replies per destination: the outage and the kills are set
        # at fractions of that.
        expected_posts = destinations * (1 + -(-args.papers // 10))
        outage_at = int(expected_posts * args.outage_at)
        # The restarts: a third while the day goes out before the outage, a third during the
        # outage (while a pass is retrying), a third after it; each kill comes a random number of
        # posts into its run, so kills fall between posting and recording too.
        third = args.restarts // 3
        plan = ["before"] * (args.restarts - 2 * third) + ["during"] * third + ["after"] * third
        timeline: list[str] = []
        keys = [f"slack:{slack.team_id}:{c}" for c in slack_channels] + \
               [f"discord:{guild.id}:{c}" for c in discord_channels]

        bot = Bot(settings, db_path, clock, sinks)
        scheduler = await bot.start()
        outage: tuple[datetime, datetime] | None = None   # (down at, up at)
        recovered_at = finished_at = None
        restarts = passes = 0
        deadline = START + timedelta(hours=20)
        logging.getLogger().setLevel(logging.CRITICAL)  # the expected ERROR/WARNING lines of outages
        while clock.now() < deadline:
            if outage and recovered_at is None and clock.now() >= outage[1]:
                await slack_proxy.up()
                await discord_proxy.up()
                recovered_at = clock.now()
                timeline.append(f"{clock.now():%H:%M} Slack and Discord reachable again")
            passes += 1
            task = asyncio.ensure_future(scheduler.run_once())
            killed = False
            phase = "before" if outage is None else ("during" if recovered_at is None else "after")
            run_posts = posted()
            kill_after = (rng.randint(1, max(1, outage_at // 4)) if plan and plan[0] == phase and phase != "during"
                          else None)
            if plan and plan[0] == "during" == phase:
                kill_after = 0
            while not task.done():
                if outage is None and posted() >= outage_at:
                    await slack_proxy.down()
                    await discord_proxy.down()
                    outage = (clock.now(), clock.now() + timedelta(minutes=args.outage_minutes))
                    timeline.append(f"{clock.now():%H:%M} Slack and Discord unreachable "
                                    f"(after {posted()} posts)")
                if kill_after is not None and posted() - run_posts >= kill_after:
                    plan.pop(0)
                    if kill_after == 0:
                        await asyncio.sleep(0.001 * rng.random())  # somewhere in the failing pass
                    task.cancel()
                    killed = True
                    break
                await asyncio.sleep(0.0005)
            if killed:
                await asyncio.gather(task, return_exceptions=True)
                restarts += 1
                timeline.append(f"{clock.now():%H:%M} killed after {posted()} posts; restarting")
                # The killed process's connections are simply abandoned (no graceful close).
                scheduler = await Bot(settings, db_path, clock, sinks).start()
                bot = scheduler
                continue
            report = task.result()
            if report.day_status and not any("feed stored" in line for line in timeline):
                timeline.append(f"{clock.now():%H:%M} feed stored after arXiv's outage "
                                f"({arxiv_fake.refused} requests refused with Retry-After)")
            states = await scheduler.store.run(
                lambda s: [s.ledger.get_delivery(k, report.target_day) for k in keys])
            if all(r is not None and r.state == ledger.DONE for r in states):
                finished_at = clock.now()
                timeline.append(f"{clock.now():%H:%M} every destination done")
                break
            clock.advance(max(1.0, (report.next_wake - clock.now()).total_seconds()))

        lost = duplicates = parents_extra = 0
        wanted = {f"2611.{10000 + i}" for i in range(args.papers)}
        delivered = 0
        for channel in slack_channels:
            parents, seen = slack_papers(slack, channel)
            lost += len(wanted - set(seen))
            duplicates += sum(n - 1 for n in seen.values() if n > 1)
            parents_extra += max(0, parents - 1)
            delivered += len(set(seen) & wanted)
        for channel in discord_channels:
            parents, seen = discord_papers(discord_fake, channel)
            lost += len(wanted - set(seen))
            duplicates += sum(n - 1 for n in seen.values() if n > 1)
            parents_extra += max(0, parents - 1)
            delivered += len(set(seen) & wanted)
        await discord_runtime.close()
        await slack_runtime.close()
        await slack_proxy.down()
        await discord_proxy.down()

    for line in timeline:
        print(line)
    # From the moment the platforms were reachable again (not from the pass that noticed).
    after = (finished_at - outage[1]).total_seconds() / 60 if finished_at and outage else None
    print(f"destinations {destinations} ({len(slack_channels)} Slack, {len(discord_channels)} Discord), "
          f"{args.papers} papers each; passes {passes}, restarts {restarts}")
    print(f"delivered {delivered} of {destinations * args.papers}; lost {lost}, duplicates {duplicates}, "
          f"extra parents {parents_extra}; done {after if after is None else round(after, 1)} min "
          f"after the platforms came back; wall time {time.perf_counter() - started:.1f} s")
    return {"bench": "outage", "outage_minutes": args.outage_minutes, "destinations": destinations,
            "papers": destinations * args.papers, "lost": lost, "duplicates": duplicates,
            "extra_parents": parents_extra, "restarts": restarts,
            "arxiv_outage_minutes": int(OUTAGE_ARXIV.total_seconds() // 60),
            "arxiv_requests_refused": arxiv_fake.refused,
            "minutes_to_done_after_recovery": None if after is None else round(after, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slack", type=int, default=8, help="Slack channels")
    parser.add_argument("--discord", type=int, default=4, help="Discord channels (text and forum)")
    parser.add_argument("--papers", type=int, default=45, help="matching papers in the day")
    parser.add_argument("--outage-minutes", type=int, default=120)
    parser.add_argument("--outage-at", type=float, default=0.4, help="fraction of the day's posts before the outage")
    parser.add_argument("--restarts", type=int, default=6)
    parser.add_argument("--seed", type=int, default=14)
    result = asyncio.run(run(parser.parse_args()))
    print(json.dumps(result))
    return 0 if result["lost"] == 0 and result["duplicates"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
