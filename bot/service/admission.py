"""The one gate every request passes before the bot handles it: the first delivery of it in any replica,
and within the user's rate limit (`bot.service.limits`).

With a shared database (PostgreSQL) both are decided in one statement (`Storage.admit`): the delivery's
keys are claimed and a rate slot taken in one round trip and one commit, shared with the other requests
waiting then, instead of a round of transactions for each, awaited on the event loop without blocking it.
Without one (SQLite, none), retries are the platform adapter's own memory's to spot, and the limit is
this process's count.
A database that cannot be reached lets the request through as a first delivery (answered twice is better
than never) and falls back to this process's count.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.context import Context
from bot.replies import Reply
from bot.service.limits import RateLimiter, silent
from knowledge.models import Language

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)


class Admission:
    def __init__(self, storage: Storage | None, limiter: RateLimiter | None) -> None:
        self.storage = storage if storage is not None and storage.shared else None
        self.limiter = limiter

    async def refusal(self, ctx: Context, language: Language) -> Reply | None:
        """None when the bot may handle the request; otherwise the reply to it: silent for a delivery
        another replica (or this one) already took, else the limiter's (polite once, then silent)."""
        limiter = self.limiter if self.limiter is not None and self.limiter.applies(ctx) else None
        delivery = ctx.delivery if self.storage is not None else None
        if limiter is None and delivery is None:
            return None
        if self.storage is None:
            assert limiter is not None
            return limiter.reply(limiter.local_verdict(ctx), ctx, language)
        slot = limiter.slot(ctx) if limiter is not None else None
        keys = delivery.keys if delivery is not None else ()
        ttl = timedelta(seconds=delivery.ttl if delivery is not None else 0)
        admitted = await self.storage.admit(keys, ttl, datetime.now(UTC), slot)
        if admitted is not None and not admitted.first:
            log.info("a repeated %s delivery was already handled, by this replica or another", ctx.platform)
            return silent(language)
        if limiter is None:
            return None
        verdict = limiter.settle(ctx, admitted.slot if admitted is not None else None)
        return limiter.reply(verdict, ctx, language)
