"""The only place that reaches into a library's private parts (Tortoise's, asyncpg's, aiosqlite's,
quart-schema's, aioimaplib's); tests/test_compat.py and tests/test_compat_pool.py fail loudly when a
new version of one of them moves them (the IMAP STARTTLS upgrade: tests/services/test_mail_intake.py
against a real Dovecot)."""

import asyncio
import contextlib
import signal
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import asyncpg
from quart import Quart
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import OperationalError

T = TypeVar("T")

# --- asyncio on Python 3.11: a cancellation that wait_for swallowed ---------------------------
# Python 3.11's asyncio.wait_for returns the awaited result, and drops the cancellation, when the
# two arrive together (CPython gh-86296, fixed in 3.12); aiosmtplib and aioimaplib use it. A worker
# cancelled just as the SMTP server answered then ran on for ever. The cancellation request is still
# counted on the task, so a loop that runs until cancelled checks it once a round.


def stop_if_cancelled() -> None:
    """Raise CancelledError when the current task was asked to stop (even if a wait_for swallowed it)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


# --- SQLite: write transactions start as writes ------------------------------------------------
# Write transactions start as writes on SQLite. Tortoise opens every transaction with a deferred
# `BEGIN`: the first read takes a snapshot, and the first write must then upgrade it. When another
# process has written since the snapshot, SQLite refuses that upgrade at once (SQLITE_BUSY, "database
# is locked"): the busy timeout cannot help, as waiting cannot make the snapshot current.
# `BEGIN IMMEDIATE` takes the write lock first, so a busy database makes it wait its turn instead.


class _ImmediateTransaction(SqliteTransactionWrapper):
    """Tortoise's SQLite transaction, begun with `BEGIN IMMEDIATE`."""

    async def begin(self) -> None:
        try:
            await self._connection.commit()  # as Tortoise's own begin does
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # still locked after the busy timeout: as any query's
            raise OperationalError(exc) from exc


class _ReleasingTransactionContext(SqliteTransactionContext):
    """Tortoise's SQLite transaction context, which takes the connection's lock and then awaits
    BEGIN: when BEGIN fails (still locked after the busy timeout) or the task is cancelled while
    it waits (a browser closing mid-request), Tortoise's `__aexit__` never runs and the lock stays
    taken for good, so every later query of the process waits forever. This one gives it back."""

    async def __aenter__(self) -> Any:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            # A cancelled BEGIN may still run in the connection's thread: a rollback queued behind it
            # (the thread takes its work in order) ends what it began; shielded from the cancellation.
            with contextlib.suppress(BaseException):
                await asyncio.shield(self.connection._connection.rollback())
            self._trxlock.release()
            raise
        return self.connection


def begin_transactions_immediately(client: BaseDBAsyncClient) -> None:
    """Make every `in_transaction()` on this SQLite client take the write lock when it begins, and
    give the lock back when beginning fails."""
    if not isinstance(client, SqliteClient):
        return

    def immediate() -> TransactionContext:
        return _ReleasingTransactionContext(_ImmediateTransaction(client), client._lock)

    client._in_transaction = immediate  # type: ignore[method-assign]


async def run_in_sqlite_thread(client: BaseDBAsyncClient, work: Callable[..., T], *args: Any) -> T:
    """Run `work(sqlite3_connection, *args)` in the connection's own thread, under the lock every
    query takes: several statements in one trip (aiosqlite has no public way to do that)."""
    async with client.acquire_connection() as connection:
        return await connection._execute(work, connection._conn, *args)


# --- PostgreSQL: a bounded wait for a pooled connection --------------------------------------
# Tortoise acquires from its asyncpg pool with no timeout, so a request waited for ever behind a
# full pool; and when the server had no slot left for the pool to grow (TooManyConnectionsError)
# it failed at once instead of waiting for one of the pool's connections to come back.


class NoPooledConnection(TimeoutError):
    """No pooled PostgreSQL connection came free within the configured wait."""


