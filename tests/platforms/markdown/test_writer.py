"""MarkdownWriter: the three files, latest always fresh, README index, atomic writes."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from bot.platforms.markdown.render import NO_MATCH_TEXT, MarkdownWriter, atomic_write_text, render_markdown
from bot.digest.model import DigestError, build_digest
from tests.conftest import PROJECT_ROOT
from tests.digest.helpers import make_match, make_paper

MON, TUE, WED = date(2025, 4, 21), date(2025, 4, 22), date(2025, 4, 23)


def digest_of(day: date, count: int, title: str = "MLLM"):
    matches = [make_match(make_paper(f"2504.{n:05d}", title=f"Paper {n} on VLMs"), score=1.0)
               for n in range(count)]
    return build_digest(f"md:{title}", title, day, matches)


def test_write_produces_the_day_file_the_latest_file_and_the_index(tmp_path):
    writer = MarkdownWriter(tmp_path)
    digest = digest_of(MON, 3)
    written = writer.write(digest, "MLLM", keywords=["VLM"], filters=[])

    assert written == [tmp_path / "MLLM" / "2025-04-21.md", tmp_path / "MLLM.md",
                       tmp_path / "README.md"]
    expected = render_markdown(digest, keywords=["VLM"], filters=[])
    assert (tmp_path / "MLLM" / "2025-04-21.md").read_text(encoding="utf-8") == expected
    assert (tmp_path / "MLLM.md").read_text(encoding="utf-8") == expected
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "| [MLLM](MLLM.md) | [2025-04-21](MLLM/2025-04-21.md) | 3 |" in readme
    # Owner-only files; no temporary file left behind.
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.rglob(".*")) == []


def test_an_empty_day_still_rewrites_the_latest_file(tmp_path):
    writer = MarkdownWriter(tmp_path)
    writer.write(digest_of(MON, 4), "MLLM")
    written = writer.write(digest_of(TUE, 0), "MLLM")

    latest = (tmp_path / "MLLM.md").read_text(encoding="utf-8")
    assert tmp_path / "MLLM.md" in written
    assert latest.startswith("# 🔍 MLLM Papers · 2025-04-22\n")
    assert NO_MATCH_TEXT in latest and "Papers-0-" in latest
    # Monday's file is kept as it was.
    assert "Papers-4-" in (tmp_path / "MLLM" / "2025-04-21.md").read_text(encoding="utf-8")
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "| [MLLM](MLLM.md) | [2025-04-22](MLLM/2025-04-22.md) | 0 |" in readme
    assert "- [2025-04-22](MLLM/2025-04-22.md) · 0 papers\n- [2025-04-21](MLLM/2025-04-21.md) · 4 papers" \
        in readme


def test_rewriting_an_older_day_leaves_the_newer_latest_file_alone(tmp_path):
    writer = MarkdownWriter(tmp_path)
    writer.write(digest_of(TUE, 2), "MLLM")
    written = writer.write(digest_of(MON, 5), "MLLM")
    assert written == [tmp_path / "MLLM" / "2025-04-21.md", tmp_path / "README.md"]
    assert "· 2025-04-22" in (tmp_path / "MLLM.md").read_text(encoding="utf-8").split("\n")[0]


def test_readme_indexes_every_topic_on_disk(tmp_path):
    MarkdownWriter(tmp_path).write(digest_of(MON, 3), "MLLM")
    MarkdownWriter(tmp_path).write(digest_of(TUE, 7), "MLLM")
    # A different writer (another process, another topic) still sees MLLM's files.
    MarkdownWriter(tmp_path).write(digest_of(TUE, 1, "Robot Learning"), "Robot Learning")
    (tmp_path / "notes").mkdir()  # a folder without digests is not a topic
    (tmp_path / "notes" / "todo.md").write_text("x", encoding="utf-8")
    MarkdownWriter(tmp_path).write(digest_of(WED, 2), "MLLM")

    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    table = [line for line in readme.split("\n") if line.startswith("| [")]
    assert table == [
        "| [MLLM](MLLM.md) | [2025-04-23](MLLM/2025-04-23.md) | 2 |",
        "| [Robot Learning](Robot%20Learning.md) | [2025-04-22](Robot%20Learning/2025-04-22.md) | 1 |",
    ]
    mllm = readme.split("## MLLM\n\n")[1].split("\n\n")[0].split("\n")
    assert mllm == ["- [2025-04-23](MLLM/2025-04-23.md) · 2 papers",
                    "- [2025-04-22](MLLM/2025-04-22.md) · 7 papers",
                    "- [2025-04-21](MLLM/2025-04-21.md) · 3 papers"]
    assert "## Robot Learning\n\n- [2025-04-22](Robot%20Learning/2025-04-22.md) · 1 paper\n" in readme
    assert "notes" not in readme
    # Every link in the index points at a file that exists.
    for target in re.findall(r"\]\(([^)]+)\)", readme):
        assert (tmp_path / target.replace("%20", " ")).exists(), target


def test_readme_lists_only_the_recent_days(tmp_path):
    writer = MarkdownWriter(tmp_path, recent_days=2)
    for day in (MON, TUE, WED):
        writer.write(digest_of(day, 1), "MLLM")
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "2025-04-23" in readme and "(MLLM/2025-04-22.md)" in readme
    assert "(MLLM/2025-04-21.md)" not in readme
    assert "- _1 older day in [MLLM/](MLLM/)_" in readme


def test_a_failed_rename_leaves_the_old_files_intact_and_no_temporary_file(tmp_path):
    MarkdownWriter(tmp_path).write(digest_of(MON, 3), "MLLM")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.md")}
    attempts = []

    def failing_replace(source: str, target: str) -> None:
        attempts.append((Path(source), Path(target)))
        assert Path(source).read_text(encoding="utf-8")  # the new text was fully written
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        MarkdownWriter(tmp_path, replace_file=failing_replace).write(digest_of(MON, 9), "MLLM")

    assert attempts and attempts[0][1] == tmp_path / "MLLM" / "2025-04-21.md"
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.md")} == before
    assert not attempts[0][0].exists()
    assert [p.name for p in tmp_path.rglob(".*")] == []


def test_a_process_killed_between_write_and_rename_leaves_the_old_file(tmp_path):
    """A real SIGKILL at the worst moment: after the temporary file is written, before the
    rename. The old file must be whole, and the leftover temporary file must not confuse the
    next run."""
    MarkdownWriter(tmp_path).write(digest_of(MON, 3), "MLLM")
    latest_before = (tmp_path / "MLLM.md").read_bytes()
    script = textwrap.dedent(f"""
        import os, signal
        from datetime import date
        from bot.platforms.markdown.render import MarkdownWriter
        from bot.digest.model import build_digest

        def die(source, target):
            os.kill(os.getpid(), signal.SIGKILL)

        digest = build_digest("md:MLLM", "MLLM", date(2025, 4, 22), [])
        MarkdownWriter({str(tmp_path)!r}, replace_file=die).write(digest, "MLLM")
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, timeout=30,
                            capture_output=True, text=True)
    assert result.returncode == -9, result.stderr

    assert (tmp_path / "MLLM.md").read_bytes() == latest_before
    assert not (tmp_path / "MLLM" / "2025-04-22.md").exists()
    leftovers = list((tmp_path / "MLLM").glob(".2025-04-22.md.*.tmp"))
    assert len(leftovers) == 1 and "Papers-0-" in leftovers[0].read_text(encoding="utf-8")

    # The next run is not confused by the leftover.
    MarkdownWriter(tmp_path).write(digest_of(TUE, 2), "MLLM")
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "[2025-04-22](MLLM/2025-04-22.md) | 2 |" in readme and ".tmp" not in readme


