"""`paperbot` as a user runs it: a config file, a fake arXiv on 127.0.0.1, the command line parsed
by the real `main`. Commands run in-process (in a thread, as `main` runs its own event loop);
`run` runs as a real subprocess, because signals and start-up failures are what it is about."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from tests.conftest import DATA, PROJECT_ROOT, SYNTHETIC_LISTING, eventually
from tests.fakes.arxiv_server import FakeArxiv

# The synthetic listing's categories, and what the MLLM topic below matches in it.
CATEGORIES = ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO"]


def write_config(tmp_path: Path, fake: FakeArxiv | None, categories: list[str], **topic) -> Path:
    arxiv = {"categories": categories, "min_interval_seconds": 0, "enrich": False,
             "backoff_base_seconds": 0, "max_tries": 2, "user_agent": "paperbot-tests (mailto:t@example.org)",
             # The fake serves no listing pages; with the early edition `run` would depend on the hour.
             "early_edition": False}
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


@pytest.fixture
def paperbot(capsys):
    """Run `paperbot <args>` through the CLI's `main`; return (exit status, stdout, stderr)."""

    async def run(*args: str) -> tuple[int, str, str]:
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        try:
            code = await asyncio.to_thread(main, list(args))
        finally:
            # `main` configures logging for a process of its own; give pytest its handlers back.
            root.handlers[:] = handlers
            root.setLevel(level)
        out, err = capsys.readouterr()
        return code, out, err

    return run


async def test_fetch_stores_the_day_with_every_announce_type(tmp_path, paperbot):
    async with FakeArxiv() as fake:
        fake.serve_listing(CATEGORIES, SYNTHETIC_LISTING.read_bytes(), etag='"d1"')
        config = write_config(tmp_path, fake, CATEGORIES)
        code, out, err = await paperbot("--config", str(config), "fetch")
        assert code == 0, err
        assert f"2025-04-21: 20 papers stored from {' '.join(CATEGORIES)}" in out
        for kind, count in (("new", 15), ("cross", 2), ("replace", 2), ("replace-cross", 1)):
            assert f"{kind:<14}{count:>5}" in out
        # Same feed again: a conditional GET, 304, nothing new.
        code, out, _ = await paperbot("--config", str(config), "fetch")
        assert code == 0 and "304" in out
        assert fake.requests_to(fake.listing_path(CATEGORIES))[-1].header("If-None-Match") == '"d1"'
    db = sqlite3.connect(tmp_path / "data" / "paperbot.db")
    rows = dict(db.execute("SELECT announce_type, count(*) FROM listings GROUP BY 1").fetchall())
    assert rows == {"new": 15, "cross": 2, "replace": 2, "replace-cross": 1}
    # No glued words: every abstract keeps single spaces where the feed had line breaks.
    for (abstract,) in db.execute("SELECT abstract FROM papers"):
        assert "\n" not in abstract and "  " not in abstract
    assert (os.stat(tmp_path / "data" / "paperbot.db").st_mode & 0o777) == 0o600


async def test_fetch_reports_a_bad_category_by_name(tmp_path, paperbot):
    body = (DATA / "error-bad-archive.atom.xml").read_bytes()
    async with FakeArxiv() as fake:
        fake.serve_listing("quant-ph", body)
        config = write_config(tmp_path, fake, ["quant-ph"])
        code, _, err = await paperbot("--config", str(config), "fetch")
    assert code == 1
    assert "astroph" in err


# Papers of the synthetic day that the MLLM topic of write_config (new, cross and replace) matches.
TOPIC_MATCHES = 12


async def test_digest_from_a_saved_feed_then_search_and_test_query(tmp_path, paperbot):
    feed = SYNTHETIC_LISTING
    config = write_config(tmp_path, None, ["cs.CV"])
    code, out, err = await paperbot("--config", str(config), "digest", "--feed", str(feed))
    assert code == 0, err
    assert f"MLLM: {TOPIC_MATCHES} papers for 2025-04-21" in out
    latest = (tmp_path / "digests" / "MLLM.md").read_text()
    assert latest == (tmp_path / "digests" / "MLLM" / "2025-04-21.md").read_text()
    assert "2504.90003" not in latest  # "Tok-Tok": only "mLLMs" (multilingual), not an MLLM hit
    assert "MLLM" in (tmp_path / "digests" / "README.md").read_text()

    code, out, _ = await paperbot("--config", str(config), "search", "stairs")
    assert code == 0 and "2504.90012" in out

    code, out, _ = await paperbot("--config", str(config), "test-query", "MLLM NOT grasping", "--date", "2025-04-21")
    assert code == 0
    assert "query read as:" in out and "MLLM: hit in" in out
    # near misses, grouped by reason: the papers NOT grasping excluded
    assert "near misses" in out and "excluded by a NOT term" in out
    assert "2504.90005" in out.split("near misses", 1)[1]

    code, _, err = await paperbot("--config", str(config), "test-query", "MLLM AND")
    assert code == 2
    assert 'expected a term after "AND"' in err and "Traceback" not in err


