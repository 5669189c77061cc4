"""`GET /metrics` (Prometheus) and `GET /healthz` (JSON) for a running bot, on any aiohttp server.

Every platform serves them on METRICS_PORT through `Endpoints.serve`, bound to HOST; Slack's HTTP mode
also mounts them beside `/slack/events` with `add_routes`, as a web console can on its own server.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.service import health, metrics

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)


class Endpoints:
    """The two read-only endpoints for one bot and the adapter connecting it (None: nothing to ask)."""

    def __init__(self, bot: Bot, adapter: object | None = None) -> None:
        self.bot = bot
        self.adapter = adapter
        self.state = metrics.state_registry(bot)
        self.stopping = False
        """Set when the bot starts shutting down: `/healthz` then answers 503 so traffic drains away."""
        self.port: int | None = None
        """The port `serve` bound (METRICS_PORT, or the one picked for 0)."""
        self._runner: web.AppRunner | None = None

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/healthz", self.healthz)

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=metrics.exposition(self.state), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(self, request: web.Request) -> web.Response:
        status, body = await health.report(self.bot, self.adapter, self.stopping)
        return web.json_response(body, status=status)

    async def serve(self, host: str, port: int) -> int:
        """Serve both on their own small server at HOST:port (0: any free port); returns the port."""
        app = web.Application()
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.port = int(self._runner.addresses[0][1])
        log.info("serving /metrics and /healthz on http://%s:%d", host, self.port)
        return self.port

    async def close(self) -> None:
        self.stopping = True
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
