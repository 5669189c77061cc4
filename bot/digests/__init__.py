"""Digests: the message, channels' subscriptions to it, their schedules, and the scheduler that posts them."""

from bot.digests.message import by_theme, digest_reply, resolve_topic
from bot.digests.scheduler import IdempotentPoster, Poster, Scheduler
from bot.digests.subscriptions import is_subscription_command, subscription_reply

__all__ = [
    "IdempotentPoster",
    "Poster",
    "Scheduler",
    "by_theme",
    "digest_reply",
    "is_subscription_command",
    "resolve_topic",
    "subscription_reply",
]
