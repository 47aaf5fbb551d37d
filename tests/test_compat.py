"""helpdesk/compat.py reaches into Tortoise's and aiosqlite's private parts: these tests fail loudly
when a new version of either library moves them, and show what each use is for.

They run on a SQLite database of their own, whatever database the rest of the run uses."""

import asyncio
import signal
import sqlite3
from datetime import UTC, datetime

import aiosqlite
import pytest
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper

from helpdesk import compat, db
from helpdesk.services import ticket_writes

TICKET = {
    "organisation_hid": "ORG-1", "contract_hid": "CON-1", "tenant_hid": "1", "reporter_hid": "USR-1",
    "title": "Printer", "description": "jammed", "version": 1,
    "created_at": datetime.now(UTC), "updated_at": datetime.now(UTC),
}  # fmt: skip


@pytest.fixture
async def sqlite_path(tmp_path, database_url) -> str:
    path = str(tmp_path / "compat.sqlite3")
    await db.migrate_database(f"sqlite://{path}")
    await db.open_database(database_url)  # migrating closed the run's own connections: reopen them
    return path


@pytest.fixture
async def client(sqlite_path):
    client = SqliteClient(file_path=sqlite_path, connection_name="compat", busy_timeout=5000)
    await client.create_connection(with_db=True)
    yield client
    await client.close()


def test_the_private_parts_compat_uses_are_still_there():
    assert callable(SqliteTransactionWrapper.begin) and callable(SqliteClient._in_transaction)
    assert SqliteTransactionContext.__init__.__code__.co_varnames[1:3] == ("connection", "trxlock")
    assert callable(aiosqlite.Connection._execute) and isinstance(aiosqlite.Connection._conn, property)


async def test_a_transaction_holds_the_write_lock_from_its_begin(client, sqlite_path):
    compat.begin_transactions_immediately(client)
    other = sqlite3.connect(sqlite_path, isolation_level=None, timeout=0)
    async with client._in_transaction() as transaction:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        await transaction.execute_query("SELECT 1")
    other.execute("BEGIN IMMEDIATE")  # free again once it committed
    other.execute("ROLLBACK")


