"""The Tortoise ORM configuration, shared by the app, the CLI and the migrations."""

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import BaseORMException, DBConnectionError

from helpdesk import compat

log = logging.getLogger(__name__)


MODEL_MODULES = [
    "helpdesk.models.people",
    "helpdesk.models.catalog",
    "helpdesk.models.tickets",
    "helpdesk.models.events",
    "helpdesk.models.notifications",
    "helpdesk.models.mail",
    "helpdesk.models.attachments",
    "helpdesk.models.live",
    "helpdesk.models.desk_tools",
    "helpdesk.models.sla",
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


POOL_WAIT_SECONDS = 5.0


async def open_database(
    database_url: str, *, serving: bool = False, pool_wait: float = POOL_WAIT_SECONDS
) -> None:
    """Start Tortoise on the configured database and check that it answers.

    `serving`: the ASGI server runs each request in a task that does not inherit the
    lifespan task's context, so the app makes its ORM context the process-wide fallback.
    `pool_wait`: how long a query waits for a pooled PostgreSQL connection before failing."""
    try:
        await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=serving)
        compat.wait_for_pooled_connections(Tortoise.get_connection("default"), pool_wait)
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


# --- database faults: what a request answers 503 for, and the one log line per fault ----------

RETRY_AFTER_SECONDS = 5  # what a 503 tells clients to wait; PostgreSQL restarts in about this
FAULT_LOG_SECONDS = 10.0  # the same fault is logged again at most this often, with a count
_SQLITE_FAULTS = {  # "database table is locked" is missing on purpose: our own transaction's bug
    "readonly": "read-only",
    "disk is full": "disk full",
    "database is locked": "busy",
    "unable to open": "unreachable",
    "disk i/o error": "unreachable",
}
# Where the database driver's code lives: an OS error (a refused or reset connection, a timeout)
# means the database is unreachable only when it came up through here, not from the mail client.
_DRIVER_MODULES = ("asyncpg", "aiosqlite", "tortoise.backends", "helpdesk.compat")
_fault_log: dict[str, tuple[float, int]] = {}


def _wrapped(error: BaseException) -> BaseException | None:
    """The driver's exception a Tortoise exception was made from: Tortoise's SQLite client wraps
    it as `OperationalError(exc)` without `from`, so it is the argument rather than the cause."""
    if isinstance(error, BaseORMException) and error.args and isinstance(error.args[0], BaseException):
        return error.args[0]
    return None


def _chain(error: BaseException) -> list[BaseException]:
    """The exception and those it explicitly wraps (`raise ... from`, or Tortoise's wrapping).
    Not `__context__`: an unrelated error raised while handling an outage is not an outage."""
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in chain and len(chain) < 10:
        chain.append(link)
        link = link.__cause__ or _wrapped(link)
    return chain


def _raised_by_driver(error: BaseException) -> bool:
    """Whether the exception came up through the database driver's code."""
    for frame, _ in traceback.walk_tb(error.__traceback__):
        module = frame.f_globals.get("__name__", "")
        if any(module == name or module.startswith(f"{name}.") for name in _DRIVER_MODULES):
            return True
    return False


def _postgres_fault(error: BaseException) -> str | None:
    import asyncpg

    if isinstance(error, asyncpg.ReadOnlySQLTransactionError):
        return "read-only"
    if isinstance(error, asyncpg.DiskFullError):
        return "disk full"
    if isinstance(error, asyncpg.InsufficientResourcesError):
        return "busy"
    if isinstance(error, asyncpg.ProtocolViolationError):  # 08P01: what we sent was wrong, a bug
        return None
    unreachable = (asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.CannotConnectNowError)
    if isinstance(error, (asyncpg.PostgresConnectionError, *unreachable)):
        return "unreachable"
    return None


def _one_fault(error: BaseException) -> str | None:
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return next((fault for words, fault in _SQLITE_FAULTS.items() if words in text), None)
    if isinstance(error, compat.NoPooledConnection):
        return "busy"
    if isinstance(error, DBConnectionError):
        return "unreachable"
    if fault := _postgres_fault(error):
        return fault
    if isinstance(error, OSError) and _raised_by_driver(error):
        return "unreachable"
    return None


def fault_of(error: BaseException) -> str | None:
    """What outage of the database an exception shows ("unreachable", "read-only", "disk full",
    "busy"), or None when it is something else (a bug stays a 500 with its traceback)."""
    return next((fault for link in _chain(error) if (fault := _one_fault(link))), None)


@contextlib.contextmanager
def bookkeeping(where: str) -> Iterator[None]:
    """Around a write nobody asked for (when a token was last used): a database that takes no
    writes just now still serves the read that caused it."""
    try:
        yield
    except Exception as error:
        if fault_of(error) not in {"read-only", "disk full", "busy"}:
            raise
        report_fault(error, where)


class _OneLine(logging.Filter):
    """asyncpg's pool logs a traceback each time it fails to reconnect during an outage: keep the
    line, with what the error was, and drop the traceback (a database fault is one clear line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and fault_of(record.exc_info[1]):
            error = record.exc_info[1]
            record.msg, record.args = f"{record.getMessage()}: {type(error).__name__}: {error}", None
            record.exc_info, record.exc_text = None, None
        return True


_ONE_LINE = _OneLine()
logging.getLogger("asyncpg.pool").addFilter(_ONE_LINE)


def report_fault(error: BaseException, where: str) -> None:
    """Log one line for a database fault, and the same fault again only every FAULT_LOG_SECONDS
    with how many times it happened meanwhile (an outage must not write a traceback a request)."""
    fault = fault_of(error) or "error"
    now = time.monotonic()
    last, repeats = _fault_log.get(fault, (-FAULT_LOG_SECONDS, 0))
    if now - last < FAULT_LOG_SECONDS:
        _fault_log[fault] = (last, repeats + 1)
        return
    _fault_log[fault] = (now, 0)
    since = f" ({repeats} more since the last line)" if repeats else ""
    detail = str(error).splitlines()[0][:200] if str(error) else ""
    log.warning("database %s on %s: %s: %s%s", fault, where, type(error).__name__, detail, since)


READY_SECONDS = 2.0


async def readiness() -> str:
    """Whether this process can use the database now: "ok"; "busy" (a writer holds SQLite just now,
    or no pooled connection came free: requests wait their turn); or what makes it unusable:
    "read-only", "disk full" or "unreachable"."""
    try:
        async with asyncio.timeout(READY_SECONDS):
            return await _probe(Tortoise.get_connection("default"))
    except Exception as error:  # noqa: BLE001 - whatever the driver says, it is one of the states
        state = fault_of(error) or _timed_out(error) or "unreachable"
        if state != "busy":
            report_fault(error, "/readyz")
        return state


def _timed_out(error: BaseException) -> str | None:
    """SQLite is a file on this machine: its one connection is slow to answer only while a write
    holds it (queued behind another writer), so that is busy; PostgreSQL that slow is unreachable."""
    if not isinstance(error, TimeoutError):
        return None
    return "busy" if dialect() == "sqlite" else "unreachable"


async def _probe(connection: BaseDBAsyncClient) -> str:
    if connection.capabilities.dialect == "postgres":
        _, rows = await connection.execute_query("SELECT current_setting('transaction_read_only')")
        return "read-only" if rows[0][0] == "on" else "ok"
    _, rows = await connection.execute_query("PRAGMA query_only")
    return "read-only" if rows[0][0] or not _sqlite_writable(connection) else "ok"


def _sqlite_writable(connection: Any) -> bool:
    """Whether the file and its folder (for the -wal and -shm files) can be written."""
    path = Path(connection.filename)
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
