"""Paused digest subscriptions (app uninstalled, bot removed from a channel) on SQLite and PostgreSQL:
the scheduler skips them, and resuming goes on from the next slot, not the missed ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.digests.schedule import parse_schedule
from bot.storage import Storage, tables
from bot.storage.migrations import STEPS, migrate
from tests.persistence import db_url_fixture, storage_fixture  # noqa: F401  (fixtures)

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=2, hours=2)  # two 09:00 slots missed
LEASE = timedelta(minutes=5)


def daily(storage: Storage, channel: str, platform: str = "slack") -> int:
    schedule, _ = parse_schedule(["daily", "09:00"], "UTC")
    return storage.add_subscription(platform, channel, schedule, None, "en", NOW).id


def test_a_paused_channel_is_not_due_and_cannot_be_claimed(storage: Storage) -> None:
    paused = daily(storage, "C1")
    active = daily(storage, "C2")
    assert storage.pause_subscriptions("slack", ["C1"], "member_left_channel") == 1
    assert [s.id for s in storage.due("slack", LATER)] == [active]
    assert storage.claim(paused, LATER, LEASE) is None
    [listed] = storage.subscriptions("slack", "C1")
    assert listed.paused == "member_left_channel"
    assert storage.subscriptions("slack", "C2")[0].paused is None


def test_pausing_a_whole_platform_leaves_the_others(storage: Storage) -> None:
    daily(storage, "C1")
    daily(storage, "C2")
    discord = daily(storage, "123", platform="discord")
    assert storage.pause_subscriptions("slack", None, "app_uninstalled") == 2
    assert storage.due("slack", LATER) == []
    assert [s.id for s in storage.due("discord", LATER)] == [discord]
    assert storage.pause_subscriptions("slack", None, "tokens_revoked") == 0  # already paused: reason kept
    assert {s.paused for s in storage.subscriptions("slack")} == {"app_uninstalled"}


def test_resuming_goes_on_from_the_next_slot(storage: Storage) -> None:
    first = daily(storage, "C1")
    storage.pause_subscriptions("slack", ["C1"], "channel_archive")
    assert storage.resume_subscriptions("slack", ["C1"], LATER) == 1
    [resumed] = storage.subscriptions("slack", "C1")
    assert resumed.paused is None
    assert resumed.next_run == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # not the missed slots
    assert storage.due("slack", LATER) == []
    assert [s.id for s in storage.due("slack", resumed.next_run)] == [first]


def test_resuming_by_reason_leaves_other_pauses(storage: Storage) -> None:
    daily(storage, "C1")
    daily(storage, "C2")
    storage.pause_subscriptions("slack", ["C1"], "channel_deleted")
    storage.pause_subscriptions("slack", ["C2"], "app_uninstalled")
    assert storage.resume_subscriptions("slack", None, LATER, reasons=["app_uninstalled"]) == 1
    assert {s.channel: s.paused for s in storage.subscriptions("slack")} == {
        "C1": "channel_deleted",
        "C2": None,
    }
    assert storage.pause_subscriptions("slack", [], "x") == 0
    assert storage.resume_subscriptions("slack", [], LATER) == 0


@contextmanager
def database_at(db_url: str, version: int, *statements: str) -> Iterator[Storage]:
    """A database left at an older schema `version` by its own steps (with `statements` run then),
    opened by today's Storage."""
    database = sa.engine.make_url(db_url).database
    if db_url.startswith("sqlite") and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    storage = Storage(db_url, user_salt="test-salt")
    try:
        with storage.engine.begin() as connection:
            tables.schema_version.create(connection)
            connection.execute(sa.insert(tables.schema_version).values(id=1, version=version))
            for step in STEPS[:version]:
                step(connection)
            for statement in statements:
                connection.execute(sa.text(statement))
        yield storage
    finally:
        storage.close()


def test_a_version_2_database_gains_the_paused_state_and_keeps_its_subscriptions(db_url: str) -> None:
    old = (
        "INSERT INTO subscriptions (platform, channel, cron, schedule_text, timezone, language, "
        "created_at, next_run, attempts) VALUES ('slack', 'C1', '0 9 * * *', 'daily 09:00', "
        "'UTC', 'en', '2026-11-27 08:00:00', '2026-11-27 09:00:00', 0)"
    )
    with database_at(db_url, 2, old) as storage:
        assert migrate(storage.engine) == 2
        [kept] = storage.subscriptions("slack", "C1")
        assert kept.paused is None
        assert [s.id for s in storage.due("slack", LATER)] == [kept.id]


def test_a_version_3_database_takes_topics_that_name_a_pack_and_its_theme(db_url: str) -> None:
    """`pack-id/theme` can be 161 characters; version 3 kept 40 (PostgreSQL enforces it)."""
    with database_at(db_url, 3) as storage:
        assert migrate(storage.engine) == 3
        topic = f"{'p' * 80}/{'t' * 80}"
        schedule, _ = parse_schedule(["daily", "09:00"], "UTC")
        storage.add_subscription("slack", "C1", schedule, topic, "en", LATER)
        [kept] = storage.subscriptions("slack", "C1")
        assert kept.topic == topic
