"""The service log: plain text by default, one JSON object per line with LOG_FORMAT=json.

JSON lines come from python-json-logger: `time` (ISO 8601, UTC), `level`, `logger`, `message`, then the
event's own fields, passed as `extra=` (a question's `platform`, `language`, `outcome`, `fact_id`,
`pack`, `confidence`, `follow_up` and `latency_ms`), and `exc_info` with the traceback of a failure.
Either way the handler carries `redaction.RedactThirdParty`, and the bot's own lines hold ids, counts and
outcomes, never a token or the words of a message.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Literal

from pythonjsonlogger.json import JsonFormatter

from bot.service import redaction

if TYPE_CHECKING:
    from bot.app import Asked

log = logging.getLogger(__name__)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "{asctime}{levelname}{name}{message}"
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}


class JsonLines(JsonFormatter):
    """One JSON object per record: time, level, logger, message, then the record's extra fields."""

    def __init__(self) -> None:
        super().__init__(JSON_FIELDS, style="{", rename_fields=RENAMED, json_ensure_ascii=False)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def formatter(kind: Literal["text", "json"]) -> logging.Formatter:
    return JsonLines() if kind == "json" else logging.Formatter(TEXT_FORMAT)


def configure(level: str, kind: Literal["text", "json"], stream: IO[str] | None = None) -> None:
    """Log to stderr (or `stream`) at `level` in LOG_FORMAT `kind`, third-party secrets masked.

    Like `logging.basicConfig`, this does nothing to a root logger that already has handlers (a test
    harness's), except putting the redaction filter on them."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(kind))
    logging.basicConfig(level=level, handlers=[handler])
    redaction.install()


def log_question(asked: Asked) -> None:
    """An observer (`Bot(observers=...)`): one line per question with its fields, never its words."""
    if not log.isEnabledFor(logging.INFO):
        return
    latency_ms = round(asked.seconds * 1000, 3)
    log.info(
        "question on %s (%s): %s in %.1f ms, fact %s, confidence %.3f%s",
        asked.platform,
        asked.language,
        asked.outcome,
        latency_ms,
        asked.fact_id,
        asked.confidence,
        " (follow-up)" if asked.follow_up else "",
        extra={
            "platform": asked.platform,
            "language": asked.language,
            "outcome": asked.outcome,
            "fact_id": asked.fact_id,
            "pack": asked.pack,
            "confidence": round(asked.confidence, 3),
            "follow_up": asked.follow_up,
            "latency_ms": latency_ms,
        },
    )
