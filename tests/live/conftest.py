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


@pytest.fixture(scope="session")
def live_server(make_database_url, tmp_path_factory):
    """Migrate a new database, create an admin with a token and the blueprint's example organisation."""
    database_url = make_database_url("live")
    env = os.environ | {
        "HELPDESK_ENV": "test",
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_WORKER_IN_PROCESS": "false",
        "HELPDESK_SMTP_PORT": str(free_port()),  # nothing listens: emails stay queued, requests unaffected
    }
    run_cli("migrate", env=env)
    run_cli("create-user", "--email", "dredd@example.com", "--name", "Dredd Admin", "--admin", "--agent",
        "--human-id", "USR-12453", "--organisation", "ORG-12333", env=env)  # fmt: skip
    run_cli("create-organisation", "--human-id", "ORG-1", "--legal-name", "Partner plc", "--name", "Partner",
        "--role", "partner", env=env)  # fmt: skip
    run_cli("create-organisation", "--human-id", "ORG-12333", "--legal-name", "Acme Company",
        "--name", "Acme", "--parent", "ORG-1", env=env)  # fmt: skip
    token = run_cli("create-token", "--email", "dredd@example.com", env=env)
    log_path = tmp_path_factory.mktemp("live") / "server.log"
    with serving(port=free_port(), env=env, log_path=log_path) as base_url:
        yield LiveServer(base_url, token, database_url)
