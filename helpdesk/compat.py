"""The only place that reaches into Tortoise's and aiosqlite's private parts; tests/test_compat.py
fails loudly when a new version of either library moves them.

Write transactions start as writes on SQLite. Tortoise opens every transaction with a deferred
`BEGIN`: the first read takes a snapshot, and the first write must then upgrade it. When another
process has written since the snapshot, SQLite refuses that upgrade at once (SQLITE_BUSY, "database
is locked"): the busy timeout cannot help, as waiting cannot make the snapshot current.
`BEGIN IMMEDIATE` takes the write lock first, so a busy database makes it wait its turn instead.
"""

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import OperationalError

T = TypeVar("T")


class _ImmediateTransaction(SqliteTransactionWrapper):
    """Tortoise's SQLite transaction, begun with `BEGIN IMMEDIATE`."""

    async def begin(self) -> None:
        try:
            await self._connection.commit()  # as Tortoise's own begin does
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # still locked after the busy timeout: as any query's
            raise OperationalError(exc) from exc


def begin_transactions_immediately(client: BaseDBAsyncClient) -> None:
    """Make every `in_transaction()` on this SQLite client take the write lock when it begins."""
    if not isinstance(client, SqliteClient):
        return

    def immediate() -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(client), client._lock)

    client._in_transaction = immediate  # type: ignore[method-assign]


async def run_in_sqlite_thread(client: BaseDBAsyncClient, work: Callable[..., T], *args: Any) -> T:
    """Run `work(sqlite3_connection, *args)` in the connection's own thread, under the lock every
    query takes: several statements in one trip (aiosqlite has no public way to do that)."""
    async with client.acquire_connection() as connection:
        return await connection._execute(work, connection._conn, *args)
