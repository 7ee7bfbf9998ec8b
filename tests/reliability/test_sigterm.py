"""SIGTERM while `paperbot run` posts a day to Slack: the message in flight finishes and is
recorded, the process exits within 10 s, and the next start finishes the day without duplicates."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.arxiv.calendar import AnnouncementCalendar
from bot.store import Store
from bot.store.subscriptions import ChannelRef
from tests.conftest import PROJECT_ROOT
from tests.fakes.arxiv_server import FakeArxiv, atom_listing
from tests.fakes.slack_server import FakeSlack

CHANNELS = ["C0SIGTA", "C0SIGTB"]
PAPERS = 40  # 1 parent + 4 replies a channel, at most one message a second per channel


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def todays_listing() -> tuple[bytes, list[str]]:
    today = AnnouncementCalendar().latest_feed_day(datetime.now(ZoneInfo("America/New_York")))
    stem = today.strftime("%y%m")
    entries = [{"id": f"{stem}.{30000 + i}v1", "title": f"A VLM for task {i}", "abstract": "About VLMs.",
                "authors": ["Ann Author"], "categories": ["cs.CV"]} for i in range(PAPERS)]
    return atom_listing(entries, title="cs.CV updates on arXiv.org", day=today.isoformat()), \
        [e["id"][:-2] for e in entries]


async def start_bot(config, folder, slack: FakeSlack) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(SLACK_BOT_TOKEN=slack.bot_token, SLACK_SIGNING_SECRET="sigterm-secret")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--config", str(config), "run", cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=open(folder / "bot.log", "ab"))


def slack_papers(slack: FakeSlack) -> list[str]:
    ids = []
    for channel in CHANNELS:
        for message in slack.messages.get(channel, []):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            ids += [f"{channel}/{pid}" for pid in payload.get("paper_ids", [])]
    return ids


def ledger_papers(db_path) -> set[str]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT destination, paper_id FROM delivered_papers").fetchall()
    return {f"{dest.rsplit(':', 1)[1]}/{pid}" for dest, pid in rows if not pid.startswith("mention:")}


# Slow on purpose: the Slack sink's real pace (one message a second per channel) is what keeps
# a post in flight when the signal arrives, and a subprocess is what receives a real SIGTERM.
@pytest.mark.slow
async def test_sigterm_mid_post_records_the_message_in_flight_and_exits_quickly(tmp_path):
    body, paper_ids = todays_listing()
    async with FakeArxiv() as arxiv, FakeSlack() as slack:
        arxiv.serve_listing("cs.CV", body)
        for channel in CHANNELS:
            slack.add_channel(channel, channel.lower())
        db_path = tmp_path / "paperbot.db"
        with Store(db_path) as store:
            for channel in CHANNELS:
                store.channels.add_subscription(ChannelRef("slack", slack.team_id, channel), "VLM",
                                               now=datetime.now(timezone.utc), created_by="U0SETUP")
        config = tmp_path / "paperbot.yaml"
        config.write_text(json.dumps({
            "arxiv": {"categories": ["cs.CV"], "listing_url": arxiv.listing_url, "api_url": arxiv.api_url,
                      "min_interval_seconds": 0, "enrich": False, "holidays": []},
            "storage": {"path": str(db_path)},
            "slack": {"api_url": slack.api_url, "mode": "http", "port": free_port()},
        }))

        bot = await start_bot(config, tmp_path, slack)
        try:
            # Wait until the replies have started (parents are out, the per-channel pace holds the rest).
            await slack.wait_for(lambda: len(slack_papers(slack)) >= 10, timeout=30)
            bot.send_signal(signal.SIGTERM)
            stopped_at = time.monotonic()
            code = await asyncio.wait_for(bot.wait(), 10)
            took = time.monotonic() - stopped_at
        finally:
            if bot.returncode is None:
                bot.kill()
                await bot.wait()
        assert code == 0 and took < 10
        posted = slack_papers(slack)
        assert len(posted) < len(CHANNELS) * PAPERS, "the day finished before the signal; test proves nothing"
        # Everything that reached Slack is in the ledger: nothing was posted and left unrecorded.
        assert set(posted) == ledger_papers(db_path)

        bot = await start_bot(config, tmp_path, slack)
        try:
            await slack.wait_for(lambda: len(slack_papers(slack)) >= len(CHANNELS) * PAPERS, timeout=60)
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 10)
    counts = Counter(slack_papers(slack))
    assert set(counts) == {f"{c}/{p}" for c in CHANNELS for p in paper_ids}
    assert max(counts.values()) == 1
    for channel in CHANNELS:
        parents = [m for m in slack.messages[channel] if not m.get("thread_ts") or m.get("thread_ts") == m.get("ts")]
        assert len(parents) == 1
