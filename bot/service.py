"""Wiring for `paperbot run`: store, arXiv client, chat platforms, sinks and the scheduler in one loop."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from bot.arxiv.client import ArxivClient
from bot.clock import Clock, SystemClock
from bot.commands import CommandExecutor
from bot.config import Settings, secrets_present
from bot.destinations import DestinationDirectory
from bot.destinations.topics import ConfiguredTopics
from bot.delivery.sink import DocumentSink, ThreadSink
from bot.early_edition import EarlyEditionScheduler
from bot.ops import OpsServer
from bot.platforms.markdown import MarkdownSink
from bot.scheduler import Scheduler
from bot.store import AsyncStore
from bot.weekly import WeeklyBestOfPoster
from bot.ranking import Ranker

log = logging.getLogger("paperbot")


class PlatformRuntime(Protocol):
    """What a chat adapter hands the core: where it delivers (sink), whom (directory), its life
    cycle, and its health for /healthz (`connected`, `problem`: see bot.ops.PlatformHealth)."""

    sink: ThreadSink
    directory: DestinationDirectory

    @property
    def connected(self) -> bool: ...

    @property
    def problem(self) -> str | None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


# (name, token variable, module, starter, the exceptions meaning "cannot start"): a module is
# imported only when its token is present, so a Markdown-only run never loads slack_bolt or discord.
PLATFORMS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("Slack", "SLACK_BOT_TOKEN", "bot.platforms.slack", "start_slack", ("SlackSetupError",)),
    ("Discord", "DISCORD_TOKEN", "bot.platforms.discord", "start_discord",
     ("DiscordStartError", "EndpointError")),
)


class PlatformStartError(Exception):
    """A platform whose token is set could not start (bad token, missing secret...)."""


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM set `stop`: the current message finishes and is recorded, then we exit."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signal support
            pass


async def start_platforms(settings: Settings, store: AsyncStore,
                          environ: Mapping[str, str] | None = None, *,
                          ranker: Ranker | None = None,
                          before_connect: Callable[[list[PlatformRuntime]], Awaitable[None]] | None = None,
                          ) -> list[PlatformRuntime]:
    """Start every chat platform whose token is set: build them all, run `before_connect` with
    them (nothing can reach the bot yet), then connect each. A platform that fails to start
    stops the whole start (a half-started bot that silently skips Slack is worse than a clear
    error)."""
    environ = os.environ if environ is None else environ
    # adapters reach the core only through this; `ranker`'s stored models order `/papers today`
    commands = CommandExecutor(store, settings, ranker=ranker)
    # (platform name, its setup errors, its runtime): built first, connected after before_connect
    built: list[tuple[str, tuple[type[BaseException], ...], PlatformRuntime]] = []
    try:
        for name, token_var, module_name, starter_name, error_names in PLATFORMS:
            if not environ.get(token_var):
                continue
            module = importlib.import_module(module_name)
            setup_error = tuple(getattr(module, error) for error in error_names)
            try:
                runtime = await getattr(module, starter_name)(settings, commands, environ=environ)
            except setup_error as exc:  # type: ignore[misc]
                raise PlatformStartError(f"{name} could not start: {exc}") from None
            if runtime is not None:
                built.append((name, setup_error, runtime))
        if before_connect is not None:
            await before_connect([runtime for _, _, runtime in built])
        for name, setup_error, runtime in built:
            try:
                await runtime.start()
            except setup_error as exc:  # type: ignore[misc]
                raise PlatformStartError(f"{name} could not start: {exc}") from None
            log.info("%s started", name)
    except BaseException:
        for _, _, runtime in reversed(built):
            await runtime.close()
        raise
    return [runtime for _, _, runtime in built]


async def run_bot(settings: Settings, *, clock: Clock | None = None, stop: asyncio.Event | None = None,
                  environ: Mapping[str, str] | None = None,
                  handle_signals: bool = True) -> None:
    clock = clock or SystemClock()
    stop = stop or asyncio.Event()
    if handle_signals:
        install_stop_signals(stop)
    present = [name for name, ok in secrets_present(environ).items() if ok]
    log.info("paperbot starting: database %s, secrets present: %s", settings.storage.path,
             ", ".join(present) or "none (Markdown only)")
    # single_instance: a second `paperbot run` on the same database refuses to start.
    store = await AsyncStore.open(settings.storage.path, clock=clock, single_instance=True)
    try:
        # One learned ranking (bot.ranking) orders the daily threads, picks the weekly best-of's
        # unvoted papers and orders `/papers today` as the thread, so each model is trained once.
        ranker = Ranker(store, now=clock.now)
        async with ArxivClient(settings.arxiv) as arxiv:
            schedulers: list[Scheduler] = []

            async def prepare_scheduler(runtimes: list[PlatformRuntime]) -> None:
                sinks: dict[str, DocumentSink | ThreadSink] = {"markdown": MarkdownSink()}
                sinks.update({runtime.sink.platform: runtime.sink for runtime in runtimes})
                # Early edition (issue 16): the listing pages at 20:00 ET, the feed at midnight.
                scheduler_class = EarlyEditionScheduler if settings.arxiv.early_edition else Scheduler
                scheduler = scheduler_class(
                    arxiv_settings=settings.arxiv,
                    store=store,
                    arxiv=arxiv,
                    directories=[ConfiguredTopics(settings), *(r.directory for r in runtimes)],
                    sinks=sinks,
                    clock=clock,
                    stop=stop,
                    ranker=ranker,
                    weekly=WeeklyBestOfPoster(store, ranker=ranker),
                )
                # Before the platforms connect: see Scheduler.prepare.
                await scheduler.prepare()
                schedulers.append(scheduler)

            runtimes = await start_platforms(settings, store, environ, ranker=ranker,
                                             before_connect=prepare_scheduler)
            try:
                await _run_with_ops(settings, store, schedulers[0], clock, runtimes)
            finally:
                for runtime in reversed(runtimes):
                    await runtime.close()
    finally:
        await store.close()
        log.info("paperbot stopped")


async def _run_with_ops(settings: Settings, store: AsyncStore, scheduler: Scheduler, clock: Clock,
                        runtimes: Sequence[PlatformRuntime] = ()) -> None:
    tasks: list[asyncio.Future] = []
    ops = None
    if settings.ops.port:
        ops = OpsServer(store, scheduler_alive=lambda: bool(tasks) and not tasks[0].done(),
                        last_poll=lambda: scheduler.last_successful_poll, now=clock.now,
                        listing_status=getattr(scheduler, "listing_status", None),
                        platforms=runtimes, host=settings.ops.host, port=settings.ops.port)
        try:
            await ops.start()
        except OSError as exc:
            # Running on without /healthz would leave Docker's health check failing for a bot
            # that looks alive: refuse to start, in one line.
            raise PlatformStartError(f"the operations endpoint cannot listen on {settings.ops.host}:"
                                     f"{settings.ops.port}: {exc.strerror or exc} (another process "
                                     "uses the port? choose another with --ops-port or ops.port)") from None
    running = asyncio.ensure_future(scheduler.run_forever())
    tasks.append(running)
    try:
        await running
    finally:
        if ops is not None:
            await ops.close()
