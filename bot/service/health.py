"""Liveness for container health checks: the running bot touches a file, `python -m bot health` reads its age.

A file works the same for every platform (Socket Mode and Discord have no port to probe) and shows
that the event loop is still turning, which a port that accepts connections does not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)

BEAT_SECONDS = 15.0
STALE_SECONDS = 60.0


def heartbeat_file(data_dir: Path) -> Path:
    return data_dir / "heartbeat"


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{time.time():.0f}\n", encoding="utf-8")


async def beat(path: Path, interval: float = BEAT_SECONDS) -> None:
    """Touch the heartbeat file every `interval` seconds until cancelled."""
    while True:
        try:
            touch(path)
        except OSError as error:
            log.error("cannot write the heartbeat file %s: %s", path, error)
        await asyncio.sleep(interval)


def check(path: Path, now: float | None = None, stale_after: float = STALE_SECONDS) -> str | None:
    """None when the bot beat recently; otherwise what is wrong."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat at {path}: the bot is not running (or DATA_DIR differs)"
    if age > stale_after:
        return f"last heartbeat {age:.0f} s ago (more than {stale_after:.0f} s): the bot is stuck or stopped"
    return None
