"""The curators' web console: `python -m bot web`, or beside the bot in one process with WEB_ENABLED=1.

`serve(bot, settings)` serves the console for a running bot (its live knowledge, its storage) until
cancelled; `start(bot, settings)` starts it and returns the runner and the address (tests use port 0).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from adapters.web.auth import require_token
from adapters.web.server import Console, make_app
from bot.app import Bot
from bot.settings import Settings

log = logging.getLogger(__name__)


async def start(bot: Bot, settings: Settings, port: int | None = None) -> tuple[web.AppRunner, str]:
    """Start serving; the runner (`await runner.cleanup()` stops it) and the console's base URL."""
    require_token(settings)
    token = settings.web_token.get_secret_value() if settings.web_token is not None else None
    app = make_app(Console(bot, token))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.web_host, settings.web_port if port is None else port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else settings.web_port
    host = settings.web_host if ":" not in settings.web_host else f"[{settings.web_host}]"
    url = f"http://{host}:{bound}"
    log.info("curators' console on %s%s", url, "" if token else " (no WEB_TOKEN: this machine only)")
    return runner, url


async def serve(bot: Bot, settings: Settings) -> None:
    """Serve the console until cancelled (for WEB_ENABLED=1, beside an adapter's `run`)."""
    runner, _ = await start(bot, settings)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def run(bot: Bot, settings: Settings) -> None:
    """`python -m bot web`: the console on its own, with the knowledge watcher so others' edits show."""
    watcher = asyncio.create_task(bot.live.watch(settings.knowledge_poll_seconds), name="knowledge-watch")
    try:
        await serve(bot, settings)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


__all__ = ["command", "run", "serve", "start"]


def command(settings: Settings) -> int:
    """`python -m bot web`: open the bot's database and knowledge, and serve until interrupted."""
    import sys

    from bot.live import LiveKnowledge
    from bot.storage import open_storage
    from bot.storage.store import UNAVAILABLE
    from knowledge.loader import BUNDLED_DIR, KnowledgeError

    require_token(settings)
    directory = settings.knowledge_dir or BUNDLED_DIR
    try:
        live = LiveKnowledge(directory, max_drop=settings.knowledge_max_drop)
    except KnowledgeError as error:
        print(f"invalid knowledge in {directory}:\n{error}", file=sys.stderr)
        return 1
    storage = open_storage(settings)
    try:
        storage.prepare()
    except UNAVAILABLE as error:
        log.error("database %s unavailable at start (%s)", storage.describe(), str(error).splitlines()[0])
    bot = Bot(live, storage=storage)

    async def main() -> None:
        runner, url = await start(bot, settings)
        print(f"curators' console on {url} (Ctrl-C stops it)", file=sys.stderr, flush=True)
        watcher = asyncio.create_task(live.watch(settings.knowledge_poll_seconds), name="knowledge-watch")
        try:
            await asyncio.Event().wait()
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            await runner.cleanup()

    try:
        asyncio.run(main())
    finally:
        storage.close()
    return 0
