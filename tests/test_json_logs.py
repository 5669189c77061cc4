"""LOG_FORMAT=json: one JSON object per line with the event's fields, never the user's words (issue 14)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.app import Asked, Bot
from bot.context import Context
from bot.live import LiveKnowledge
from bot.service import logs, redaction
from knowledge.loader import BUNDLED_DIR
from tests.conftest import run_bot

QUESTION = "How many cores does Graviton5 have?"
WORDS = "How many cores"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The root logger writing JSON lines into a buffer, as `python -m bot` with LOG_FORMAT=json does."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logs.formatter("json"))
    handler.addFilter(redaction.RedactThirdParty())
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


async def test_a_question_is_one_json_line_with_its_fields(json_log: io.StringIO) -> None:
    bot = Bot(LiveKnowledge(BUNDLED_DIR), observers=[logs.log_question])
    ctx = Context(platform="slack", channel="C1", user="UADA00001", conversation="c")
    await bot.message(QUESTION, ctx)

    [line] = [record for record in lines(json_log) if record["logger"] == "bot.service.logs"]
    assert list(line)[:4] == ["time", "level", "logger", "message"]
    assert datetime.fromisoformat(str(line["time"])).tzinfo == UTC
    assert line["level"] == "INFO"
    assert line["logger"] == "bot.service.logs"
    assert line["platform"] == "slack"
    assert line["language"] == "en"
    assert line["outcome"] == "answered"
    assert line["fact_id"] == "graviton5-cores"
    assert line["pack"] == "reinvent-2025-infrastructure"
    assert isinstance(line["confidence"], float) and 0.5 < line["confidence"] <= 1.0
    assert line["follow_up"] is False
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] > 0
    assert line["message"] == (
        f"question on slack (en): answered in {line['latency_ms']:.1f} ms, fact graviton5-cores, "
        f"confidence {line['confidence']:.3f}"
    )
    assert WORDS not in json_log.getvalue() and "UADA00001" not in json_log.getvalue()


def test_a_failure_keeps_its_traceback_in_one_line(json_log: io.StringIO) -> None:
    try:
        raise RuntimeError("on fire")
    except RuntimeError:
        logging.getLogger("bot.app").exception("/ask failed on %s", "slack")
    [line] = lines(json_log)
    assert line["level"] == "ERROR" and line["message"] == "/ask failed on slack"
    assert "RuntimeError: on fire" in str(line["exc_info"])


def test_a_librarys_extra_fields_below_info_are_not_written(json_log: io.StringIO) -> None:
    logging.getLogger("slack_sdk.web").debug("sending", extra={"body": {"text": "Ada Lovelace"}})
    [line] = lines(json_log)
    assert "body" not in line and "Lovelace" not in json_log.getvalue()


def test_the_observer_never_logs_the_question_even_at_debug(json_log: io.StringIO) -> None:
    asked = Asked(
        platform="discord",
        language="zh",
        outcome="declined",
        question=QUESTION,
        fact_id=None,
        pack=None,
        confidence=0.12,
        follow_up=True,
        seconds=0.0021,
        at=datetime.now(UTC),
    )
    logs.log_question(asked)
    [line] = lines(json_log)
    assert (line["platform"], line["language"], line["outcome"], line["fact_id"], line["follow_up"]) == (
        "discord",
        "zh",
        "declined",
        None,
        True,
    )
    assert line["latency_ms"] == 2.1
    assert WORDS not in json_log.getvalue()


def test_log_format_json_makes_every_line_of_a_shell_run_json(tmp_path: object) -> None:
    """The setting reaches the process: a console run at INFO logs JSON lines only."""
    result = run_bot("run", "console", stdin=f"{QUESTION}\n", env={"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"})
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert records, "INFO lines were logged"
    question = next(r for r in records if r["logger"] == "bot.service.logs")
    assert question["platform"] == "console" and question["outcome"] == "answered"
    assert WORDS not in result.stderr
