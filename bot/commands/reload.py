"""`/reload`: swap in the knowledge files as they are now, or say why they were refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.context import Context
from bot.replies import Reply
from bot.texts import text
from knowledge.models import Language

if TYPE_CHECKING:
    from bot.app import Bot


async def run(bot: Bot, args: str, ctx: Context, language: Language) -> Reply:
    """Build off the event loop (10,000 facts take seconds), so other replies and acks go on meanwhile;
    a reload held back by the watcher (a big drop) is applied: the curator asked for it."""
    error = await bot.live.reload_off_loop()
    if error is not None:
        problems = "\n".join(str(p) for p in error.problems[:10])
        return Reply.error(text("reload_failed", language, problems=problems), language)
    knowledge = bot.live.current.knowledge
    return Reply.notice(
        text("reloaded", language, facts=len(knowledge.facts), launches=len(knowledge.launches)), language
    )
