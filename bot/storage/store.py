"""The bot's database: digest subscriptions, feedback, the questions it could not answer, and the
deliveries it already handled.

SQLite (one file, the default) or PostgreSQL (for replicas sharing state), through SQLAlchemy Core
so no query is written twice. Every method is synchronous and short; the bot runs them through
`Storage.call` on the storage's own small pool of threads (never the event loop's default executor,
so a stalled database cannot hold up knowledge reloads), which also turns an unreachable or frozen
database into a logged, degraded mode instead of an error for the person asking:

- a read waits at most `statement_timeout` seconds, then answers None ("storage is unavailable");
- a background write (feedback, a missed question) waits in a bounded queue while the database is
  away and is stored when it is back; when the queue is full the oldest pending write is dropped,
  counted and logged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, RowMapping

from bot.digests.schedule import Schedule
from bot.service import metrics
from bot.settings import Settings, SettingsError
from bot.storage import tables
from bot.storage.migrations import migrate
from knowledge.models import Language, Theme

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

MAX_QUESTION_CHARS = 1000
MAX_KEY_CHARS = 200
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, OSError)
"""Errors that mean "the database cannot be reached right now", as opposed to a failing query."""
_SALT_KEY = "user_hash_salt"
HOUSEKEEPING_EVERY = 600.0
"""Seconds between sweeps of expired rows (missed questions past retention, old delivery keys)."""
WRITE_RETRY_MAX = 10.0
"""Longest pause, in seconds, between two tries of a pending write while the database is away."""
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL (PostgreSQL refuses it in text) and lone surrogates (no encoding can store them)."""


def clean_text(value: str) -> str:
    """Text any database accepts: NUL dropped, a lone surrogate (from a JSON escape) made U+FFFD."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def background_write(method: Callable[P, T]) -> Callable[P, T]:
    """Mark a storage method as a write nobody waits for: `Storage.call` queues it (bounded) while the
    database is away instead of failing it, and stores it once the database is back."""
    method.background_write = True  # type: ignore[attr-defined]
    return method


def database_url(url: str) -> str:
    """Plain `postgresql://` (or Heroku-style `postgres://`) means the psycopg 3 driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_engine(
    url: str, connect_timeout: float = 5.0, statement_timeout: float = 5.0, pool_size: int = 5
) -> Engine:
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
        parsed,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=2,
        hide_parameters=True,
    )
    if parsed.get_backend_name() == "postgresql":
        milliseconds = max(1, round(statement_timeout * 1000))

        def _postgres_connect(dbapi_connection: Any, _record: Any) -> None:
            """Bound every statement, so a database that accepts connections but stalls frees the thread."""
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {milliseconds}")
            dbapi_connection.commit()

        sa.event.listen(engine, "connect", _postgres_connect)
    return engine


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
    paused: str | None = None
    """Why the digest is on hold (see `Storage.pause_subscriptions`); None: it posts."""


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
        paused=row["paused"],
    )


class _Seen(Exception):
    """A delivery key is already claimed: roll the claim's transaction back."""


@dataclass
class _PendingWrite:
    operation: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    done: asyncio.Future[Any]
    tries: int = field(default=0)


