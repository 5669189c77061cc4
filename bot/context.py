"""Who asked, and where: what an adapter knows about a request that a command may need."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.models import Language


@dataclass(frozen=True)
class Delivery:
    """What a platform's delivery of a request is known by (event id, message, trigger id), so that its
    retries are handled once (`bot.service.admission`), and for how long the platform may retry it."""

    keys: tuple[str, ...]
    ttl: float = 900.0


@dataclass(frozen=True)
class Context:
    platform: str = "console"
    channel: str | None = None
    user: str | None = None
    can_manage: bool = False
    """The asker may manage the channel (subscribe digests, reload knowledge)."""
    conversation: str | None = None
    """Which conversation the message belongs to (one user in one thread, DM or channel), so that a
    follow-up is understood against the turn before it; None: every message stands alone."""
    language: Language | None = None
    """The asker's language where the platform says it (Discord's locale): used when a command has
    no words to tell it from, such as a bare `/digest`."""
    delivery: Delivery | None = None
    """The request's delivery, where the platform may deliver it more than once (Slack)."""
