"""What runs beside an adapter for as long as it is connected: the knowledge watcher and the digests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Protocol

from bot.app import Bot
from bot.replies import Reply
from bot.settings import Settings


class Poster(Protocol):
    """An adapter that can post a reply to a channel unprompted (for scheduled digests)."""

    platform: str

    async def post(self, channel: str, reply: Reply) -> None: ...


@contextlib.asynccontextmanager
async def background(bot: Bot, settings: Settings, poster: Poster | None = None) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(bot.live.watch(settings.knowledge_poll_seconds), name="knowledge-watch")]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
