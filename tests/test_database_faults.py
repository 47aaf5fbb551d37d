"""Which exceptions are database outages (503 with Retry-After) and how they are logged."""

import logging
import sqlite3

import asyncpg
import pytest
from tortoise.exceptions import OperationalError, TransactionManagementError

from helpdesk import compat, db

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
        (ConnectionRefusedError(111, "Connect call failed"), "unreachable"),
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
    ],
)
def test_bugs_are_not_outages(error):
    assert db.fault_of(error) is None


def test_a_fault_is_logged_once_then_counted(caplog, monkeypatch):
    clock = iter([1000.0, 1001.0, 1002.0, 1003.0, 1000.0 + db.FAULT_LOG_SECONDS + 1])
    monkeypatch.setattr(db.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(db, "_fault_log", {})
    error = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
    with caplog.at_level(logging.WARNING, logger="helpdesk.db"):
        for _ in range(5):
            db.report_fault(error, "GET /api/tickets")
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        "database unreachable on GET /api/tickets: ConnectionRefusedError: "
        "[Errno 111] Connect call failed ('127.0.0.1', 5432)",
        "database unreachable on GET /api/tickets: ConnectionRefusedError: "
        "[Errno 111] Connect call failed ('127.0.0.1', 5432) (3 more since the last line)",
    ]
    assert not any(record.exc_info for record in caplog.records)


def test_bookkeeping_writes_give_way_to_a_read_only_database():
    with db.bookkeeping("recording a token's use"):
        raise wrapped(READ_ONLY, OperationalError)
    with pytest.raises(ValueError), db.bookkeeping("recording a token's use"):
        raise ValueError("a bug")