async def test_a_transaction_that_cannot_get_the_lock_is_an_operational_error(client, sqlite_path):
    from tortoise.exceptions import OperationalError

    compat.begin_transactions_immediately(client)
    other = sqlite3.connect(sqlite_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    await client.execute_script("PRAGMA busy_timeout = 0")
    with pytest.raises(OperationalError, match="locked"):
        async with client._in_transaction():
            pass
    other.execute("ROLLBACK")
    # Tortoise kept the connection's lock after a failed BEGIN: every later query waited forever
    async with asyncio.timeout(5):
        assert await client.execute_query_dict("SELECT 1 AS one") == [{"one": 1}]
        async with client._in_transaction() as transaction:
            await transaction.execute_query("SELECT 1")


async def test_a_request_cancelled_while_its_transaction_begins_leaves_the_connection_usable(
    client, sqlite_path
):
    """A browser that leaves mid-request cancels its handler, here while BEGIN waits for another
    process's write lock. Tortoise kept the lock then: the browser tests' server stopped answering
    writes (sign-ins hung) until it was killed."""
    compat.begin_transactions_immediately(client)
    other = sqlite3.connect(sqlite_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def write() -> None:
        async with client._in_transaction() as transaction:
            await transaction.execute_query("SELECT 1")

    waiting = asyncio.create_task(write())
    await asyncio.sleep(0.2)  # BEGIN IMMEDIATE is now waiting for `other` in the connection's thread
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    other.execute("ROLLBACK")
    async with asyncio.timeout(10):
        await write()
        assert await client.execute_query_dict("SELECT 1 AS one") == [{"one": 1}]


async def test_work_runs_in_the_connections_thread(client):
    def count(connection: sqlite3.Connection, table: str) -> int:
        return connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]

    assert await compat.run_in_sqlite_thread(client, count, "ticket") == 0


def interloper(sqlite_path: str):
    """An authorizer that, as the search table's settings are read, lets another process write."""
    other = sqlite3.connect(sqlite_path, isolation_level=None, timeout=0, check_same_thread=False)
    seen: list[str] = []

    def authorize(action, table, *_):
        if seen and not seen[-1].startswith("wrote"):
            try:
                other.execute("INSERT INTO agent_group (name) VALUES ('interloper')")
                seen.append("wrote")
            except sqlite3.OperationalError:
                seen.append("wrote: refused, the lock is taken")
        if table == "ticket_search_config" and not seen:
            seen.append("read")
        return sqlite3.SQLITE_OK

    return authorize, seen


async def test_a_first_ticket_write_takes_the_lock_before_the_search_table_reads(client, sqlite_path):
    authorize, seen = interloper(sqlite_path)
    await compat.run_in_sqlite_thread(client, lambda connection: connection.set_authorizer(authorize))
    await ticket_writes._sqlite_write(client, ticket_writes.Rows.of("ticket", [TICKET]), lambda _: [])
    assert seen == ["read", "wrote: refused, the lock is taken"]


async def test_opening_the_search_table_at_connect_reads_its_settings_there(client, sqlite_path):
    await client.execute_query(db.SEARCH_WARM_UP)
    tables: list[str] = []
    authorize = lambda action, table, *_: tables.append(table) or sqlite3.SQLITE_OK  # noqa: E731
    await compat.run_in_sqlite_thread(client, lambda connection: connection.set_authorizer(authorize))
    await ticket_writes._sqlite_write(client, ticket_writes.Rows.of("ticket", [TICKET]), lambda _: [])
    assert "ticket" in tables and "ticket_search_config" not in tables


def test_quart_schema_still_wraps_make_response_and_the_app_gets_quarts_own_back():
    """The API's views return JSON-ready dicts; QuartSchema's pydantic pass over every response was
    a third of a list page. If quart-schema stops wrapping (or wraps another way), this fails."""
    from quart import Quart
    from quart_schema import QuartSchema

    app = Quart(__name__)
    QuartSchema(app)
    assert app.make_response.__wrapped__.__func__ is Quart.make_response  # functools.wraps
    compat.skip_quart_schema_response_conversion(app)
    assert app.make_response.__func__ is Quart.make_response


def test_the_app_answers_with_quarts_own_make_response(app):
    from quart import Quart

    assert app.make_response.__func__ is Quart.make_response


async def test_a_shutdown_signal_reaches_the_app_and_still_the_server():
    """Granian's worker (on uvloop or asyncio) handles SIGTERM through the loop: the app's callback
    must run too, and the server's handling must go on as before."""
    loop, calls = asyncio.get_running_loop(), []
    saved = {number: signal.getsignal(number) for number in compat.SHUTDOWN_SIGNALS}
    for number in compat.SHUTDOWN_SIGNALS:
        loop.add_signal_handler(number, calls.append, f"server {number}")
    try:
        assert compat.before_server_shutdown(lambda: calls.append("app"))
        signal.raise_signal(signal.SIGTERM)
        async with asyncio.timeout(5):
            while len(calls) < 2:
                await asyncio.sleep(0.01)
        assert sorted(calls) == sorted(["app", f"server {signal.SIGTERM}"])
    finally:
        for number in compat.SHUTDOWN_SIGNALS:
            loop.remove_signal_handler(number)
            signal.signal(number, saved[number])


async def test_without_a_handler_nothing_is_chained():
    saved = {number: signal.getsignal(number) for number in compat.SHUTDOWN_SIGNALS}
    try:
        for number in compat.SHUTDOWN_SIGNALS:
            signal.signal(number, signal.SIG_DFL)
        assert not compat.before_server_shutdown(lambda: None)
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def test_aioimaplib_still_has_what_the_starttls_upgrade_uses():
    """compat.imap_starttls: a STARTTLS command through the protocol, then its transport replaced."""
    import inspect

    import aioimaplib

    assert "STARTTLS" in aioimaplib.aioimaplib.Commands
    assert list(inspect.signature(aioimaplib.Command).parameters)[:2] == ["name", "tag"]
    for name in ("execute", "new_tag", "capability"):
        assert callable(getattr(aioimaplib.IMAP4ClientProtocol, name))
    protocol = aioimaplib.IMAP4ClientProtocol(asyncio.new_event_loop(), None)
    assert hasattr(protocol, "transport") and hasattr(protocol, "loop")
    protocol.loop.close()


async def test_a_cancellation_that_wait_for_swallowed_is_still_seen():
    """Python 3.11's wait_for returns the result, and drops the cancellation, when both arrive in
    the same turn of the loop (CPython gh-86296); stop_if_cancelled raises it all the same."""
    answer = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def waiter() -> None:
        compat.stop_if_cancelled()  # not asked to stop yet: carries on
        await asyncio.wait_for(answer, 10)
        seen.append("answered")
        compat.stop_if_cancelled()
        seen.append("ran on")

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    answer.set_result(None)
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    assert task.cancelled()
    assert "ran on" not in seen
