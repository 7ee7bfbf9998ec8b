"""The operations endpoint: `/healthz` for Docker and orchestrators, `/metrics` for Prometheus."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import metrics
from bot.store import AsyncStore

log = logging.getLogger(__name__)

# How often the database is probed in the background, and how long a probe may go unanswered
# before /healthz calls the database stuck (a busy timeout is 5 s; a long search holds the DB
# thread too, and every store call waits behind it).
PROBE_INTERVAL_SECONDS = 10.0
STALE_AFTER_SECONDS = 30.0


class DatabaseHealth:
    """What /healthz says about the database, kept current by a background task, so answering
    never waits for SQLite: the store has one thread, and a locked file or a long query holds it
    for seconds, longer than a health check may take.

    At start: SQLite's quick check (a corrupt file is unhealthy for good); then every `interval`
    a write probe. A probe that has not answered after `stale_after` seconds counts as a failure.
    """

    def __init__(self, store: AsyncStore, *, interval: float = PROBE_INTERVAL_SECONDS,
                 stale_after: float = STALE_AFTER_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.interval = interval
        self.stale_after = stale_after
        self.monotonic = monotonic
        self.integrity_problems: list[str] | None = None  # None: not checked yet
        self.writable: bool | None = None
        self.problem: str | None = None
        self.checked_at: float | None = None
        # When each unanswered probe started: the service's monitor and a caller may probe at once,
        # and the oldest unanswered one says how long the database has kept us waiting.
        self._probes_started: list[float] = []
        self._refreshed = asyncio.Condition()
        self._refreshes = 0

    async def run(self) -> None:
        """Check integrity once, then probe every `interval` until cancelled."""
        await self.check_integrity()
        while True:
            await self.refresh()
            await asyncio.sleep(self.interval)

    async def check_integrity(self) -> None:
        try:
            problems = await self.store.run(lambda s: s.integrity_problems())
        except Exception as exc:  # noqa: BLE001 - reported as unknown, the probes say the rest
            log.warning("health check: could not run the database's quick check: %s", exc)
            return
        self.integrity_problems = problems
        if problems:
            log.error("the database %s is corrupt (SQLite quick check): %s; restore a backup",
                      self.store.path, "; ".join(problems))

    async def refresh(self) -> None:
        """One write probe; its outcome becomes what /healthz reports."""
        started = self.monotonic()
        self._probes_started.append(started)
        try:
            await self.store.run(lambda s: s.check_writable())
            writable, problem = True, None
        except Exception as exc:  # noqa: BLE001 - any failure means "not writable" to a health check
            log.warning("health check: database not writable: %s", exc)
            writable, problem = False, str(exc)
        finally:
            self._probes_started.remove(started)
        self.writable, self.problem, self.checked_at = writable, problem, self.monotonic()
        async with self._refreshed:
            self._refreshes += 1
            self._refreshed.notify_all()

    async def next_refresh(self) -> None:
        """Wait until a probe that had not finished yet has finished."""
        async with self._refreshed:
            seen = self._refreshes
            await self._refreshed.wait_for(lambda: self._refreshes > seen)

    def report(self) -> dict[str, Any]:
        """The last known state; never touches the database."""
        now = self.monotonic()
        writable, problem = self.writable, self.problem
        waited = now - min(self._probes_started, default=now)
        if waited > self.stale_after:
            writable = False
            problem = f"the database has not answered for {waited:.0f} s"
        intact = None if self.integrity_problems is None else not self.integrity_problems
        if intact is False:
            problem = "corrupt: " + "; ".join(self.integrity_problems or ())
        return {
            "database_writable": writable,
            "database_intact": intact,
            "database_checked_seconds_ago": None if self.checked_at is None
            else round(now - self.checked_at, 1),
            "database_problem": problem,
        }


class PlatformHealth(Protocol):
    """What a configured chat platform's runtime tells /healthz (every PlatformRuntime in
    bot.service): `sink.platform` names it; `connected` is False while it cannot deliver or answer
    (gateway or socket down, token rejected), with `problem` saying why and what to do."""

    @property
    def connected(self) -> bool: ...

    @property
    def problem(self) -> str | None: ...


def platform_report(runtime: Any) -> tuple[str, dict[str, Any]]:
    """(name, {"connected", "problem"}) of one platform; a runtime without the hook reports
    `connected: None` (unknown), which does not fail the check."""
    name = getattr(getattr(runtime, "sink", None), "platform", None) or type(runtime).__name__
    return name, {"connected": getattr(runtime, "connected", None),
                  "problem": getattr(runtime, "problem", None)}


class OpsServer:
    """`scheduler_alive` and `last_poll` are callables so the server reads the live state;
    `platforms` are the chat platforms that were configured and started (see PlatformHealth)."""

    def __init__(self, store: AsyncStore, *, scheduler_alive: Callable[[], bool],
                 last_poll: Callable[[], datetime | None], now: Callable[[], datetime],
                 host: str = "127.0.0.1", port: int = 8080,
                 database: DatabaseHealth | None = None,
                 listing_status: Callable[[], Awaitable[dict]] | None = None,
                 platforms: Sequence[PlatformHealth] = ()) -> None:
        self.store = store
        self.platforms = platforms
        self.scheduler_alive = scheduler_alive
        self.last_poll = last_poll
        self.now = now
        self.listing_status = listing_status  # which source (pages or feed) delivered the latest day
        self.host, self.port = host, port
        self.database = database or DatabaseHealth(store)
        self._runner: web.AppRunner | None = None
        self._monitor: asyncio.Task[None] | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        alive = self.scheduler_alive()
        database = self.database.report()
        last = self.last_poll()
        platforms = dict(platform_report(runtime) for runtime in self.platforms)
        disconnected = any(report["connected"] is False for report in platforms.values())
        if database["database_intact"] is None or database["database_writable"] is None:
            status = "starting" if alive else "unhealthy"
        elif alive and database["database_intact"] and database["database_writable"] and not disconnected:
            status = "ok"
        else:
            status = "unhealthy"
        body = {
            "status": status,
            "scheduler_alive": alive,
            **database,
            # Not a failure criterion: there is nothing to poll over a weekend.
            "last_successful_poll_age_seconds": round((self.now() - last).total_seconds(), 1) if last else None,
        }
        if platforms:
            body["platforms"] = platforms
        if self.listing_status is not None:
            try:
                body["listing"] = await self.listing_status()
            except Exception as exc:  # noqa: BLE001 - the database check above reports the cause
                body["listing"] = {"error": f"{type(exc).__name__}: {exc}"}
        return web.Response(text=json.dumps(body), content_type="application/json",
                            status=200 if status == "ok" else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        reasons = await self.store.run(lambda s: s.ledger.paused_reasons())
        metrics.DELIVERIES_PAUSED.clear()
        for reason in reasons:
            metrics.DELIVERIES_PAUSED.labels(metrics.reason_code(reason)).inc()
        return web.Response(body=generate_latest(metrics.REGISTRY),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        self._monitor = asyncio.ensure_future(self.database.run())
        log.info("operations endpoint on http://%s:%d (/healthz, /metrics)", self.host, self.port)

    async def close(self) -> None:
        if self._monitor is not None:
            self._monitor.cancel()
            try:
                await self._monitor
            except asyncio.CancelledError:
                pass
            self._monitor = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
