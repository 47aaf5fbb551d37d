"""The one way hand-written SQL reaches the database: `?` placeholders in every query, numbered for
PostgreSQL here; values bound as each database keeps them; the one dialect check.

The hot reads and writes (ticket_queries, ticket_writes, timeline, reports) skip the ORM's query
builder and model loading, which cost several times the database's own work on each request."""

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from helpdesk import db

# What a `?` may sit inside without being a placeholder: a string, a quoted name, a comment.
_QUOTED_OR_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\?", re.DOTALL)


def connection() -> BaseDBAsyncClient:
    return Tortoise.get_connection("default")


def is_postgres() -> bool:
    """The one question the hand-written SQL asks of the database: PostgreSQL, or SQLite."""
    return db.dialect() == "postgres"


class Params:
    """Values bound in order, each written `?` where the SQL uses it."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return "?"


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """The query with its `?` placeholders as PostgreSQL's `$1, $2, ...`; a `?` inside a string,
    a quoted name or a comment stays as written."""
    count = 0

    def placeholder(token: re.Match) -> str:
        nonlocal count
        if token.group() != "?":
            return token.group()
        count += 1
        return f"${count}"

    return _QUOTED_OR_PLACEHOLDER.sub(placeholder, sql)


def bound(values: list[Any] | tuple[Any, ...], *, postgres: bool) -> list[Any]:
    """Values as the database compares them: SQLite compares a timestamp's stored text, always in
    UTC and in the format Tortoise writes."""
    return [_stored(value, postgres) if isinstance(value, datetime) else value for value in values]


def _stored(value: datetime, postgres: bool) -> datetime | str:
    value = value.astimezone(UTC)
    return value if postgres else str(value)


async def select_rows(sql: str, *values: Any) -> list[Any]:
    """The rows of a query written with `?` placeholders, values bound."""
    postgres = is_postgres()
    _, rows = await connection().execute_query(
        numbered(sql) if postgres else sql, bound(values, postgres=postgres)
    )
    return rows


async def write_returning(sql: str, *values: Any) -> list[dict[str, Any]]:
    """The rows an UPDATE/DELETE/INSERT ... RETURNING gives back (`select_rows` would get none on
    PostgreSQL: Tortoise's execute_query runs such a statement without fetching its rows)."""
    postgres = is_postgres()
    return await connection().execute_query_dict(
        numbered(sql) if postgres else sql, bound(values, postgres=postgres)
    )


def as_datetime(value: Any) -> datetime | None:
    """A stored timestamp as a datetime: PostgreSQL gives one, SQLite the ISO text Tortoise wrote
    (fromisoformat reads it in C; the ORM's regular expression was a large part of a page)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