def test_atomic_write_creates_folders_and_replaces_whole_files(tmp_path):
    target = tmp_path / "a" / "b" / "file.md"
    atomic_write_text(target, "first\n")
    atomic_write_text(target, "second, longer text\n")
    assert target.read_text(encoding="utf-8") == "second, longer text\n"
    assert os.listdir(target.parent) == ["file.md"]


@pytest.mark.parametrize("topic, message", [
    ("", "needs a name"),
    ("../escape", "cannot start with a dot"),
    (".hidden", "cannot start with a dot"),
    ("a/b", "not allowed in file names: '/'"),
    ("a\\b", "not allowed"),
    ("line\nbreak", "not allowed"),
    ("README", "overwrite the index"),
    ("readme", "overwrite the index"),
    (" padded", "starts or ends with spaces"),
])
def test_unsafe_topic_names_are_refused_before_anything_is_written(tmp_path, topic, message):
    with pytest.raises(DigestError, match=message):
        MarkdownWriter(tmp_path).write(digest_of(MON, 1), topic)
    assert list(tmp_path.iterdir()) == []


def test_topic_defaults_to_the_digest_title(tmp_path):
    written = MarkdownWriter(tmp_path).write(digest_of(MON, 1, "Agents"))
    assert written[0] == tmp_path / "Agents" / "2025-04-21.md"


def test_empty_output_folder_has_an_index_that_says_so(tmp_path):
    assert "No digests yet." in MarkdownWriter(tmp_path / "missing").render_index()
