"""Per-user rate limits: at most RATE_LIMIT_PER_MINUTE questions, commands and clicks per user per minute.

A sliding minute: each request takes one of the user's slots for 60 seconds, and a user whose slots are
all taken is refused until the oldest frees. In one process the slots are times in memory; with a shared
database (PostgreSQL) they are keys with an expiry in its `deliveries` table, claimed by the INSERT that
creates them (`Storage.admit`, in the same transaction as the request's delivery keys: see
`bot.service.admission`), so every replica counts against the same limit. A database that cannot be
reached falls back to this process's own count.

The first refused request gets one polite private reply in the user's language ("try again in N s"); the
ones after it, until a slot frees, get a silent reply (`is_silent`) that adapters do not send. Every
refusal is counted (`keynote_questions_total{outcome="limited"}`). The console and the shell, with one
local user, are never limited.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.context import Context
from bot.replies import Reply
from bot.service import metrics
from bot.texts import text
from knowledge.models import Language

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.storage import Storage

log = logging.getLogger(__name__)

WINDOW = 60.0
"""Seconds a request holds its slot: the limit is per minute."""
LOCAL_USERS = 100_000
"""Users whose recent requests one process remembers; the least recently seen are forgotten first."""
UNLIMITED_PLATFORMS = frozenset({"console", "cli"})
"""One local user, who runs the bot: nobody to protect the bot from."""


@dataclass(frozen=True)
class RateSlot:
    """A request for one of a user's `limit` slots for `window`, in a shared database (`Storage.admit`)."""

    platform: str
    user: str
    limit: int
    window: timedelta


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    tell: bool = False
    """Refused for the first time since a slot was last free: say so, once."""
    retry_after: float = 0.0
    """Seconds until one of the user's slots frees."""


class LocalSlots:
    """Per user, the times of the requests that took a slot in the last window, in this process."""

    def __init__(
        self,
        limit: int,
        window: float = WINDOW,
        capacity: int = LOCAL_USERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.capacity = capacity
        self.clock = clock
        self._taken: OrderedDict[str, deque[float]] = OrderedDict()
        self._told_until: dict[str, float] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._taken.get(key)
        if times is None:
            times = self._taken[key] = deque()
            while len(self._taken) > self.capacity:
                forgotten, _ = self._taken.popitem(last=False)
                self._told_until.pop(forgotten, None)
        self._taken.move_to_end(key)
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def take(self, key: str) -> Verdict:
        now = self.clock()
        times = self._recent(key, now)
        if len(times) < self.limit:
            times.append(now)
            self._told_until.pop(key, None)
            return Verdict(True)
        retry_after = times[0] + self.window - now
        tell = self._told_until.get(key, 0.0) <= now
        if tell:
            self._told_until[key] = now + retry_after
        return Verdict(False, tell, retry_after)

    def note(self, key: str) -> None:
        """A slot the shared count gave: remembered here too, for when the database is away."""
        now = self.clock()
        self._recent(key, now).append(now)


class RateLimiter:
    def __init__(self, per_minute: int, storage: Storage | None = None, window: float = WINDOW) -> None:
        """`per_minute` 0 turns the limit off; `storage` shares it when it is a shared database."""
        self.per_minute = per_minute
        self.window = window
        self.local = LocalSlots(per_minute, window)
        self.storage = storage if storage is not None and storage.shared else None

    @classmethod
    def from_settings(cls, settings: Settings, storage: Storage | None) -> RateLimiter:
        return cls(settings.rate_limit_per_minute, storage)

    def applies(self, ctx: Context) -> bool:
        """Whether the request counts against a limit at all."""
        return self.per_minute > 0 and bool(ctx.user) and ctx.platform not in UNLIMITED_PLATFORMS

    def slot(self, ctx: Context) -> RateSlot:
        """What to ask the shared database for (`Storage.admit`)."""
        return RateSlot(ctx.platform, ctx.user or "", self.per_minute, timedelta(seconds=self.window))

    def local_verdict(self, ctx: Context) -> Verdict:
        return self.local.take(f"{ctx.platform}:{ctx.user}")

    def settle(self, ctx: Context, shared: tuple[bool, bool, float] | None) -> Verdict:
        """The verdict from the shared database's answer; None (the database is away): this process's
        own count."""
        key = f"{ctx.platform}:{ctx.user}"
        if shared is None:
            return self.local.take(key)
        allowed, tell, retry_after = shared
        if allowed:
            self.local.note(key)  # remembered here too, for when the database is away
        return Verdict(allowed, tell, retry_after)

    async def verdict(self, platform: str, user: str) -> Verdict:
        """One request's verdict on its own (`bot.service.admission` asks together with the delivery)."""
        ctx = Context(platform=platform, user=user)
        if self.storage is None:
            return self.local_verdict(ctx)
        slot = self.slot(ctx)
        shared = await self.storage.take_rate_slot(platform, user, slot.limit, datetime.now(UTC), slot.window)
        return self.settle(ctx, shared)

    def reply(self, verdict: Verdict, ctx: Context, language: Language) -> Reply | None:
        """None when the user may go on; otherwise the reply to a refused request (polite, or silent)."""
        if verdict.allowed:
            return None
        metrics.count_limited(ctx.platform, language)
        if not verdict.tell:
            return silent(language)
        seconds = max(1, math.ceil(verdict.retry_after))
        log.info(
            "a %s user went over %d requests a minute: told to wait %d s",
            ctx.platform,
            self.per_minute,
            seconds,
        )
        return Reply.notice(text("rate_limited", language, seconds=seconds), language)


def silent(language: Language) -> Reply:
    """The reply to a refused request after the first: adapters send nothing for it."""
    return Reply(kind="notice", language=language, private=True)


def is_silent(reply: Reply) -> bool:
    return reply.kind == "notice" and not reply.sections and not reply.title and not reply.fields