async def test_digest_out_and_topic_options(tmp_path, paperbot):
    feed = SYNTHETIC_LISTING
    config = write_config(tmp_path, None, ["cs.CV"])
    out_dir = tmp_path / "elsewhere"
    code, out, err = await paperbot("--config", str(config), "digest", "--feed", str(feed),
                                    "--topic", "MLLM", "--out", str(out_dir))
    assert code == 0, err
    assert (out_dir / "MLLM" / "2025-04-21.md").exists()
    code, _, err = await paperbot("--config", str(config), "digest", "--feed", str(feed), "--topic", "Nope")
    assert code == 2 and "unknown topic(s) Nope" in err


async def test_run_delivers_the_day_and_stops_cleanly_on_sigterm(tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.arxiv.calendar import AnnouncementCalendar

    body = SYNTHETIC_LISTING.read_bytes()
    async with FakeArxiv() as fake:
        # The scheduler's calendar runs on the real clock, so the day it waits for is today's;
        # the synthetic feed is older, so it would keep polling: serve a copy re-dated to today.
        today = AnnouncementCalendar().latest_feed_day(datetime.now(ZoneInfo("America/New_York")))
        midnight = datetime.combine(today, datetime.min.time(), tzinfo=ZoneInfo("America/New_York"))
        redated = (body.replace(b"2025-04-21T04:00:00+00:00", midnight.astimezone(ZoneInfo("UTC")).isoformat().encode())
                   .replace(b"2025-04-21T00:00:00-04:00", midnight.isoformat().encode()))
        fake.serve_listing(CATEGORIES, redated)
        config = write_config(tmp_path, fake, CATEGORIES)
        # No holidays, so whatever today is, the latest weekday is a feed day.
        data = yaml.safe_load(config.read_text())
        data["arxiv"]["holidays"] = []
        config.write_text(yaml.safe_dump(data))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "--config", str(config), "run", cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        target = tmp_path / "digests" / "MLLM" / f"{today.isoformat()}.md"
        log_lines: list[str] = []

        async def the_pass_is_over() -> bool:
            # The scheduler logs "next pass at" once the whole pass (fetch, store, deliver) is
            # done: the condition the assertions below need, not the digest file that comes first.
            line = (await process.stderr.readline()).decode()
            log_lines.append(line)
            if not line and process.returncode is None:
                await process.wait()
            return "next pass at" in line or process.returncode is not None

        try:
            await eventually(the_pass_is_over, what="paperbot run to finish its first pass")
            assert process.returncode is None, "".join(log_lines)
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    log = "".join(log_lines) + err.decode()
    assert process.returncode == 0, log
    assert "next pass at" in log and "scheduler stopped" in log
    assert target.exists(), "paperbot run did not write the day's digest"
    assert f"Papers-{TOPIC_MATCHES}-" in target.read_text()


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


async def test_discord_invite_looks_up_the_application_from_the_token(tmp_path, paperbot, monkeypatch):
    from tests.fakes.discord import FakeDiscord

    async with FakeDiscord(token="invite-test-token") as discord_api:
        config = write_config(tmp_path, None, ["cs.CV"])
        data = yaml.safe_load(config.read_text())
        data["discord"] = {"api_url": discord_api.api_url}
        config.write_text(yaml.safe_dump(data))
        monkeypatch.setenv("DISCORD_TOKEN", "invite-test-token")
        code, out, err = await paperbot("--config", str(config), "discord-invite")
    assert code == 0, err
    url = out.strip()
    assert url.startswith(f"https://discord.com/oauth2/authorize?client_id={discord_api.application_id}")
    assert "scope=bot+applications.commands" in url and "permissions=309237763072" in url


# -- operator mistakes (issue 14): check-config says what run would refuse, run says it the same way

@pytest.mark.parametrize("topic_name, topic, expected", [
    ("MLLM", {"query": "VLM AND", "keywords": []}, "topics.MLLM.query: expected a term after"),
    ("MLLM", {"keywords": ["("]}, "topics.MLLM.keywords:"),
    ("a/b", {}, "topics.a/b: 'a/b' cannot be a topic name"),
])
async def test_check_config_and_run_refuse_the_same_mistakes_in_one_line(tmp_path, paperbot, topic_name,
                                                                         topic, expected):
    config = write_config(tmp_path, None, ["cs.CV"], **topic)
    data = yaml.safe_load(config.read_text())
    data["topics"] = {topic_name: data["topics"]["MLLM"]}
    config.write_text(yaml.safe_dump(data))
    code, _, err = await paperbot("check-config", "--config", str(config))  # -c after the command too
    assert code == 2 and expected in err and "Traceback" not in err
    code, _, run_err = await paperbot("run", "-c", str(config))
    assert code == 2 and f"paperbot: {expected}" in run_err and "Traceback" not in run_err


async def test_an_unwritable_markdown_folder_is_named_before_run_starts(tmp_path, paperbot):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        config = write_config(tmp_path, None, ["cs.CV"], markdown=str(locked / "digests"))
        code, _, err = await paperbot("-c", str(config), "check-config")
        assert code == 2 and "topics.MLLM.markdown:" in err and "not writable" in err
    finally:
        locked.chmod(0o700)


async def test_a_file_as_markdown_folder_is_named_before_run_starts(tmp_path, paperbot):
    blocker = tmp_path / "digests-file"
    blocker.write_text("not a folder")
    config = write_config(tmp_path, None, ["cs.CV"], markdown=str(blocker / "sub"))
    code, _, err = await paperbot("-c", str(config), "check-config")
    assert code == 2 and f"topics.MLLM.markdown: {blocker} is a file, not a folder" in err
    code, _, err = await paperbot("-c", str(config), "run")
    assert code == 2 and "Traceback" not in err


async def test_cli_mistakes_get_one_line_not_a_traceback(tmp_path, paperbot, capsys):
    config = write_config(tmp_path, None, ["cs.CV"])
    with pytest.raises(SystemExit) as exited:
        main(["-c", str(config), "run", "--ops-port", "99999"])
    assert exited.value.code == 2 and "a port is between 1 and 65535" in capsys.readouterr().err
    code, _, err = await paperbot("--log-level", "debug", "-c", str(config), "test-query", "VLM",
                                  "--types", "new, cross")
    assert "unknown announce type" not in err and "Traceback" not in err  # spaces are fine now
    code, _, err = await paperbot("-c", str(config), "test-query", "VLM", "--types", "new,crossed")
    assert code == 2 and "unknown announce type(s) 'crossed'" in err


async def test_a_busy_ops_port_stops_run_with_a_clear_message(tmp_path, paperbot):
    import socket
    config = write_config(tmp_path, None, ["cs.CV"])
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = await paperbot("-c", str(config), "run", "--ops-port", str(port))
    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err


async def test_fetch_of_an_already_stored_day_says_nothing_was_new(tmp_path, paperbot):
    async with FakeArxiv() as fake:
        fake.serve_listing(CATEGORIES, SYNTHETIC_LISTING.read_bytes(), etag='"d1"')
        config = write_config(tmp_path, fake, CATEGORIES)
        assert (await paperbot("-c", str(config), "fetch"))[0] == 0
        code, out, _ = await paperbot("-c", str(config), "fetch", "--force")
    assert code == 0
    assert "2025-04-21: all 20 papers of the feed" in out and "were already stored; nothing new" in out


async def test_an_empty_holiday_feed_exits_alike_in_fetch_and_digest(tmp_path, paperbot):
    from tests.fakes.arxiv_server import atom_listing
    async with FakeArxiv() as fake:
        fake.serve_listing(["cs.CV"], atom_listing([], title="cs.CV updates on arXiv.org", day="2025-04-21"))
        config = write_config(tmp_path, fake, ["cs.CV"])
        fetch_code, fetch_out, _ = await paperbot("-c", str(config), "fetch")
        digest_code, digest_out, _ = await paperbot("-c", str(config), "digest")
    assert "no announcement" in fetch_out and "no announcement" in digest_out
    assert fetch_code == digest_code == 0


async def test_digest_into_an_unwritable_folder_is_one_line(tmp_path, paperbot):
    blocker = tmp_path / "out-file"
    blocker.write_text("a file where the folder should be")
    code, _, err = await paperbot("-c", str(write_config(tmp_path, None, ["cs.CV"])), "digest",
                                  "--feed", str(SYNTHETIC_LISTING), "--out", str(blocker / "x"))
    assert code == 1 and "\ndigest: cannot write" in err and "Traceback" not in err


async def test_discord_invite_with_discord_unreachable_is_one_line(tmp_path, paperbot, monkeypatch):
    import socket
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = write_config(tmp_path, None, ["cs.CV"])
    data = yaml.safe_load(config.read_text())
    data["discord"] = {"api_url": f"http://127.0.0.1:{port}/api/v10"}
    config.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("DISCORD_TOKEN", "NDQ0.not-a-real.token")
    code, _, err = await paperbot("-c", str(config), "discord-invite")
    assert code == 1 and "cannot reach Discord" in err and "Traceback" not in err
    assert "not-a-real" not in err


def test_a_closed_pipe_ends_search_quietly(tmp_path):
    # `paperbot search x | head -1`: the reader is gone before paperbot writes.
    import subprocess
    config = write_config(tmp_path, None, ["cs.CV"])
    subprocess.run([sys.executable, "-m", "bot.cli", "-c", str(config), "digest", "--feed",
                    str(SYNTHETIC_LISTING), "--out", str(tmp_path / "o")], cwd=PROJECT_ROOT,
                   capture_output=True, check=True)
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "-c", str(config), "search", "model"],
                               cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # long before the interpreter has even imported paperbot
    _, err = process.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert process.returncode == 141
