"""A few PostgreSQL connections on the event loop itself, for the one statement every request makes
(`Storage.admit`: its delivery claim and rate slot).

The rest of the storage runs on threads, which is right for rare or batched work; for a statement per
request the hand-off (a thread woken, the GIL taken back and forth with the busy loop, the loop woken
again) cost more than the statement. These connections are asyncpg's: its protocol runs on the loop as
callbacks, where psycopg's async connections add and remove a reader on the loop's selector for every
wait, and it takes half the CPU per claim (60 against 120 µs alone; the claim was about a third of the
bot's time per event under load). Each connection commits every statement on its own without waiting
for the disk (`synchronous_commit` off: see `Storage.admit`), with the storage's `statement_timeout`.
Imported only for a shared database (asyncpg stays unloaded with SQLite).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

import asyncpg
import sqlalchemy as sa

_NAMED = re.compile(r"%\((\w+)\)s")

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


def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `%(name)s` parameters (the storage's driver style) numbered as `$1`..., and the
    names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


class ClaimConnections:
    """At most `size` connections, opened when first needed, on the running loop; a connection that
    fails is closed and replaced, and a statement on a connection the server dropped is tried once more."""

    def __init__(self, dsn: str, size: int, connect_timeout: float, statement_timeout: float) -> None:
        self.dsn = dsn
        self.size = size
        self.connect_timeout = max(1.0, connect_timeout)
        self.statement_ms = max(1, round(statement_timeout * 1000))
        self._idle: list[asyncpg.Connection] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._statements: dict[str, tuple[str, tuple[str, ...]]] = {}

    async def fetchone(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
        """The statement's one row. Raises ConnectionError when the database cannot be reached, and
        SQLAlchemy's DatabaseError for any other failure, as the rest of the storage does."""
        statement = self._statements.get(sql)
        if statement is None:
            statement = self._statements[sql] = positional(sql)
        text, names = statement
        try:
            return await self._fetchone(text, [params[name] for name in names])
        except _UNREACHABLE as error:
            raise ConnectionError(
                str(error).splitlines()[0] if str(error) else type(error).__name__
            ) from error
        except asyncpg.PostgresError as error:
            raise sa.exc.DatabaseError(None, None, error) from error  # no parameters: they are user data

    async def _fetchone(self, sql: str, args: list[Any]) -> tuple[Any, ...]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections (and the semaphore) belong to the loop that made them
            self.close()
            self._loop, self._slots = loop, asyncio.Semaphore(self.size)
        assert self._slots is not None
        async with self._slots:
            for attempt in (1, 2):
                connection = self._idle.pop() if self._idle else await self._connect()
                try:
                    row = await connection.fetchrow(sql, *args)  # prepared once per connection, then cached
                except _UNREACHABLE:
                    broken = connection.is_closed()
                    self._close(connection)
                    if attempt == 1 and broken:
                        continue  # the server dropped it (a restart): once more on a new connection
                    raise
                except BaseException:  # a failed or cancelled statement: its connection's state is unknown
                    self._close(connection)
                    raise
                self._idle.append(connection)
                assert row is not None, "the statement returns one row"
                return tuple(row)
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
        """Close the idle connections (any loop, or none: the socket is simply closed)."""
        while self._idle:
            self._close(self._idle.pop())

    @staticmethod
    def _close(connection: asyncpg.Connection) -> None:
        with contextlib.suppress(Exception):
            connection.terminate()
