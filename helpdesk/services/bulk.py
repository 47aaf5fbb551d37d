"""Fast multi-row inserts for seeding and benchmarks, on SQLite and PostgreSQL alike."""

from collections.abc import Iterable, Sequence
from typing import Any

from tortoise import Tortoise

from helpdesk.db import dialect

BATCH = 5000


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    if dialect() == "postgres":
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    else:
        marks = ", ".join("?" for _ in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608 - names are ours


async def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert rows in batches inside the caller's transaction; returns how many were written."""
    connection = Tortoise.get_connection("default")
    sql = _insert_sql(table, columns)
    batch: list[list[Any]] = []
    written = 0
    for row in rows:
        batch.append(list(row))
        if len(batch) >= BATCH:
            await connection.execute_many(sql, batch)
            written += len(batch)
            batch = []
    if batch:
        await connection.execute_many(sql, batch)
        written += len(batch)
    return written


async def reset_sequence(table: str) -> None:
    """After inserting explicit ids on PostgreSQL, move the id sequence past them."""
    if dialect() == "postgres":
        await Tortoise.get_connection("default").execute_script(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
            f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
        )
