"""Pointing discord.py at the configured REST API and gateway (DESIGN.md §7: every base URL is
configuration, so tests and local runs can use fakes on 127.0.0.1).

discord.py 2.x has no per-client option for either; both are class attributes that the library
itself reads on every request: `discord.http.Route.BASE` (what `discord.http._set_api_version`
changes; interaction callbacks and webhooks build their URLs from the same `Route`) and
`DiscordWebSocket.DEFAULT_GATEWAY` (where `Client.connect` goes first; after READY the client
follows the `resume_gateway_url` the gateway hands out). They are process-wide, so one process
talks to one Discord: `use_endpoints` sets them and returns a function that restores the previous
values, which `DiscordRuntime.close()` calls.
"""

from __future__ import annotations

from collections.abc import Callable

import discord.http
import yarl
from discord.gateway import DiscordWebSocket

DEFAULT_API_URL = "https://discord.com/api/v10"


class EndpointError(ValueError):
    """A configured Discord URL that cannot be used."""


def _check(url: str, schemes: tuple[str, ...], key: str) -> str:
    parsed = yarl.URL(url)
    if parsed.scheme not in schemes or not parsed.host:
        raise EndpointError(f"discord.{key} must be a {' or '.join(schemes)} URL, got {url!r}")
    return url


def use_endpoints(api_url: str, gateway_url: str | None = None) -> Callable[[], None]:
    """Send discord.py's REST calls to `api_url` (e.g. `https://discord.com/api/v10`) and its first
    gateway connection to `gateway_url` (None keeps Discord's). Returns the undo function."""
    api = _check(api_url, ("http", "https"), "api_url").rstrip("/")
    gateway = yarl.URL(_check(gateway_url, ("ws", "wss"), "gateway_url")) if gateway_url else None
    previous_api = discord.http.Route.BASE
    previous_gateway = DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = api
    if gateway is not None:
        DiscordWebSocket.DEFAULT_GATEWAY = gateway

    def restore() -> None:
        discord.http.Route.BASE = previous_api
        DiscordWebSocket.DEFAULT_GATEWAY = previous_gateway

    return restore
