"""The Tortoise ORM configuration, shared by the app, the CLI and the migrations."""

import contextlib
import re
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url

from helpdesk import compat

MODEL_MODULES = [
    "helpdesk.models.people",
    "helpdesk.models.catalog",
    "helpdesk.models.tickets",
    "helpdesk.models.events",
]
SQLITE_PRAGMAS = {"journal_mode": "WAL", "busy_timeout": 5000, "synchronous": "NORMAL"}


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The one Tortoise config dict for a database URL."""
    connection = expand_db_url(database_url)
    if connection["engine"].endswith("sqlite"):
        Path(connection["credentials"]["file_path"]).parent.mkdir(parents=True, exist_ok=True)
        connection["credentials"] = SQLITE_PRAGMAS | connection["credentials"]
    else:
        connection["credentials"].setdefault("minsize", 1)
        connection["credentials"].setdefault("maxsize", 10)
    return {
        "connections": {"default": connection},
        "apps": {
            "helpdesk": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def dialect() -> str:
    """'sqlite' or 'postgres', for the few queries that differ."""
    return Tortoise.get_connection("default").capabilities.dialect


def _settings_config() -> dict[str, Any]:
    from helpdesk.config import load_config

    return tortoise_config(load_config()["DATABASE_URL"])


def __getattr__(name: str) -> Any:
    # `tortoise -c helpdesk.db.TORTOISE_ORM makemigrations` reads the configured database lazily.
    if name == "TORTOISE_ORM":
        return _settings_config()
    raise AttributeError(name)


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached; the message is one line for a person."""


async def open_database(database_url: str, *, serving: bool = False) -> None:
    """Start Tortoise on the configured database and check that it answers.

    `serving`: the ASGI server runs each request in a task that does not inherit the
    lifespan task's context, so the app makes its ORM context the process-wide fallback."""
    try:
        await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=serving)
        await Tortoise.get_connection("default").execute_query("SELECT 1")
        await _prepare_sqlite(Tortoise.get_connection("default"))
    except Exception as exc:  # noqa: BLE001 - any driver error becomes one clear line
        await Tortoise.close_connections()
        raise DatabaseUnavailable(f"cannot use database {_redacted(database_url)}: {exc}") from exc


SEARCH_WARM_UP = "SELECT rowid FROM ticket_search LIMIT 0"


async def _prepare_sqlite(connection: BaseDBAsyncClient) -> None:
    """Write transactions begin IMMEDIATE (see helpdesk/compat.py), and the search table is opened
    now: its first use reads its settings, and a write transaction that does that read first
    could not then take the write lock while another process writes."""
    if connection.capabilities.dialect != "sqlite":
        return
    compat.begin_transactions_immediately(connection)
    _, rows = await connection.execute_query("SELECT 1 FROM sqlite_master WHERE name = 'ticket_search'")
    if rows:  # not before `helpdesk migrate`
        await connection.execute_query(SEARCH_WARM_UP)


async def close_database() -> None:
    """Close every connection Tortoise opened; SQLite first refreshes the planner's statistics
    where this process's queries found them stale (PRAGMA optimize, as SQLite advises)."""
    if Tortoise.is_inited() and dialect() == "sqlite":
        with contextlib.suppress(Exception):  # advice only: a busy database must not block closing
            await Tortoise.get_connection("default").execute_script("PRAGMA optimize")
    await Tortoise.close_connections()


STATISTICS_FROM = 1000  # tickets: below this every plan is fast, and stats of a nearly empty
# database misled SQLite later (seed-demo ran 3-4x slower after an ANALYZE of empty tables)


async def needs_statistics() -> bool:
    """Whether SQLite has tickets to plan for but no statistics about them (PostgreSQL's come
    from autovacuum)."""
    if dialect() == "postgres":
        return False
    connection = Tortoise.get_connection("default")
    _, rows = await connection.execute_query(
        "SELECT COUNT(*) FROM (SELECT 1 FROM ticket LIMIT ?)", [STATISTICS_FROM]
    )
    if rows[0][0] < STATISTICS_FROM:
        return False
    _, rows = await connection.execute_query("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
    if not rows:
        return True
    _, rows = await connection.execute_query("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'ticket' LIMIT 1")
    return not rows


async def refresh_statistics() -> None:
    """Gather the query planner's statistics (ANALYZE). Without them SQLite picked the
    open-tickets index for the Unassigned queue and read every open ticket to count a few."""
    await Tortoise.get_connection("default").execute_script("ANALYZE")


def _redacted(url: str) -> str:
    """The URL without its password (in user:pass@ or ?password=), fit for an error line or a log."""
    scheme, sep, rest = url.partition("://")
    rest, query_sep, query = rest.partition("?")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        rest = f"{credentials.split(':')[0]}:***@{host}" if ":" in credentials else rest
    query = re.sub(r"(?i)(password=)[^&]*", r"\1***", query)
    return f"{scheme}{sep}{rest}{query_sep}{query}"


async def migrate_database(database_url: str) -> None:
    """Apply every migration in migrations/ to the configured database."""
    from tortoise.migrations.api import migrate

    try:
        await migrate(config=tortoise_config(database_url))
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot use database {_redacted(database_url)}: {exc}") from exc
    finally:
        await Tortoise.close_connections()
