"""A running curators' console for tests: a copy of the bundled knowledge, a database, a bot that records
every question, and the console served on a free loopback port."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from adapters.web import start
from bot.app import Bot
from bot.context import Context
from bot.curation.records import QuestionRecorder
from bot.live import LiveKnowledge
from bot.settings import Settings
from bot.storage import Storage
from knowledge.loader import BUNDLED_DIR
from tests.persistence import Clock

TOKEN = "correct-horse-battery-staple"
MISSED = "how beefy is the new arm processor"
"""Declined today, with graviton5-cores as its closest fact: the gap the flow closes."""


@dataclass
class Running:
    bot: Bot
    url: str
    storage: Storage
    directory: Path
    clock: Clock
    recorder: QuestionRecorder


async def seed(bot: Bot, clock: Clock, recorder: QuestionRecorder) -> None:
    """Four weeks of questions on two platforms and both languages, a missed question asked three times,
    chat noise, and votes."""
    start_day = clock.now
    answered = ["how many cores does graviton5 have?", "Trainium3的内存带宽是多少？", "what is S3 Vectors?"]
    for day in range(28):
        clock.now = start_day - _days(27 - day)
        for n in range(2 + day % 5):
            platform = "slack" if n % 3 else "discord"
            await bot.message(answered[(day + n) % len(answered)], Context(platform=platform))
        if day % 4 == 0:
            await bot.message("how many cores does graviton6 have?", Context(platform="slack"))
    clock.now = start_day
    for noise in ["hi", "42", "thanks!", MISSED, MISSED, "How beefy is the new ARM processor?"]:
        await bot.message(noise, Context(platform="slack"))
    assert bot.storage is not None
    for n in range(6):
        bot.storage.record_feedback("graviton5-cores", n != 0, "slack", f"U{n}", clock.now - _days(n))
    await bot.drain()
    await recorder.drain()


def _days(n: int) -> timedelta:
    return timedelta(days=n)


@asynccontextmanager
async def running_console(db_url: str, tmp_path: Path, token: str | None = TOKEN) -> AsyncIterator[Running]:
    directory = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_DIR, directory)
    storage = Storage(db_url, user_salt="test-salt")
    clock = Clock(datetime(2025, 12, 20, 15, 0, tzinfo=UTC))
    recorder = QuestionRecorder(storage)
    bot = Bot(LiveKnowledge(directory), storage=storage, clock=clock, observers=[recorder])
    settings = Settings(web_host="127.0.0.1", web_token=SecretStr(token) if token else None)
    runner, url = await start(bot, settings, port=0)
    try:
        yield Running(bot, url, storage, directory, clock, recorder)
    finally:
        await runner.cleanup()
        await bot.drain()
        await recorder.drain()
        storage.close()
