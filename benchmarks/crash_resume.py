"""Crash-resume benchmark (issue 8): `paperbot run` killed with SIGKILL while it posts a large day.

The fake arXiv and the fake Slack run in this script's own event loop, so they outlive the bot.
Each trial is a fresh database with CHANNELS Slack channels subscribed (through the real
`bot.store.subscriptions` layer) and a day of PAPERS matching papers (~10 per message, so
1 parent + 6 replies per channel). The bot is started as a subprocess (`paperbot --config ... run`,
HTTP mode, real time), killed with SIGKILL, restarted, killed again..., and finally left to finish;
then every channel's threads in the fake Slack are checked: exactly one parent, every paper
exactly once, nothing else; and every subscription still stored.

Two kinds of kill, mixed at random:
  random   a uniformly random moment after this run's first post reached Slack
  window   inside the fake Slack, right after it stored the k-th message of this run and before it
           answers: the post happened, the bot never learns it did (the window between posting and
           recording that resume must close from the thread's metadata)

    .venv/bin/python benchmarks/crash_resume.py [--trials 30] [--parallel 6] [--seed N]

Prints per-trial lines, a summary table and a last line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.arxiv.calendar import AnnouncementCalendar  # noqa: E402
from bot.platforms.slack.render import shown_paper_ids  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.subscriptions import ChannelRef  # noqa: E402
from tests.fakes.arxiv_server import FakeArxiv, atom_listing  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402

CATEGORY = "cs.CV"
CHANNELS = 20
PAPERS = 60
OTHER_PAPERS = 25
PAPERS_PER_MESSAGE = 10  # SlackSink's default packing
QUERIES = ("VLM, MLLM", '"vision language model" -robot')
MAX_KILLS_PER_TRIAL = 3   # (a kill no longer costs a delivery attempt; bench_outage.py kills 6 times)
RUN_DEADLINE = 60.0       # seconds one final run may take before the trial counts as stuck
SIGNING_SECRET = "crash-resume-signing-secret"
LIVE: set[asyncio.subprocess.Process] = set()  # bots to kill if this script stops early


def paperbot_command() -> list[str]:
    # `-m` with PYTHONPATH (set in `Trial.start`) runs this checkout's code, whichever copy of the
    # project the console script was installed from.
    return [sys.executable, "-m", "bot.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def day_listing(day: str) -> tuple[bytes, list[str]]:
    stem = day[2:4] + day[5:7]
    matching = [
        {"id": f"{stem}.{10000 + i}v1", "title": f"A VLM for problem {i}: <b>*bold*</b> & `code`",
         "abstract": "We study vision-language models on many tasks. " * 8,
         "authors": [f"Author {i}", "Second Author", "Third Author"], "categories": [CATEGORY, "cs.AI"]}
        for i in range(PAPERS)
    ]
    other = [
        {"id": f"{stem}.{20000 + i}v1", "title": f"Graph theory note {i}", "abstract": "Nothing visual.",
         "authors": ["C. Other"], "categories": [CATEGORY]}
        for i in range(OTHER_PAPERS)
    ]
    body = atom_listing(matching + other, title=f"{CATEGORY} updates on arXiv.org", day=day)
    return body, [e["id"].rsplit("v", 1)[0] for e in matching]


class KillingSlack(FakeSlack):
    """The fake Slack, able to SIGKILL a bot right after storing a message, before answering."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.armed: dict[str, tuple[int, int]] = {}   # channel prefix -> (pid, messages until the kill)
        self.window_kills = 0

    def arm(self, prefix: str, pid: int, after_messages: int) -> None:
        self.armed[prefix] = (pid, after_messages)

    def disarm(self, prefix: str) -> None:
        self.armed.pop(prefix, None)

    def _chat_postMessage(self, params):
        response = super()._chat_postMessage(params)
        channel = str(params.get("channel") or "")
        for prefix, (pid, left) in list(self.armed.items()):
            if channel.startswith(prefix) and b'"ok": true' in response.body:
                if left <= 1:
                    del self.armed[prefix]
                    try:
                        os.kill(pid, signal.SIGKILL)
                        self.window_kills += 1
                    except ProcessLookupError:
                        pass
                else:
                    self.armed[prefix] = (pid, left - 1)
        return response


