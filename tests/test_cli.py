"""The `helpdesk` command, run as a person runs it: a subprocess with its own environment."""

import os
import sqlite3
import subprocess
import sys

import pytest

from helpdesk.cli import build_parser
from tests.pgserver import free_port

SUBCOMMANDS = [
    "migrate",
    "serve",
    "create-user",
    "create-token",
    "create-organisation",
    "seed-demo",
    "worker",
    "mail-in",
]


def helpdesk(*args: str, database_url: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = os.environ | {"HELPDESK_ENV": "test"} | env
    if database_url:
        environment["HELPDESK_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "helpdesk", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_every_subcommand_is_listed_and_has_help():
    result = helpdesk("--help")
    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout
        sub = helpdesk(name, "--help")
        assert sub.returncode == 0 and "usage: helpdesk " + name in sub.stdout


def test_parser_knows_exactly_the_documented_subcommands():
    choices = build_parser()._subparsers._group_actions[0].choices
    assert sorted(choices) == sorted(SUBCOMMANDS)


def test_bad_database_url_is_one_clear_line():
    result = helpdesk("migrate", database_url="mysql://nobody@localhost/x")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "DATABASE_URL must start with sqlite:// or postgres://" in result.stderr


@pytest.mark.parametrize("wait", ["0", "soon"])
def test_a_bad_pool_wait_is_one_clear_line(wait):
    result = helpdesk("worker", "--once", HELPDESK_DATABASE_POOL_WAIT=wait)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("helpdesk: error: ") and "DATABASE_POOL_WAIT" in result.stderr


def test_unreachable_postgres_is_one_clear_line_without_password():
    url = f"postgres://helpdesk:s3cret@127.0.0.1:{free_port()}/helpdesk"
    result = helpdesk("create-token", "--email", "a@b.c", database_url=url)
    assert result.returncode == 1
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("helpdesk: error: cannot use database postgres://helpdesk:***@")
    assert "s3cret" not in line


def test_default_secret_key_is_refused_in_production():
    result = helpdesk("migrate", HELPDESK_ENV="production")
    assert result.returncode == 1
    assert "SECRET_KEY is the default" in result.stderr


def test_without_helpdesk_env_the_command_refuses_the_shipped_secret_in_one_line():
    environment = {k: v for k, v in os.environ.items() if k not in {"HELPDESK_ENV", "HELPDESK_SECRET_KEY"}}
    result = subprocess.run(
        [sys.executable, "-m", "helpdesk", "migrate"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("helpdesk: error: SECRET_KEY is the default")


def test_a_short_secret_key_is_refused_in_production():
    result = helpdesk("migrate", HELPDESK_ENV="production", HELPDESK_SECRET_KEY="x" * 31)
    assert result.returncode == 1
    assert "SECRET_KEY is shorter than 32 bytes" in result.stderr


def test_env_test_serving_a_public_address_refuses_the_shipped_secret_in_one_line():
    nowhere = f"postgres://helpdesk@127.0.0.1:{free_port()}/helpdesk"  # never reached: config comes first
    result = helpdesk(
        "create-token", "--email", "a@b.c", database_url=nowhere, HELPDESK_BASE_URL="https://help.example.com"
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        "helpdesk: error: SECRET_KEY is the default from config.toml, which ENV=test"
    )


@pytest.fixture
def cli_database(make_database_url) -> str:
    url = make_database_url("cli")
    assert helpdesk("migrate", database_url=url).returncode == 0
    return url


def test_migrate_user_token_and_demo_from_the_command_line(cli_database):
    again = helpdesk("migrate", database_url=cli_database)
    assert again.returncode == 0 and "0 reference rows added" in again.stdout
    created = helpdesk(
        "create-user",
        "--email",
        "ops@example.com",
        "--name",
        "Ops",
        "--agent",
        database_url=cli_database,
    )
    assert created.returncode == 0 and created.stdout.strip().isdigit()
    token = helpdesk("create-token", "--email", "ops@example.com", database_url=cli_database)
    assert token.returncode == 0 and token.stdout.strip().startswith("hd_")
    assert len(token.stdout.strip().splitlines()) == 1
    duplicate = helpdesk(
        "create-user", "--email", "OPS@example.com", "--name", "Ops", database_url=cli_database
    )
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    seeded = helpdesk("seed-demo", "--tickets", "50", database_url=cli_database)
    assert seeded.returncode == 0 and "50 demo tickets" in seeded.stdout
    skipped = helpdesk("seed-demo", "--if-empty", database_url=cli_database)
    assert "already present" in skipped.stdout


def test_sqlite_planner_statistics_are_gathered_by_migrate_and_seed_demo(tmp_path):
    """Without ANALYZE SQLite counted the Unassigned queue through the open-tickets index,
    reading every open ticket: seed-demo gathers statistics after loading, and migrate gathers
    them when there are tickets enough and no statistics (never for an empty database)."""
    path = tmp_path / "stats.sqlite3"
    url = f"sqlite://{path}"

    def ticket_rows_in_stats() -> int:
        with sqlite3.connect(path) as connection:
            return connection.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'ticket'").fetchone()[0]

    assert helpdesk("migrate", database_url=url).returncode == 0
    with sqlite3.connect(path) as connection:
        assert not connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchall()
    assert helpdesk("seed-demo", "--tickets", "1000", database_url=url).returncode == 0
    assert ticket_rows_in_stats() >= 1
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM sqlite_stat1")
    assert helpdesk("migrate", database_url=url).returncode == 0
    assert ticket_rows_in_stats() >= 1


def test_create_user_obeys_the_password_rule(cli_database):
    short = helpdesk(
        "create-user", "--email", "a@example.com", "--name", "A", "--password", "x", database_url=cli_database
    )
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    good = ("--password", "a long enough passphrase")
    created = helpdesk(
        "create-user", "--email", "a@example.com", "--name", "A", *good, database_url=cli_database
    )
    assert created.returncode == 0 and created.stdout.strip().isdigit()
