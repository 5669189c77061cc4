"""Remember recently handled deliveries, so Slack's retries of an event are not answered twice."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable


class RecentKeys:
    """A bounded set of keys that forgets each key `ttl` seconds after it was added.

    Slack retries an event up to three times within a few minutes, so a short memory is enough;
    the bound keeps a flood of events from growing it without limit.
    """

    def __init__(
        self, ttl: float = 900.0, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic
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
