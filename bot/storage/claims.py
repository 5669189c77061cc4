"""A few PostgreSQL connections on the event loop itself, for the one statement every request makes
(`Storage.admit`: its delivery claim and rate slot).

The rest of the storage runs on threads, which is right for rare or batched work; for a statement per
request the hand-off (a thread woken, the GIL taken back and forth with the busy loop, the loop woken
again) cost more than the statement. psycopg's async connections wait on the loop's own selector, so a
request's claim is one round trip and a little work on the loop. Each connection commits every statement
on its own (autocommit) without waiting for the disk (`synchronous_commit` off: see `Storage.admit`),
with the storage's `statement_timeout`. Imported only for a shared database (psycopg stays unloaded with
SQLite).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import psycopg
import sqlalchemy as sa


class ClaimConnections:
    """At most `size` connections, opened when first needed, on the running loop; a connection that
    fails is closed and replaced, and a statement on a connection the server dropped is tried once more."""

    def __init__(self, conninfo: str, size: int, connect_timeout: float, statement_timeout: float) -> None:
        self.conninfo = conninfo
        self.size = size
        self.connect_timeout = max(1, round(connect_timeout))
        self.statement_ms = max(1, round(statement_timeout * 1000))
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def fetchone(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
        """The statement's one row. Raises ConnectionError when the database cannot be reached, and
        SQLAlchemy's DatabaseError for any other failure, as the rest of the storage does."""
        try:
            return await self._fetchone(sql, params)
        except psycopg.OperationalError as error:
            raise ConnectionError(str(error).splitlines()[0] if str(error) else "unreachable") from error
        except psycopg.Error as error:
            raise sa.exc.DatabaseError(None, None, error) from error  # no parameters: they are user data

    async def _fetchone(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections (and the semaphore) belong to the loop that made them
            self.close()
            self._loop, self._slots = loop, asyncio.Semaphore(self.size)
        assert self._slots is not None
        async with self._slots:
            for attempt in (1, 2):
                connection = self._idle.pop() if self._idle else await self._connect()
                try:
                    cursor = await connection.execute(sql, params, prepare=True)
                    row = await cursor.fetchone()
                except psycopg.OperationalError:
                    self._close(connection)
                    if attempt == 1 and connection.broken:
                        continue  # the server dropped it (a restart): once more on a new connection
                    raise
                except BaseException:  # a failed or cancelled statement: its connection's state is unknown
                    self._close(connection)
                    raise
                self._idle.append(connection)
                assert row is not None, "the statement returns one row"
                return tuple(row)
        raise AssertionError("unreachable")

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        connection = await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, connect_timeout=self.connect_timeout
        )
        try:
            await connection.execute(f"SET statement_timeout = {self.statement_ms}")
            await connection.execute("SET synchronous_commit = off")
            # Every key is looked up by the primary key. The planner, going by the table's statistics,
            # would scan the whole table while it looks small (until autovacuum analyses it) and keep
            # doing so in the prepared statement's plan as it grows: the claim then cost a millisecond
            # more per thousand keys held, tens of milliseconds within a minute of a busy start.
            await connection.execute("SET enable_seqscan = off")
            await connection.execute("SET plan_cache_mode = force_generic_plan")
        except BaseException:
            self._close(connection)
            raise
        return connection

    def close(self) -> None:
        """Close the idle connections (any loop, or none: the socket is simply closed)."""
        while self._idle:
            self._close(self._idle.pop())

    @staticmethod
    def _close(connection: psycopg.AsyncConnection[Any]) -> None:
        with contextlib.suppress(Exception):
            connection.pgconn.finish()
