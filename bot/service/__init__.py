"""What runs beside a connected adapter: the knowledge watcher, the digest scheduler, the heartbeat."""

from bot.service.background import background

__all__ = ["background"]
