"""Writing a new ticket or comment together with every row it causes, in one trip to the database.

Built with the ORM, a create was a dozen statements, each a separate await. On SQLite all the
writes of a process share one connection, handed to one thread: a transaction held it while each
statement travelled to that thread and back, and while the event loop got round to the next
one, so those trips capped the creates per second. Here the rows are plain parameterised SQL:
on SQLite one call to the connection's thread runs the whole transaction; on PostgreSQL the rows
are one statement (data-modifying WITH clauses), atomic without BEGIN and COMMIT.
"""

# Only this module's table and column names are joined into the SQL; every value is a bound parameter.

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError, OperationalError

from helpdesk import compat
from helpdesk.services import sql
from helpdesk.services.sql import Params

SAVEPOINT = "ticket_writes"  # inside a caller's transaction


@dataclass
class Rows:
    """Rows to insert into one table, each with the same columns."""

    table: str
    columns: tuple[str, ...]
    values: list[tuple[Any, ...]]

    last: bool = False  # one row written after the statement's other writes (see `sql_after`)

    @classmethod
    def of(cls, table: str, rows: Iterable[dict[str, Any]], *, last: bool = False) -> "Rows":
        rows = list(rows)
        columns = tuple(rows[0]) if rows else ()
        return cls(table, columns, [tuple(row[column] for column in columns) for row in rows], last)

    def sql(self, p: Params) -> str:
        names = ", ".join(f'"{column}"' for column in self.columns)
        rows = ", ".join(f"({', '.join(p(value) for value in row)})" for row in self.values)
        return f'INSERT INTO "{self.table}" ({names}) VALUES {rows}'

    def sql_after(self, p: Params, earlier: list[str]) -> str:
        """PostgreSQL: the row, inserted only once the `earlier` WITH clauses have run (it counts
        their rows). A feed row's trigger takes a lock held until commit: taken before the
        statement's other writes, it deadlocked with a transaction that waited for it while
        holding the ticket row those writes wait for."""
        names = ", ".join(f'"{column}"' for column in self.columns)
        values = ", ".join(p(value) for value in self.values[0])
        counted = " + ".join(f"(SELECT count(*) FROM {name})" for name in earlier) or "0"
        return f'INSERT INTO "{self.table}" ({names}) SELECT {values} WHERE {counted} >= 0'


@dataclass
class Update:
    """Set columns of the row with this id."""

    table: str
    id: int
    values: dict[str, Any]

    def sql(self, p: Params) -> str:
        assignments = ", ".join(f'"{column}" = {p(value)}' for column, value in self.values.items())
        return f'UPDATE "{self.table}" SET {assignments} WHERE "id" = {p(self.id)}'


@dataclass
class Delete:
    """Delete the rows whose columns hold these values (none may be there)."""

    table: str
    values: dict[str, Any]  # the WHERE: each column equal to its value

    def sql(self, p: Params) -> str:
        where = " AND ".join(f'"{column}" = {p(value)}' for column, value in self.values.items())
        return f'DELETE FROM "{self.table}" WHERE {where}'


Statement = Rows | Update | Delete
Dependents = Callable[[int], list[Statement]]


async def insert_row(table: str, row: dict[str, Any], dependents: Dependents) -> int:
    """Insert the row and the rows `dependents(new_id)` gives, all or nothing; the new id.

    `dependents` may need the id for more than a foreign key (an email body names INC-<id>, an
    idempotency key the comment it made): PostgreSQL takes the id from the sequence first, SQLite
    from the insert."""
    if not sql.is_postgres():
        return await _sqlite_write(sql.connection(), Rows.of(table, [row]), dependents)
    rows = await sql.select_rows(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
    row_id = rows[0][0]
    await _postgres_write([Rows.of(table, [row | {"id": row_id}]), *dependents(row_id)])
    return row_id


async def _postgres_write(statements: list[Statement]) -> int:
    """One statement: each write a WITH clause, all of them seeing the same snapshot; the first
    row's id. Foreign keys are checked at the end of the statement, so a row may name a sibling's."""
    p, clauses, names = Params(), [], []
    for n, statement in enumerate(statements):
        if _writes(statement):
            last = isinstance(statement, Rows) and statement.last
            text = statement.sql_after(p, list(names)) if last else statement.sql(p)
            clauses.append(f"w{n} AS ({text} RETURNING id)")
            names.append(f"w{n}")
    rows = await sql.select_rows(f"WITH {', '.join(clauses)} SELECT id FROM w0", *p.values)
    return rows[0][0]


async def _sqlite_write(client: Any, first: Rows, dependents: Dependents) -> int:
    """The whole transaction in one call to the connection's thread, under the lock every query takes."""
    try:
        return await compat.run_in_sqlite_thread(client, _sqlite_transaction, first, dependents)
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(exc) from exc
    except sqlite3.OperationalError as exc:
        raise OperationalError(exc) from exc


def _sqlite_transaction(db: sqlite3.Connection, first: Rows, dependents: Dependents) -> int:
    """Runs in the connection's thread: the first row, then its dependents, then commit.

    On its own it begins IMMEDIATE (helpdesk/compat.py says why; here the search table's trigger
    also reads that table's settings before the first write); inside a caller's transaction, a
    savepoint."""
    nested = db.in_transaction
    db.execute(f"SAVEPOINT {SAVEPOINT}" if nested else "BEGIN IMMEDIATE")
    try:
        row_id = _sqlite_run(db, first)
        for statement in dependents(row_id):
            if _writes(statement):
                _sqlite_run(db, statement)
        db.execute(f"RELEASE {SAVEPOINT}" if nested else "COMMIT")
    except BaseException:
        _sqlite_undo(db, nested)
        raise
    return row_id


def _sqlite_run(db: sqlite3.Connection, statement: Statement) -> int:
    p = Params()
    return db.execute(statement.sql(p), sql.bound(p.values, postgres=False)).lastrowid


def _sqlite_undo(db: sqlite3.Connection, nested: bool) -> None:
    try:
        if nested:
            db.execute(f"ROLLBACK TO {SAVEPOINT}")
            db.execute(f"RELEASE {SAVEPOINT}")
        elif db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:  # SQLite already rolled the whole transaction back (a full disk, say)
        if db.in_transaction:
            db.execute("ROLLBACK")


def _writes(statement: Statement) -> bool:
    return bool(statement.values)
