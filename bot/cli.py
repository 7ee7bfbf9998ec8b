"""The `paperbot` command line. Every command has help text (a test checks it)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence

from bot import __version__
from bot.config import ConfigError, Settings, load_settings, resolve_config_path, secrets_present

log = logging.getLogger("paperbot")

Handler = Callable[[argparse.Namespace, Settings], int]


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


# --- check-config ---------------------------------------------------------------------------

def cmd_check_config(args: argparse.Namespace, _: Settings | None = None) -> int:
    path = resolve_config_path(args.config)
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    print(f"{path}: OK")
    print(f"  arXiv categories: {' '.join(settings.arxiv.categories)}")
    print(f"  topics: {', '.join(settings.topics) or '(none)'}")
    print(f"  database: {settings.storage.path}")
    present = [name for name, ok in secrets_present().items() if ok]
    print(f"  secrets set: {', '.join(present) if present else 'none (Markdown only)'}")
    return 0


# --- parser ---------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperbot",
        description="Watch arXiv's daily announcements, match them against keyword subscriptions, "
                    "and post digests to Slack, Discord and Markdown files.",
    )
    parser.add_argument("--version", action="version", version=f"paperbot {__version__}")
    parser.add_argument("--config", "-c", metavar="FILE",
                        help="configuration file (default: $PAPERBOT_CONFIG or the shipped config/paperbot.yaml)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging verbosity (default: INFO)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("check-config", help="validate the configuration and name every problem",
                       description="Validate the configuration file and report each problem with its exact key.")
    p.set_defaults(handler=cmd_check_config, needs_settings=False)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    handler: Handler = args.handler
    if not getattr(args, "needs_settings", True):
        return handler(args, None)  # type: ignore[arg-type]
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        print("run `paperbot check-config` for the full list", file=sys.stderr)
        return 2
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130


def run_async(coro) -> int:
    """Run a command's coroutine; commands return an exit status."""
    return asyncio.run(coro)


if __name__ == "__main__":
    sys.exit(main())
