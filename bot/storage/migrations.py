"""Versioned schema changes, applied in order at start-up so an upgrade never loses data.

Why not Alembic: the schema is a few small tables and a function, the bot creates its own database on
first start (no separate `alembic upgrade` step for operators to forget), and the steps must run
unattended on SQLite and PostgreSQL alike. A `schema_version` row and an ordered list of steps give that:

- `STEPS[n]` takes the schema from version n to n+1, inside one transaction together with the
  version bump (PostgreSQL and SQLite, as this package drives it, both have transactional DDL), so
  a failed step leaves the old version intact and is retried on the next start.
- The version row is locked (`SELECT ... FOR UPDATE`; SQLite's `BEGIN IMMEDIATE`) while stepping, so
  replicas starting together upgrade once and the others wait, then see the new version.
- Steps only ever add: a later step alters tables with explicit DDL and never drops a column that
  holds data. Step 1 creates the version-1 tables from tables.py; when a later step changes one of
  those tables, step 1 must keep its version-1 shape (copy the old Table into this module then).
  tests/test_storage.py reflects a migrated database and compares it with tables.py, so a change to
  tables.py without a step fails the tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.storage import tables

log = logging.getLogger(__name__)


class SchemaTooNew(RuntimeError):
    """The database was upgraded by a newer bot: running an older one against it could lose data."""


_v1 = sa.MetaData()
_subscriptions_v1 = sa.Table(
    "subscriptions",
    _v1,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("platform", sa.String(20), nullable=False),
    sa.Column("channel", sa.String(200), nullable=False),
    sa.Column("cron", sa.String(100), nullable=False),
    sa.Column("schedule_text", sa.String(100), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("topic", sa.String(40)),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("created_at", tables.UTCDateTime, nullable=False),
    sa.Column("next_run", tables.UTCDateTime, nullable=False),
    sa.Column("claimed_until", tables.UTCDateTime),
    sa.Column("claim_token", sa.String(32)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(500)),
    sa.Column("last_posted_at", tables.UTCDateTime),
    sa.Column("last_fingerprint", sa.String(64)),
    sa.Column("last_hashes", sa.JSON),
    sa.Index("ix_subscriptions_channel", "platform", "channel"),
    sa.Index("ix_subscriptions_next_run", "next_run"),
)
"""The subscriptions table as version 1 created it (step 3 adds `paused`)."""


def _initial(connection: Connection) -> None:
    keep = [tables.meta, tables.feedback, tables.unanswered]
    tables.metadata.create_all(connection, tables=keep)
    _subscriptions_v1.create(connection)


def _deliveries(connection: Connection) -> None:
    """Version 2: the shared memory of handled deliveries (Slack retries and replays across replicas)."""
    tables.deliveries.create(connection, checkfirst=True)


def _paused(connection: Connection) -> None:
    """Version 3: subscriptions can be paused (app uninstalled, bot removed from the channel)."""
    connection.execute(sa.text("ALTER TABLE subscriptions ADD COLUMN paused VARCHAR(40)"))


def _wider_topic(connection: Connection) -> None:
    """Version 4: a digest topic may name a pack and its theme (`pack-id/theme`, ids of up to 80
    characters each), more than the 40 characters a theme alone needed. SQLite does not enforce a
    VARCHAR's length, so only PostgreSQL's column changes."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("ALTER TABLE subscriptions ALTER COLUMN topic TYPE VARCHAR(200)"))


