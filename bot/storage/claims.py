"""A PostgreSQL connection on the event loop itself, for the one statement every request needs
(`Storage.admit`: its delivery claim and rate slot), the requests waiting for it sent together.

The rest of the storage runs on threads, which is right for rare or batched work; for a statement per
request the hand-off (a thread woken, the GIL taken back and forth with the busy loop, the loop woken
again) cost more than the statement. The connection is asyncpg's: its protocol runs on the loop as
callbacks, where psycopg's async connections add and remove a reader on the loop's selector for every
wait, and it takes half the CPU per claim (60 against 120 µs alone).

Under load a dozen answers start in the same turn of the loop, and each used to send its own statement
on a connection of its own. Now one statement is in flight at a time, carrying every request that was
waiting when it went (`_ADMIT_MANY`, at most `BATCH`): it calls the schema's `admit_request`
(`bot.storage.migrations`) for each in turn, and each sees the ones before it (two from one user take
two slots; a delivery twice in one batch is first once). A request that finds none in flight goes at
the end of its turn of the loop, so a quiet bot waits for nothing. A batch of 8 costs 20 µs of the bot's
CPU per request instead of 90, and 0.11 ms of the server's instead of 0.19; on the load benchmark
batches held 6 requests on average. A batch holds the rows it claims until it commits: requests go
grouped by user (in order of asking within each), so two replicas take a user's rate slots in one
order, and a batch that deadlocks with another replica's anyway is sent again a request at a time
(`_admit_many`). The connection commits
every statement on its own without waiting for the disk (`synchronous_commit` off: see
`Storage.admit`), with the storage's `statement_timeout`. Imported only for a shared database (asyncpg
stays unloaded with SQLite).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg
import sqlalchemy as sa

BATCH = 100
"""Most requests in one statement (each takes about 0.1 ms of the server's time)."""

_ADMIT_MANY = """
SELECT a.fresh, a.claimed, a.taken, a.held, a.frees_at, a.tell
FROM unnest($1::text[], $2::integer[], $3::timestamp[], $4::timestamp[], $5::timestamp[])
    WITH ORDINALITY AS r (prefix, rate_limit, at, until, slot_until, i)
CROSS JOIN LATERAL admit_request(
    ARRAY(
        SELECT k.key FROM unnest($6::varchar[], $7::bigint[]) WITH ORDINALITY AS k (key, owner, n)
        WHERE k.owner = r.i ORDER BY k.n
    ),
    r.prefix, r.rate_limit, r.at, r.until, r.slot_until
) AS a
ORDER BY r.i
"""
"""Every request of a batch, in order: its columns as arrays, and its keys as one array with, beside
each key, the number of the request it belongs to."""

_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.QueryCanceledError,
    asyncpg.AdminShutdownError,
)
"""What says the database is away or too slow (a cancelled statement is the statement timeout), as
opposed to a statement that fails."""


def _failure(error: BaseException) -> Exception:
    """ConnectionError when the database cannot be reached, else SQLAlchemy's DatabaseError (without
    the parameters: they are user data), as the rest of the storage raises."""
    failure: Exception
    if isinstance(error, _UNREACHABLE):
        failure = ConnectionError(str(error).splitlines()[0] if str(error) else type(error).__name__)
    else:
        failure = sa.exc.DatabaseError(None, None, error)
    failure.__cause__ = error
    return failure


class Claim(NamedTuple):
    """One request to admit: `admit_request`'s arguments (times naive UTC)."""

    keys: list[str]
    prefix: str
    limit: int
    now: datetime
    until: datetime
    slot_until: datetime


