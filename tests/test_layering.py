"""The core never imports Slack or Discord libraries (DESIGN.md §1)."""

import ast
from pathlib import Path

PLATFORM_LIBRARIES = ("slack_bolt", "slack_sdk", "discord")
BOT = Path(__file__).resolve().parent.parent / "bot"


def test_core_does_not_import_platform_libraries():
    offenders = []
    for path in BOT.rglob("*.py"):
        if "platforms" in path.relative_to(BOT).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in PLATFORM_LIBRARIES:
                    offenders.append(f"{path.relative_to(BOT.parent)}: {name}")
    assert not offenders, offenders
