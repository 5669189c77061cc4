"""The bot's database: digest subscriptions, feedback, the questions it could not answer, and the
deliveries it already handled.

SQLite (one file, the default) or PostgreSQL (for replicas sharing state), through SQLAlchemy Core
so no query is written twice. Every method is synchronous and short; the bot runs them through
`Storage.call` on the storage's own small pool of threads (never the event loop's default executor,
so a stalled database cannot hold up knowledge reloads), which also turns an unreachable or frozen
database into a logged, degraded mode instead of an error for the person asking:

- a read waits at most `statement_timeout` seconds, then answers None ("storage is unavailable");
- a background write (feedback, a missed question, an asked question) goes into a bounded queue that
  one writer task stores in batches, each batch in one transaction (one commit for all of it, so a
  burst of questions costs a few commits, not one each); while the database is away the queue waits
  and is stored when it is back; when it is full the oldest pending write is dropped, counted and
  logged. `drain` (at shutdown) waits until the queue is stored.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, RowMapping

from bot.digests.schedule import Schedule
from bot.service import metrics
from bot.service.limits import RateSlot
from bot.settings import Settings, SettingsError
from bot.storage import tables
from bot.storage.migrations import migrate
from knowledge.models import Language, Theme

if TYPE_CHECKING:
    from bot.storage.claims import ClaimConnection

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
WRITE_BATCH = 500
"""Most background writes stored in one transaction."""
WRITE_LINGER = 0.1
"""Seconds the writer lets writes gather after storing a batch, unless a full batch is waiting: under
load a transaction then stores tens of writes, not the one or two that came in while the last committed
(each transaction costs its round trips and a commit, more than its rows)."""
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""NUL (PostgreSQL refuses it in text) and lone surrogates (no encoding can store them)."""


