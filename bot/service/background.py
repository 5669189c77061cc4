"""What runs beside an adapter for as long as it is connected: the knowledge watcher and the digests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bot.app import Bot
from bot.digests.scheduler import Poster, Scheduler
from bot.service import health
from bot.settings import Settings

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def background(bot: Bot, settings: Settings, poster: Poster | None = None) -> AsyncIterator[None]:
    """Digests are posted only with a poster and storage: without storage there are no subscriptions."""
    tasks = [
        asyncio.create_task(bot.live.watch(settings.knowledge_poll_seconds), name="knowledge-watch"),
        asyncio.create_task(health.beat(health.heartbeat_file(settings.data_dir)), name="heartbeat"),
    ]
    if poster is not None and bot.storage is not None:
        scheduler = Scheduler.from_settings(bot.live, bot.storage, poster, settings, clock=bot.clock)
        tasks.append(asyncio.create_task(scheduler.run(), name="digest-scheduler"))
    elif poster is not None:
        log.info("no storage: scheduled digests are off")
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bot.drain()
