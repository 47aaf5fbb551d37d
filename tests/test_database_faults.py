"""Which exceptions are database outages (503 with Retry-After) and how they are logged."""

import asyncio
import logging
import sqlite3

import aiosmtplib
import asyncpg
import pytest
from tortoise.backends.asyncpg import AsyncpgDBClient
from tortoise.exceptions import OperationalError, TransactionManagementError

from helpdesk import compat, db
from tests.pgserver import free_port

READ_ONLY = sqlite3.OperationalError("attempt to write a readonly database")


def wrapped(error: BaseException, wrapper: type[Exception]) -> Exception:
    """`error` as Tortoise's SQLite client hands it on: wrapped, raised while handling it."""
    try:
        try:
            raise error
        except type(error):
            raise wrapper(error)  # noqa: B904 - as Tortoise does
    except wrapper as outer:
        return outer


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (
            wrapped(sqlite3.OperationalError("attempt to write a readonly database"), OperationalError),
            "read-only",
        ),
        (wrapped(sqlite3.OperationalError("database or disk is full"), OperationalError), "disk full"),
        (wrapped(sqlite3.OperationalError("database is locked"), OperationalError), "busy"),
        (asyncpg.ConnectionDoesNotExistError("connection was closed"), "unreachable"),
        (asyncpg.CannotConnectNowError("the database system is shutting down"), "unreachable"),
        (asyncpg.TooManyConnectionsError("sorry, too many clients already"), "busy"),
        (compat.NoPooledConnection("no database connection came free within 5 s"), "busy"),
        (wrapped(asyncpg.ReadOnlySQLTransactionError("read-only"), TransactionManagementError), "read-only"),
        (asyncpg.DiskFullError("could not extend file"), "disk full"),
    ],
)
def test_outages_are_recognised(error, fault):
    assert db.fault_of(error) == fault


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a bug"),
        wrapped(sqlite3.OperationalError("no such table: ticket"), OperationalError),
        wrapped(asyncpg.UndefinedTableError("relation does not exist"), OperationalError),
        FileNotFoundError(2, "No such file or directory"),
        ConnectionRefusedError(111, "Connect call failed"),  # from no driver: not the database's
        # 08P01: the server could not read what we sent, a bug of ours, not an outage
        asyncpg.ProtocolViolationError("invalid message format"),
        # SQLite's shared-cache table lock: our own transactions tangled, not another writer
        wrapped(sqlite3.OperationalError("database table is locked: ticket"), OperationalError),
    ],
)
def test_bugs_are_not_outages(error):
    assert db.fault_of(error) is None


def test_an_error_raised_while_handling_an_outage_is_not_an_outage():
    try:
        try:
            raise wrapped(READ_ONLY, OperationalError)
        except OperationalError:
            raise KeyError("a bug in the handler")  # noqa: B904 - chained implicitly, as a bug would be
    except KeyError as error:
        assert error.__context__ is not None
        assert db.fault_of(error) is None


def test_an_error_raised_from_an_outage_is_one():
    try:
        try:
            raise wrapped(READ_ONLY, OperationalError)
        except OperationalError as outage:
            raise RuntimeError("could not record the change") from outage
    except RuntimeError as error:
        assert db.fault_of(error) == "read-only"


async def refused_by_the_database_driver() -> OSError:
    """What the ORM's PostgreSQL client raises when nothing listens where the database should be."""
    client = AsyncpgDBClient(
        connection_name="nowhere", host="127.0.0.1", port=free_port(), user="helpdesk", password="",
        database="helpdesk", minsize=1, maxsize=1,
    )  # fmt: skip
    with pytest.raises(OSError) as refused:
        await client.execute_query("SELECT 1")
    return refused.value


async def test_a_refused_connection_is_unreachable_when_the_database_driver_met_it():
    error = await refused_by_the_database_driver()
    assert isinstance(error, ConnectionRefusedError)
    assert db.fault_of(error) == "unreachable"
    assert db.fault_of(OperationalError(error)) == "unreachable"


async def test_a_refused_connection_elsewhere_is_not_the_database_s():
    port = free_port()
    with pytest.raises(aiosmtplib.SMTPConnectError) as smtp:
        await aiosmtplib.send(
            "Subject: x\n\nx", sender="a@example.com", recipients=["b@example.com"], hostname="127.0.0.1",
            port=port, timeout=5,
        )  # fmt: skip
    with pytest.raises(ConnectionRefusedError) as socket:
        await asyncio.open_connection("127.0.0.1", port)
    assert isinstance(smtp.value, ConnectionError)
    assert db.fault_of(smtp.value) is None
    assert db.fault_of(socket.value) is None


def test_a_fault_is_logged_once_then_counted(caplog, monkeypatch):
    error = asyncio.run(refused_by_the_database_driver())  # before the clock below stops asyncio's
    clock = iter([1000.0, 1001.0, 1002.0, 1003.0, 1000.0 + db.FAULT_LOG_SECONDS + 1])
    monkeypatch.setattr(db.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(db, "_fault_log", {})
    with caplog.at_level(logging.WARNING, logger="helpdesk.db"):
        for _ in range(5):
            db.report_fault(error, "GET /api/tickets")
    lines = [record.getMessage() for record in caplog.records]
    line = f"database unreachable on GET /api/tickets: ConnectionRefusedError: {error}"
    assert lines == [line, f"{line} (3 more since the last line)"]
    assert not any(record.exc_info for record in caplog.records)


def test_bookkeeping_writes_give_way_to_a_read_only_database():
    with db.bookkeeping("recording a token's use"):
        raise wrapped(READ_ONLY, OperationalError)
    with pytest.raises(ValueError), db.bookkeeping("recording a token's use"):
        raise ValueError("a bug")