def clean_text(value: str) -> str:
    """Text any database accepts: NUL dropped, a lone surrogate (from a JSON escape) made U+FFFD."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def background_write(method: Callable[P, T]) -> Callable[P, T]:
    """Mark a storage method as a write nobody waits for: `Storage.call` and `Storage.write` queue it
    (bounded) for the writer, which stores it in a batch, and keeps it while the database is away.

    It is a method of an object with `prepare()` (run before the batch's transaction opens) that writes
    inside `Storage.begin()`, so that it joins the batch's transaction."""
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


@dataclass(frozen=True)
class Admitted:
    """What `Storage.admit` decided about one request."""

    first: bool
    """No replica had claimed the delivery's keys (they are claimed now)."""
    slot: tuple[bool, bool, float] | None = None
    """`(allowed, tell, retry_after)` for the rate slot asked for; None when none was, or not `first`."""


@dataclass
class _PendingWrite:
    operation: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    done: asyncio.Future[Any] | None
    """Set when the write is stored (or dropped), for a caller that waits; None: nobody waits."""


def _insert_rows(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """A batch's rows for one table: with psycopg, one COPY; otherwise one executemany.

    psycopg runs an executemany as one statement per row (pipelined). Under load, a batch of a few
    hundred asked questions kept the writer thread going back for the interpreter lock that the event
    loop needs, tens of times per batch, and the server ran as many statements. COPY sends the rows as
    one stream: 1.0 ms of CPU for 200 rows instead of 3.7, and the bot's CPU per event on the load
    benchmark fell by about a tenth. Values go through each column's bind processing as a statement's
    would, and errors come out as SQLAlchemy's, as the rest of the storage expects."""
    if connection.dialect.driver != "psycopg" or any(row.keys() != rows[0].keys() for row in rows):
        connection.execute(sa.insert(table), rows)
        return
    import psycopg  # here: loaded only with PostgreSQL, as SQLAlchemy itself does
    import psycopg.sql

    columns = list(rows[0])
    dialect = connection.dialect
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    statement = f"COPY {table.name}"
    try:
        values = [
            [
                row[name] if process is None else process(row[name])
                for name, process in zip(columns, processors, strict=True)
            ]
            for row in rows
        ]
    except Exception as error:  # as SQLAlchemy reports a value its column refuses
        raise sa.exc.StatementError(str(error), statement, None, error) from error
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    copying = psycopg.sql.SQL("COPY {} ({}) FROM STDIN").format(
        psycopg.sql.Identifier(table.name), psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, columns))
    )
    try:
        with driver.cursor() as cursor, cursor.copy(copying) as copy:
            for row_values in values:
                copy.write_row(row_values)
    except psycopg.Error as error:
        raise sa.exc.DBAPIError.instance(
            statement, None, error, psycopg.Error, hide_parameters=True, dialect=connection.dialect
        ) from error


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
        worker never waits for one); with PostgreSQL, one more connection, on the event loop, takes the
        requests' claims (`admit`), a statement at a time for all the requests waiting;
        `statement_timeout` bounds each statement on PostgreSQL and how
        long a read waits; `max_pending_writes` bounds the writes queued while the database is away;
        `retention` is how long missed questions are kept."""
        self.engine = create_engine(url, connect_timeout, statement_timeout, pool_size=workers)
        self._claims: ClaimConnection | None = None
        """`admit`'s connection, on the event loop (PostgreSQL only)."""
        if self.shared:
            from bot.storage.claims import ClaimConnection  # here: asyncpg is loaded only when needed

            self._claims = ClaimConnection(
                self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                connect_timeout,
                statement_timeout,
            )
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self.max_pending_writes = max_pending_writes
        self.retention = retention
        self._salt = user_salt
        self._ready = False
        self._lock = threading.Lock()
        self.available = True
        self._executor = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="storage")
        self._pending: deque[_PendingWrite] = deque()
        self._writing = 0
        """Writes in the batch being stored now."""
        self._writer: asyncio.Task[None] | None = None
        """The one task storing the queue (one worker at most: the others stay free for the reads and
        claims people wait on)."""
        self._batch = threading.local()
        """In a worker storing a batch, `connection`: the batch's transaction (see `begin`)."""
        self.dropped_writes = 0
        self._next_housekeeping = 0.0

    @property
    def shared(self) -> bool:
        """True when several bot processes can share this database (PostgreSQL, not a SQLite file)."""
        return self.engine.url.get_backend_name() != "sqlite"

    @property
    def pending_writes(self) -> int:
        return len(self._pending) + self._writing

    def close(self) -> None:
        """Call `drain` first (on the loop): what is still queued here is lost, and logged."""
        if self.pending_writes:
            log.warning("%d pending writes were not stored before closing the database", self.pending_writes)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()
        if self._claims is not None:
            self._claims.close()

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
        except TimeoutError as error:
            future.cancel()  # still queued: never run it; running: its statement_timeout ends it
            self._failed(error, getattr(operation, "__name__", str(operation)))
            return None
        except (sa.exc.SQLAlchemyError, *UNAVAILABLE) as error:
            self._failed(error, getattr(operation, "__name__", str(operation)))
            return None
        self._reachable()
        return result

    def _failed(self, error: Exception, operation: str) -> None:
        """A storage call that gave no answer: the database away or too slow (logged once per
        outage), or a failing statement (a bug, logged with its traceback each time)."""
        if isinstance(error, TimeoutError):
            self._unavailable(f"no answer within {self.statement_timeout:g} s")
        elif isinstance(error, UNAVAILABLE):
            self._unavailable(str(error).splitlines()[0] if str(error) else type(error).__name__)
        else:
            metrics.STORAGE_ERRORS.labels("failed").inc()
            log.exception("storage operation %s failed", operation)

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

    def write(self, operation: Callable[..., object], *args: object, **kwargs: object) -> None:
        """Queue a background write (see `background_write`) for the writer, from the running loop;
        nothing waits for it. `drain` waits for the queue to be stored."""
        self._enqueue(_PendingWrite(operation, args, kwargs, None))

    async def _queue_write(
        self, operation: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T | None:
        pending = _PendingWrite(operation, args, kwargs, asyncio.get_running_loop().create_future())
        self._enqueue(pending)
        assert pending.done is not None
        try:
            async with asyncio.timeout(self.connect_timeout):
                return cast(T | None, await asyncio.shield(pending.done))
        except TimeoutError:
            return None  # still queued: stored when the database answers again

    def _enqueue(self, pending: _PendingWrite) -> None:
        """RuntimeError, and nothing queued, without a running loop."""
        loop = asyncio.get_running_loop()
        if len(self._pending) >= self.max_pending_writes:
            oldest = self._pending.popleft()
            if oldest.done is not None and not oldest.done.done():
                oldest.done.set_result(None)
            self.dropped_writes += 1
            if self.dropped_writes == 1 or self.dropped_writes % 100 == 0:
                log.warning(
                    "%d pending database writes dropped so far (oldest first): more than %d were waiting "
                    "for the database",
                    self.dropped_writes,
                    self.max_pending_writes,
                )
        self._pending.append(pending)
        # A writer of another (finished) loop, as a test's, would never run again.
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write_pending(), name="storage-writer")

    async def drain(self) -> None:
        """Wait until the queued writes are stored (at shutdown, and in tests). While the database is
        away, give up once `connect_timeout` seconds pass without a write stored: they stay queued."""
        while (writer := self._writer) is not None and not writer.done():
            before = self.pending_writes
            await asyncio.wait({writer}, timeout=self.connect_timeout)
            if not writer.done() and not self.available and self.pending_writes >= before:
                return

    async def _write_pending(self) -> None:
        """Store the queue in order, a batch at a time; while the database is away, keep it and retry.

        A batch that fails for another reason than an unreachable database is stored again one write
        at a time, so only the write that fails is lost (logged, counted)."""
        loop = asyncio.get_running_loop()
        pause = 0.1
        alone = 0
        """Writes still to store one at a time, after a batch of them failed."""
        stored = False
        while self._pending:
            if stored and not alone and len(self._pending) < WRITE_BATCH:
                await asyncio.sleep(WRITE_LINGER)
            size = 1 if alone else WRITE_BATCH
            batch = [self._pending.popleft() for _ in range(min(size, len(self._pending)))]
            self._writing = len(batch)
            try:
                results = await loop.run_in_executor(self._executor, self._store_batch, batch)
            except UNAVAILABLE as error:
                self._unavailable(str(error).splitlines()[0] if str(error) else type(error).__name__)
                self._pending.extendleft(reversed(batch))
                await asyncio.sleep(pause)
                pause = min(pause * 2, WRITE_RETRY_MAX)
                continue
            except sa.exc.SQLAlchemyError:
                if len(batch) > 1:
                    self._pending.extendleft(reversed(batch))
                    alone = len(batch)
                    continue
                metrics.STORAGE_ERRORS.labels("failed").inc()
                name = getattr(batch[0].operation, "__name__", batch[0].operation)
                log.exception("storage operation %s failed", name)
                results = [None]
            except RuntimeError:  # the executor was shut down: the storage is closed
                return
            finally:
                self._writing = 0
            alone = max(0, alone - len(batch))
            pause = 0.1
            stored = True
            self._reachable()
            for pending, result in zip(batch, results, strict=True):
                if pending.done is not None and not pending.done.done():
                    pending.done.set_result(result)

    def _store_batch(self, batch: Sequence[_PendingWrite]) -> list[Any]:
        """Run the writes in one transaction: one commit for the batch."""
        for prepare in {getattr(p.operation, "__self__", self).prepare for p in batch}:
            prepare()
        if self._salt is None:
            self._database_salt()  # in its own transaction, before the batch's: a vote may need it
        with self.engine.begin() as connection:
            self._batch.connection = connection
            self._batch.rows = {}
            try:
                results = [p.operation(*p.args, **p.kwargs) for p in batch]
                for table, rows in self._batch.rows.items():
                    _insert_rows(connection, table, rows)
            finally:
                self._batch.connection = None
                self._batch.rows = None
        return results

    def insert(self, table: sa.Table, values: dict[str, Any]) -> None:
        """Insert a row for a background write: in a batch, a table's rows go together (`_insert_rows`)
        just before the batch commits; else at once."""
        rows: dict[sa.Table, list[dict[str, Any]]] | None = getattr(self._batch, "rows", None)
        if rows is not None:
            rows.setdefault(table, []).append(values)
            return
        with self.engine.begin() as connection:
            connection.execute(sa.insert(table), [values])

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A transaction for a background write: the batch's, when the writer is storing one (its
        commit stores the whole batch), else one of its own."""
        connection: sa.Connection | None = getattr(self._batch, "connection", None)
        if connection is not None:
            yield connection
            return
        with self.engine.begin() as connection:
            yield connection

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

    async def admit(
        self, keys: Iterable[str], ttl: timedelta, now: datetime, slot: RateSlot | None = None
    ) -> Admitted | None:
        """Whether a request is the first delivery of its keys in any replica, and, if it is and `slot`
        is given, one of the user's rate slots for it: one round trip on the event loop, in one statement
        with the other requests waiting when it goes (`bot.storage.claims`; PostgreSQL only: only a
        shared database needs it). None when the database cannot be reached or does not answer
        within `statement_timeout` (logged as for `call`).

        Each key is a row claimed by the INSERT that creates it (or renews it once expired), only when
        none of the keys is held; of two replicas handed the same delivery at once, the second waits for
        the first's commit and finds the rows taken (keys go in sorted order; for batches that deadlock
        anyway, see `bot.storage.claims`). Rate slots are rows too (`rate:PLATFORM:USER-HASH:N`,
        never the raw id), free again once expired: a sliding window every replica shares. When every
        slot is held the request is refused, `retry_after` is the seconds until the first frees, and
        `tell` is True for the one refusal (in any replica) that claims the `told` key until then, so the
        user hears "slow down" once. Two requests racing for the same free slot: the loser asks again.
        The commit does not wait for the disk: other replicas see the claim at once, and only a crash of
        the database server itself could forget its last fraction of a second of claims, which would at
        worst answer a retry twice or let a request past the limit.
        """
        assert self._claims is not None, "deliveries are claimed in a shared database only"
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.statement_timeout):
                if not self._ready or self._salt is None:
                    await loop.run_in_executor(self._executor, self._prepare_claims)
                admitted = await self._admit(keys, ttl, now, slot)
        except (TimeoutError, sa.exc.SQLAlchemyError, *UNAVAILABLE) as error:
            self._failed(error, "admit")
            return None
        self._reachable()
        if self._housekeeping_due():
            self.write(self.expire, now)
        return admitted

    def _prepare_claims(self) -> None:
        """What `admit` needs before its first statement: the schema, and the salt for user hashes."""
        self.prepare()
        if self._salt is None:
            self._database_salt()

    async def _admit(
        self, keys: Iterable[str], ttl: timedelta, now: datetime, slot: RateSlot | None
    ) -> Admitted:
        assert self._claims is not None
        wanted = sorted({key[:MAX_KEY_CHARS] for key in keys if key})
        prefix = f"rate:{slot.platform}:{self.user_hash(slot.platform, slot.user)}:" if slot else ""
        limit = slot.limit if slot is not None else 0
        window = slot.window if slot is not None else timedelta(0)
        utc = now.astimezone(UTC).replace(tzinfo=None)
        for _ in range(limit + 2):
            fresh, claimed, taken, held, frees_at, tell = await self._claims.admit(
                wanted, prefix, limit, utc, utc + ttl, utc + window
            )
            if not fresh or claimed < len(wanted):
                return Admitted(first=False)
            if slot is None or taken:
                return Admitted(first=True, slot=None if slot is None else (True, False, 0.0))
            if held >= limit:
                retry_after = max(0.0, ((frees_at or utc) - utc).total_seconds())
                return Admitted(first=True, slot=(False, bool(tell), retry_after))
            wanted = []  # lost a race for a free slot: the delivery is ours, ask again
        return Admitted(first=True, slot=(False, False, window.total_seconds()))

    def forget_delivery(self, keys: Iterable[str]) -> None:
        """Let a later retry through: the first attempt could not deliver its answer."""
        self.prepare()
        wanted = sorted({key[:MAX_KEY_CHARS] for key in keys if key})
        if wanted:
            with self.engine.begin() as connection:
                connection.execute(sa.delete(tables.deliveries).where(tables.deliveries.c.key.in_(wanted)))

    # -- per-user rate limits (shared by replicas)

    async def take_rate_slot(
        self, platform: str, user: str, limit: int, now: datetime, window: timedelta
    ) -> tuple[bool, bool, float] | None:
        """Take one of the user's `limit` slots for `window`: `(allowed, tell, retry_after)`, or None when
        the database is away; `admit` without a delivery."""
        admitted = await self.admit((), window, now, RateSlot(platform, user, limit, window))
        return None if admitted is None else admitted.slot

    def _housekeeping_due(self) -> bool:
        """Now and then (every HOUSEKEEPING_EVERY): time to drop expired delivery keys and missed
        questions past their retention (`expire`)."""
        if time.monotonic() < self._next_housekeeping:
            return False
        self._next_housekeeping = time.monotonic() + HOUSEKEEPING_EVERY
        return True

    def expire(self, now: datetime) -> int:
        """Delete expired delivery keys and missed questions older than the retention; returns how many
        missed questions went."""
        self.prepare()
        removed = 0
        with self.begin() as connection:
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
        with self.begin() as connection:
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
        self.insert(
            tables.unanswered,
            {
                "created_at": at,
                "platform": clean_text(platform),
                "language": language,
                "question": clean_text(question)[:MAX_QUESTION_CHARS],
                "suggestions": [clean_text(s) for s in suggestions],
            },
        )
        if self._housekeeping_due():
            self.expire(at)

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
