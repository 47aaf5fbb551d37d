"""`helpdesk serve` with WORKER_IN_PROCESS (the single-node setup `make run` uses) runs the SLA timer
beside the outbox and mail intake: a demo desk's overdue tickets are announced without a separate
`helpdesk worker`. (Before, only `helpdesk worker` ran the timer, so `make run` never warned.)"""

import asyncio
import os
import sqlite3
import time

import asyncpg

from tests.liveserver import run_cli, serving
from tests.pgserver import free_port

ANNOUNCED = "SELECT count(*) FROM sla_event"


async def _count(database_url: str) -> int:
    if database_url.startswith("sqlite://"):
        with sqlite3.connect(database_url.removeprefix("sqlite://")) as connection:
            return connection.execute(ANNOUNCED).fetchone()[0]
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1), timeout=5)
    try:
        return await connection.fetchval(ANNOUNCED)
    finally:
        await connection.close()


async def test_serve_with_the_worker_in_process_announces_overdue_tickets(make_database_url, tmp_path):
    database_url = make_database_url("inproc")
    env = os.environ | {
        "HELPDESK_ENV": "test",
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_WORKER_IN_PROCESS": "true",
        "HELPDESK_SMTP_PORT": str(free_port()),  # nothing listens: the emails stay queued
        "HELPDESK_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
    }
    run_cli("migrate", env=env)
    run_cli("seed-demo", "--tickets", "60", env=env)  # its newest tickets have warned and breached clocks
    assert await _count(database_url) == 0
    with serving(port=free_port(), env=env, log_path=tmp_path / "server.log"):
        deadline = time.monotonic() + 20
        while (announced := await _count(database_url)) == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
    assert announced > 0
