"""The few pieces every hand-written query shares: bound parameters in the connection's style,
running a fixed query, and reading back a stored timestamp.

The hot reads and writes (ticket_queries, ticket_writes, timeline, reports) skip the ORM's query
builder and model loading, which cost several times the database's own work on each request."""

from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient


def connection() -> BaseDBAsyncClient:
    return Tortoise.get_connection("default")


def is_postgres(client: BaseDBAsyncClient) -> bool:
    return client.capabilities.dialect == "postgres"


class Params:
    """Bound parameters in the connection's style: `?` on SQLite, `$n` on PostgreSQL."""

    def __init__(self, postgres: bool) -> None:
        self.postgres, self.values = postgres, []

    def __call__(self, value: Any) -> str:
        if isinstance(value, datetime):  # SQLite compares the stored text: always UTC, same format
            value = value.astimezone(UTC)
            value = value if self.postgres else str(value)
        self.values.append(value)
        return f"${len(self.values)}" if self.postgres else "?"


async def select_rows(sql: str, *values: Any) -> list[Any]:
    """The rows of a fixed query written with `?` placeholders (`$n` on PostgreSQL), values bound."""
    client = connection()
    if is_postgres(client):
        parts = sql.split("?")
        sql = "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]
    _, rows = await client.execute_query(sql, list(values))
    return rows


def moment(value: Any) -> datetime | None:
    """A stored timestamp as a datetime: PostgreSQL gives one, SQLite the ISO text Tortoise wrote
    (fromisoformat reads it in C; the ORM's regular expression was a large part of a page)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
