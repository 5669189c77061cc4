"""The bot's database: digest subscriptions, feedback and the questions it could not answer.

SQLite (one file, the default) or PostgreSQL (for replicas sharing state), through SQLAlchemy Core
so no query is written twice. Every method is synchronous and short; the bot runs them in a worker
thread through `Storage.call`, which also turns an unreachable database into a logged, degraded
mode instead of an error for the person asking.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine, RowMapping

from bot.digests.schedule import Schedule
from bot.settings import Settings
from bot.storage import tables
from bot.storage.migrations import migrate
from knowledge.models import Language, Theme

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

MAX_QUESTION_CHARS = 1000
STATEMENT_TIMEOUT_MS = 15_000
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, OSError)
"""Errors that mean "the database cannot be reached right now", as opposed to a failing query."""
_SALT_KEY = "user_hash_salt"


def database_url(url: str) -> str:
    """Plain `postgresql://` (or Heroku-style `postgres://`) means the psycopg 3 driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_engine(url: str, connect_timeout: float = 5.0) -> Engine:
    """Engines hide bound parameters from errors: they hold users' questions, which must not be logged."""
    parsed = sa.make_url(database_url(url))
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(parsed, connect_args={"timeout": connect_timeout}, hide_parameters=True)
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = max(1, round(connect_timeout))
    engine = sa.create_engine(
        parsed, connect_args=connect_args, pool_pre_ping=True, pool_size=5, hide_parameters=True
    )
    if parsed.get_backend_name() == "postgresql":
        sa.event.listen(engine, "connect", _postgres_connect)
    return engine


