"""The database on SQLite and on a real PostgreSQL: schema versions, privacy, claims, degraded mode."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.digests.schedule import parse_schedule
from bot.storage import FactVotes, Storage, database_url, tables
from bot.storage.migrations import LATEST, SchemaTooNew, migrate
from tests.conftest import run_bot
from tests.persistence import db_url_fixture, storage_fixture, write_knowledge  # noqa: F401  (fixtures)

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def daily(storage: Storage, channel: str = "C1") -> int:
    schedule, _ = parse_schedule(["daily", "09:00"], "UTC")
    return storage.add_subscription("slack", channel, schedule, None, "en", NOW).id


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    assert database_url("postgresql://bot@db:5432/bot") == "postgresql+psycopg://bot@db:5432/bot"
    assert database_url("postgres://bot@db/bot") == "postgresql+psycopg://bot@db/bot"
    assert database_url("postgresql+psycopg://bot@db/bot") == "postgresql+psycopg://bot@db/bot"
    assert database_url("sqlite:///data/bot.sqlite3") == "sqlite:///data/bot.sqlite3"


def test_first_use_creates_the_latest_schema_matching_the_table_definitions(storage: Storage) -> None:
    storage.prepare()
    inspector = sa.inspect(storage.engine)
    for table in tables.metadata.sorted_tables:
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        assert columns == {column.name for column in table.columns}, table.name
    with storage.engine.connect() as connection:
        assert connection.execute(sa.select(tables.schema_version.c.version)).scalar_one() == LATEST


def test_data_survives_reopening_and_migrating_again(db_url: str) -> None:
    first = Storage(db_url, user_salt="s")
    subscription_id = daily(first)
    first.close()
    second = Storage(db_url, user_salt="s")
    assert migrate(second.engine) == LATEST
    assert [s.id for s in second.subscriptions("slack", "C1")] == [subscription_id]
    second.close()


def test_a_database_from_a_newer_bot_is_refused(storage: Storage) -> None:
    storage.prepare()
    with storage.engine.begin() as connection:
        connection.execute(sa.update(tables.schema_version).values(version=LATEST + 1))
    with pytest.raises(SchemaTooNew, match="newer than this bot"):
        migrate(storage.engine)


def test_a_users_later_vote_replaces_the_earlier_one_and_no_raw_id_is_stored(storage: Storage) -> None:
    storage.record_feedback("g5-cores", False, "slack", "U0SECRET", NOW)
    storage.record_feedback("g5-cores", True, "slack", "U0SECRET", NOW)
    storage.record_feedback("g5-cores", False, "slack", "U0OTHER", NOW)
    storage.record_feedback("g5-cores", False, "discord", "U0SECRET", NOW)
    votes = {v.fact_id: (v.up, v.down) for v in storage.fact_votes()}
    assert votes == {"g5-cores": (1, 2)}
    with storage.engine.connect() as connection:
        rows = connection.execute(sa.select(tables.feedback)).mappings().all()
    stored = " ".join(str(value) for row in rows for value in row.values())
    assert "U0SECRET" not in stored and "U0OTHER" not in stored
    assert len({row["user_hash"] for row in rows}) == 3


def test_user_hashes_depend_on_the_salt() -> None:
    one = Storage("sqlite://", user_salt="one")
    two = Storage("sqlite://", user_salt="two")
    assert one.user_hash("slack", "U1") == one.user_hash("slack", "U1")
    assert one.user_hash("slack", "U1") != two.user_hash("slack", "U1")
    assert one.user_hash("slack", "U1") != one.user_hash("discord", "U1")


def test_without_a_configured_salt_each_database_keeps_its_own(db_url: str) -> None:
    first = Storage(db_url)
    hashed = first.user_hash("slack", "U1")
    first.close()
    again = Storage(db_url)
    assert again.user_hash("slack", "U1") == hashed
    again.close()
    assert Storage("sqlite://", user_salt="other").user_hash("slack", "U1") != hashed


def test_missed_questions_keep_their_suggestions(storage: Storage) -> None:
    storage.record_unanswered("Who won the World Cup?", "en", "discord", ["closing-recap"], NOW)
    storage.record_unanswered("x" * 5000, "en", "slack", [], NOW + timedelta(days=2))
    missed = storage.missed_questions()
    assert [(m.question[:22], m.platform, m.suggestions) for m in missed] == [
        ("Who won the World Cup?", "discord", ["closing-recap"]),
        ("x" * 22, "slack", []),
    ]
    assert len(missed[1].question) == 1000
    assert missed[0].created_at == NOW
    assert [m.platform for m in storage.missed_questions(since=NOW + timedelta(days=1))] == ["slack"]


def test_subscriptions_belong_to_their_channel(storage: Storage) -> None:
    mine = daily(storage, "C1")
    daily(storage, "C2")
    assert [s.id for s in storage.subscriptions("slack", "C1")] == [mine]
    assert storage.subscriptions("discord", "C1") == []
    assert not storage.remove_subscription("slack", "C2", mine)
    assert storage.remove_subscription("slack", "C1", mine)
    assert storage.subscriptions("slack", "C1") == []


def test_only_one_of_two_processes_claims_a_slot_until_the_lease_runs_out(db_url: str) -> None:
    one, two = Storage(db_url, user_salt="s"), Storage(db_url, user_salt="s")
    subscription_id = daily(one)
    due = NOW.replace(hour=9)
    assert [s.id for s in one.due("slack", due)] == [subscription_id]
    assert [s.id for s in two.due("slack", due)] == [subscription_id]
    token = one.claim(subscription_id, due, LEASE)
    assert token is not None
    assert two.claim(subscription_id, due, LEASE) is None
    assert two.due("slack", due + LEASE - timedelta(seconds=1)) == []
    assert two.claim(subscription_id, due + LEASE, LEASE) is not None
    assert not one.complete(subscription_id, token, due + timedelta(days=1), due, "fp", {})
    one.close()
    two.close()


def test_racing_claims_from_separate_engines_each_win_a_slot_once(db_url: str) -> None:
    setup = Storage(db_url, user_salt="s")
    ids = [daily(setup, f"C{n}") for n in range(12)]
    racers = [Storage(db_url, user_salt="s") for _ in range(2)]
    for racer in racers:
        racer.prepare()
    barrier = threading.Barrier(len(racers))
    won: list[list[int]] = [[] for _ in racers]
    due = NOW.replace(hour=9)

    def race(index: int) -> None:
        barrier.wait(timeout=10)
        for subscription_id in ids:
            if racers[index].claim(subscription_id, due, LEASE) is not None:
                won[index].append(subscription_id)

    threads = [threading.Thread(target=race, args=(index,)) for index in range(len(racers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(won[0] + won[1]) == ids
    for racer in [setup, *racers]:
        racer.close()


async def test_an_unreachable_database_is_logged_once_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database directory should be")
    storage = Storage(f"sqlite:///{blocker / 'bot.sqlite3'}", user_salt="s")
    caplog.set_level(logging.INFO, logger="bot.storage")
    assert await storage.call(storage.fact_votes) is None
    assert await storage.call(storage.subscriptions, "slack") is None
    assert not storage.available
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "digests are paused" in errors[0].getMessage()
    blocker.unlink()
    await storage.call(storage.record_feedback, "f", True, "slack", "U1", NOW)
    assert await storage.call(storage.fact_votes) == [FactVotes("f", 1, 0)]
    assert storage.available
    assert "reachable again" in caplog.text
    storage.close()


async def test_an_unreachable_postgresql_fails_fast_instead_of_hanging() -> None:
    storage = Storage("postgresql://nobody@127.0.0.1:1/none", connect_timeout=1)
    assert await storage.call(storage.subscriptions, "slack", "C1") is None
    assert not storage.available
    storage.close()


def test_the_bot_answers_while_its_database_is_unreachable(tmp_path: Path) -> None:
    knowledge = write_knowledge(tmp_path / "knowledge")
    env = {
        "KNOWLEDGE_DIR": str(knowledge),
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "DATABASE_CONNECT_TIMEOUT": "1",
    }
    run = run_bot("run", "console", stdin="How many cores does Graviton5 have?\n/digest list\n", env=env)
    assert run.returncode == 0, run.stderr
    assert "Graviton5 has 192 cores." in run.stdout
    assert "Digest subscriptions are unavailable right now" in run.stdout
    assert "database postgresql+psycopg://nobody@127.0.0.1:1/none unavailable at start" in run.stderr
