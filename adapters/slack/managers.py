"""What the bot needs to know about a Slack user, from one users.info call remembered for a while:
whether they may manage the bot (workspace admins and owners, and the users named in settings), and
their Slack locale, which is the language of a reply when a command has no words to tell it from
(Slack sends no locale with slash commands or clicks)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from knowledge.models import Language

log = logging.getLogger(__name__)

MAX_KNOWN = 10_000


@dataclass(frozen=True)
class Profile:
    can_manage: bool = False
    language: Language | None = None
    """From the user's Slack locale (`zh-CN` is zh, `en-US` en); None for a locale the bot does not
    speak, or when users.info failed."""


def locale_language(locale: object) -> Language | None:
    """The bot's language for a Slack locale such as `zh-CN`, `zh-TW` or `en-GB`."""
    if not isinstance(locale, str):
        return None
    prefix = locale.strip().lower()[:2]
    if prefix == "zh":
        return "zh"
    if prefix == "en":
        return "en"
    return None


class Managers:
    """Answers `profile(user)` (and `can_manage(user)`) from users.info with `include_locale`,
    remembering each answer for `ttl` seconds."""

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
        self._known: dict[str, tuple[Profile, float]] = {}
        self._lookups: dict[str, asyncio.Future[Profile]] = {}

    async def can_manage(self, user: str | None) -> bool:
        return (await self.profile(user)).can_manage

    async def profile(self, user: str | None) -> Profile:
        if not user:
            return Profile()
        known = self._known.get(user)
        if known is not None and known[1] > self.clock():
            return known[0]
        # Messages from one user often arrive together: they share one users.info call.
        lookup = self._lookups.get(user)
        if lookup is None:
            lookup = self._lookups[user] = asyncio.ensure_future(self._look_up(user))
            lookup.add_done_callback(lambda _: self._lookups.pop(user, None))
        return await asyncio.shield(lookup)

    async def _look_up(self, user: str) -> Profile:
        configured = user in self.configured
        try:
            response = await self.client.users_info(user=user, include_locale=True)
        except SlackClientError as error:
            if not configured:
                log.warning("users.info failed for %s, treating as a regular user: %s", user, error)
            return Profile(can_manage=configured)
        found = response.get("user") or {}
        profile = Profile(
            can_manage=configured or bool(found.get("is_admin") or found.get("is_owner")),
            language=locale_language(found.get("locale")),
        )
        if len(self._known) > MAX_KNOWN:
            self._known.clear()
        self._known[user] = (profile, self.clock() + self.ttl)
        return profile
