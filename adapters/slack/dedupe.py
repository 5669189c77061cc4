"""Remember recently handled deliveries, so Slack's retries and replays are not answered twice.

Two memories: `RecentKeys` in this process (always, and first: it is instant, checked before the
acknowledgement), and, when the bot's database is PostgreSQL, the shared `deliveries` table, where the
bot claims a delivery's keys together with the user's rate slot (`bot.service.admission`, given the keys
in `Context.delivery`), so a retry that reaches another replica, or a signed request replayed to one, is
still answered once.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.storage import Storage

log = logging.getLogger(__name__)

LOCAL_CAPACITY = 200_000
"""Keys kept in this process (three per message, one per command or click): at 10,000 events a minute,
a quarter of an hour of them, which outlasts Slack's last retry; about 30 MB at most."""


class RecentKeys:
    """A bounded set of keys that forgets each key `ttl` seconds after it was added.

    Slack retries an event up to three times within a few minutes, so a short memory is enough;
    the bound keeps a flood of events from growing it without limit.
    """

    def __init__(
        self, ttl: float = 900.0, capacity: int = LOCAL_CAPACITY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self.clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._expiry and (
            next(iter(self._expiry.values())) <= now or len(self._expiry) > self.capacity
        ):
            self._expiry.popitem(last=False)

    def first_time(self, keys: Iterable[str]) -> bool:
        """True, and remember them all, unless any of the keys was seen within `ttl`."""
        now = self.clock()
        self._expire(now)
        wanted = [key for key in keys if key]
        if any(key in self._expiry for key in wanted):
            return False
        for key in wanted:
            self._expiry[key] = now + self.ttl
            self._expiry.move_to_end(key)
        self._expire(now)
        return True

    def forget(self, keys: Iterable[str]) -> None:
        """Let a later retry through: the first attempt could not deliver its answer."""
        for key in keys:
            self._expiry.pop(key, None)


class Deliveries:
    """Whether a delivery (its keys: event id, message, trigger id) is handled for the first time in
    this process; and letting a retry through, here and in the shared database, when a reply is lost."""

    def __init__(self, storage: Storage | None, ttl: float = 900.0) -> None:
        self.ttl = ttl
        self.local = RecentKeys(ttl=ttl)
        self.storage = storage if storage is not None and storage.shared else None

    def first_here(self, keys: Iterable[str]) -> bool:
        """This process has not seen any of the keys (instant: call it before acknowledging)."""
        return self.local.first_time(keys)

    async def forget(self, keys: Iterable[str]) -> None:
        """Let a later retry through: the first attempt could not deliver its answer."""
        wanted = list(keys)
        self.local.forget(wanted)
        if self.storage is not None:
            await self.storage.call(self.storage.forget_delivery, wanted)
