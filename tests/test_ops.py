"""Operations: /healthz and /metrics over real HTTP, JSON logs, secrets never in logs."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import sqlite3
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.service import run_bot
from bot.arxiv.calendar import AnnouncementCalendar
from bot.config import Settings, TopicSettings
from bot.logs import JsonFormatter
from bot.models import Paper
from bot.ops import DatabaseHealth, OpsServer
from bot.store import AsyncStore, Store
from tests.conftest import eventually
from tests.fakes.arxiv_server import FakeArxiv, atom_listing

from tests.fakes.discord import FakeDiscord
from tests.fakes.slack_server import APP_TOKEN, BOT_TOKEN, FakeSlack

DISCORD_TOKEN = "NDQ0.discord-secret.token-of-the-test"
# Real-looking secrets, accepted by the fakes, so both platforms really start.
SECRETS = {
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "SLACK_APP_TOKEN": APP_TOKEN,
    "SLACK_SIGNING_SECRET": "3333signingsecret",
    "DISCORD_TOKEN": DISCORD_TOKEN,
}


# What /metrics shows once the day is polled, announced and written to Markdown.
DAY_SERIES = ('paperbot_polls_total{outcome="announced"}', "paperbot_arxiv_requests_total",
              'paperbot_messages_posted_total{platform="markdown"}')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def todays_feed() -> tuple[str, bytes]:
    today = AnnouncementCalendar().latest_feed_day(datetime.now(ZoneInfo("America/New_York")))
    body = atom_listing([{"id": "2511.00001v1", "title": "A VLM for everything", "abstract": "VLMs.",
                          "authors": ["Ann Author"], "categories": ["cs.CV"]}],
                        title="cs.CV updates on arXiv.org", day=today.isoformat())
    return today.isoformat(), body


async def test_health_and_metrics_while_running_and_no_secret_in_debug_logs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    port = free_port()
    day, body = todays_feed()
    async with FakeArxiv() as fake, FakeSlack() as slack, FakeDiscord(token=DISCORD_TOKEN) as discord_api:
        fake.serve_listing("cs.CV", body)
        settings = Settings(
            arxiv=fake.settings(categories=["cs.CV"], enrich=False, holidays=[]),
            storage={"path": str(tmp_path / "p.db")},
            topics={"VLMs": TopicSettings(keywords=["VLM"], markdown=str(tmp_path / "digests"))},
            slack={"api_url": slack.api_url, "mode": "socket"},
            discord={"api_url": discord_api.api_url, "gateway_url": discord_api.gateway_url},
            ops={"port": port},
        )
        stop = asyncio.Event()
        running = asyncio.ensure_future(run_bot(settings, stop=stop, environ=SECRETS, handle_signals=False))
        try:
            target = tmp_path / "digests" / "VLMs" / f"{day}.md"
            async with aiohttp.ClientSession() as http:

                async def get(path: str) -> tuple[int, str]:
                    try:
                        async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                            return response.status, await response.text()
                    except aiohttp.ClientConnectionError:  # the ops server is not listening yet
                        return 0, ""

                async def metrics_after_the_day() -> str | None:
                    # The counters move a few steps after the Markdown file is written: wait on
                    # the counters themselves.
                    status, text = await get("/metrics")
                    return text if status == 200 and all(series in text for series in DAY_SERIES) else None

                async def health_after_the_poll() -> dict | None:
                    status, text = await get("/healthz")
                    health = json.loads(text) if status == 200 else {}
                    ready = health.get("last_successful_poll_age_seconds") is not None and health.get("status") != "starting"
                    return health if ready else None

                exposition = await eventually(metrics_after_the_day, what="the day's counters in /metrics")
                health = await eventually(health_after_the_poll, what="a successful poll in /healthz")
            await eventually(lambda: "Slack started" in caplog.text and "Discord started" in caplog.text,
                             what="both platforms to log that they started")
            # The ops endpoint now answers before the first pass (it starts first), and the
            # counters may hold earlier tests' values: wait for the file itself.
            await eventually(target.exists, what="the day's Markdown file")
        finally:
            stop.set()
            await asyncio.wait_for(running, 30)
    assert health["status"] == "ok" and health["scheduler_alive"] and health["database_writable"]
    assert health["database_intact"] is True and health["database_problem"] is None
    assert (tmp_path / "digests" / "VLMs" / f"{day}.md").exists()
    assert 0 <= health["last_successful_poll_age_seconds"] < 60
    assert all(series in exposition for series in DAY_SERIES)
    logged = caplog.text
    assert "secrets present: SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_SIGNING_SECRET, DISCORD_TOKEN" in logged
    assert "Slack started" in logged and "Discord started" in logged
    for value in SECRETS.values():
        assert value not in logged


async def poll(http: aiohttp.ClientSession, url: str, done, within: float = 30.0) -> str:
    """GET `url` until `done(status, text)`; the last text. Bounded, for a busy machine."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    text = "(no answer yet)"
    while True:
        try:
            async with http.get(url) as response:
                text = await response.text()
                if done(response.status, text):
                    return text
        except aiohttp.ClientConnectorError:  # the bot has not opened its ops port yet
            pass
        assert loop.time() < deadline, f"{url} never got there; last answer: {text}"
        await asyncio.sleep(0.05)


async def get_health(http: aiohttp.ClientSession, port: int) -> tuple[int, dict]:
    # A health check that takes longer than a few seconds counts as failed in Docker.
    async with http.get(f"http://127.0.0.1:{port}/healthz",
                        timeout=aiohttp.ClientTimeout(total=5)) as response:
        return response.status, await response.json()


class SteppingMonotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


