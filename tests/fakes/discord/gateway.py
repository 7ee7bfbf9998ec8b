"""The gateway (events/gateway, topics/opcodes-and-status-codes): HELLO, heartbeats, IDENTIFY
(4004 for a wrong token; 4010 for a shard outside the shard count; 4011 Sharding required when
the session would handle more than `max_guilds_per_session` servers), READY and one GUILD_CREATE
per server of the shard (`shard_id = (guild_id >> 22) % num_shards`), RESUME, and dispatching
events to the shard that holds their server."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import WSMsgType, web

MAX_GUILDS_PER_SESSION = 2500   # "each shard can only support a maximum of 2500 guilds"


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


class Gateway:
    """Mixin of FakeDiscord (see world.DiscordWorld for the attributes it expects)."""

    async def wait_identified(self, count: int = 1, timeout: float = 5.0) -> None:
        await self._wait(lambda: len(self.identifies) >= count and bool(self._sockets), timeout,
                         f"{count} IDENTIFY")

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to the connected session(s) whose shard holds `data["guild_id"]`."""
        if not self._sockets:
            raise AssertionError("no client is connected to the fake gateway")
        guild_id = data.get("guild_id")
        targets = [ws for ws, (shard, count) in list(self._sockets.items())
                   if guild_id is None or shard_of(int(guild_id), count) == shard]
        if not targets:
            raise AssertionError(f"no connected shard holds server {guild_id}")
        for ws in targets:
            await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._sequence), "d": data}))

    async def close_gateway(self, code: int) -> None:
        """Close every gateway connection with `code` (4009 Session timed out makes discord.py
        IDENTIFY again instead of resuming)."""
        for ws in list(self._sockets):
            await ws.close(code=code)

    async def close_connections(self) -> None:
        for ws in list(self._sockets):
            await ws.close()

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
        shard = (0, 1)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                packet = json.loads(msg.data)
                op = packet.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    shard = await self._identify(ws, packet["d"])
                elif op == 6:
                    self._sockets[ws] = shard
                    await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": next(self._sequence), "d": {}}))
        finally:
            self._sockets.pop(ws, None)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> tuple[int, int]:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return (0, 1)
        shard_id, shard_count = (data.get("shard") or [0, 1])[:2]
        if not 0 <= shard_id < shard_count:
            self.gateway_closes.append(4010)
            await ws.close(code=4010, message=b"Invalid shard.")
            return (0, 1)
        mine = [g for g in self.guilds.values()
                if g.bot_is_member and shard_of(g.id, shard_count) == shard_id]
        if len(mine) > self.max_guilds_per_session:
            self.gateway_closes.append(4011)
            await ws.close(code=4011, message=b"Sharding required.")
            return (shard_id, shard_count)
        self.identifies.append({k: v for k, v in data.items() if k != "token"})
        ready = {"v": 10, "user": self.bot_user, "session_id": f"session-{len(self.identifies)}",
                 "resume_gateway_url": self.gateway_url, "shard": [shard_id, shard_count],
                 "guilds": [{"id": str(g.id), "unavailable": True} for g in mine],
                 "application": {"id": str(self.application_id), "flags": 0}}
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": next(self._sequence), "d": ready}))
        for guild in mine:
            await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": next(self._sequence),
                                          "d": self._guild_payload(guild)}))
        self._sockets[ws] = (shard_id, shard_count)
        async with self._changed:
            self._changed.notify_all()
        return (shard_id, shard_count)
