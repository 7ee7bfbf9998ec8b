"""The `paperbot` command line. Every command has help text (a test checks it)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from datetime import date
from collections.abc import Callable, Sequence

from bot import __version__
from bot.logs import configure_logging
from bot.config import (
    ConfigError,
    Settings,
    load_settings,
    placeholder_contact,
    resolve_config_path,
    secrets_present,
)

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
    from bot.preflight import preflight_problems

    # Everything `run` would refuse at start, said now (creating and changing nothing).
    problems = preflight_problems(settings)
    if problems:
        print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    print(f"{path}: OK")
    print(f"  arXiv categories: {' '.join(settings.arxiv.categories)}")
    print("  early edition: " + (f"on (listing pages {settings.arxiv.listing_pages_url} from 20:00 ET, "
                                 "then the feed at midnight)" if settings.arxiv.early_edition else "off (feeds only)"))
    print(f"  topics: {', '.join(settings.topics) or '(none)'}")
    print(f"  database: {settings.storage.path}")
    present = [name for name, ok in secrets_present().items() if ok]
    print(f"  secrets set: {', '.join(present) if present else 'none (Markdown only)'}")
    if placeholder_contact(settings):
        print(f"  warning: {PLACEHOLDER_WARNING}")
    return 0


PLACEHOLDER_WARNING = ("arxiv.user_agent still names the placeholder contact you@example.org; "
                       "arXiv asks for a real contact (e.g. \"paperbot (mailto:you@your-lab.org)\")")


def _warn_placeholder_contact(settings: Settings) -> None:
    if placeholder_contact(settings):
        log.warning(PLACEHOLDER_WARNING)


# --- run ------------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.preflight import preflight_problems
    from bot.service import run_bot

    # The same checks and one-line messages as check-config: a traceback here would be a crash
    # loop under Docker's restart policy.
    # (The database path is checked by opening it, which says so in the same one line.)
    problems = preflight_problems(settings, storage=False)
    if problems:
        for problem in problems:
            print(f"paperbot: {problem}", file=sys.stderr)
        print("paperbot: not started; `paperbot check-config` lists the same problems", file=sys.stderr)
        return 2
    _warn_placeholder_contact(settings)

    if args.ops_port is not None or args.ops_host is not None:
        ops = settings.ops.model_copy(update={k: v for k, v in (("port", args.ops_port), ("host", args.ops_host))
                                              if v is not None})
        settings = settings.model_copy(update={"ops": ops})
    from bot.service import PlatformStartError

    try:
        asyncio.run(run_bot(settings))
    except PlatformStartError as exc:
        print(f"paperbot: {exc}", file=sys.stderr)
        return 2
    return 0


# --- fetch ----------------------------------------------------------------------------------

def cmd_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from bot.arxiv.client import ArxivClient
    from bot.arxiv.errors import ArxivError
    from bot.ingest import NOT_MODIFIED, fetch_and_store
    from bot.store import AsyncStore

    from datetime import datetime

    from bot.arxiv.calendar import EASTERN

    categories = _categories_option(args.categories) or settings.arxiv.categories
    _warn_placeholder_contact(settings)

    async def fetch() -> int:
        async with await AsyncStore.open(settings.storage.path) as store:
            async with ArxivClient(settings.arxiv) as arxiv:
                try:
                    result = await fetch_and_store(arxiv, store, categories, conditional=not args.force,
                                                   not_after=datetime.now(EASTERN).date())
                except ArxivError as exc:
                    print(f"fetch failed: {exc}", file=sys.stderr)
                    return 1
        if result.status == NOT_MODIFIED:
            print("arXiv's feed has not changed since the last fetch (304); nothing new stored")
            return 0
        if result.papers == 0:
            print(f"no announcement in the feed for {' '.join(categories)} ({result.day or 'undated'}): "
                  "a weekend, a holiday, or no papers in these categories")
            return 0
        summary = result.summary
        by_type = summary.by_type if summary else {}
        added = summary.listings_added if summary else result.papers
        if added == 0:
            # The day was fetched before: say so, rather than "15 papers stored" with zero counts.
            print(f"{result.day}: all {result.papers} papers of the feed for {' '.join(categories)} "
                  "were already stored; nothing new")
            return 0
        print(f"{result.day}: {added} papers stored from {' '.join(categories)}"
              + (f" ({result.papers - added} of the feed's {result.papers} were already stored)"
                 if added < result.papers else ""))
        for kind in ("new", "cross", "replace", "replace-cross"):
            print(f"  {kind:<14}{by_type.get(kind, 0):>5}")
        if summary:
            print(f"  ({summary.new_papers} papers new to the database, {summary.updated_papers} updated)")
        for category in result.truncated:
            print(f"  warning: {category} hit arXiv's 2000-item cap; some of its papers are missing")
        return 0

    return asyncio.run(fetch())


def _categories_option(values: Sequence[str] | None) -> list[str]:
    """`--categories cs.AI cs.CL` or `--categories cs.AI,cs.CL`, checked against the taxonomy."""
    from bot.taxonomy import canonical_category

    out: list[str] = []
    for value in values or ():
        for name in filter(None, (v.strip() for v in value.split(","))):
            canonical = canonical_category(name)
            if canonical is None:
                raise SystemExit(f"paperbot: unknown arXiv category {name!r}")
            out.append(canonical)
    return out


def _day_option(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2025-04-21, got {value!r}") from None


# --- search ---------------------------------------------------------------------------------

def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store import AsyncStore

    async def search() -> list:
        async with await AsyncStore.open(settings.storage.path) as store:
            return await store.run(lambda s: s.papers.search(args.text, limit=args.limit, day=args.date))

    papers = asyncio.run(search())
    if not papers:
        print(f"no stored paper matches {args.text!r}")
        return 1
    for paper in papers:
        print(f"{paper.id}  {paper.title}")
        print(f"    {', '.join(paper.categories)} · {paper.abs_url}")
    return 0


# --- test-query -----------------------------------------------------------------------------

def cmd_test_query(args: argparse.Namespace, settings: Settings) -> int:
    from bot.matching import QueryLimits, QuerySyntaxError, Subscription, compile_subscriptions, parse_query
    from bot.matching.near_misses import find_near_misses
    from bot.store import AsyncStore

    try:
        query = parse_query(args.query, QueryLimits.from_settings(settings.limits))
    except QuerySyntaxError as exc:
        print(f"query error: {exc}", file=sys.stderr)
        pointer = exc.pointer(args.query) if exc.column is not None else ""
        if pointer:
            print(pointer, file=sys.stderr)
        return 2

    from bot.models import ANNOUNCE_TYPES

    types = [t.strip() for t in args.types.split(",") if t.strip()] if args.types else ["new", "cross", "replace"]
    unknown = [t for t in types if t not in ANNOUNCE_TYPES]
    if unknown or not types:
        print(f"test-query: unknown announce type(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
              f"choose from {', '.join(ANNOUNCE_TYPES)}", file=sys.stderr)
        return 2

    async def load() -> tuple[date | None, list]:
        async with await AsyncStore.open(settings.storage.path) as store:
            day = args.date or await store.run(lambda s: s.papers.latest_day())
            papers = await store.run(lambda s: s.papers.for_day(day)) if day else []
            return day, papers

    day, papers = asyncio.run(load())
    if day is None:
        print("no announcement day is stored yet; run `paperbot fetch` first", file=sys.stderr)
        return 1
    subscription = Subscription(id="test", query=query, types=frozenset(types))
    matcher = compile_subscriptions([subscription])
    matches = sorted(matcher.match(papers), key=lambda m: (-m.score, m.paper.id))
    print(f"query read as: {query.describe()}")
    for note in query.notes:
        print(f"note: {note}")
    print(f"{day}: {len(matches)} of {len(papers)} papers match")
    for match in matches:
        print()
        print(f"{match.paper.title}")
        print(f"  {match.paper.abs_url}  {' '.join(match.paper.categories)}  [{match.paper.announce_type}]")
        for line in matcher.explain("test", match.paper).text().splitlines()[1:]:
            print(f"  {line}")
    near = find_near_misses(subscription, papers)
    if near.groups:
        print()
        print(f"near misses ({len(near.items)} of {near.total}):")
        for line in near.text().splitlines():
            print(f"  {line}")
    return 0 if matches else 1


# --- digest ---------------------------------------------------------------------------------

def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.oneshot import DigestRequest, make_digests

    request = DigestRequest(day=args.date, topics=tuple(args.topic or ()), out_dir=args.out,
                            feed_file=args.feed, categories=tuple(_categories_option(args.categories)))
    _warn_placeholder_contact(settings)
    try:
        return asyncio.run(make_digests(settings, request))
    except ValueError as exc:
        print(f"digest: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # An unwritable or missing --out / markdown folder, a full disk.
        where = f" {exc.filename}" if exc.filename else ""
        print(f"digest: cannot write{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1


# --- discord-invite -------------------------------------------------------------------------

def cmd_discord_invite(args: argparse.Namespace, settings: Settings) -> int:
    # Platform code stays in bot.platforms; the CLI only imports it for this command.
    from bot.platforms.discord import DiscordStartError, application_id_from_token, invite_url

    application_id = args.application_id
    if application_id is None:
        token = os.environ.get("DISCORD_TOKEN", "").strip()
        if not token:
            print("discord-invite: give --application-id (Developer Portal > General Information) "
                  "or set DISCORD_TOKEN so it can be looked up", file=sys.stderr)
            return 2
        import aiohttp

        try:
            application_id = asyncio.run(application_id_from_token(settings.discord.api_url, token))
        except DiscordStartError as exc:
            print(f"discord-invite: {exc}", file=sys.stderr)
            return 1
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            print(f"discord-invite: cannot reach Discord at {settings.discord.api_url} "
                  f"({type(exc).__name__}: {exc}); give --application-id instead", file=sys.stderr)
            return 1
    try:
        print(invite_url(application_id, guild_id=args.guild_id))
    except ValueError as exc:
        print(f"discord-invite: {exc}", file=sys.stderr)
        return 2
    return 0


# --- parser ---------------------------------------------------------------------------------

def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, got {port}")
    return port


LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


def _common_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options accepted before AND after the command (`paperbot run -c my.yaml`). After the
    command they default to "not given", so they never undo what came before it."""
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument("--config", "-c", metavar="FILE", default=default(None),
                        help="configuration file (default: $PAPERBOT_CONFIG, ./config/paperbot.yaml, "
                             "or the configuration shipped with paperbot)")
    parser.add_argument("--log-level", default=default("INFO"), type=str.upper, choices=LOG_LEVELS,
                        help="logging verbosity, any case (default: INFO)")
    parser.add_argument("--log-format", choices=["text", "json"], default=default(None),
                        help="log lines as text or one JSON object each (default: text, or ops.json_logs)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paperbot",
        description="Watch arXiv's daily announcements, match them against keyword subscriptions, "
                    "and post digests to Slack, Discord and Markdown files.",
    )
    parser.add_argument("--version", action="version", version=f"paperbot {__version__}")
    _common_options(parser, top=True)
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, top=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_SubParser(common))

    p = sub.add_parser("check-config", help="validate the configuration and name every problem",
                       description="Validate the configuration file and report each problem with its exact key.")
    p.set_defaults(handler=cmd_check_config, needs_settings=False)

    p = sub.add_parser("run", help="run the daily cycle: poll arXiv, match, deliver (until Ctrl-C)",
                       description="Run paperbot: wait for each arXiv announcement, store and match it, "
                                   "order each destination's papers by its learned ranking (from 👍/👎 "
                                   "votes, where it asks for it), and deliver digests to every configured "
                                   "destination and chat channel; answer /papers commands; post weekly "
                                   "best-ofs. Stops cleanly on SIGINT/SIGTERM.")
    p.add_argument("--ops-port", type=_port, metavar="PORT",
                   help="serve /healthz and /metrics on this port (overrides ops.port)")
    p.add_argument("--ops-host", metavar="HOST",
                   help="address for the operations endpoint (default 127.0.0.1; 0.0.0.0 in Docker)")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("fetch", help="fetch today's arXiv listing, store it, print a summary",
                       description="Fetch the current listing feed (one request for all categories), "
                                   "store its papers and print counts by announce type.")
    p.add_argument("--categories", nargs="+", metavar="CAT",
                   help="categories to fetch (default: arxiv.categories of the configuration)")
    p.add_argument("--force", action="store_true",
                   help="fetch even if the feed is unchanged since the last fetch (no conditional GET)")
    p.set_defaults(handler=cmd_fetch)

    p = sub.add_parser("search", help="full-text search over stored papers",
                       description="Search the titles, abstracts and authors of stored papers.")
    p.add_argument("text", help="words to look for (plain text; no query syntax needed)")
    p.add_argument("--limit", type=int, default=20, help="at most this many results (default 20)")
    p.add_argument("--date", type=_day_option, help="only papers announced on this day (YYYY-MM-DD)")
    p.set_defaults(handler=cmd_search)

    from bot.matching.help import QUERY_SYNTAX_HELP

    p = sub.add_parser("test-query", help="run a query on a stored day and explain each match",
                       description="Parse QUERY in the /papers query language, run it on a stored "
                                   "announcement day and print every matching paper with why it "
                                   "matched, then up to 5 near misses grouped by reason.",
                       epilog=QUERY_SYNTAX_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("query", help='the query, e.g. \'(VLM, "vision language model") NOT robot\' (NOT binds '
                        "tightest, then AND, then OR)")
    p.add_argument("--date", type=_day_option, help="the announcement day (default: the latest stored)")
    p.add_argument("--types", help="announce types to include, comma-separated (default new,cross,replace)")
    p.set_defaults(handler=cmd_test_query)

    p = sub.add_parser("digest", help="one-shot: fetch, match and write Markdown digests",
                       description="Fetch (or read --feed), match every configured topic and write "
                                   "<out>/<topic>/<date>.md, <out>/<topic>.md and <out>/README.md. "
                                   "A drop-in for the seed's cron job.")
    p.add_argument("--date", type=_day_option,
                   help="render this stored day (YYYY-MM-DD) instead of fetching the latest")
    p.add_argument("--topic", action="append", metavar="T",
                   help="only this topic (repeatable; default: every configured topic)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: each topic's `markdown:` folder)")
    p.add_argument("--feed", metavar="FILE", help="render a saved listing file (Atom or RSS), no network")
    p.add_argument("--categories", nargs="+", metavar="CAT",
                   help="categories to fetch (default: arxiv.categories of the configuration)")
    p.set_defaults(handler=cmd_digest)

    p = sub.add_parser("discord-invite", help="print the link that adds the Discord bot to a server",
                       description="Print the OAuth2 URL with the bot and applications.commands scopes "
                                   "and exactly the permissions paperbot uses.")
    p.add_argument("--application-id", metavar="ID",
                   help="the application's id (default: looked up from DISCORD_TOKEN)")
    p.add_argument("--guild-id", type=int, metavar="ID", help="preselect this server in the invite dialog")
    p.set_defaults(handler=cmd_discord_invite)

    return parser


def _SubParser(common: argparse.ArgumentParser):
    """Every subcommand's parser also takes the common options."""

    class SubParser(argparse.ArgumentParser):
        def __init__(self, *args, **kwargs) -> None:
            kwargs.setdefault("parents", [common])
            super().__init__(*args, **kwargs)

    return SubParser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, where a closed pipe can still be handled
        return status
    except BrokenPipeError:
        # `paperbot search x | head -1`: the reader went away. Point stdout at /dev/null so the
        # interpreter's final flush does not fail again, and exit as a piped command would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, json_lines=args.log_format == "json")
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
    if args.log_format is None and settings.ops.json_logs:
        configure_logging(args.log_level, json_lines=True)
    from bot.store import StoreError

    try:
        return handler(args, settings)
    except StoreError as exc:
        # A folder or a stray file as storage.path, a database locked by another `run`, a full
        # disk: the operator's to fix, said in one line that names the path.
        print(f"paperbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
