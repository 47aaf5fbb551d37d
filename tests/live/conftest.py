"""A live `helpdesk serve` on a free loopback port, over its own freshly migrated database."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx
import pytest

from tests.pgserver import free_port


@dataclass
class LiveServer:
    base_url: str
    token: str
    database_url: str


def cli(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "helpdesk", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _wait_until_up(url: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"helpdesk serve exited with {process.returncode}: {log.read()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("helpdesk serve did not answer within 20 s")


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
    cli("migrate", env=env)
    cli("create-user", "--email", "dredd@example.com", "--name", "Dredd Admin", "--admin", "--agent",
        "--human-id", "USR-12453", "--organisation", "ORG-12333", env=env)  # fmt: skip
    cli("create-organisation", "--human-id", "ORG-1", "--legal-name", "Partner plc", "--name", "Partner",
        "--role", "partner", env=env)  # fmt: skip
    cli("create-organisation", "--human-id", "ORG-12333", "--legal-name", "Acme Company", "--name", "Acme",
        "--parent", "ORG-1", env=env)  # fmt: skip
    token = cli("create-token", "--email", "dredd@example.com", env=env)
    port = free_port()
    log = open(tmp_path_factory.mktemp("live") / "server.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "helpdesk", "serve", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process, log)
        yield LiveServer(base_url, token, database_url)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