class _BoundedPool:
    """An asyncpg pool whose `acquire` waits at most `seconds`; everything else is the pool's."""

    def __init__(self, pool: asyncpg.Pool, seconds: float) -> None:
        self.pool, self.seconds = pool, seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)

    async def acquire(self) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        while True:
            remaining = deadline - loop.time()
            try:
                return await self.pool.acquire(timeout=max(remaining, 0.001))
            except TimeoutError as error:
                raise NoPooledConnection(
                    f"no database connection came free within {self.seconds:g} s"
                ) from error
            except asyncpg.TooManyConnectionsError:
                if remaining < 0.1:
                    raise
                await asyncio.sleep(0.05)  # the server is full: wait for one of ours to come back


def wait_for_pooled_connections(client: BaseDBAsyncClient, seconds: float) -> None:
    """Make this PostgreSQL client's pool wait at most `seconds` for a connection, then raise
    NoPooledConnection (SQLite has one connection and no pool: nothing to do)."""
    if not isinstance(client, AsyncpgDBClient):
        return
    create_pool = type(client).create_pool

    async def bounded_pool(**kwargs: Any) -> _BoundedPool:
        return _BoundedPool(await create_pool(client, **kwargs), seconds)

    client.create_pool = bounded_pool  # type: ignore[method-assign]
    if client._pool is not None and not isinstance(client._pool, _BoundedPool):
        client._pool = _BoundedPool(client._pool, seconds)  # type: ignore[assignment]


# --- quart-schema: responses as the views return them ---------------------------------------
# QuartSchema wraps `app.make_response` to pass every view's result through pydantic. The API's
# views return plain JSON-ready dicts, and that pass was a large part of a list page's time.


def skip_quart_schema_response_conversion(app: Quart) -> None:
    """Give the app back Quart's own make_response, which QuartSchema wrapped (functools.wraps
    keeps it as `__wrapped__`); raises AttributeError at start-up if quart-schema stops wrapping."""
    app.make_response = app.make_response.__wrapped__  # type: ignore[method-assign]


# --- the server's shutdown signal: streams end before the server waits for them --------------
# Granian's worker stops on SIGTERM/SIGINT (a handler it adds to its event loop sets its shutdown
# event), then waits for every open response to finish before the app's `after_serving` runs: an
# open event stream, which never finishes on its own, held the worker up for ever. The loop's own
# handlers are out of reach (uvloop keeps them inside its C loop), so the app's callback is chained
# in front of the Python-level handler the loop registered with `signal.signal`; the loop still
# learns of the signal through its wakeup file descriptor, as before.

SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def before_server_shutdown(callback: Callable[[], None]) -> bool:
    """Have the running loop call `callback()` when a shutdown signal arrives, besides whatever
    already handles it; False (nothing done) when nothing in Python handles those signals."""
    loop = asyncio.get_running_loop()
    chained = False
    for number in SHUTDOWN_SIGNALS:
        earlier = signal.getsignal(number)
        if not callable(earlier):
            continue

        def both(signum: int, frame: Any, earlier: Callable[[int, Any], Any] = earlier) -> Any:
            loop.call_soon_threadsafe(callback)
            return earlier(signum, frame)

        signal.signal(number, both)
        chained = True
    return chained


# --- aioimaplib: STARTTLS ---------------------------------------------------------------------
# aioimaplib (2.0) knows the STARTTLS command but has no method for it: the poller sends it through
# the client's protocol, upgrades the protocol's transport with asyncio's start_tls, and asks for the
# capabilities again (a server may offer more, e.g. AUTH=PLAIN, once the connection is encrypted).


async def imap_starttls(client: Any, context: Any, server_hostname: str) -> None:
    """Upgrade a connected, greeted aioimaplib client to TLS (STARTTLS, RFC 3501 6.2.1)."""
    import aioimaplib

    protocol = client.protocol
    response = await asyncio.wait_for(
        protocol.execute(aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)),
        client.timeout,
    )
    if response.result != "OK":
        raise ConnectionError(f"IMAP STARTTLS refused: {response.result} {response.lines[-1:]!r}")
    loop = asyncio.get_running_loop()
    protocol.transport = await loop.start_tls(
        protocol.transport, protocol, context, server_hostname=server_hostname
    )
    await asyncio.wait_for(protocol.capability(), client.timeout)