class ClaimConnection:
    """One connection, opened when first needed, on the running loop, with one statement in flight at a
    time; a connection that fails is closed and replaced, and a statement on a connection the server
    dropped is tried once more."""

    def __init__(self, dsn: str, connect_timeout: float, statement_timeout: float) -> None:
        self.dsn = dsn
        self.connect_timeout = max(1.0, connect_timeout)
        self.statement_ms = max(1, round(statement_timeout * 1000))
        self._idle: list[asyncpg.Connection] = []
        """The connection, while no statement is on it (at most one)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[tuple[Claim, asyncio.Future[tuple[Any, ...]]]] = []
        """Requests for the next statement."""
        self._sending: asyncio.Task[None] | None = None
        """The statement in flight, or the one about to go at the end of this turn of the loop."""

    async def admit(
        self, keys: list[str], prefix: str, limit: int, now: datetime, until: datetime, slot_until: datetime
    ) -> tuple[Any, ...]:
        """`admit_request`'s answer (times naive UTC), in a statement with the other requests waiting.
        Raises ConnectionError when the database cannot be reached, and SQLAlchemy's DatabaseError for
        any other failure, as the rest of the storage does."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # the connection belongs to the loop that made it
            self.close()
            self._loop, self._waiting, self._sending = loop, [], None
        answer: asyncio.Future[tuple[Any, ...]] = loop.create_future()
        self._waiting.append((Claim(keys, prefix, limit, now, until, slot_until), answer))
        if self._sending is None:
            self._sending = loop.create_task(self._send())
        return await answer

    async def _send(self) -> None:
        """Statements until no request waits: each takes every request still waited for (a caller that
        gave up, at its `statement_timeout`, has been let through: its claim is not sent)."""
        try:
            while self._waiting:
                live = [request for request in self._waiting if not request[1].done()]
                batch, self._waiting = live[:BATCH], live[BATCH:]
                if batch:
                    batch.sort(key=lambda request: request[0].prefix)  # stable: in order of asking
                    await self._admit_many(batch)
        finally:
            self._sending = None

    async def _admit_many(self, batch: list[tuple[Claim, asyncio.Future[tuple[Any, ...]]]]) -> None:
        """Admit the batch in one statement, and give each waiter its row or the error. A batch another
        replica's deadlocked with (its rows the other's in a crossed order: one message that came as two
        events, each claimed by both) is ended by PostgreSQL after `deadlock_timeout` with nothing
        stored, and is sent again a request per statement, which holds no row while waiting for one."""
        claims = [claim for claim, _ in batch]
        try:
            rows = await self._fetch(
                [
                    [claim.prefix for claim in claims],
                    [claim.limit for claim in claims],
                    [claim.now for claim in claims],
                    [claim.until for claim in claims],
                    [claim.slot_until for claim in claims],
                    [key for claim in claims for key in claim.keys],
                    [number for number, claim in enumerate(claims, 1) for _ in claim.keys],
                ]
            )
            if len(rows) != len(batch):
                raise asyncpg.InternalClientError(f"{len(rows)} rows for {len(batch)} requests")
        except Exception as error:
            if isinstance(error, asyncpg.DeadlockDetectedError) and len(batch) > 1:
                for request in batch:
                    await self._admit_many([request])
                return
            for _, answer in batch:  # every waiter hears of it, as the storage's own errors
                if not answer.done():
                    answer.set_exception(_failure(error))
            return
        for (_, answer), row in zip(batch, rows, strict=True):
            if not answer.done():  # its asker may have stopped waiting (a timeout)
                answer.set_result(tuple(row))

    async def _fetch(self, args: list[list[Any]]) -> list[asyncpg.Record]:
        for attempt in (1, 2):
            connection = self._idle.pop() if self._idle else await self._connect()
            try:  # prepared once per connection, then cached; bounded as a claim is, waiter or not
                rows = await connection.fetch(_ADMIT_MANY, *args, timeout=self.statement_ms / 1000 + 1)
            except (*_UNREACHABLE, asyncpg.InternalClientError) as error:
                # The server dropped it (a restart): asyncpg finds it closed, or, when the server's
                # farewell arrived just before the statement, busy reading it.
                broken = connection.is_closed() or isinstance(error, asyncpg.InternalClientError)
                self._close(connection)
                if attempt == 1 and broken:
                    continue  # once more, on a new connection
                raise
            except BaseException:  # a failed or cancelled statement: its connection's state is unknown
                self._close(connection)
                raise
            self._idle.append(connection)
            return list(rows)
        raise AssertionError("unreachable")

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self.dsn,
            timeout=self.connect_timeout,
            server_settings={
                "statement_timeout": str(self.statement_ms),
                "synchronous_commit": "off",
                # Every key is looked up by the primary key. The planner, going by the table's
                # statistics, would scan the whole table while it looks small (until autovacuum
                # analyses it) and keep doing so in the prepared statement's plan as it grows: the
                # claim then cost a millisecond more per thousand keys held, tens of milliseconds
                # within a minute of a busy start.
                "enable_seqscan": "off",
                "plan_cache_mode": "force_generic_plan",
            },
        )

    def close(self) -> None:
        """Close the connection if it is idle (any loop, or none: the socket is simply closed)."""
        while self._idle:
            self._close(self._idle.pop())

    @staticmethod
    def _close(connection: asyncpg.Connection) -> None:
        with contextlib.suppress(Exception):
            connection.terminate()
