"""Backpressure for platforms that acknowledge a request before answering it (Slack's 3-second rule).

An adapter that acknowledges at once and answers in the background can, under a flood, acknowledge far
ahead of what it answers: every acknowledged question then waits behind all the others, and a burst is
answered seconds late. `Backlog` bounds the answers being worked on: beyond `limit`, the next
acknowledgement waits until one finishes, but never longer than `hold` seconds (well inside Slack's
deadline, so Slack never retries because of it). Nothing is refused or dropped; a busy bot acknowledges
a little later instead of answering much later, and its memory stays bounded.
"""

from __future__ import annotations

import asyncio
from collections import deque

MAX_ANSWERING = 12
"""Answers worked on at once before acknowledgements wait: enough to keep the event loop busy while some
wait on the database or the platform's API (a round trip or two each), few enough that an acknowledged
question is answered soon. They share one core: 32 answered no more per second than 12, each later (on
the load benchmark, answer p99 400/408 -> 313/257 ms on PostgreSQL at the same throughput)."""
ACK_HOLD = 2.0
"""Longest wait for room, in seconds: Slack retries a delivery not acknowledged within 3."""


class Backlog:
    def __init__(self, limit: int = MAX_ANSWERING, hold: float = ACK_HOLD) -> None:
        self.limit = limit
        self.hold = hold
        self.answering = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def room(self) -> None:
        """Return once fewer than `limit` answers are being worked on, or after `hold` seconds.

        A waiter that gave up (or was cancelled) is not searched for in the queue (which, with the
        ValueError of one already let go, cost a few percent of the bot's CPU under load): `finished`
        skips it, and the done ones at the front are dropped on the way out."""
        if self.answering < self.limit:
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(self.hold, _release, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            while self._waiters and self._waiters[0].done():
                self._waiters.popleft()

    def started(self) -> None:
        self.answering += 1

    def finished(self) -> None:
        """One answer is done: the longest-waiting acknowledgement goes."""
        self.answering -= 1
        while self._waiters and self.answering < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
