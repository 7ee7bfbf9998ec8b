"""Wiring for `paperbot run`: store, arXiv client, destinations, sinks and the scheduler in one loop."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping

from bot.arxiv.client import ArxivClient
from bot.clock import Clock, SystemClock
from bot.config import Settings, secrets_present
from bot.delivery.destinations import ConfiguredTopics, DestinationDirectory
from bot.delivery.sink import DocumentSink, ThreadSink
from bot.ops import OpsServer
from bot.platforms.markdown import MarkdownSink
from bot.scheduler import Scheduler
from bot.store import AsyncStore

log = logging.getLogger("paperbot")


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM set `stop`: the current message finishes and is recorded, then we exit."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signal support
            pass


async def run_bot(settings: Settings, *, clock: Clock | None = None, stop: asyncio.Event | None = None,
                  extra_directories: tuple[DestinationDirectory, ...] = (),
                  extra_sinks: Mapping[str, DocumentSink | ThreadSink] | None = None,
                  handle_signals: bool = True) -> None:
    clock = clock or SystemClock()
    stop = stop or asyncio.Event()
    if handle_signals:
        install_stop_signals(stop)
    platforms = [name for name, present in secrets_present().items() if present]
    log.info("paperbot starting: database %s, secrets present: %s", settings.storage.path,
             ", ".join(platforms) or "none (Markdown only)")
    store = await AsyncStore.open(settings.storage.path, clock=clock)
    try:
        async with ArxivClient(settings.arxiv) as arxiv:
            sinks: dict[str, DocumentSink | ThreadSink] = {"markdown": MarkdownSink(), **(extra_sinks or {})}
            scheduler = Scheduler(
                arxiv_settings=settings.arxiv,
                store=store,
                arxiv=arxiv,
                directories=[ConfiguredTopics(settings), *extra_directories],
                sinks=sinks,
                clock=clock,
                stop=stop,
            )
            running = asyncio.ensure_future(scheduler.run_forever())
            ops = None
            if settings.ops.port:
                ops = OpsServer(store, scheduler_alive=lambda: not running.done(),
                                last_poll=lambda: scheduler.last_successful_poll, now=clock.now,
                                host=settings.ops.host, port=settings.ops.port)
                try:
                    await ops.start()
                except OSError as exc:
                    log.error("operations endpoint not started on %s:%d: %s", settings.ops.host,
                              settings.ops.port, exc.strerror or exc)
                    ops = None
            try:
                await running
            finally:
                if ops is not None:
                    await ops.close()
    finally:
        await store.close()
        log.info("paperbot stopped")
