"""The operations endpoint: `/healthz` for Docker and orchestrators, `/metrics` for Prometheus."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import metrics
from bot.store import AsyncStore
from bot.store import ledger

log = logging.getLogger(__name__)


async def database_writable(store: AsyncStore) -> bool:
    """Take SQLite's write lock and let it go: proves the file is writable and not stuck locked."""

    def probe(s) -> None:
        s.db.conn.execute("BEGIN IMMEDIATE")
        s.db.conn.execute("ROLLBACK")

    try:
        await store.run(probe)
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means "not writable" to a health check
        log.warning("health check: database not writable: %s", exc)
        return False


class OpsServer:
    """`scheduler_alive` and `last_poll` are callables so the server reads the live state."""

    def __init__(self, store: AsyncStore, *, scheduler_alive: Callable[[], bool],
                 last_poll: Callable[[], datetime | None], now: Callable[[], datetime],
                 host: str = "127.0.0.1", port: int = 8080,
                 listing_status: Callable[[], Awaitable[dict]] | None = None) -> None:
        self.store = store
        self.scheduler_alive = scheduler_alive
        self.last_poll = last_poll
        self.now = now
        self.listing_status = listing_status  # which source (pages or feed) delivered the latest day
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        alive = self.scheduler_alive()
        writable = await database_writable(self.store)
        last = self.last_poll()
        body = {
            "status": "ok" if alive and writable else "unhealthy",
            "scheduler_alive": alive,
            "database_writable": writable,
            # Not a failure criterion: there is nothing to poll over a weekend.
            "last_successful_poll_age_seconds": round((self.now() - last).total_seconds(), 1) if last else None,
        }
        if self.listing_status is not None:
            try:
                body["listing"] = await self.listing_status()
            except Exception as exc:  # noqa: BLE001 - the database check above reports the cause
                body["listing"] = {"error": f"{type(exc).__name__}: {exc}"}
        return web.Response(text=json.dumps(body), content_type="application/json",
                            status=200 if body["status"] == "ok" else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        reasons = await self.store.run(lambda s: ledger.paused_reasons(s.db))
        metrics.DELIVERIES_PAUSED.clear()
        for reason in reasons:
            metrics.DELIVERIES_PAUSED.labels(metrics.reason_code(reason)).inc()
        return web.Response(body=generate_latest(metrics.REGISTRY),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("operations endpoint on http://%s:%d (/healthz, /metrics)", self.host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
