"""`/digest`: the digest message, or a channel's digest subscriptions (`subscribe`, `list`, `unsubscribe`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.context import Context
from bot.digests import digest_reply, is_subscription_command, subscription_reply
from bot.replies import Reply
from knowledge.models import Language

if TYPE_CHECKING:
    from bot.app import Bot


async def run(bot: Bot, args: str, ctx: Context, language: Language) -> Reply:
    knowledge = bot.live.current.knowledge
    if is_subscription_command(args):
        return await subscription_reply(bot.storage, knowledge, args, ctx, language, bot.clock())
    return digest_reply(knowledge, args, language)