ADMIT_QUERY_V5 = """
WITH slots AS (
    SELECT (p_prefix || n)::varchar AS key, n FROM generate_series(0, p_limit - 1) AS n WHERE p_prefix <> ''
),
live AS (
    SELECT d.key, d.expires_at
    FROM unnest(p_keys || ARRAY(SELECT key FROM slots) || (p_prefix || 'told')::varchar) AS k (key)
    CROSS JOIN LATERAL (SELECT key, expires_at FROM deliveries WHERE key = k.key LIMIT 1) AS d
    WHERE d.expires_at > p_now
),
fresh AS (SELECT NOT EXISTS (SELECT 1 FROM live WHERE key = ANY(p_keys)) AS ok),
claim AS (
    INSERT INTO deliveries AS d (key, expires_at)
    SELECT key, p_until FROM unnest(p_keys) AS key
    WHERE (SELECT ok FROM fresh)
    ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE d.expires_at <= p_now
    RETURNING d.key
),
first AS (
    SELECT (SELECT ok FROM fresh) AND count(*) = cardinality(p_keys) AS ok FROM claim
),
slot AS (
    INSERT INTO deliveries AS d (key, expires_at)
    SELECT key, p_slot_until FROM slots
    WHERE (SELECT ok FROM first) AND key NOT IN (SELECT key FROM live)
    ORDER BY n LIMIT 1
    ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE d.expires_at <= p_now
    RETURNING d.key
),
used AS (SELECT count(*) AS n, min(expires_at) AS frees_at FROM live WHERE key IN (SELECT key FROM slots)),
told AS (
    INSERT INTO deliveries AS d (key, expires_at)
    SELECT p_prefix || 'told', (SELECT frees_at FROM used)
    WHERE (SELECT ok FROM first) AND p_limit > 0 AND NOT EXISTS (SELECT 1 FROM slot)
      AND (SELECT n FROM used) >= p_limit
      AND NOT EXISTS (SELECT 1 FROM live WHERE key = p_prefix || 'told')
    ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE d.expires_at <= p_now
    RETURNING d.key
)
SELECT (SELECT ok FROM fresh), (SELECT count(*) FROM claim), EXISTS (SELECT 1 FROM slot),
       (SELECT n FROM used), (SELECT frees_at FROM used), EXISTS (SELECT 1 FROM told)
"""
"""One request's admission (`Storage.admit`), the query of version 5's `admit_request`: claim the
delivery's keys `p_keys` when none is held, then, only if every key was claimed, the first free of the
`p_limit` rate slots `PREFIX0`... (made here, not sent), or, when none is free, `PREFIXtold` once. Times
are naive UTC, as the `UTCDateTime` columns hold them. `live` looks each key up on its own (the LIMIT
keeps the lookup from being merged into a scan of every unexpired row), by the primary key
(`bot.storage.claims` rules out scanning the table), so a claim costs the same however many keys are
held. Answers: whether no key was held, how many were claimed, whether a slot was taken, how many were
held, when the first frees, and whether this refusal is the one to tell."""


def _admit_function(connection: Connection) -> None:
    """Version 5: `admit_request`, a function, so that one statement admits every request the event loop
    has ready (`bot.storage.claims`), each in turn, seeing the ones before it. PostgreSQL only: only a
    shared database claims deliveries."""
    if connection.dialect.name != "postgresql":
        return
    connection.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION admit_request(p_keys varchar[], p_prefix text, p_limit integer,"
        " p_now timestamp, p_until timestamp, p_slot_until timestamp)"
        " RETURNS TABLE (fresh boolean, claimed bigint, taken boolean, held bigint, frees_at timestamp,"
        " tell boolean) LANGUAGE plpgsql VOLATILE AS $body$\n#variable_conflict use_column\nBEGIN\n"
        f"RETURN QUERY {ADMIT_QUERY_V5};\nEND\n$body$"
    )


STEPS: list[Callable[[Connection], None]] = [_initial, _deliveries, _paused, _wider_topic, _admit_function]
LATEST = len(STEPS)


def migrate(engine: Engine) -> int:
    """Bring the database to the latest version; return the version it was at before."""
    _create_version_table(engine)
    with engine.begin() as connection:
        query = sa.select(tables.schema_version.c.version).where(tables.schema_version.c.id == 1)
        version = connection.execute(query.with_for_update()).scalar_one()
        if version > LATEST:
            raise SchemaTooNew(
                f"the database schema is version {version}, newer than this bot ({LATEST}): upgrade the bot"
            )
        for number in range(version, LATEST):
            log.info("upgrading the database schema to version %d", number + 1)
            STEPS[number](connection)
        if version != LATEST:
            connection.execute(
                sa.update(tables.schema_version).where(tables.schema_version.c.id == 1).values(version=LATEST)
            )
    return version


def _create_version_table(engine: Engine) -> None:
    """Create the version table and its single row; a replica losing the race to create either is fine."""
    try:
        with engine.begin() as connection:
            tables.schema_version.create(connection, checkfirst=True)
    except (sa.exc.ProgrammingError, sa.exc.IntegrityError):
        log.debug("schema_version created concurrently by another process")
    try:
        with engine.begin() as connection:
            exists = connection.execute(sa.select(tables.schema_version.c.id)).first()
            if exists is None:
                connection.execute(sa.insert(tables.schema_version).values(id=1, version=0))
    except sa.exc.IntegrityError:
        log.debug("schema_version row inserted concurrently by another process")
