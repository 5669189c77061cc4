"""Who may manage the bot from Slack: workspace admins and owners, and the users named in settings."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class Managers:
    """Answers `can_manage(user)` from users.info, remembering each answer for `ttl` seconds."""

    def __init__(
        self,
        client: AsyncWebClient,
        configured: Iterable[str] = (),
        ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.configured = frozenset(configured)
        self.ttl = ttl
        self.clock = clock
        self._known: dict[str, tuple[bool, float]] = {}
        self._lookups: dict[str, asyncio.Future[bool]] = {}

    async def can_manage(self, user: str | None) -> bool:
        if not user:
            return False
        if user in self.configured:
            return True
        known = self._known.get(user)
        if known is not None and known[1] > self.clock():
            return known[0]
        # Messages from one user often arrive together: they share one users.info call.
        lookup = self._lookups.get(user)
        if lookup is None:
            lookup = self._lookups[user] = asyncio.ensure_future(self._look_up(user))
            lookup.add_done_callback(lambda _: self._lookups.pop(user, None))
        return await asyncio.shield(lookup)

    async def _look_up(self, user: str) -> bool:
        try:
            response = await self.client.users_info(user=user)
        except SlackClientError as error:
            log.warning("users.info failed for %s, treating as a regular user: %s", user, error)
            return False
        profile = response.get("user") or {}
        allowed = bool(profile.get("is_admin") or profile.get("is_owner"))
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[user] = (allowed, self.clock() + self.ttl)
        return allowed
