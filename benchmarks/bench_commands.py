"""Load: N concurrent signed `/papers` slash commands into the Slack app in HTTP mode, on loopback.

Slack wants every command acknowledged within 3 s. This sends the recorded slash-command payload
(../shared/fixtures/slack) with a mix of subcommands, all at once, to the real bolt app over real
aiohttp, with slack_sdk answering through a fake Slack Web API, and reports the acknowledgement
times (p50/p99/max) and the time until each answer reached its response_url. The baseline measured
in the same run is the same commands sent one at a time (no concurrency).

    .venv/bin/python benchmarks/bench_commands.py [--commands 200] [--papers 1504] [--distinct-queries]

The stored day is real-size (default 1,504 papers, as on a busy arXiv day): the recorded papers
(the MLLM seed listing and a quant-ph listing) repeated under fresh ids until there are enough.
With --distinct-queries every `test`, `subscribe` and `today <query>` asks a question nobody
asked before, so nothing is answered from the results the command layer keeps per day: each is
matched over the day (through its index: bot/matching/day_index.py).

A 10 ms ticker on the event loop measures its longest lag during the concurrent burst
(`max_loop_lag_ms`): how long a callback waited for the loop, which a command doing CPU work on
the loop (instead of the command worker) would make long. On a busy machine it also counts the
time the process was not scheduled. `burst_cpu_seconds` is the CPU time the process spent on
the burst (all threads: the bot, the fake Slack and the client), the work done whatever the
machine's load.

`--subscribed`: each of the 20 channels subscribes to a broad query first, so `today` shows a
channel's day; `--ranked` also gives each channel 20 votes and the stored relevance model the
daily pass would have trained, so `today` shows the day in the learned order (the command reads
the stored model and scores the channel's papers; it never trains). `today_answer_p50` is the
median answer time of the plain `today` commands of the burst: compare the two modes.

Targets (DESIGN.md §9): every acknowledgement < 3 s and answers p99 <= 2 s, in both modes.

Last line: JSON, e.g. {"bench":"commands","commands":200,"ack_p50":...,"ack_p99":...,"all_within_3s":true}
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import hmac
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bot.arxiv.feeds import parse_listing  # noqa: E402
from bot.commands import CommandExecutor  # noqa: E402
from bot.config import Settings, SlackSettings  # noqa: E402
from bot.platforms.slack import start_slack  # noqa: E402
from bot.ranking import Ranker  # noqa: E402
from bot.store import AsyncStore  # noqa: E402
from bot.store.personal import PersonRef  # noqa: E402
from bot.store.subscriptions import ChannelRef  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402
from loop_lag import LoopLag  # noqa: E402

SHARED = ROOT.parent / "shared" / "fixtures"
SECRET = "bench-signing-secret"
SEED_DAY = date(2025, 4, 21)
MIX = ["help", "list", "today", "test VLM", "search vision language", "today MLLM NOT robot",
       "subscribe VLM", "settings", "unsubscribe 1", "test \"vision language model\" AND cat:cs.CV"]


def sign(body: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


def real_size_day(n: int) -> list:
    """`n` papers: the recorded listings' papers, repeated under fresh ids."""
    recorded = []
    for name in ("seed-mllm-2025-04-21.atom.xml", "quant-ph-2025-04-28.atom.xml"):
        recorded += parse_listing((SHARED / "arxiv-listing" / name).read_bytes()).papers
    return [dataclasses.replace(recorded[i % len(recorded)], id=f"2504.{90000 + i:05d}", announced=SEED_DAY)
            for i in range(n)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


SUBSCRIBED_QUERY = "VLM OR MLLM OR quantum OR vision"


async def prepare_channels(store: AsyncStore, team: str, channels: list[str], papers: list,
                           ranked: bool) -> None:
    """Every channel subscribed to SUBSCRIBED_QUERY; with `ranked`, 20 votes each (10 👍, 10 👎
    on the day's first papers) and the model the daily pass would train from them."""
    refs = [ChannelRef("slack", team, channel) for channel in channels]

    def seed(s) -> None:
        for n, ref in enumerate(refs):
            s.channels.add_subscription(ref, SUBSCRIBED_QUERY)
            if ranked:
                voter = PersonRef("slack", team, "U_VOTER")
                for i, paper in enumerate(papers[n * 20:(n + 1) * 20]):
                    s.votes.cast(f"slack:{team}:{ref.channel}", paper.id, voter, 1 if i % 2 else -1)
    await store.run(seed)
    if ranked:
        scores = await Ranker(store).scores_for({f"slack:{team}:{c}": papers[:50] for c in channels})
        assert all(scores.values())


async def run(n: int, day_size: int, distinct: bool = False, subscribed: bool = False,
              ranked: bool = False) -> dict:
    recorded = (SHARED / "slack" / "payload_slash_command.urlencoded").read_text().strip()
    papers = real_size_day(day_size)
    with tempfile.TemporaryDirectory() as tmp:
        store = await AsyncStore.open(Path(tmp) / "p.db")
        await store.run(lambda s: s.papers.save_listing(SEED_DAY, papers))
        async with FakeSlack() as fake:
            channels = [f"C{i:07d}" for i in range(20)]
            for channel in channels:
                fake.add_channel(channel, channel.lower())
            users = [f"U{i:07d}" for i in range(50)]
            for user in users:
                fake.add_user(user, user.lower())
            if subscribed or ranked:
                await prepare_channels(store, fake.team_id, channels, papers, ranked)
            settings = Settings(slack=SlackSettings(api_url=fake.api_url, mode="http"))
            runtime = await start_slack(settings, CommandExecutor(store, settings),
                                        http_host="127.0.0.1", http_port=0, environ={"SLACK_BOT_TOKEN": fake.bot_token, "SLACK_SIGNING_SECRET": SECRET})
            await runtime.start()
            url = f"http://127.0.0.1:{runtime.bound_port}/slack/events"
            try:
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

                    async def one(i: int, tag: str) -> tuple[float, float]:
                        fields = dict(parse_qsl(recorded, keep_blank_values=True))
                        name = f"{tag}{i}"
                        text = MIX[i % len(MIX)]
                        if distinct and text.split()[0] in ("test", "subscribe") or (
                                distinct and text.startswith("today ")):
                            # A term no paper has: a question nobody asked before, so nothing
                            # is answered from the command layer's results of the day.
                            text += f" OR zzq{tag}{i}"
                        fields.update(command="/papers", text=text, team_id=fake.team_id,
                                      channel_id=channels[i % len(channels)], user_id=users[i % len(users)],
                                      response_url=fake.response_url(name))
                        body = urlencode(fields)
                        started = time.perf_counter()
                        async with http.post(url, data=body.encode(), headers=sign(body)) as response:
                            await response.read()
                            assert response.status == 200, response.status
                        acked = time.perf_counter() - started
                        await fake.wait_for(lambda: any(r["name"] == name for r in fake.responses), timeout=300)
                        answered = time.perf_counter() - started
                        if text == "today":
                            today_answers.append(answered)
                        return acked, answered

                    today_answers: list[float] = []

                    sequential = [await one(i, "seq") for i in range(min(n, 50))]
                    sequential_today = list(today_answers)
                    today_answers.clear()
                    async with LoopLag() as lag:
                        wall = time.perf_counter()
                        cpu = time.process_time()
                        concurrent = await asyncio.gather(*(one(i, "par") for i in range(n)))
                        wall = time.perf_counter() - wall
                        cpu = time.process_time() - cpu
            finally:
                await runtime.close()
        await store.close()
    acks = [a for a, _ in concurrent]
    answers = [b for _, b in concurrent]
    seq_acks = [a for a, _ in sequential]
    return {
        "bench": "commands", "commands": n, "papers": day_size, "distinct_queries": distinct,
        "subscribed": subscribed or ranked, "ranked": ranked, "wall_seconds": round(wall, 3),
        "today_answer_p50": round(statistics.median(today_answers), 4) if today_answers else None,
        "sequential_today_answer_p50": round(statistics.median(sequential_today), 4) if sequential_today else None,
        "ack_p50": round(percentile(acks, 0.5), 4), "ack_p99": round(percentile(acks, 0.99), 4),
        "ack_max": round(max(acks), 4),
        "answer_p50": round(percentile(answers, 0.5), 4), "answer_p99": round(percentile(answers, 0.99), 4),
        "sequential_ack_p50": round(statistics.median(seq_acks), 4),
        "max_loop_lag_ms": round(lag.max_ms, 1), "burst_cpu_seconds": round(cpu, 3),
        "all_within_3s": max(acks) < 3.0, "answer_p99_within_2s": percentile(answers, 0.99) <= 2.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=200, help="concurrent commands (default 200)")
    parser.add_argument("--papers", type=int, default=1504, help="papers in the stored day (default 1504)")
    parser.add_argument("--distinct-queries", action="store_true",
                        help="make every test/today/subscribe query unique (no repeated question)")
    parser.add_argument("--subscribed", action="store_true",
                        help="each channel subscribes to a broad query first (today shows its day)")
    parser.add_argument("--ranked", action="store_true",
                        help="--subscribed, and each channel has votes and a stored relevance model")
    args = parser.parse_args()
    if not SHARED.exists():
        print(f"skipped: recorded fixtures not found at {SHARED}", file=sys.stderr)
        return 0
    result = asyncio.run(run(args.commands, args.papers, args.distinct_queries, args.subscribed, args.ranked))
    print(f"{args.commands} concurrent signed /papers commands, HTTP mode on loopback, "
          f"{args.papers}-paper day stored")
    print(f"  acknowledged: p50 {result['ack_p50'] * 1000:.0f} ms, p99 {result['ack_p99'] * 1000:.0f} ms, "
          f"max {result['ack_max'] * 1000:.0f} ms (Slack's limit: 3000 ms)")
    print(f"  answered on response_url: p50 {result['answer_p50'] * 1000:.0f} ms, "
          f"p99 {result['answer_p99'] * 1000:.0f} ms; all done in {result['wall_seconds']:.2f} s")
    print(f"  baseline, one at a time: ack p50 {result['sequential_ack_p50'] * 1000:.1f} ms")
    if result["today_answer_p50"] is not None:
        mode = "learned order" if args.ranked else "match order"
        print(f"  plain `today` ({mode}): answered p50 {result['today_answer_p50'] * 1000:.0f} ms in the burst, "
              f"{(result['sequential_today_answer_p50'] or 0) * 1000:.0f} ms one at a time")
    print(f"  event loop: longest lag {result['max_loop_lag_ms']:.0f} ms during the burst; the "
          f"process used {result['burst_cpu_seconds']:.2f} s of CPU for it (bot, fake Slack and "
          "client together: less noisy than latencies on a shared machine)")
    print(json.dumps(result, separators=(",", ":")))
    return 0 if result["all_within_3s"] else 1


if __name__ == "__main__":
    sys.exit(main())
