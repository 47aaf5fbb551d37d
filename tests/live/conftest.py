"""A live `helpdesk serve` on a free loopback port, over its own freshly migrated database."""

import os
from dataclasses import dataclass

import pytest

from tests.liveserver import run_cli, serving
from tests.pgserver import free_port


@dataclass
class LiveServer:
    base_url: str
    token: str
    database_url: str
    env: dict[str, str]


@pytest.fixture(scope="session")
def live_server(make_database_url, tmp_path_factory):
    """Migrate a new database, create an admin with a token and the blueprint's example organisation."""
    yield from _live(make_database_url("live"), tmp_path_factory)


@pytest.fixture(scope="session")
def two_worker_server(make_database_url, tmp_path_factory):
    """Like `live_server`, with two server processes writing to one database and no rate limit."""
    yield from _live(
        make_database_url("live2"), tmp_path_factory, workers=2, extra={"HELPDESK_API_RATE_PER_MINUTE": "0"}
    )


def _live(database_url: str, tmp_path_factory, workers: int = 1, extra: dict[str, str] | None = None):
    env = (
        os.environ
        | {
            "HELPDESK_ENV": "test",
            "HELPDESK_DATABASE_URL": database_url,
            "HELPDESK_WORKER_IN_PROCESS": "false",
            "HELPDESK_SMTP_PORT": str(
                free_port()
            ),  # nothing listens: emails stay queued, requests unaffected
            "HELPDESK_ATTACHMENTS_DIR": str(tmp_path_factory.mktemp("attachments")),
        }
        | (extra or {})
    )
    run_cli("migrate", env=env)
    run_cli("create-user", "--email", "dredd@example.com", "--name", "Dredd Admin", "--admin", "--agent",
        "--human-id", "USR-12453", "--organisation", "ORG-12333", env=env)  # fmt: skip
    run_cli("create-organisation", "--human-id", "ORG-1", "--legal-name", "Partner plc", "--name", "Partner",
        "--role", "partner", env=env)  # fmt: skip
    run_cli("create-organisation", "--human-id", "ORG-12333", "--legal-name", "Acme Company",
        "--name", "Acme", "--parent", "ORG-1", env=env)  # fmt: skip
    token = run_cli("create-token", "--email", "dredd@example.com", env=env)
    log_path = tmp_path_factory.mktemp("live") / "server.log"
    with serving(port=free_port(), env=env, log_path=log_path, workers=workers) as base_url:
        yield LiveServer(base_url, token, database_url, env)
