"""Scheduled digests with a test-controlled clock, on SQLite and on a real PostgreSQL.

Every test drives `Scheduler.tick()` at chosen instants and counts what a recording poster received.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from adapters.console.adapter import ConsoleAdapter
from bot.app import Bot
from bot.digests.schedule import parse_schedule
from bot.digests.scheduler import Scheduler
from bot.live import LiveKnowledge
from bot.replies import Reply
from bot.service.background import background
from bot.settings import Settings
from bot.storage import Storage, Subscription
from knowledge.models import Language, Theme
from tests.persistence import (  # noqa: F401  (fixtures)
    Clock,
    RecordingPoster,
    db_url_fixture,
    storage_fixture,
    write_knowledge,
)

START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
NINE = START.replace(hour=9)
LEASE = timedelta(minutes=5)


@pytest.fixture
def live(tmp_path: Path) -> LiveKnowledge:
    return LiveKnowledge(write_knowledge(tmp_path / "knowledge"))


def subscribe(
    storage: Storage,
    channel: str,
    schedule: str = "daily 09:00",
    topic: Theme | None = None,
    language: Language = "en",
) -> Subscription:
    parsed, _ = parse_schedule(schedule.split(), "UTC")
    return storage.add_subscription("slack", channel, parsed, topic, language, START)


def scheduler(
    live: LiveKnowledge, storage: Storage, poster: RecordingPoster, clock: Clock, lease: timedelta = LEASE
) -> Scheduler:
    return Scheduler(
        live, storage, poster, clock=clock, lease=lease, retry=timedelta(minutes=1), max_attempts=3
    )


def reload_with(live: LiveKnowledge, cores: int, extra_launch: bool = False) -> None:
    write_knowledge(live.directory, cores=cores, extra_launch=extra_launch)
    assert live.reload() is None


async def test_each_slot_is_posted_once_across_ticks_and_restarts(
    live: LiveKnowledge, storage: Storage, db_url: str
) -> None:
    subscribe(storage, "C1")
    poster, clock = RecordingPoster(), Clock(NINE - timedelta(minutes=1))
    first = scheduler(live, storage, poster, clock)
    assert await first.tick() == 0
    clock.now = NINE
    assert await first.tick() == 1
    clock.advance(seconds=30)
    assert await first.tick() == 0
    restarted_storage = Storage(db_url, user_salt="test-salt")
    restarted = scheduler(live, restarted_storage, poster, clock)
    assert await restarted.tick() == 0
    clock.now = NINE + timedelta(days=1)
    assert await restarted.tick() == 1
    assert poster.channels() == ["C1", "C1"]
    assert all(reply.kind == "digest" for _, reply in poster.posts)
    restarted_storage.close()


async def test_after_downtime_missed_slots_post_once(live: LiveKnowledge, storage: Storage) -> None:
    subscribe(storage, "C1")
    poster, clock = RecordingPoster(), Clock(NINE + timedelta(days=3, hours=1))
    run = scheduler(live, storage, poster, clock)
    assert await run.tick() == 1
    assert await run.tick() == 0
    (after,) = storage.subscriptions("slack", "C1")
    assert after.next_run == NINE + timedelta(days=4)
    assert poster.channels() == ["C1"]


def _tick_in_thread(
    db_url: str, live: LiveKnowledge, clock: Clock, barrier: threading.Barrier
) -> RecordingPoster:
    own_storage = Storage(db_url, user_salt="test-salt")
    own_storage.prepare()
    poster = RecordingPoster()
    barrier.wait(timeout=10)
    asyncio.run(scheduler(live, own_storage, poster, clock).tick())
    own_storage.close()
    return poster


async def test_two_schedulers_racing_post_every_slot_exactly_once(
    live: LiveKnowledge, storage: Storage, db_url: str
) -> None:
    channels = [f"C{n:02}" for n in range(12)]
    for channel in channels:
        subscribe(storage, channel)
    clock = Clock(NINE)
    barrier = threading.Barrier(2)
    posters: list[RecordingPoster] = []

    def race() -> None:
        posters.append(_tick_in_thread(db_url, live, clock, barrier))

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(posters) == 2
    posted = posters[0].channels() + posters[1].channels()
    assert sorted(posted) == channels


class SlowPoster(RecordingPoster):
    """Each post takes three quarters of a lease on the test's clock; from the second post on, another
    replica ticks while the post is in flight."""

    def __init__(self, clock: Clock, other_replica: Scheduler) -> None:
        super().__init__()
        self.clock = clock
        self.other_replica = other_replica

    async def post(self, channel: str, reply: Reply) -> None:
        self.clock.advance(seconds=LEASE.total_seconds() * 0.75)
        if self.posts:
            await self.other_replica.tick()
        await super().post(channel, reply)


async def test_a_claim_queued_behind_another_post_keeps_its_whole_lease(
    live: LiveKnowledge, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.digests.scheduler.CONCURRENT_POSTS", 1)
    for channel in ("C1", "C2"):
        subscribe(storage, channel)
    clock = Clock(NINE)
    other = RecordingPoster()
    busy = SlowPoster(clock, scheduler(live, storage, other, clock))
    await scheduler(live, storage, busy, clock).tick()
    assert sorted(busy.channels() + other.channels()) == ["C1", "C2"], "a slot was posted twice"


async def test_a_claim_whose_post_never_happened_is_posted_once_after_the_lease(
    live: LiveKnowledge, storage: Storage, db_url: str
) -> None:
    subscription = subscribe(storage, "C1")
    crashed = Storage(db_url, user_salt="test-salt")
    assert crashed.claim(subscription.id, NINE, LEASE) is not None
    crashed.close()
    poster, clock = RecordingPoster(), Clock(NINE + timedelta(seconds=10))
    survivor = scheduler(live, storage, poster, clock)
    assert await survivor.tick() == 0
    clock.now = NINE + LEASE - timedelta(seconds=1)
    assert await survivor.tick() == 0
    clock.now = NINE + LEASE + timedelta(seconds=1)
    assert await survivor.tick() == 1
    assert await survivor.tick() == 0
    assert poster.channels() == ["C1"]


async def test_a_failing_channel_is_retried_with_backoff_while_others_post(
    live: LiveKnowledge, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(storage, "C-ok")
    broken = subscribe(storage, "C-broken")
    poster, clock = RecordingPoster(failures={"C-broken": 2}), Clock(NINE)
    run = scheduler(live, storage, poster, clock)
    caplog.set_level(logging.WARNING, logger="bot.digests.scheduler")
    assert await run.tick() == 1
    assert poster.channels() == ["C-ok"]
    clock.advance(seconds=59)
    await run.tick()
    assert poster.attempts["C-broken"] == 1
    clock.now = NINE + timedelta(minutes=1)
    await run.tick()
    assert poster.attempts["C-broken"] == 2
    (failing,) = [s for s in storage.subscriptions("slack") if s.id == broken.id]
    assert failing.attempts == 2
    assert failing.last_error == "ConnectionError: channel C-broken is unreachable"
    clock.now = NINE + timedelta(minutes=3) - timedelta(seconds=1)
    await run.tick()
    assert poster.attempts["C-broken"] == 2
    clock.now = NINE + timedelta(minutes=3)
    assert await run.tick() == 1
    assert poster.channels() == ["C-ok", "C-broken"]
    retries = [r.getMessage() for r in caplog.records if "retrying at" in r.getMessage()]
    assert len(retries) == 2
    assert "attempt 1 of 3" in retries[0] and "C-broken" in retries[0]
    (recovered,) = [s for s in storage.subscriptions("slack") if s.id == broken.id]
    assert (recovered.attempts, recovered.last_error, recovered.next_run) == (
        0,
        None,
        NINE + timedelta(days=1),
    )


async def test_after_the_last_attempt_the_slot_is_skipped_and_logged(
    live: LiveKnowledge, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(storage, "C-gone")
    poster, clock = RecordingPoster(failures={"C-gone": 100}), Clock(NINE)
    run = scheduler(live, storage, poster, clock)
    for minute in (0, 1, 3, 10, 60):
        clock.now = NINE + timedelta(minutes=minute)
        await run.tick()
    assert poster.attempts["C-gone"] == 3
    assert any(
        r.levelno == logging.ERROR and "skipping to the next run" in r.getMessage() for r in caplog.records
    )
    (gone,) = storage.subscriptions("slack", "C-gone")
    assert gone.next_run == NINE + timedelta(days=1)
    clock.now = gone.next_run
    await run.tick()
    assert poster.attempts["C-gone"] == 4


class HangingPoster(RecordingPoster):
    """A channel whose post never returns, like a platform call stuck on a dead connection."""

    async def post(self, channel: str, reply: Reply) -> None:
        if channel == "C-hang":
            await asyncio.Event().wait()
        await super().post(channel, reply)


async def test_a_hanging_post_times_out_without_holding_up_other_channels(
    live: LiveKnowledge, storage: Storage
) -> None:
    hang = subscribe(storage, "C-hang")
    subscribe(storage, "C-ok")
    poster = HangingPoster()
    run = scheduler(live, storage, poster, Clock(NINE), lease=timedelta(seconds=0.2))
    assert await asyncio.wait_for(run.tick(), timeout=30) == 1
    assert poster.channels() == ["C-ok"]
    (stuck,) = [s for s in storage.subscriptions("slack") if s.id == hang.id]
    assert stuck.attempts == 1
    assert stuck.last_error == "TimeoutError"


async def test_a_digest_starts_with_what_changed_since_the_channels_last_one(
    live: LiveKnowledge, storage: Storage
) -> None:
    subscribe(storage, "C1")
    poster, clock = RecordingPoster(), Clock(NINE)
    run = scheduler(live, storage, poster, clock)
    await run.tick()
    first = poster.posts[-1][1]
    assert first.title == "AWS re:Invent 2025 keynote digest"
    assert "New or changed since last time" not in first.plain_text()

    reload_with(live, cores=256, extra_launch=True)
    clock.now = NINE + timedelta(days=1)
    await run.tick()
    changed = poster.posts[-1][1]
    assert changed.sections[0].heading == "New or changed since last time"
    assert changed.sections[0].text.splitlines() == [
        "• New: S3 Vectors — Vectors in S3.",
        "• Changed: Graviton5 has 256 cores.",
    ]
    assert [s.heading for s in changed.sections[1:]] == ["Compute", "Vector search", "AI chips"]

    clock.now = NINE + timedelta(days=2)
    await run.tick()
    assert poster.posts[-1][1].sections[0].heading == "Compute"


async def test_a_topic_digest_only_mentions_changes_in_its_topic(
    live: LiveKnowledge, storage: Storage
) -> None:
    subscribe(storage, "C1", topic="ai-chips", language="zh")
    poster, clock = RecordingPoster(), Clock(NINE)
    run = scheduler(live, storage, poster, clock)
    await run.tick()
    reload_with(live, cores=256)
    clock.now = NINE + timedelta(days=1)
    await run.tick()
    digest = poster.posts[-1][1]
    assert digest.title == "AWS re:Invent 2025 主题演讲摘要"
    assert [s.heading for s in digest.sections] == ["AI 芯片"]
    assert digest.sections[0].text == "• Trainium3 (正式可用): 3 纳米 AI 芯片。"


async def test_digests_pause_while_the_database_is_unreachable_and_resume(
    live: LiveKnowledge, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "db"
    storage = Storage(f"sqlite:///{directory / 'bot.sqlite3'}", user_salt="s")
    subscribe(storage, "C1")
    directory.rename(tmp_path / "elsewhere")
    storage.engine.dispose()
    poster, clock = RecordingPoster(), Clock(NINE)
    run = scheduler(live, storage, poster, clock)
    assert await run.tick() == 0
    assert await run.tick() == 0
    assert [r.levelno for r in caplog.records if r.name == "bot.storage.store"] == [logging.ERROR]
    (tmp_path / "elsewhere").rename(directory)
    assert await run.tick() == 1
    assert poster.channels() == ["C1"]
    storage.close()


async def test_the_bot_runtime_starts_the_scheduler_when_it_has_storage_and_a_poster(
    live: LiveKnowledge, storage: Storage
) -> None:
    subscribe(storage, "C1")
    poster = RecordingPoster()
    bot = Bot(live, storage=storage, clock=Clock(NINE))
    settings = Settings(knowledge_poll_seconds=60, digest_poll_seconds=0.01)
    async with background(bot, settings, poster=poster):
        for _ in range(500):
            if poster.posts:
                break
            await asyncio.sleep(0.01)
    assert poster.channels() == ["C1"]


async def test_the_console_adapter_prints_scheduled_digests(live: LiveKnowledge, storage: Storage) -> None:
    bot = Bot(live, storage=storage, clock=Clock(START))
    output = io.StringIO()
    console = ConsoleAdapter(bot, io.StringIO(), Console(file=output, width=100))
    subscribed = await bot.message("/digest subscribe daily 09:00 ai chips", console.context)
    assert subscribed.kind == "notice"
    run = Scheduler(live, storage, console, clock=Clock(NINE))
    assert await run.tick() == 1
    printed = output.getvalue()
    assert "AWS re:Invent 2025 keynote digest" in printed
    assert "Trainium3 (Generally available): A 3nm AI chip." in printed