class Storage:
    def __init__(
        self,
        url: str,
        *,
        user_salt: str | None = None,
        connect_timeout: float = 5.0,
        statement_timeout: float = 5.0,
        workers: int = 4,
        max_pending_writes: int = 1000,
        retention: timedelta | None = None,
    ) -> None:
        """Nothing connects here: the schema is created or upgraded on first use, so a database that
        is down at start-up only delays storage, never the bot.

        `workers` threads run the database work (the connection pool has as many connections, so a
        worker never waits for one); `statement_timeout` bounds each statement on PostgreSQL and how
        long a read waits; `max_pending_writes` bounds the writes queued while the database is away;
        `retention` is how long missed questions are kept."""
        self.engine = create_engine(url, connect_timeout, statement_timeout, pool_size=workers)
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self.max_pending_writes = max_pending_writes
        self.retention = retention
        self._salt = user_salt
        self._ready = False
        self._lock = threading.Lock()
        self.available = True
        self._executor = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="storage")
        self._write_slots = max(1, workers - 1)
        """Writers at once: one worker always stays free for the reads people wait on."""
        self._pending: deque[_PendingWrite] = deque()
        self._writers: set[asyncio.Task[None]] = set()
        self.dropped_writes = 0
        self._next_housekeeping = 0.0
        self._claim_statement: Any = None
        """Built once: SQLAlchemy caches its compiled form (a multi-row VALUES could not be cached)."""

    @property
    def shared(self) -> bool:
        """True when several bot processes can share this database (PostgreSQL, not a SQLite file)."""
        return self.engine.url.get_backend_name() != "sqlite"

    @property
    def pending_writes(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        if self._pending:
            log.warning("%d pending writes were not stored before closing the database", len(self._pending))
        self._executor.shutdown(wait=False, cancel_futures=True)
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
        """Run a storage method on the storage's threads; if the database fails, log and return None.

        A read waits at most `statement_timeout` seconds: a frozen database is "unavailable", not a
        hang. A background write is queued (see `background_write`) and waited for at most
        `connect_timeout` seconds; it stays queued after that, and is stored once the database is back.
        An unreachable database is logged once per outage (and its return once); any other database
        error is logged with its traceback each time, since it is a bug rather than weather.
        """
        if getattr(operation, "background_write", False):
            return await self._queue_write(operation, args, kwargs)
        loop = asyncio.get_running_loop()
        future = self._executor.submit(operation, *args, **kwargs)
        try:
            # asyncio.timeout, not wait_for: wait_for can swallow a cancellation that races the result
            async with asyncio.timeout(self.statement_timeout):
                result = await asyncio.wrap_future(future, loop=loop)
        except TimeoutError:
            future.cancel()  # still queued: never run it; running: its statement_timeout ends it
            self._unavailable(f"no answer within {self.statement_timeout:g} s")
            return None
        except UNAVAILABLE as error:
            self._unavailable(str(error).splitlines()[0] if str(error) else type(error).__name__)
            return None
        except sa.exc.SQLAlchemyError:
            metrics.STORAGE_ERRORS.labels("failed").inc()
            log.exception("storage operation %s failed", getattr(operation, "__name__", operation))
            return None
        self._reachable()
        return result

    def _unavailable(self, reason: str) -> None:
        metrics.STORAGE_ERRORS.labels("unavailable").inc()
        if self.available:
            log.error(
                "database unavailable (%s): feedback and missed questions wait in memory (at most %d) and "
                "digests are paused until it is back",
                reason,
                self.max_pending_writes,
            )
        self.available = False

    def _reachable(self) -> None:
        if not self.available:
            log.warning("database reachable again: storing feedback and posting digests")
        self.available = True

    async def _queue_write(
        self, operation: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T | None:
        loop = asyncio.get_running_loop()
        if len(self._pending) >= self.max_pending_writes:
            oldest = self._pending.popleft()
            if not oldest.done.done():
                oldest.done.set_result(None)
            self.dropped_writes += 1
            if self.dropped_writes == 1 or self.dropped_writes % 100 == 0:
                log.warning(
                    "%d pending database writes dropped so far (oldest first): more than %d were waiting "
                    "for the database",
                    self.dropped_writes,
                    self.max_pending_writes,
                )
        pending = _PendingWrite(operation, args, kwargs, loop.create_future())
        self._pending.append(pending)
        if len(self._writers) < self._write_slots:
            writer = loop.create_task(self._write_pending(), name="storage-writer")
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        try:
            async with asyncio.timeout(self.connect_timeout):
                return cast(T | None, await asyncio.shield(pending.done))
        except TimeoutError:
            return None  # still queued: stored when the database answers again

    async def _write_pending(self) -> None:
        """Store queued writes in order; while the database is away, keep them and try again."""
        loop = asyncio.get_running_loop()
        pause = 0.1
        while self._pending:
            pending = self._pending.popleft()
            if pending.done.done():
                continue
            try:
                result = await loop.run_in_executor(
                    self._executor,
                    lambda p=pending: p.operation(*p.args, **p.kwargs),  # type: ignore[misc]
                )
            except UNAVAILABLE as error:
                self._unavailable(str(error).splitlines()[0] if str(error) else type(error).__name__)
                self._pending.appendleft(pending)
                await asyncio.sleep(pause)
                pause = min(pause * 2, WRITE_RETRY_MAX)
                continue
            except sa.exc.SQLAlchemyError:
                metrics.STORAGE_ERRORS.labels("failed").inc()
                name = getattr(pending.operation, "__name__", pending.operation)
                log.exception("storage operation %s failed", name)
                result = None
            except RuntimeError:  # the executor was shut down: the storage is closed
                return
            pause = 0.1
            self._reachable()
            if not pending.done.done():
                pending.done.set_result(result)

    # -- privacy

    def user_hash(self, platform: str, user: str) -> str:
        """A stable pseudonym for a user: lets a user's later vote replace their earlier one, and
        cannot be turned back into the id without the salt (settings, or random per database)."""
        key = (self._salt or self._database_salt()).encode()
        return hmac.new(key, f"{platform}\0{user}".encode(), hashlib.sha256).hexdigest()[:32]

    def _database_salt(self) -> str:
        """The database's own salt, created by the first process to need it: an insert that does nothing
        when another process (or thread) got there first, then a read of whichever salt won."""
        self.prepare()
        create = self._insert(tables.meta).values(key=_SALT_KEY, value=secrets.token_hex(16))
        select = sa.select(tables.meta.c.value).where(tables.meta.c.key == _SALT_KEY)
        with self.engine.begin() as connection:
            connection.execute(create.on_conflict_do_nothing(index_elements=["key"]))
        with self.engine.connect() as connection:
            salt = str(connection.execute(select).scalar_one())
        self._salt = salt
        return salt

    def _insert(self, table: sa.Table) -> Any:
        """An INSERT that can say ON CONFLICT DO NOTHING, in the engine's dialect."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    # -- deliveries already handled (shared by replicas)

    def first_delivery(self, keys: Iterable[str], now: datetime, ttl: timedelta) -> bool:
        """True, and remember every key for `ttl`, unless any key was claimed before and has not expired.

        Each key is a row claimed by the statement that creates it (or renews it once expired), all in
        one statement and one transaction: of two processes handed the same delivery at once, the second
        waits for the first's commit, finds the rows held, and rolls its own keys back. Keys are taken in
        sorted order, so two claims never deadlock.
        """
        self.prepare()
        wanted = sorted({key[:MAX_KEY_CHARS] for key in keys if key})
        if not wanted:
            return True
        try:
            with self.engine.begin() as connection:
                if len(self._claim(connection, wanted, now, now + ttl)) < len(wanted):
                    raise _Seen(wanted)
        except _Seen:
            return False
        self._housekeeping(now)
        return True

    def forget_delivery(self, keys: Iterable[str]) -> None:
        """Let a later retry through: the first attempt could not deliver its answer."""
        self.prepare()
        wanted = sorted({key[:MAX_KEY_CHARS] for key in keys if key})
        if wanted:
            with self.engine.begin() as connection:
                connection.execute(sa.delete(tables.deliveries).where(tables.deliveries.c.key.in_(wanted)))

    # -- per-user rate limits (shared by replicas)

    def take_rate_slot(
        self, platform: str, user: str, limit: int, now: datetime, window: timedelta
    ) -> tuple[bool, bool, float]:
        """Take one of the user's `limit` slots for `window`: `(allowed, tell, retry_after)`.

        Slots are keys in the `deliveries` table (`rate:PLATFORM:USER-HASH:N`, never the raw id), each
        claimed by the INSERT that creates it and free again once it expires: a sliding window that every
        replica shares. Two replicas racing for one free slot both try it and only one INSERT wins; the
        other goes on to the next. When every slot is held the request is refused, `retry_after` is the
        seconds until the first one frees, and `tell` is True for the one refusal (in any replica) that
        claims the `told` key until then, so the user hears "slow down" once.
        """
        self.prepare()
        prefix = f"rate:{platform}:{self.user_hash(platform, user)}:"
        slots = [f"{prefix}{n}" for n in range(limit)]
        told = f"{prefix}told"
        table = tables.deliveries
        with self.engine.begin() as connection:
            found = connection.execute(
                sa.select(table.c.key, table.c.expires_at).where(table.c.key.in_([*slots, told]))
            ).all()
            held = {key: expires for key, expires in found if expires > now}
            for slot in slots:
                if slot not in held and self._claim(connection, [slot], now, now + window):
                    return True, False, 0.0
            frees_at = min((held[slot] for slot in slots if slot in held), default=now + window)
            retry_after = max(0.0, (frees_at - now).total_seconds())
            tell = told not in held and bool(self._claim(connection, [told], now, frees_at))
        self._housekeeping(now)
        return False, tell, retry_after

    def _claim(self, connection: sa.Connection, keys: list[str], now: datetime, until: datetime) -> set[str]:
        """Claim, until `until`, each of `keys` that is absent or expired, in one statement (an insert that
        renews an expired row); the keys claimed. A key another process holds is left alone."""
        if self._claim_statement is None:
            table = tables.deliveries
            insert = self._insert(table)
            self._claim_statement = insert.on_conflict_do_update(
                index_elements=["key"],
                set_={"expires_at": insert.excluded.expires_at},
                where=table.c.expires_at <= sa.bindparam("now"),
            ).returning(table.c.key)
        rows = [{"key": key, "expires_at": until, "now": now} for key in keys]
        return {row[0] for row in connection.execute(self._claim_statement, rows)}

    def _housekeeping(self, now: datetime) -> None:
        """Now and then: drop expired delivery keys and missed questions past their retention."""
        if time.monotonic() < self._next_housekeeping:
            return
        self._next_housekeeping = time.monotonic() + HOUSEKEEPING_EVERY
        self.expire(now)

    def expire(self, now: datetime) -> int:
        """Delete expired delivery keys and missed questions older than the retention; returns how many
        missed questions went."""
        self.prepare()
        removed = 0
        with self.engine.begin() as connection:
            connection.execute(sa.delete(tables.deliveries).where(tables.deliveries.c.expires_at <= now))
            if self.retention is not None:
                old = tables.unanswered.c.created_at < now - self.retention
                removed = connection.execute(sa.delete(tables.unanswered).where(old)).rowcount
        if removed:
            log.info("removed %d missed questions older than the retention period", removed)
        return removed

    # -- feedback and missed questions

    @background_write
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

    @background_write
    def record_unanswered(
        self, question: str, language: Language, platform: str, suggestions: list[str], at: datetime
    ) -> None:
        """Store a question the bot could not answer, cleaned of what no database can hold."""
        self.prepare()
        with self.engine.begin() as connection:
            connection.execute(
                sa.insert(tables.unanswered).values(
                    created_at=at,
                    platform=clean_text(platform),
                    language=language,
                    question=clean_text(question)[:MAX_QUESTION_CHARS],
                    suggestions=[clean_text(s) for s in suggestions],
                )
            )
        self._housekeeping(at)

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

    def pause_subscriptions(self, platform: str, channels: Iterable[str] | None, reason: str) -> int:
        """Put the digests of `channels` (None: every channel of the platform) on hold, saying why: the
        app was uninstalled, the bot left or lost the channel. Returns how many were paused."""
        self.prepare()
        table = tables.subscriptions
        query = sa.update(table).where(table.c.platform == platform, table.c.paused.is_(None))
        if channels is not None:
            wanted = sorted(set(channels))
            if not wanted:
                return 0
            query = query.where(table.c.channel.in_(wanted))
        with self.engine.begin() as connection:
            result = connection.execute(query.values(paused=reason[:40]))
        return int(result.rowcount)

    def resume_subscriptions(
        self,
        platform: str,
        channels: Iterable[str] | None,
        now: datetime,
        reasons: Iterable[str] | None = None,
    ) -> int:
        """Resume paused digests of `channels` (None: every channel), only those paused for one of
        `reasons` (None: any). Each goes on from its next slot after `now`: the slots missed while
        paused are not posted late. Returns how many were resumed."""
        self.prepare()
        table = tables.subscriptions
        query = sa.select(table).where(table.c.platform == platform, table.c.paused.is_not(None))
        if channels is not None:
            wanted = sorted(set(channels))
            if not wanted:
                return 0
            query = query.where(table.c.channel.in_(wanted))
        if reasons is not None:
            query = query.where(table.c.paused.in_(sorted(set(reasons))))
        resumed = 0
        with self.engine.begin() as connection:
            for row in connection.execute(query).mappings().all():
                subscription = _subscription(row)
                result = connection.execute(
                    sa.update(table)
                    .where(table.c.id == subscription.id, table.c.paused == subscription.paused)
                    .values(
                        paused=None,
                        next_run=subscription.schedule.next_run(now),
                        attempts=0,
                        last_error=None,
                    )
                )
                resumed += int(result.rowcount)
        return resumed

    def due(self, platform: str, now: datetime, limit: int = 100) -> list[Subscription]:
        """Subscriptions whose slot has come and that nobody holds (or whose hold has lapsed)."""
        self.prepare()
        table = tables.subscriptions
        query = (
            sa.select(table)
            .where(
                table.c.platform == platform,
                table.c.next_run <= now,
                table.c.paused.is_(None),
                self._claimable(now),
            )
            .order_by(table.c.next_run)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            due = [_subscription(row) for row in connection.execute(query).mappings()]
        metrics.DIGESTS_DUE.set(len(due))
        return due

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
                .where(
                    table.c.id == subscription_id,
                    table.c.next_run <= now,
                    table.c.paused.is_(None),
                    self._claimable(now),
                )
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
        metrics.DIGESTS.labels("posted").inc()  # posted, even when the claim was lost meanwhile
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
        metrics.DIGESTS.labels("failed").inc()
        if next_run is not None:
            metrics.DIGESTS.labels("skipped").inc()
        return result.rowcount == 1


def open_storage(settings: Settings) -> Storage:
    """The storage the settings describe (DATABASE_URL, or a SQLite file in DATA_DIR)."""
    return Storage(
        settings.database,
        user_salt=configured_salt(settings),
        connect_timeout=settings.database_connect_timeout,
        statement_timeout=settings.database_statement_timeout,
        workers=settings.database_workers,
        max_pending_writes=settings.database_max_pending_writes,
        retention=timedelta(days=settings.gaps_retention_days),
    )


def configured_salt(settings: Settings) -> str | None:
    """The salt for user hashes from outside the database: USER_HASH_SALT, or USER_HASH_SALT_FILE (created
    with a random salt, readable only by its owner, when it does not exist yet); None when neither is set."""
    if settings.user_hash_salt is not None:
        return settings.user_hash_salt.get_secret_value()
    path = settings.user_hash_salt_file
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as error:
        raise SettingsError(f"USER_HASH_SALT_FILE: cannot create {path}: {error.strerror}") from None
    else:
        with os.fdopen(descriptor, "w", encoding="utf-8") as created:
            created.write(secrets.token_hex(32) + "\n")
        log.info("created a new salt for user hashes in %s", path)
    try:
        salt = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"USER_HASH_SALT_FILE: cannot read {path}: {error}") from None
    if not salt:
        raise SettingsError(f"USER_HASH_SALT_FILE: {path} is empty")
    return salt
