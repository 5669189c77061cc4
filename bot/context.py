"""Who asked, and where: what an adapter knows about a request that a command may need."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    platform: str = "console"
    channel: str | None = None
    user: str | None = None
    can_manage: bool = False
    """The asker may manage the channel (subscribe digests, reload knowledge)."""
