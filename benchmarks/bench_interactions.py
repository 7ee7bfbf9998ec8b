"""Interactions answered while a real-size day goes out (issue 12): `--platform slack|discord`.

Runs the platform's own script (bench_interactions_slack.py or bench_interactions_discord.py) with
the remaining arguments; each drives the real adapter against the local fake and prints a last
JSON line: {"bench": "interactions", "platform", "channels", "interactions", "over_3s",
"expired", "p50", "p99", ...}.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

SCRIPTS = {"slack": "bench_interactions_slack.py", "discord": "bench_interactions_discord.py"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], add_help=False)
    parser.add_argument("--platform", choices=sorted(SCRIPTS), required=True)
    args, rest = parser.parse_known_args()
    script = Path(__file__).with_name(SCRIPTS[args.platform])
    sys.argv = [str(script), *rest]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
