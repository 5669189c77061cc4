"""What the metrics count besides questions and replies: reloads, digests, storage errors (issue 14)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from bot.app import Bot
from bot.context import Context
from bot.digests.schedule import parse_schedule
from bot.digests.scheduler import Scheduler
from bot.live import LiveKnowledge
from bot.service import metrics
from bot.service.background import background
from bot.settings import Settings
from bot.storage import Storage
from tests.conftest import write_fact
from tests.persistence import Clock, RecordingPoster, write_knowledge
from tests.scraping import free_port

MANAGER = Context(platform="slack", channel="C1", user="UADMIN001", can_manage=True)
NINE = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def reloads(outcome: str) -> float:
    return sample("keynote_knowledge_reloads_total", outcome=outcome)


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


async def test_reloads_by_the_watcher_and_by_reload_are_counted_applied_or_failed(tmp_path: Path) -> None:
    write_fact(tmp_path, "alpha", "The first answer.")
    bot = Bot(LiveKnowledge(tmp_path))
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", knowledge_poll_seconds=0.02)  # type: ignore[call-arg]
    applied, failed = reloads("applied"), reloads("failed")
    async with background(bot, settings):
        write_fact(tmp_path, "alpha", "The second answer, longer so the size changes.")
        await until(lambda: reloads("applied") == applied + 1)
        (tmp_path / "facts.yaml").write_text("facts: [ {id: broken", encoding="utf-8")
        await until(lambda: reloads("failed") == failed + 1)
        refused = await bot.command("reload", "", MANAGER)
        assert refused.kind == "error"
        assert reloads("failed") == failed + 2
        write_fact(tmp_path, "alpha", "The third answer.")
        assert (await bot.command("reload", "", MANAGER)).kind != "error"
        assert reloads("applied") >= applied + 2


async def test_digests_posted_failed_and_skipped_are_counted(tmp_path: Path) -> None:
    storage = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", user_salt="salt")
    live = LiveKnowledge(write_knowledge(tmp_path / "knowledge"))
    try:
        schedule, _ = parse_schedule(["daily", "09:00"], "UTC")
        storage.add_subscription("slack", "C1", schedule, None, "en", NINE - timedelta(hours=1))
        storage.add_subscription("slack", "C2", schedule, None, "en", NINE - timedelta(hours=1))
        poster = RecordingPoster(failures={"C2": 5})
        clock = Clock(NINE)
        scheduler = Scheduler(live, storage, poster, clock=clock, retry=timedelta(minutes=1), max_attempts=2)
        before = {
            outcome: sample("keynote_digests_total", outcome=outcome)
            for outcome in ("posted", "failed", "skipped")
        }

        assert await scheduler.tick() == 1
        assert sample("keynote_digests_due") == 2
        clock.advance(minutes=2)
        assert await scheduler.tick() == 0  # C2's second failure: its slot is skipped
        assert sample("keynote_digests_due") == 1

        assert sample("keynote_digests_total", outcome="posted") == before["posted"] + 1
        assert sample("keynote_digests_total", outcome="failed") == before["failed"] + 2
        assert sample("keynote_digests_total", outcome="skipped") == before["skipped"] + 1
    finally:
        storage.close()


async def test_a_database_that_cannot_be_reached_is_counted_as_unavailable() -> None:
    nobody_listens = free_port()
    storage = Storage(
        f"postgresql+psycopg://postgres@127.0.0.1:{nobody_listens}/none",
        connect_timeout=1,
        statement_timeout=2,
    )
    try:
        before = sample("keynote_storage_errors_total", kind="unavailable")
        assert await storage.call(storage.fact_votes) is None
        assert sample("keynote_storage_errors_total", kind="unavailable") == before + 1
        assert not storage.available
    finally:
        storage.close()


@pytest.mark.parametrize("status", [429, 500, 503, 404, 200])
def test_a_status_becomes_a_fixed_reason_word(status: int) -> None:
    reason = metrics.status_reason(status)
    assert reason in metrics.REASONS
    assert reason == {429: "rate_limited", 500: "server_error", 503: "server_error", 404: "client_error"}.get(
        status, "refused"
    )