def _postgres_connect(dbapi_connection: Any, _record: Any) -> None:
    """Bound every statement, so a database that accepts connections but stalls frees the worker thread."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
    dbapi_connection.commit()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (see _sqlite_begin);
    WAL lets readers carry on while one writer commits, and makes commits cheap."""
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def _sqlite_begin(connection: sa.Connection) -> None:
    """Take the write lock up front: DDL is transactional and two writers queue instead of deadlocking."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@dataclass(frozen=True)
class Subscription:
    id: int
    platform: str
    channel: str
    schedule: Schedule
    topic: Theme | None
    language: Language
    next_run: datetime
    attempts: int = 0
    last_error: str | None = None
    last_posted_at: datetime | None = None
    last_fingerprint: str | None = None
    last_hashes: dict[str, str] | None = None


@dataclass(frozen=True)
class FactVotes:
    fact_id: str
    up: int
    down: int


@dataclass(frozen=True)
class MissedQuestion:
    question: str
    language: Language
    platform: str
    created_at: datetime
    suggestions: list[str]


def _subscription(row: RowMapping) -> Subscription:
    schedule = Schedule(cron=row["cron"], timezone=row["timezone"], text=row["schedule_text"])
    return Subscription(
        id=row["id"],
        platform=row["platform"],
        channel=row["channel"],
        schedule=schedule,
        topic=cast(Theme | None, row["topic"]),
        language=cast(Language, row["language"]),
        next_run=row["next_run"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        last_posted_at=row["last_posted_at"],
        last_fingerprint=row["last_fingerprint"],
        last_hashes=row["last_hashes"],
    )


class Storage:
    def __init__(self, url: str, *, user_salt: str | None = None, connect_timeout: float = 5.0) -> None:
        """Nothing connects here: the schema is created or upgraded on first use, so a database that
        is down at start-up only delays storage, never the bot."""
        self.engine = create_engine(url, connect_timeout)
        self._salt = user_salt
        self._ready = False
        self._lock = threading.Lock()
        self.available = True

    def close(self) -> None:
        self.engine.dispose()

    def describe(self) -> str:
        """The database URL without its password, for logs."""
        return self.engine.url.render_as_string(hide_password=True)

    def prepare(self) -> None:
        """Create or upgrade the schema once per process (the first call that reaches the database);
        a SQLite file's directory is created here too, so a bad path is a logged failure, not a crash."""
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                url = self.engine.url
                if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
                    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                migrate(self.engine)
                self._ready = True

    async def call(self, operation: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """Run a storage method in a worker thread; if the database fails, log and return None.

        An unreachable database is logged once per outage (and its return once); any other database
        error is logged with its traceback each time, since it is a bug rather than weather.
        """
        try:
            result = await asyncio.to_thread(operation, *args, **kwargs)
        except UNAVAILABLE as error:
            if self.available:
                log.error(
                    "database unavailable (%s): feedback and missed questions are not stored and "
                    "digests are paused until it is back",
                    str(error).splitlines()[0],
                )
            self.available = False
            return None
        except sa.exc.SQLAlchemyError:
            log.exception("storage operation %s failed", getattr(operation, "__name__", operation))
            return None
        if not self.available:
            log.warning("database reachable again: storing feedback and posting digests")
        self.available = True
        return result

    # -- privacy

    def user_hash(self, platform: str, user: str) -> str:
        """A stable pseudonym for a user: lets a user's later vote replace their earlier one, and
        cannot be turned back into the id without the salt (settings, or random per database)."""
        key = (self._salt or self._database_salt()).encode()
        return hmac.new(key, f"{platform}\0{user}".encode(), hashlib.sha256).hexdigest()[:32]

    def _database_salt(self) -> str:
        self.prepare()
        select = sa.select(tables.meta.c.value).where(tables.meta.c.key == _SALT_KEY)
        with self.engine.begin() as connection:
            salt = connection.execute(select).scalar()
            if salt is None:
                salt = secrets.token_hex(16)
                connection.execute(sa.insert(tables.meta).values(key=_SALT_KEY, value=salt))
        self._salt = salt
        return salt

    # -- feedback and missed questions

    def record_feedback(self, fact_id: str, up: bool, platform: str, user: str | None, at: datetime) -> None:
        self.prepare()
        user_hash = self.user_hash(platform, user) if user else None
        table = tables.feedback
        with self.engine.begin() as connection:
            if user_hash is not None:
                connection.execute(
                    sa.delete(table).where(
                        table.c.platform == platform,
                        table.c.user_hash == user_hash,
                        table.c.fact_id == fact_id,
                    )
                )
            connection.execute(
                sa.insert(table).values(
                    created_at=at,
                    fact_id=fact_id,
                    vote=1 if up else -1,
                    platform=platform,
                    user_hash=user_hash,
                )
            )

    def record_unanswered(
        self, question: str, language: Language, platform: str, suggestions: list[str], at: datetime
    ) -> None:
        self.prepare()
        with self.engine.begin() as connection:
            connection.execute(
                sa.insert(tables.unanswered).values(
                    created_at=at,
                    platform=platform,
                    language=language,
                    question=question[:MAX_QUESTION_CHARS],
                    suggestions=suggestions,
                )
            )

    def fact_votes(self) -> list[FactVotes]:
        self.prepare()
        table = tables.feedback
        up = sa.func.sum(sa.case((table.c.vote > 0, 1), else_=0))
        down = sa.func.sum(sa.case((table.c.vote < 0, 1), else_=0))
        query = sa.select(table.c.fact_id, up, down).group_by(table.c.fact_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [FactVotes(fact_id, int(u), int(d)) for fact_id, u, d in rows]

    def missed_questions(self, since: datetime | None = None) -> list[MissedQuestion]:
        self.prepare()
        table = tables.unanswered
        query = sa.select(table).order_by(table.c.created_at, table.c.id)
        if since is not None:
            query = query.where(table.c.created_at >= since)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            MissedQuestion(
                question=row["question"],
                language=cast(Language, row["language"]),
                platform=row["platform"],
                created_at=row["created_at"],
                suggestions=list(row["suggestions"]),
            )
            for row in rows
        ]

    # -- subscriptions

    def add_subscription(
        self,
        platform: str,
        channel: str,
        schedule: Schedule,
        topic: Theme | None,
        language: Language,
        now: datetime,
    ) -> Subscription:
        self.prepare()
        next_run = schedule.next_run(now)
        values = {
            "platform": platform,
            "channel": channel,
            "cron": schedule.cron,
            "schedule_text": schedule.text,
            "timezone": schedule.timezone,
            "topic": topic,
            "language": language,
            "created_at": now,
            "next_run": next_run,
        }
        with self.engine.begin() as connection:
            result = connection.execute(sa.insert(tables.subscriptions).values(**values))
            key = result.inserted_primary_key
            assert key is not None, "an INSERT always has a primary key"
            new_id = int(key[0])
        return Subscription(
            id=new_id,
            platform=platform,
            channel=channel,
            schedule=schedule,
            topic=topic,
            language=language,
            next_run=next_run,
        )

    def subscriptions(self, platform: str, channel: str | None = None) -> list[Subscription]:
        self.prepare()
        table = tables.subscriptions
        query = sa.select(table).where(table.c.platform == platform).order_by(table.c.id)
        if channel is not None:
            query = query.where(table.c.channel == channel)
        with self.engine.connect() as connection:
            return [_subscription(row) for row in connection.execute(query).mappings()]

    def remove_subscription(self, platform: str, channel: str, subscription_id: int) -> bool:
        self.prepare()
        table = tables.subscriptions
        with self.engine.begin() as connection:
            result = connection.execute(
                sa.delete(table).where(
                    table.c.id == subscription_id, table.c.platform == platform, table.c.channel == channel
                )
            )
        return result.rowcount == 1

    def due(self, platform: str, now: datetime, limit: int = 100) -> list[Subscription]:
        """Subscriptions whose slot has come and that nobody holds (or whose hold has lapsed)."""
        self.prepare()
        table = tables.subscriptions
        query = (
            sa.select(table)
            .where(table.c.platform == platform, table.c.next_run <= now, self._claimable(now))
            .order_by(table.c.next_run)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_subscription(row) for row in connection.execute(query).mappings()]

    @staticmethod
    def _claimable(now: datetime) -> sa.ColumnElement[bool]:
        claimed_until = tables.subscriptions.c.claimed_until
        return sa.or_(claimed_until.is_(None), claimed_until <= now)

    def claim(self, subscription_id: int, now: datetime, lease: timedelta) -> str | None:
        """Take the subscription's due slot for `lease`; the token, or None if it is not ours to post.

        One conditional UPDATE decides: the database applies it to the row once, so of any number of
        schedulers only one sees a changed row. A holder that dies simply lets the lease run out.
        """
        self.prepare()
        table = tables.subscriptions
        token = uuid.uuid4().hex
        with self.engine.begin() as connection:
            result = connection.execute(
                sa.update(table)
                .where(table.c.id == subscription_id, table.c.next_run <= now, self._claimable(now))
                .values(claimed_until=now + lease, claim_token=token)
            )
        return token if result.rowcount == 1 else None

    def complete(
        self,
        subscription_id: int,
        token: str,
        next_run: datetime,
        now: datetime,
        fingerprint: str,
        hashes: dict[str, str],
    ) -> bool:
        """Record a posted slot and move to the next; False if the claim was lost meanwhile."""
        self.prepare()
        table = tables.subscriptions
        with self.engine.begin() as connection:
            result = connection.execute(
                sa.update(table)
                .where(table.c.id == subscription_id, table.c.claim_token == token)
                .values(
                    next_run=next_run,
                    claimed_until=None,
                    claim_token=None,
                    attempts=0,
                    last_error=None,
                    last_posted_at=now,
                    last_fingerprint=fingerprint,
                    last_hashes=hashes,
                )
            )
        return result.rowcount == 1

    def release(
        self,
        subscription_id: int,
        token: str,
        retry_at: datetime,
        error: str,
        next_run: datetime | None = None,
    ) -> bool:
        """Give back a claim whose post failed: hold the slot until `retry_at` (the backoff), or,
        with `next_run`, abandon this slot and wait for the next."""
        self.prepare()
        table = tables.subscriptions
        values: dict[str, Any] = {
            "claimed_until": retry_at,
            "claim_token": None,
            "last_error": error[:500],
        }
        if next_run is None:
            values["attempts"] = table.c.attempts + 1
        else:
            values.update(next_run=next_run, attempts=0, claimed_until=None)
        with self.engine.begin() as connection:
            result = connection.execute(
                sa.update(table)
                .where(table.c.id == subscription_id, table.c.claim_token == token)
                .values(**values)
            )
        return result.rowcount == 1


def open_storage(settings: Settings) -> Storage:
    """The storage the settings describe (DATABASE_URL, or a SQLite file in DATA_DIR)."""
    salt = settings.user_hash_salt.get_secret_value() if settings.user_hash_salt else None
    return Storage(settings.database, user_salt=salt, connect_timeout=settings.database_connect_timeout)
