"""Is the bot up? A heartbeat file for container health checks, and the report `GET /healthz` serves.

The running bot touches a file, `python -m bot health` reads its age. A file works the same for every
platform and shows that the event loop is still turning, which a port that accepts connections does not.
When the bot shuts down the file goes at once, so `health` fails the moment the bot stops answering.
When DATA_DIR cannot be written (a read-only volume, wrong ownership), the bot beats into a file in the
system's temporary directory instead, with the reason, so `health` says what is wrong rather than that
the bot is not running.

`report` says whether the platform connection, the knowledge and the database are up: 200 when the bot
can answer (connected, knowledge loaded; a database that is away only pauses feedback and digests), 503
otherwise, as a JSON body.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

BEAT_SECONDS = 15.0
STALE_SECONDS = 60.0


def heartbeat_file(data_dir: Path) -> Path:
    return data_dir / "heartbeat"


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{time.time():.0f} {os.getpid()}\n", encoding="utf-8")


def fallback_file(path: Path) -> Path:
    """Where the bot beats when it cannot write `path`: the temporary directory, one file per DATA_DIR."""
    digest = hashlib.sha256(str(path.absolute()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"keynote-bot-{digest}.heartbeat"


async def beat(path: Path, interval: float = BEAT_SECONDS) -> None:
    """Touch the heartbeat file every `interval` seconds until cancelled; when it cannot be written,
    beat into `fallback_file(path)` with the reason (logged once per outage). Cancelled (the bot is
    shutting down), it removes the file it beat into, so `health` fails at once."""
    failing = False
    try:
        while True:
            try:
                touch(path)
                failing = False
            except OSError as error:
                reason = error.strerror or str(error)
                if not failing:
                    log.error(
                        "cannot write the heartbeat file %s (%s): `health` will report it", path, reason
                    )
                failing = True
                try:
                    fallback_file(path).write_text(f"{time.time():.0f} {reason}\n", encoding="utf-8")
                except OSError as second:
                    log.debug("cannot write the fallback heartbeat either: %s", second)
            await asyncio.sleep(interval)
    finally:
        stop(path)


def stop(path: Path) -> None:
    """Remove this process's heartbeat (and fallback): another bot beating into the same file keeps it."""
    for beaten in (path, fallback_file(path)):
        try:
            words = beaten.read_text(encoding="utf-8").split()
        except OSError:
            continue
        mine = beaten == fallback_file(path) or (len(words) > 1 and words[1] == str(os.getpid()))
        if mine:
            try:
                beaten.unlink()
            except OSError as error:
                log.debug("cannot remove the heartbeat %s: %s", beaten, error)


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


# -- GET /healthz -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformStatus:
    """What an adapter says about its connection to the platform."""

    ok: bool
    detail: str
    in_flight: int | None = None
    """Replies being worked on, where the adapter tracks them (Slack)."""


@runtime_checkable
class Connected(Protocol):
    """An adapter that can say whether it is connected; one that cannot (the console) is up while it runs."""

    platform: str

    async def status(self) -> PlatformStatus: ...


async def report(bot: Bot, adapter: object | None, stopping: bool = False) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of `GET /healthz` for a running bot."""
    if stopping:
        platform = PlatformStatus(False, "shutting down")
    elif isinstance(adapter, Connected):
        try:
            platform = await adapter.status()
        except Exception as error:  # a health check must answer, whatever the adapter does
            log.exception("the adapter's status failed")
            platform = PlatformStatus(False, f"status unknown ({type(error).__name__})")
    else:
        platform = PlatformStatus(True, "running")
    knowledge = bot.live.current.knowledge
    knowledge_ok = bool(knowledge.facts or knowledge.launches)
    storage = bot.storage
    if storage is None:
        database: dict[str, Any] = {"ok": False, "detail": "no database: feedback and digests are off"}
    else:
        backend = storage.engine.url.get_backend_name()
        database = {
            "ok": storage.available,
            "detail": f"{backend} answering" if storage.available else f"{backend} unavailable",
            "pending_writes": storage.pending_writes,
        }
    ok = platform.ok and knowledge_ok
    body: dict[str, Any] = {
        "ok": ok,
        "platform": {
            "name": getattr(adapter, "platform", None),
            "ok": platform.ok,
            "detail": platform.detail,
        },
        "knowledge": {
            "ok": knowledge_ok,
            "facts": len(knowledge.facts),
            "launches": len(knowledge.launches),
            "version": knowledge.fingerprint[:12],
        },
        "database": database,
    }
    if platform.in_flight is not None:
        body["in_flight"] = platform.in_flight
    return (200 if ok else 503), body
