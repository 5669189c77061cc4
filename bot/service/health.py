"""Liveness for container health checks: the running bot touches a file, `python -m bot health` reads its age.

A file works the same for every platform (Socket Mode and Discord have no port to probe) and shows
that the event loop is still turning, which a port that accepts connections does not.

When DATA_DIR cannot be written (a read-only volume, wrong ownership), the bot beats into a file in the
system's temporary directory instead, with the reason, so `health` says what is wrong rather than that
the bot is not running.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
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


def fallback_file(path: Path) -> Path:
    """Where the bot beats when it cannot write `path`: the temporary directory, one file per DATA_DIR."""
    digest = hashlib.sha256(str(path.absolute()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"keynote-bot-{digest}.heartbeat"


async def beat(path: Path, interval: float = BEAT_SECONDS) -> None:
    """Touch the heartbeat file every `interval` seconds until cancelled; when it cannot be written,
    beat into `fallback_file(path)` with the reason (logged once per outage)."""
    failing = False
    while True:
        try:
            touch(path)
            failing = False
        except OSError as error:
            reason = error.strerror or str(error)
            if not failing:
                log.error("cannot write the heartbeat file %s (%s): `health` will report it", path, reason)
            failing = True
            try:
                fallback_file(path).write_text(f"{time.time():.0f} {reason}\n", encoding="utf-8")
            except OSError as second:
                log.debug("cannot write the fallback heartbeat either: %s", second)
        await asyncio.sleep(interval)


def check(path: Path, now: float | None = None, stale_after: float = STALE_SECONDS) -> str | None:
    """None when the bot beat recently; otherwise what is wrong."""
    now = time.time() if now is None else now
    try:
        age: float | None = now - path.stat().st_mtime
    except FileNotFoundError:
        age = None
    except OSError as error:
        return f"cannot read the heartbeat {path}: {error.strerror or error}"
    if age is not None and age <= stale_after:
        return None
    try:
        fallback = fallback_file(path)
        fallback_age = now - fallback.stat().st_mtime
        reason = fallback.read_text(encoding="utf-8").partition(" ")[2].strip()
    except OSError:
        fallback_age = None
    if fallback_age is not None and fallback_age <= stale_after:
        return (
            f"the bot is running (it beat {fallback_age:.0f} s ago) but cannot write its heartbeat "
            f"{path}: {reason}; make DATA_DIR ({path.parent}) writable by the bot"
        )
    if age is None:
        return f"no heartbeat at {path}: the bot is not running (or DATA_DIR differs)"
    return f"last heartbeat {age:.0f} s ago (more than {stale_after:.0f} s): the bot is stuck or stopped"
