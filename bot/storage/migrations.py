"""Versioned schema changes, applied in order at start-up so an upgrade never loses data.

Why not Alembic: the schema is five small tables, the bot creates its own database on first start
(no separate `alembic upgrade` step for operators to forget), and the steps must run unattended on
SQLite and PostgreSQL alike. A `schema_version` row and an ordered list of steps give that:

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


STEPS: list[Callable[[Connection], None]] = [_initial, _deliveries, _paused, _wider_topic]
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
