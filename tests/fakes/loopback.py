"""The life cycle every fake server shares: an aiohttp app on 127.0.0.1, `async with` to run it."""

from __future__ import annotations

from typing import Self

from aiohttp import web
from aiohttp.test_utils import TestServer


class LoopbackServer:
    """Subclasses build their `web.Application` and pass it to `__init__`; `close_connections`
    is where they end long-lived connections (websockets) before the server stops."""

    def __init__(self, app: web.Application) -> None:
        self._server = TestServer(app, host="127.0.0.1")

    async def start(self) -> Self:
        await self._server.start_server()
        return self

    async def close_connections(self) -> None:
        """Nothing by default."""

    async def close(self) -> None:
        await self.close_connections()
        await self._server.close()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return str(self._server.make_url("")).rstrip("/")