@dataclass
class TrialResult:
    number: int
    kills: list[str] = field(default_factory=list)
    mid_post_kills: int = 0
    duplicates: int = 0
    losses: int = 0
    parents: int = 0
    lost_subscriptions: int = 0
    extra_papers: int = 0
    seconds: float = 0.0
    exit_code: int | None = None
    problems: list[str] = field(default_factory=list)


class Trial:
    def __init__(self, number: int, root: Path, slack: KillingSlack, arxiv: FakeArxiv, day: str,
                 paper_ids: list[str], rng: random.Random) -> None:
        self.number = number
        self.slack = slack
        self.arxiv = arxiv
        self.day = day
        self.paper_ids = paper_ids
        self.rng = rng
        self.folder = root / f"trial-{number:02d}"
        self.folder.mkdir()
        self.db_path = self.folder / "paperbot.db"
        self.prefix = f"C{number:02d}Z"
        self.channels = [f"{self.prefix}{i:02d}" for i in range(CHANNELS)]
        self.result = TrialResult(number)
        self.log = open(self.folder / "paperbot.log", "ab")

    def setup(self) -> None:
        for channel in self.channels:
            self.slack.add_channel(channel, f"papers-{channel.lower()}")
        with Store(self.db_path) as store:
            now = datetime.now(timezone.utc)
            for channel in self.channels:
                ref = ChannelRef("slack", self.slack.team_id, channel)
                for query in QUERIES:
                    store.channels.add_subscription(ref, query, now=now, created_by="U0SETUP",
                                                   channel_name=f"papers-{channel.lower()}")
            self.subscriptions_before = self._subscriptions(store)

    @staticmethod
    def _subscriptions(store: Store) -> list[tuple]:
        return store.db.execute(
            "SELECT id, platform, workspace, channel, query FROM channel_subscriptions ORDER BY id").fetchall()

    def config(self) -> Path:
        path = self.folder / "paperbot.yaml"
        path.write_text(json.dumps({  # JSON is YAML
            "arxiv": {"categories": [CATEGORY], "listing_url": self.arxiv.listing_url,
                      "api_url": self.arxiv.api_url, "min_interval_seconds": 0, "enrich": False,
                      "user_agent": "paperbot-crash-bench (mailto:bench@example.org)"},
            "storage": {"path": str(self.db_path)},
            "slack": {"api_url": self.slack.api_url, "mode": "http", "port": free_port()},
        }))
        return path

    def posted(self) -> int:
        return sum(len(self.slack.messages.get(c, [])) for c in self.channels)

    def done(self) -> bool:
        try:
            with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=1) as db:
                row = db.execute("SELECT count(*) FROM deliveries WHERE state = 'done'").fetchone()
        except sqlite3.Error:
            return False
        return row[0] >= CHANNELS

    async def start(self) -> asyncio.subprocess.Process:
        process = await self._spawn()
        LIVE.add(process)
        return process

    async def _spawn(self) -> asyncio.subprocess.Process:
        env = {**os.environ, "SLACK_BOT_TOKEN": self.slack.bot_token, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "PYTHONPATH": str(PROJECT)}
        env.pop("SLACK_APP_TOKEN", None)
        env.pop("DISCORD_TOKEN", None)
        return await asyncio.create_subprocess_exec(
            *paperbot_command(), "--config", str(self.config()), "run",
            stdout=self.log, stderr=self.log, env=env, cwd=str(self.folder))

    async def wait_for_posting(self, process, before: int) -> bool:
        """Until this run posts something (True), or exits / finishes first (False)."""
        deadline = time.monotonic() + RUN_DEADLINE
        while time.monotonic() < deadline:
            if process.returncode is not None or self.done():
                return False
            if self.posted() > before:
                return True
            await asyncio.sleep(0.01)
        return False

    async def run(self) -> TrialResult:
        started = time.monotonic()
        self.setup()
        expected_messages = CHANNELS * (1 + -(-PAPERS // PAPERS_PER_MESSAGE))
        kills = self.rng.randint(1, MAX_KILLS_PER_TRIAL)
        for _ in range(kills):
            if self.done():
                break
            process = await self.start()
            before = self.posted()
            kind = self.rng.choice(("random", "window"))
            if kind == "window":
                # Never the very last message: a kill after that is no longer mid-post.
                remaining = max(1, expected_messages - before - 1)
                self.slack.arm(self.prefix, process.pid, self.rng.randint(1, remaining))
                # The fake Slack kills it; unless this run had nothing left to post (the day was
                # finished by the run before, up to its last ledger write).
                deadline = time.monotonic() + RUN_DEADLINE
                while process.returncode is None and not self.done() and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
                self.slack.disarm(self.prefix)
                if process.returncode is None:
                    process.kill()
                await process.wait()
            else:
                if await self.wait_for_posting(process, before):
                    # Channels post in parallel at one message a second each: what is left of the
                    # day takes about (messages left per channel) seconds.
                    left = (expected_messages - before) / CHANNELS
                    await asyncio.sleep(self.rng.uniform(0, max(0.2, left - 0.8)))
                if process.returncode is None:
                    process.kill()
                await process.wait()
            at_kill = self.posted()
            self.result.kills.append(kind)
            if at_kill < expected_messages:
                self.result.mid_post_kills += 1
        # Last run: let it finish its pass, then stop it the ordinary way (SIGTERM). Waiting for
        # the pass's "next pass at" line also means the signal handlers are installed by then.
        self.log.flush()
        log_path = self.folder / "paperbot.log"
        offset = log_path.stat().st_size
        process = await self.start()
        deadline = time.monotonic() + RUN_DEADLINE
        while time.monotonic() < deadline and process.returncode is None:
            if self.done() and b"next pass at" in log_path.read_bytes()[offset:]:
                break
            await asyncio.sleep(0.05)
        if not self.done():
            self.result.problems.append("deliveries not all done before the deadline")
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except asyncio.TimeoutError:
                self.result.problems.append("did not stop within 15 s of SIGTERM")
                process.kill()
                await process.wait()
        self.result.exit_code = process.returncode
        if process.returncode != 0:
            self.result.problems.append(f"final run exited with {process.returncode}")
        self.log.close()
        self.verify()
        self.result.seconds = time.monotonic() - started
        return self.result

    def verify(self) -> None:
        key_prefix = f"slack:{self.slack.team_id}:"
        for channel in self.channels:
            messages = self.slack.messages.get(channel, [])
            parents = [m for m in messages if not m.get("thread_ts") and _payload(m).get("kind") == "parent"
                       and _payload(m).get("day") == self.day]
            self.result.parents += len(parents)
            if len(parents) != 1:
                self.result.duplicates += max(0, len(parents) - 1)
                self.result.problems.append(f"{channel}: {len(parents)} parent messages")
            seen: Counter[str] = Counter()
            for message in messages:
                if not message.get("thread_ts"):
                    continue
                payload = _payload(message)
                if payload.get("destination") != key_prefix + channel:
                    self.result.problems.append(f"{channel}: a reply without our metadata")
                    continue
                # The buttons say what a reader sees; the metadata must agree with them.
                shown = shown_paper_ids(message.get("blocks") or [])
                if shown and shown != list(payload.get("paper_ids") or []):
                    self.result.problems.append(f"{channel}: metadata and buttons disagree")
                seen.update(payload.get("paper_ids") or [])
                if parents and message["thread_ts"] != parents[0]["ts"]:
                    self.result.problems.append(f"{channel}: a reply outside the day's first thread")
            expected = set(self.paper_ids)
            self.result.duplicates += sum(n - 1 for n in seen.values() if n > 1)
            self.result.losses += len(expected - set(seen))
            self.result.extra_papers += len(set(seen) - expected)
        with Store(self.db_path) as store:
            after = self._subscriptions(store)
        self.result.lost_subscriptions = len(set(self.subscriptions_before) - set(after))


def _payload(message: dict) -> dict:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload")
    return payload if isinstance(payload, dict) else {}


async def main_async(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    day = AnnouncementCalendar().latest_feed_day(datetime.now(timezone.utc)).isoformat()
    body, paper_ids = day_listing(day)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="paperbot-crash-") as tmp:
        async with FakeArxiv() as arxiv, KillingSlack() as slack:
            arxiv.serve_listing(CATEGORY, body, etag='"day"')
            trials = [Trial(n, Path(tmp), slack, arxiv, day, paper_ids, random.Random(rng.random()))
                      for n in range(args.trials)]
            gate = asyncio.Semaphore(args.parallel)

            async def one(trial: Trial) -> TrialResult:
                async with gate:
                    result = await trial.run()
                print(f"trial {result.number:2d}: kills {','.join(result.kills):22s} mid-post {result.mid_post_kills}"
                      f"  parents {result.parents:3d}  duplicates {result.duplicates}  losses {result.losses}"
                      f"  lost subs {result.lost_subscriptions}  {result.seconds:5.1f} s"
                      + (f"  PROBLEMS: {'; '.join(result.problems[:3])}" if result.problems else ""),
                      flush=True)
                if result.problems and args.keep_logs:
                    print(f"  log: {trial.folder / 'paperbot.log'}")
                return result

            try:
                results = await asyncio.gather(*(one(t) for t in trials))
            finally:
                for process in LIVE:
                    if process.returncode is None:
                        process.kill()
            replies_calls = len(slack.calls_to("conversations.replies"))
            history_calls = len(slack.calls_to("conversations.history"))
            window_kills = slack.window_kills
            if args.keep_logs and any(r.problems for r in results):
                import shutil
                kept = Path(tempfile.mkdtemp(prefix="paperbot-crash-kept-"))
                shutil.copytree(tmp, kept, dirs_exist_ok=True)
                print(f"logs kept in {kept}")
    kills = [k for r in results for k in r.kills]
    summary = {
        "bench": "crash_resume",
        "trials": len(results),
        "kills": len(kills),
        "window_kills": window_kills,
        "random_kills": kills.count("random"),
        "mid_post_kills": sum(r.mid_post_kills for r in results),
        "channels": CHANNELS,
        "papers": PAPERS,
        "duplicates": sum(r.duplicates for r in results),
        "losses": sum(r.losses for r in results),
        "extra_papers": sum(r.extra_papers for r in results),
        "lost_subscriptions": sum(r.lost_subscriptions for r in results),
        "failed_trials": sum(1 for r in results if r.problems),
        "reconcile_calls": replies_calls,
        "history_calls": history_calls,
        "seconds": round(time.monotonic() - started, 1),
    }
    print()
    print(f"{'trials':>20}: {summary['trials']} x {CHANNELS} channels x {PAPERS} papers")
    print(f"{'SIGKILLs':>20}: {summary['kills']} ({summary['window_kills']} between post and answer, "
          f"{summary['random_kills']} at random moments; {summary['mid_post_kills']} landed mid-post)")
    for name in ("duplicates", "losses", "extra_papers", "lost_subscriptions", "failed_trials"):
        print(f"{name:>20}: {summary[name]}")
    print(f"{'reconcile calls':>20}: {replies_calls} conversations.replies, {history_calls} conversations.history")
    print(f"{'wall time':>20}: {summary['seconds']} s")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--parallel", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20250428)
    parser.add_argument("--keep-logs", action="store_true", help="keep the bot logs of failed trials")
    args = parser.parse_args()
    summary = asyncio.run(main_async(args))
    print(json.dumps(summary))
    return 0 if summary["failed_trials"] == 0 and summary["duplicates"] == 0 and summary["losses"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
