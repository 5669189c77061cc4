"""Post due digests: exactly once per subscription and slot, however many bot processes run.

Each tick lists the due subscriptions and claims each one in the database (`Storage.claim`, a
conditional UPDATE only one process can win) before posting it. Around that:
- a claim holds for a lease; a process that dies between claim and post leaves the slot to be
  taken again once the lease runs out, so the digest is late, not lost;
- a successful post moves the subscription to its first run after *now*, so after downtime the
  missed slots collapse into one post;
- a failed post releases the claim with a retry time that doubles each attempt (the backoff is the
  same "held until" column as the lease), and after `max_attempts` the slot is skipped, logged;
- each subscription posts in its own task with a timeout shorter than the lease (so no other process
  claims a slot while its post may still land) and longer than the adapter's own worst case (its
  retries on Slack's 5xx and 429s), so a slow platform is waited out rather than counted as failed;
- a post carries an idempotency key (subscription and slot) where the adapter can use one
  (`post_once`): Slack keeps it in the message's metadata and checks the channel's recent history
  before posting; Discord sends it as an enforced nonce. A post that landed but was never recorded
  (a crash, a timeout) is then found, recorded, and not posted again.
What is left: a platform without such a key (the console), or a channel whose history the bot may not
read, still gets the slot again after a crash between the post and its record (at least once, never
silently lost); and two posts racing within the platform's own delay before a message shows in history.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.digests.changes import changes_section, content_hashes
from bot.digests.message import digest_reply
from bot.live import LiveKnowledge
from bot.replies import Reply
from knowledge.loader import Knowledge

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.storage import Storage, Subscription

log = logging.getLogger(__name__)


class Poster(Protocol):
    """An adapter that can post a reply to a channel unprompted, as the scheduler does with digests.

    `post` raises `bot.errors.DeliveryError` when the platform refuses the message, so nothing is lost
    silently.
    """

    platform: str

    async def post(self, channel: str, reply: Reply) -> None: ...


@runtime_checkable
class IdempotentPoster(Protocol):
    """An adapter that can also post with an idempotency key: the same key never posts twice, even when
    the first post's outcome was lost (optional: the scheduler falls back to `post`)."""

    async def post_once(self, channel: str, reply: Reply, key: str) -> None: ...


POST_TIMEOUT_SHARE = 0.8
"""The post timeout as a share of the lease: as long as possible, still inside the claim."""

Clock = Callable[[], datetime]
MAX_BACKOFF = timedelta(hours=1)
CONCURRENT_POSTS = 8
"""Posts in flight at once: enough that one slow channel waits alone, few enough for the connection pool."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def scheduled_digest(knowledge: Knowledge, subscription: Subscription) -> Reply:
    """The digest command's message, led by what changed since this channel's last digest."""
    reply = digest_reply(knowledge, subscription.topic or "", subscription.language)
    changes = changes_section(knowledge, subscription.last_hashes, subscription.topic, subscription.language)
    if changes is None:
        return reply
    return reply.model_copy(update={"sections": [changes, *reply.sections]})


class Scheduler:
    def __init__(
        self,
        live: LiveKnowledge,
        storage: Storage,
        poster: Poster,
        *,
        clock: Clock = utcnow,
        poll_seconds: float = 30.0,
        lease: timedelta = timedelta(minutes=5),
        retry: timedelta = timedelta(minutes=1),
        max_attempts: int = 5,
    ) -> None:
        self.live = live
        self.storage = storage
        self.poster = poster
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.lease = lease
        self.retry = retry
        self.max_attempts = max_attempts
        self.post_timeout = lease.total_seconds() * POST_TIMEOUT_SHARE

    @classmethod
    def from_settings(
        cls, live: LiveKnowledge, storage: Storage, poster: Poster, settings: Settings, clock: Clock = utcnow
    ) -> Scheduler:
        return cls(
            live,
            storage,
            poster,
            clock=clock,
            poll_seconds=settings.digest_poll_seconds,
            lease=timedelta(seconds=settings.digest_lease_seconds),
            retry=timedelta(seconds=settings.digest_retry_seconds),
            max_attempts=settings.digest_max_attempts,
        )

    async def run(self) -> None:
        """Tick until cancelled; a tick that fails is logged and the next one tries again."""
        log.info("digest scheduler started for %s (every %ss)", self.poster.platform, self.poll_seconds)
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("digest scheduler tick failed; trying again in %ss", self.poll_seconds)
            await asyncio.sleep(self.poll_seconds)

    async def tick(self) -> int:
        """Post every digest due now; returns how many this process posted."""
        now = self.clock()
        due = await self.storage.call(self.storage.due, self.poster.platform, now)
        if not due:
            return 0
        slots = asyncio.Semaphore(CONCURRENT_POSTS)
        posted = await asyncio.gather(*(self._deliver(subscription, slots) for subscription in due))
        return sum(posted)

    async def _deliver(self, subscription: Subscription, slots: asyncio.Semaphore) -> bool:
        async with slots:
            return await self._claim_and_post(subscription)

    async def _claim_and_post(self, subscription: Subscription) -> bool:
        """Claim with the time of the claim, not of the tick: a claim queued behind other posts must
        still get its whole lease, or another replica could claim the same slot while it posts."""
        now = self.clock()
        token = await self.storage.call(self.storage.claim, subscription.id, now, self.lease)
        if token is None:
            return False
        knowledge = self.live.current.knowledge
        reply = scheduled_digest(knowledge, subscription)
        if isinstance(self.poster, IdempotentPoster):
            key = f"{subscription.id}:{subscription.next_run.isoformat()}"
            posting = self.poster.post_once(subscription.channel, reply, key)
        else:
            posting = self.poster.post(subscription.channel, reply)
        try:
            await asyncio.wait_for(posting, self.post_timeout)
        except Exception as error:
            await self._failed(subscription, token, now, error)
            return False
        stored = await self.storage.call(
            self.storage.complete,
            subscription.id,
            token,
            subscription.schedule.next_run(now),
            now,
            knowledge.fingerprint,
            content_hashes(knowledge),
        )
        if stored:
            log.info("posted digest #%d to %s", subscription.id, subscription.channel)
        else:
            log.warning(
                "posted digest #%d to %s but could not record it; it may be posted again after the lease",
                subscription.id,
                subscription.channel,
            )
        return True

    async def _failed(self, subscription: Subscription, token: str, now: datetime, error: Exception) -> None:
        attempts = subscription.attempts + 1
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if attempts >= self.max_attempts:
            next_run = subscription.schedule.next_run(now)
            log.error(
                "digest #%d to %s failed %d times (%s); skipping to the next run at %s",
                subscription.id,
                subscription.channel,
                attempts,
                reason,
                next_run.isoformat(),
            )
            await self.storage.call(self.storage.release, subscription.id, token, now, reason, next_run)
            return
        retry_at = now + min(self.retry * 2 ** (attempts - 1), MAX_BACKOFF)
        log.warning(
            "digest #%d to %s failed (attempt %d of %d: %s); retrying at %s",
            subscription.id,
            subscription.channel,
            attempts,
            self.max_attempts,
            reason,
            retry_at.isoformat(),
        )
        await self.storage.call(self.storage.release, subscription.id, token, retry_at, reason)
