"""Render benchmark: how often each paper is rendered while a real-size day is composed into
messages, and how long composing takes (Slack Block Kit and Discord embeds).

A synthetic day of --papers matching papers (default 1,500, a real-size day) goes through each
sink's `compose` (what the delivery runner calls once per destination and attempt). Renders are
counted by wrapping the per-paper renderers (`slack.render.paper_text`,
`discord.render.paper_embed`); the seam's goal is exactly one render per paper.

    .venv/bin/python benchmarks/bench_render.py [--papers 1500]

Prints a table, then a last line of JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bot.delivery.sink import Undelivered  # noqa: E402
from bot.destinations import Destination  # noqa: E402
from bot.digest.model import build_digest  # noqa: E402
from bot.models import Hit, Match, Paper  # noqa: E402
from bot.platforms.discord import render as discord_render  # noqa: E402
from bot.platforms.discord import sink as discord_sink  # noqa: E402
from bot.platforms.slack import render as slack_render  # noqa: E402
from bot.platforms.slack.sink import SlackSink  # noqa: E402

DAY = date(2025, 4, 21)


def synthetic_day(n: int):
    papers = [Paper(id=f"2504.{10000 + i}", title=f"Paper {i} on VLM robustness " + "word " * (i % 20),
                    abstract="We study vision-language models (VLMs). " * (20 + i % 30),
                    authors=tuple(f"Author {j}" for j in range(3 + i % 9)), categories=("cs.CV", "cs.CL"),
                    announce_type=("new", "cross", "replace")[i % 3], version=1 + i % 2, announced=DAY,
                    comment="Accepted at CVPR 2025" if i % 4 == 0 else None)
              for i in range(n)]
    matches = [Match("s", p, (Hit("VLM", "title", p.title.index("VLM"), p.title.index("VLM") + 3),), 1.0)
               for p in papers]
    return build_digest("bench:T:C", "bench", DAY, matches)


def counted(module, name: str, counts: dict, key: str) -> None:
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        counts[key] += 1
        return original(*args, **kwargs)

    setattr(module, name, wrapper)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=1500)
    args = parser.parse_args()
    digest = synthetic_day(args.papers)
    destination = Destination(key="bench:T:C", platform="bench", address="C", title="bench",
                              subscription_ids=("s",))
    counts = {"slack": 0, "discord": 0}
    counted(slack_render, "paper_text", counts, "slack")
    counted(discord_sink, "paper_embed", counts, "discord")
    counted(discord_render, "paper_embed", counts, "discord")
    summary: dict = {"bench": "render", "papers": args.papers}
    for name, sink in (("slack", SlackSink(client=None, team_id="T")),
                       ("discord", discord_sink.DiscordSink(client=None))):
        started = time.perf_counter()
        composed = sink.compose(destination, digest, Undelivered.of(digest))
        seconds = time.perf_counter() - started
        per_paper = counts[name] / args.papers
        summary.update({f"{name}_renders_per_paper": round(per_paper, 2),
                        f"{name}_messages": 1 + len(composed.thread),
                        f"{name}_compose_seconds": round(seconds, 3)})
        print(f"{name:>8}: {per_paper:.2f} renders per paper, {1 + len(composed.thread)} messages, "
              f"composed in {seconds:.3f} s")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
