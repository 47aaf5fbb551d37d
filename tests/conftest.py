"""Test setup: one migrated database per run (SQLite, or PostgreSQL when HELPDESK_TEST_DB=postgres),
the app started through its lifespan, and a clean database for every test."""

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from quart import Quart
from tortoise import Tortoise

from helpdesk import create_app, db
from helpdesk.services import cache
from helpdesk.services.reference import load_reference_data
from tests.pgserver import PostgresServer

TEST_DB = os.environ.get("HELPDESK_TEST_DB", "sqlite")


@pytest.fixture(scope="session")
def database_server() -> Iterator[PostgresServer | None]:
    """The PostgreSQL server of this run, or None on SQLite."""
    if TEST_DB != "postgres":
        yield None
        return
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def make_database_url(database_server: PostgresServer | None, tmp_path_factory):
    """A factory of fresh, empty databases of the kind under test."""
    counter = iter(range(10_000))

    def make(label: str = "db") -> str:
        name = f"{label}_{next(counter)}"
        if database_server is None:
            return f"sqlite://{tmp_path_factory.mktemp(name) / 'helpdesk.sqlite3'}"
        return database_server.create_database(name)

    return make


@pytest.fixture(scope="session")
async def database_url(make_database_url) -> str:
    url = make_database_url("helpdesk")
    await db.migrate_database(url)
    return url


@pytest.fixture(scope="session")
def app_config(database_url: str) -> dict:
    return {
        "ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-of-32-bytes-or-longer",  # BASE_URL is not loopback: ENV=test wants 32
        "BASE_URL": "http://testserver.local",
        "WORKER_IN_PROCESS": False,
        "ATTACHMENTS_DIR": tempfile.mkdtemp(prefix="helpdesk-attachments-"),
    }


@pytest.fixture(scope="session")
async def app(app_config: dict) -> AsyncIterator[Quart]:
    """The app, started through its lifespan once for the run (the ORM lives with it)."""
    application = create_app(app_config)
    async with application.test_app():
        yield application


async def _empty_all_tables() -> None:
    connection = Tortoise.get_connection("default")
    tables = [model._meta.db_table for model in Tortoise.apps["helpdesk"].values()]
    if db.dialect() == "postgres":
        names = ", ".join(f'"{t}"' for t in tables)
        await connection.execute_script(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        script = "".join(f'DELETE FROM "{t}";' for t in tables)
        await connection.execute_script(
            f"PRAGMA foreign_keys=OFF;{script}DELETE FROM sqlite_sequence;PRAGMA foreign_keys=ON;"
        )


@pytest.fixture(autouse=True)
async def clean_database(request: pytest.FixtureRequest) -> None:
    """Every test that uses the app starts from the reference data alone."""
    if "app" not in request.fixturenames:
        return
    await _empty_all_tables()
    cache.changed()  # the tables were emptied behind the services' back
    request.getfixturevalue("app").extensions["feed"].restart_from(0)  # the feed's ids start again
    await load_reference_data()


@pytest.fixture
def client(app: Quart):
    return app.test_client()


@pytest.fixture(scope="session")
def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="helpdesk-test-"))


@pytest.fixture(scope="session")
def smtp_server():
    """One real SMTP server for the run (tests/smtp.py)."""
    from tests.smtp import MailSink

    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def mailbox(smtp_server, app):
    """The SMTP server, emptied, with `mailbox.config(app.config)` pointing the outbox at it."""
    smtp_server.clear()
    return smtp_server
