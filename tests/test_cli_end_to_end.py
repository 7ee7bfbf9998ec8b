"""`paperbot` as a user runs it: a real subprocess, a config file, a fake arXiv on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import yaml

from tests.conftest import PROJECT_ROOT, shared_path
from tests.fakes.arxiv_server import FakeArxiv


def write_config(tmp_path: Path, fake: FakeArxiv | None, categories: list[str], **topic) -> Path:
    arxiv = {"categories": categories, "min_interval_seconds": 0, "enrich": False,
             "backoff_base_seconds": 0, "max_tries": 2, "user_agent": "paperbot-tests (mailto:t@example.org)"}
    if fake is not None:
        arxiv.update(listing_url=fake.listing_url, api_url=fake.api_url)
    config = {
        "arxiv": arxiv,
        "storage": {"path": str(tmp_path / "data" / "paperbot.db")},
        "topics": {"MLLM": {"keywords": ["VLM", "MLM", "MLLM", "Multi-Modal Language Model",
                                         "Multimodal Language Model", "Vision Language Model"],
                            "types": ["new", "cross", "replace"], "markdown": str(tmp_path / "digests"),
                            **topic}},
    }
    path = tmp_path / "paperbot.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def paperbot(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode(), err.decode()


async def test_fetch_stores_the_quant_ph_day_with_every_announce_type(tmp_path):
    body = shared_path("fixtures", "arxiv-listing", "quant-ph-2025-04-28.atom.xml").read_bytes()
    async with FakeArxiv() as fake:
        fake.serve_listing("quant-ph", body, etag='"q1"')
        config = write_config(tmp_path, fake, ["quant-ph"])
        code, out, err = await paperbot("--config", str(config), "fetch")
        assert code == 0, err
        assert "2025-04-28: 81 papers stored from quant-ph" in out
        for kind, count in (("new", 40), ("cross", 10), ("replace", 22), ("replace-cross", 9)):
            assert f"{kind:<14}{count:>5}" in out
        # Same feed again: a conditional GET, 304, nothing new.
        code, out, _ = await paperbot("--config", str(config), "fetch")
        assert code == 0 and "304" in out
        assert fake.requests_to("/atom/quant-ph")[-1].header("If-None-Match") == '"q1"'
    db = sqlite3.connect(tmp_path / "data" / "paperbot.db")
    rows = dict(db.execute("SELECT announce_type, count(*) FROM listings GROUP BY 1").fetchall())
    assert rows == {"new": 40, "cross": 10, "replace": 22, "replace-cross": 9}
    # No glued words: every abstract keeps single spaces where the feed had line breaks.
    for (abstract,) in db.execute("SELECT abstract FROM papers"):
        assert "\n" not in abstract and "  " not in abstract
    assert (os.stat(tmp_path / "data" / "paperbot.db").st_mode & 0o777) == 0o600


async def test_fetch_reports_a_bad_category_by_name(tmp_path):
    body = shared_path("fixtures", "arxiv-listing", "error-bad-archive.atom.xml").read_bytes()
    async with FakeArxiv() as fake:
        fake.serve_listing("quant-ph", body)
        config = write_config(tmp_path, fake, ["quant-ph"])
        code, _, err = await paperbot("--config", str(config), "fetch")
    assert code == 1
    assert "astroph" in err


async def test_digest_from_a_saved_feed_then_search_and_test_query(tmp_path):
    feed = shared_path("fixtures", "arxiv-listing", "seed-mllm-2025-04-21.atom.xml")
    config = write_config(tmp_path, None, ["cs.CV"])
    code, out, err = await paperbot("--config", str(config), "digest", "--feed", str(feed))
    assert code == 0, err
    assert "MLLM: 14 papers for 2025-04-21" in out
    latest = (tmp_path / "digests" / "MLLM.md").read_text()
    assert latest == (tmp_path / "digests" / "MLLM" / "2025-04-21.md").read_text()
    assert "2504.11829" not in latest  # "Déjà Vu": only "mLLMs" (multilingual), not an MLLM hit
    assert "MLLM" in (tmp_path / "digests" / "README.md").read_text()

    code, out, _ = await paperbot("--config", str(config), "search", "grasp")
    assert code == 0 and "2502.04873" in out

    code, out, _ = await paperbot("--config", str(config), "test-query", "MLLM NOT diffusion", "--date", "2025-04-21")
    assert code == 0
    assert "query read as:" in out and "MLLM: hit in" in out
    # near misses, grouped by reason: the papers NOT diffusion excluded
    assert "near misses" in out and "excluded by a NOT term" in out
    assert "2504.13074" in out.split("near misses", 1)[1]

    code, _, err = await paperbot("--config", str(config), "test-query", "MLLM AND")
    assert code == 2
    assert 'expected a term after "AND"' in err and "Traceback" not in err


async def test_digest_out_and_topic_options(tmp_path):
    feed = shared_path("fixtures", "arxiv-listing", "seed-mllm-2025-04-21.atom.xml")
    config = write_config(tmp_path, None, ["cs.CV"])
    out_dir = tmp_path / "elsewhere"
    code, out, err = await paperbot("--config", str(config), "digest", "--feed", str(feed),
                                    "--topic", "MLLM", "--out", str(out_dir))
    assert code == 0, err
    assert (out_dir / "MLLM" / "2025-04-21.md").exists()
    code, _, err = await paperbot("--config", str(config), "digest", "--feed", str(feed), "--topic", "Nope")
    assert code == 2 and "unknown topic(s) Nope" in err


async def test_run_delivers_the_day_and_stops_cleanly_on_sigterm(tmp_path):
    body = shared_path("fixtures", "arxiv-listing", "seed-mllm-2025-04-21.atom.xml").read_bytes()
    async with FakeArxiv() as fake:
        # Serve the seed day as the current feed. The scheduler's calendar runs on the real clock,
        # so the day it waits for is today's; the seed feed is older, so it keeps polling: serve a
        # copy re-dated to today to make it the day's announcement.
        from datetime import datetime
        from zoneinfo import ZoneInfo

        from bot.arxiv.calendar import AnnouncementCalendar

        today = AnnouncementCalendar().latest_feed_day(datetime.now(ZoneInfo("America/New_York")))
        midnight = datetime.combine(today, datetime.min.time(), tzinfo=ZoneInfo("America/New_York"))
        redated = (body.replace(b"2025-04-21T04:00:00+00:00", midnight.astimezone(ZoneInfo("UTC")).isoformat().encode())
                   .replace(b"2025-04-21T00:00:00-04:00", midnight.isoformat().encode()))
        fake.serve_listing("cs.AI+cs.CL+cs.CV+cs.LG+cs.MA+cs.RO", redated)
        config = write_config(tmp_path, fake, ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO"])
        # No holidays, so whatever today is, the latest weekday is a feed day.
        data = yaml.safe_load(config.read_text())
        data["arxiv"]["holidays"] = []
        config.write_text(yaml.safe_dump(data))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "--config", str(config), "run", cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        target = tmp_path / "digests" / "MLLM" / f"{today.isoformat()}.md"
        try:
            for _ in range(600):  # generous: a loaded CI machine starts Python slowly
                if target.exists():
                    break
                await asyncio.sleep(0.05)
            assert target.exists(), "paperbot run did not write the day's digest"
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), 10)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, err.decode()
    log = err.decode()
    assert "next pass at" in log and "scheduler stopped" in log
    assert "Papers-14-" in target.read_text()


async def test_run_refuses_a_half_configured_slack_with_a_clear_message(tmp_path):
    config = write_config(tmp_path, None, ["cs.CV"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env["SLACK_BOT_TOKEN"] = "xoxb-not-a-real-token-123"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--config", str(config), "run", cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    text = err.decode()
    assert process.returncode == 2
    assert "Slack could not start" in text and "SLACK_APP_TOKEN" in text
    assert "xoxb-not-a-real-token-123" not in text and "Traceback" not in text


async def test_discord_invite_looks_up_the_application_from_the_token(tmp_path):
    from tests.fakes.discord_server import FakeDiscord

    async with FakeDiscord(token="invite-test-token") as discord_api:
        config = write_config(tmp_path, None, ["cs.CV"])
        data = yaml.safe_load(config.read_text())
        data["discord"] = {"api_url": discord_api.api_url}
        config.write_text(yaml.safe_dump(data))
        env = {**os.environ, "DISCORD_TOKEN": "invite-test-token"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "--config", str(config), "discord-invite", cwd=PROJECT_ROOT,
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    url = out.decode().strip()
    assert url.startswith(f"https://discord.com/oauth2/authorize?client_id={discord_api.application_id}")
    assert "scope=bot+applications.commands" in url and "permissions=309237730304" in url