async def start_ops(store: AsyncStore, health: DatabaseHealth, alive=lambda: True) -> tuple[OpsServer, int]:
    await health.check_integrity()
    await health.refresh()
    port = free_port()
    server = OpsServer(store, scheduler_alive=alive, last_poll=lambda: None,
                       now=lambda: datetime.now(timezone.utc), port=port, database=health)
    first_probe = asyncio.ensure_future(health.next_refresh())
    await server.start()
    await first_probe  # the server's own monitor probes once at start; a test takes over after it
    return server, port


async def test_health_is_503_when_the_database_is_locked_or_the_scheduler_died(tmp_path):
    store = await AsyncStore.open(tmp_path / "p.db", busy_timeout=0.1)
    alive = {"value": True}
    health = DatabaseHealth(store, interval=3600)
    server, port = await start_ops(store, health, alive=lambda: alive["value"])
    holder = sqlite3.connect(tmp_path / "p.db", isolation_level=None)
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await get_health(http, port)
            assert status == 200 and body["last_successful_poll_age_seconds"] is None
            holder.execute("BEGIN EXCLUSIVE")
            await health.refresh()
            status, body = await get_health(http, port)
            assert status == 503
            assert body["database_writable"] is False and "locked" in body["database_problem"]
            holder.execute("ROLLBACK")
            await health.refresh()
            alive["value"] = False
            status, body = await get_health(http, port)
            assert status == 503
            assert body["scheduler_alive"] is False and body["database_writable"] is True
    finally:
        holder.close()
        await server.close()
        await store.close()


async def test_health_answers_from_what_it_holds_while_the_database_is_locked(tmp_path):
    """The probe waits on the lock (busy timeout 30 s); /healthz does not wait with it, and once
    the probe has gone unanswered too long it says so."""
    store = await AsyncStore.open(tmp_path / "p.db", busy_timeout=30)
    clock = SteppingMonotonic()
    health = DatabaseHealth(store, interval=3600, stale_after=10, monotonic=clock)
    server, port = await start_ops(store, health)
    holder = sqlite3.connect(tmp_path / "p.db", isolation_level=None)
    probe = None
    try:
        async with aiohttp.ClientSession() as http:
            holder.execute("BEGIN EXCLUSIVE")
            probe = asyncio.ensure_future(health.refresh())
            waiting = asyncio.ensure_future(health.next_refresh())
            status, body = await get_health(http, port)
            assert not probe.done(), "the probe should still be waiting for the lock"
            assert status == 200 and body["database_writable"] is True
            clock.value += 11
            status, body = await get_health(http, port)
            assert not probe.done()
            assert status == 503 and body["database_writable"] is False
            assert body["database_problem"] == "the database has not answered for 11 s"
            holder.execute("ROLLBACK")
            await waiting
            status, body = await get_health(http, port)
            assert status == 200 and body["database_checked_seconds_ago"] == 0
    finally:
        holder.close()
        if probe is not None:
            await probe
        await server.close()
        await store.close()


async def test_overlapping_probes_report_how_long_the_oldest_has_waited(tmp_path):
    """The monitor and a caller can probe at once; the database has kept us waiting since the
    first of them, not since the last one started."""
    store = await AsyncStore.open(tmp_path / "p.db", busy_timeout=30)
    clock = SteppingMonotonic()
    health = DatabaseHealth(store, interval=3600, stale_after=10, monotonic=clock)
    await health.check_integrity()
    holder = sqlite3.connect(tmp_path / "p.db", isolation_level=None)
    probes = []
    try:
        holder.execute("BEGIN EXCLUSIVE")
        probes.append(asyncio.ensure_future(health.refresh()))
        await asyncio.sleep(0)  # the first probe starts its wait at 1000
        clock.value += 6
        probes.append(asyncio.ensure_future(health.refresh()))
        await asyncio.sleep(0)  # the second at 1006
        clock.value += 5
        report = health.report()
        assert report["database_writable"] is False
        assert report["database_problem"] == "the database has not answered for 11 s"
        holder.execute("ROLLBACK")
        await asyncio.gather(*probes)
        report = health.report()
        assert report["database_writable"] is True and report["database_problem"] is None
    finally:
        holder.close()
        await asyncio.gather(*probes)
        await store.close()


async def test_health_reports_a_corrupt_database_found_by_the_quick_check_at_start(tmp_path, caplog):
    path = tmp_path / "p.db"
    with Store(path) as store:
        store.papers.save_listing(datetime(2025, 4, 21).date(), [
            Paper(id=f"2504.{n:05d}", title=f"Paper {n}", abstract="word " * 200, authors=("A B",),
                  categories=("cs.CV",), announce_type="new", version=1) for n in range(300)])
    pages = path.stat().st_size // 4096
    with open(path, "r+b") as raw:
        raw.seek(4096 * (pages // 2))
        raw.write(b"\xff" * 64)
    store = await AsyncStore.open(path)
    server, port = await start_ops(store, DatabaseHealth(store, interval=3600))
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await get_health(http, port)
        assert status == 503 and body["status"] == "unhealthy"
        assert body["database_intact"] is False and body["database_problem"].startswith("corrupt: ")
        assert f"the database {path} is corrupt" in caplog.text
    finally:
        await server.close()
        await store.close()


def test_json_log_lines_are_json():
    record = logging.LogRecord("paperbot", logging.ERROR, __file__, 1, "failed %s", ("x",), None)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["message"] == "failed x" and entry["logger"] == "paperbot"


@pytest.mark.parametrize("bad", [{"ops": {"port": 0}}, {"ops": {"port": 70000}}, {"ops": {"prt": 1}}])
def test_ops_settings_are_validated(bad):
    from bot.config import ConfigError, parse_settings

    with pytest.raises(ConfigError):
        parse_settings(bad)
