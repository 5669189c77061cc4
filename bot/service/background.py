"""What runs beside an adapter for as long as it is connected: the knowledge watcher, the digests, the
heartbeat, and `/metrics` and `/healthz` on METRICS_PORT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bot.app import Bot
from bot.digests.scheduler import Poster, Scheduler
from bot.service import health, metrics
from bot.service.endpoints import Endpoints
from bot.settings import Settings

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def background(
    bot: Bot, settings: Settings, poster: Poster | None = None, *, endpoints: bool = True
) -> AsyncIterator[Endpoints | None]:
    """Digests are posted only with a poster and storage: without storage there are no subscriptions.

    With METRICS_PORT set (and `endpoints`: False when the adapter already serves them on that port),
    `/metrics` and `/healthz` are served on HOST:METRICS_PORT for as long as this runs; the running
    `Endpoints` is yielded. On the way out `/healthz` turns 503 and the heartbeat file goes first, then
    the tasks stop and the writes in flight are stored."""
    platform = poster.platform if poster is not None else "console"
    metrics.prime(platform)
    metrics.count_reloads(bot.live)
    served: Endpoints | None = None
    if endpoints and settings.metrics_port is not None:
        served = Endpoints(bot, poster)
        await served.serve(settings.host, settings.metrics_port)
    heartbeat = asyncio.create_task(health.beat(health.heartbeat_file(settings.data_dir)), name="heartbeat")
    tasks = [
        heartbeat,
        asyncio.create_task(bot.live.watch(settings.knowledge_poll_seconds), name="knowledge-watch"),
    ]
    if poster is not None and bot.storage is not None:
        scheduler = Scheduler.from_settings(bot.live, bot.storage, poster, settings, clock=bot.clock)
        tasks.append(asyncio.create_task(scheduler.run(), name="digest-scheduler"))
    elif poster is not None:
        log.info("no storage: scheduled digests are off")
    try:
        yield served
    finally:
        if served is not None:
            served.stopping = True
        heartbeat.cancel()  # first: `health` fails the moment the bot stops answering
        await asyncio.gather(heartbeat, return_exceptions=True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bot.drain()
        if served is not None:
            await served.close()
