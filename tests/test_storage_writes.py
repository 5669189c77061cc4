"""The hot path's storage (issue 14's load targets): background writes stored in batches and every one of
them stored before the bot stops; a request's delivery claim and rate slot in one statement (PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.app import Asked, Bot
from bot.curation import tables as curation
from bot.curation.records import QuestionRecorder
from bot.live import LiveKnowledge
from bot.service.background import background
from bot.service.limits import RateSlot
from bot.settings import Settings
from bot.storage import Storage, tables
from bot.storage.migrations import ADMIT_QUERY_V5
from bot.storage.store import Admitted
from tests.persistence import db_url_fixture, postgres_url_fixture, write_knowledge  # noqa: F401  (fixtures)

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
TTL = timedelta(minutes=15)
MINUTE = timedelta(minutes=1)


def asked(n: int) -> Asked:
    return Asked(
        platform="slack",
        language="en",
        outcome="declined",
        question=f"question number {n}",
        fact_id=None,
        pack=None,
        confidence=0.1,
        follow_up=False,
        seconds=0.001,
        at=NOW + timedelta(seconds=n),
    )


def count(storage: Storage, table: sa.Table) -> int:
    with storage.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


async def test_every_queued_write_is_stored_in_order_and_in_few_transactions(db_url: str) -> None:
    storage = Storage(db_url, user_salt="salt")
    commits: list[int] = []
    sa.event.listen(storage.engine, "commit", lambda _connection: commits.append(1))
    recorder = QuestionRecorder(storage)
    try:
        for n in range(900):
            recorder(asked(n))
            if n % 300 == 0:
                storage.write(storage.record_feedback, "g5-cores", n % 2 == 0, "slack", f"U{n}", NOW)
        await recorder.drain()
        assert storage.pending_writes == 0
        with storage.engine.connect() as connection:
            questions = connection.execute(
                sa.select(curation.asked.c.question).order_by(curation.asked.c.id)
            ).scalars()
            assert list(questions) == [f"question number {n}" for n in range(900)]
        assert count(storage, tables.feedback) == 3
        assert len(commits) < 50, "batched: far fewer commits than writes"
    finally:
        storage.close()


async def test_a_batch_stores_every_value_as_written(db_url: str) -> None:
    """A batch's rows go in one COPY on PostgreSQL: tabs, newlines, backslashes, quotes, Chinese, emoji,
    a missing fact, a list of suggestions (JSON) and times read back exactly as written, as on SQLite."""
    storage = Storage(db_url, user_salt="salt")
    recorder = QuestionRecorder(storage)
    awkward = "tab\there\nnew line \\N back\\slash \"quoted\" 'single' 带宽呢？ 🚀 \\."
    try:
        recorder(dataclasses.replace(asked(0), question=awkward))
        recorder(dataclasses.replace(asked(1), fact_id="g5-cores", pack="reinvent", confidence=0.875))
        storage.write(storage.record_unanswered, awkward, "zh", "slack", ["a\tb", '引号"', ""], NOW)
        await storage.drain()
        with storage.engine.connect() as connection:
            rows = connection.execute(
                sa.select(
                    curation.asked.c.question,
                    curation.asked.c.fact_id,
                    curation.asked.c.pack,
                    curation.asked.c.confidence,
                    curation.asked.c.created_at,
                ).order_by(curation.asked.c.id)
            ).all()
        assert [tuple(row) for row in rows] == [
            (awkward, None, None, 0.1, NOW),
            ("question number 1", "g5-cores", "reinvent", 0.875, NOW + timedelta(seconds=1)),
        ]
        missed = storage.missed_questions()
        assert [(m.question, m.suggestions, m.created_at) for m in missed] == [
            (awkward, ["a\tb", '引号"', ""], NOW)
        ]
    finally:
        storage.close()


async def test_a_write_that_fails_loses_only_itself(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    storage = Storage(db_url, user_salt="salt")
    recorder = QuestionRecorder(storage)
    try:
        recorder(asked(0))
        storage.write(
            storage.record_unanswered, "x", "en", "slack", [], datetime(2026, 1, 1)
        )  # naive: refused
        recorder(asked(1))
        await storage.drain()
        assert count(storage, curation.asked) == 2
        assert "storage operation record_unanswered failed" in caplog.text
    finally:
        storage.close()


async def test_stopping_the_bot_stores_every_question_still_queued(tmp_path: Path) -> None:
    """What `python -m bot run` does on SIGTERM: `background` ends, and only then is the storage closed."""
    storage = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", user_salt="salt")
    recorder = QuestionRecorder(storage)
    bot = Bot(LiveKnowledge(write_knowledge(tmp_path / "knowledge")), storage=storage, observers=[recorder])
    settings = Settings(_env_file=None, data_dir=tmp_path, knowledge_poll_seconds=60)  # type: ignore[call-arg]
    async with background(bot, settings):
        for n in range(500):
            await bot.message(f"what about thing {n}?")
        assert storage.pending_writes > 0, "still queued when the bot is told to stop"
    storage.close()
    reopened = Storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", user_salt="salt")
    try:
        assert count(reopened, curation.asked) == 500
    finally:
        reopened.close()


# -- one statement per request on PostgreSQL -----------------------------------------------------------


async def test_a_delivery_is_first_once_across_replicas_and_a_repeat_takes_no_rate_slot(
    postgres_url: str,
) -> None:
    one, two = Storage(postgres_url, user_salt="salt"), Storage(postgres_url, user_salt="salt")
    slot = RateSlot("slack", "UADA", 1, MINUTE)
    try:
        first = await one.admit(["slack:event:E1", "slack:message:C1:1.0"], TTL, NOW, slot)
        assert first == Admitted(first=True, slot=(True, False, 0.0))
        again = await two.admit(["slack:message:C1:1.0", "slack:event:E1"], TTL, NOW, slot)
        assert again == Admitted(first=False), "a retry in another replica: not answered"
        refused = await two.admit(["slack:event:E2"], TTL, NOW + timedelta(seconds=10), slot)
        assert refused == Admitted(first=True, slot=(False, True, 50.0)), "the repeat took no slot"
        later = await one.admit(["slack:event:E1"], TTL, NOW + TTL, None)
        assert later == Admitted(first=True), "a key is remembered for its time to live only"
    finally:
        one.close()
        two.close()


async def test_requests_made_together_share_one_statement_and_each_sees_the_ones_before_it(
    postgres_url: str,
) -> None:
    """What a busy loop does: a dozen answers start in one turn. Their claims go in one statement,
    admitted in turn: a user's second question finds the first's slot taken, and a delivery made twice
    is first once."""
    storage = Storage(postgres_url, user_salt="salt")
    limited = RateSlot("slack", "UONE", 1, MINUTE)
    try:
        assert await storage.admit(["E0"], TTL, NOW) == Admitted(first=True)  # the schema, a connection
        [connection] = storage._claims._idle  # type: ignore[union-attr]  # the claim connection
        statements: list[str] = []
        connection.add_query_logger(lambda record: statements.append(record.query))
        verdicts = await asyncio.gather(
            storage.admit(["E1"], TTL, NOW, limited),
            storage.admit(["E2"], TTL, NOW, limited),
            storage.admit(["E3", "M3"], TTL, NOW),
            storage.admit(["M3", "E3"], TTL, NOW),
            *(
                storage.admit([f"E{n}"], TTL, NOW, RateSlot("slack", f"U{n}", 1, MINUTE))
                for n in range(4, 12)
            ),
        )
        assert verdicts[:4] == [
            Admitted(first=True, slot=(True, False, 0.0)),
            Admitted(first=True, slot=(False, True, 60.0)),
            Admitted(first=True),
            Admitted(first=False),
        ]
        assert verdicts[4:] == [Admitted(first=True, slot=(True, False, 0.0))] * 8
        assert len(statements) == 1, "one statement for the twelve"
    finally:
        storage.close()


async def test_two_replicas_batches_that_deadlock_are_admitted_a_request_at_a_time(postgres_url: str) -> None:
    """Two messages, each delivered as two events (a message and a mention), handed crosswise to two
    replicas: each replica's batch holds one message's row and waits for the other's. PostgreSQL ends
    one batch; its requests go again one per statement, and each message is still answered once."""
    one, two = Storage(postgres_url, user_salt="salt"), Storage(postgres_url, user_salt="salt")
    holder = sa.create_engine(one.engine.url)
    try:
        assert await one.admit(["W1"], TTL, NOW) == Admitted(first=True)  # the schema, a connection each
        assert await two.admit(["W2"], TTL, NOW) == Admitted(first=True)
        with holder.connect() as held:
            # Rows held elsewhere make each batch wait after its first request, so the two cross.
            held.execute(
                sa.text("INSERT INTO deliveries VALUES ('event:Eb', :at), ('event:Ed', :at)"), {"at": NOW}
            )
            first = asyncio.gather(
                one.admit(["event:Ea", "message:m1"], TTL, NOW),
                one.admit(["event:Eb", "message:m2"], TTL, NOW),
            )
            second = asyncio.gather(
                two.admit(["event:Ec", "message:m2"], TTL, NOW),
                two.admit(["event:Ed", "message:m1"], TTL, NOW),
            )
            await asyncio.sleep(0.3)
            held.rollback()
        verdicts = [*await first, *await second]
        assert None not in verdicts, "nobody let through for want of an answer"
        by_message = {"m1": [verdicts[0], verdicts[3]], "m2": [verdicts[1], verdicts[2]]}
        for message, pair in by_message.items():
            assert sum(verdict is not None and verdict.first for verdict in pair) == 1, message
    finally:
        holder.dispose()
        one.close()
        two.close()


async def test_a_claim_nobody_waits_for_any_more_is_not_sent(postgres_url: str) -> None:
    """Requests queued behind a statement that waits on a lock, whose callers give up meanwhile: they
    were let through, so no slot or key is claimed for them afterwards."""
    storage = Storage(postgres_url, user_salt="salt")
    holder = sa.create_engine(storage.engine.url)
    try:
        assert await storage.admit(["W"], TTL, NOW) == Admitted(first=True)
        [connection] = storage._claims._idle  # type: ignore[union-attr]  # the claim connection
        statements: list[str] = []
        connection.add_query_logger(lambda record: statements.append(record.query))
        with holder.connect() as held:
            held.execute(sa.text("INSERT INTO deliveries VALUES ('B0', :at)"), {"at": NOW})
            waiting = asyncio.ensure_future(storage.admit(["B0"], TTL, NOW))
            await asyncio.sleep(0.05)  # its statement is in flight, waiting for the row
            for n in range(1, 5):
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(storage.admit([f"B{n}"], TTL, NOW), 0.05)
            held.rollback()
        assert await waiting == Admitted(first=True)
        await asyncio.sleep(0.1)
        with storage.engine.connect() as reading:
            keys = reading.execute(sa.select(tables.deliveries.c.key).order_by(tables.deliveries.c.key))
            assert list(keys.scalars()) == ["B0", "W"]
        assert len(statements) == 1
    finally:
        holder.dispose()
        storage.close()


async def test_requests_racing_for_one_users_slots_get_exactly_the_limit(postgres_url: str) -> None:
    replicas = [Storage(postgres_url, user_salt="salt", workers=4) for _ in range(2)]
    slot = RateSlot("slack", "UBUSY", 5, MINUTE)
    try:
        verdicts = await asyncio.gather(
            *(replicas[n % 2].admit([f"E{n}"], TTL, NOW, slot) for n in range(24))
        )
        slots = [v.slot for v in verdicts if v is not None and v.first and v.slot is not None]
        assert len(slots) == 24
        assert sum(allowed for allowed, _, _ in slots) == 5
        assert sum(tell for _, tell, _ in slots) == 1, "told once"
    finally:
        for storage in replicas:
            storage.close()


async def test_a_claim_connection_the_server_dropped_is_replaced(postgres_url: str) -> None:
    storage = Storage(postgres_url, user_salt="salt", workers=1)
    admin = sa.create_engine(storage.engine.url)
    try:
        assert await storage.admit(["E1"], TTL, NOW) == Admitted(first=True)
        [connection] = storage._claims._idle  # type: ignore[union-attr]  # the claim connection
        with admin.connect() as admin_connection:
            admin_connection.execute(
                sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": connection.get_server_pid()}
            )
        assert await storage.admit(["E2"], TTL, NOW) == Admitted(first=True)
        assert await storage.admit(["E1"], TTL, NOW) == Admitted(first=False)
        assert storage.available
    finally:
        admin.dispose()
        storage.close()


async def test_a_claim_finds_its_keys_by_index_however_small_the_table_looks(postgres_url: str) -> None:
    """A fresh table that grows by thousands of keys a minute is not analysed yet: the claim must not scan
    it whole (in its prepared plan, for good) because its statistics say it is empty."""
    storage = Storage(postgres_url, user_salt="salt", workers=1)
    try:
        slot = RateSlot("slack", "U1", 20, MINUTE)
        assert await storage.admit(["E1"], TTL, NOW, slot) == Admitted(first=True, slot=(True, False, 0.0))
        [connection] = storage._claims._idle  # type: ignore[union-attr]  # the claim connection
        now = NOW.replace(tzinfo=None)  # the columns hold naive UTC
        # admit_request's query, as its function runs it on the claim connection: a generic plan
        arguments = {
            "p_keys": "$1::varchar[]",
            "p_prefix": "$2::text",
            "p_limit": "$3::integer",
            "p_now": "$4::timestamp",
            "p_until": "$5::timestamp",
            "p_slot_until": "$6::timestamp",
        }
        query = ADMIT_QUERY_V5
        for name in sorted(arguments, key=len, reverse=True):  # p_slot_until before p_until
            query = query.replace(name, arguments[name])
        values = (["E2"], "rate:slack:U1:", 20, now, now + TTL, now + MINUTE)
        rows = await connection.fetch("EXPLAIN " + query, *values)
        plan = "\n".join(str(row[0]) for row in rows)
        assert "Index Scan using deliveries_pkey on deliveries" in plan
        assert "Seq Scan on deliveries" not in plan
    finally:
        storage.close()


async def test_admitting_while_the_database_is_unreachable_says_so_and_answers_none() -> None:
    storage = Storage("postgresql://nobody@127.0.0.1:1/none", connect_timeout=1)
    try:
        assert await storage.admit(["E1"], TTL, NOW) is None
        assert not storage.available
    finally:
        storage.close()
