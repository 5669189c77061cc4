"""A bot whose every command fails, to prove each adapter answers a failure the same polite, private way."""

from __future__ import annotations

import dataclasses

import pytest

from bot.app import Bot
from bot.commands import COMMANDS, Command
from bot.context import Context
from bot.live import LiveKnowledge
from bot.replies import Reply
from knowledge.models import Language

QUESTION = "how many cores does Graviton5 have, asks Ada Lovelace"
"""The user's words: they must reach no log line, not even inside a traceback."""


async def _on_fire(bot: Bot, args: str, ctx: Context, language: Language) -> Reply:
    raise RuntimeError("handler on fire")


def failing_bot(live: LiveKnowledge) -> Bot:
    """The real Bot, with a command table whose handlers all raise."""
    table: tuple[Command, ...] = tuple(dataclasses.replace(c, handler=_on_fire) for c in COMMANDS)
    return Bot(live, commands=table)


def assert_logged_without_the_question(caplog: pytest.LogCaptureFixture) -> None:
    """The failure is logged with its traceback, and nothing logged holds the user's words."""
    failures = [r for r in caplog.records if r.exc_info and "handler on fire" in str(r.exc_info[1])]
    assert failures, "the failure was not logged with its traceback"
    logged = caplog.text
    assert "Traceback" in logged
    assert "Ada Lovelace" not in logged and QUESTION not in logged
