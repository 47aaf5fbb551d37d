"""A worker killed mid-send: its emails move to another worker within seconds, at most one twice."""

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from helpdesk.models import OutboxEmail, OutboxStatus
from helpdesk.services import outbox
from tests.services.test_outbox import queue


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float) -> None:
    """Wait until `check()` holds, polling; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def start_worker(database_url: str, smtp_port: int) -> asyncio.subprocess.Process:
    env = os.environ | {
        "HELPDESK_ENV": "test",
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_SMTP_HOST": "127.0.0.1",
        "HELPDESK_SMTP_PORT": str(smtp_port),
    }
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "helpdesk", "worker", env=env)


async def test_killed_worker_s_emails_are_resent_by_another_within_15_s(app, mailbox):
    async def server_has_one() -> bool:
        return bool(mailbox.received)

    async def all_sent() -> bool:
        return not await OutboxEmail.exclude(status=OutboxStatus.SENT).exists()

    rows = await queue(5)
    mailbox.hold = 1  # the server takes the first email but answers only after the kill
    first = await start_worker(app.config["DATABASE_URL"], mailbox.port)
    try:
        await eventually(server_has_one, within=30)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    killed = time.monotonic()
    mailbox.release()
    second = await start_worker(app.config["DATABASE_URL"], mailbox.port)
    try:
        await eventually(all_sent, within=30)
        took = time.monotonic() - killed
    finally:
        second.terminate()
        await second.wait()
    assert took < 15, f"taken over after {took:.1f} s"
    sent = Counter(message["Message-ID"] for message in mailbox.messages)
    assert set(sent) == {row.message_id for row in rows}
    assert {mid: n for mid, n in sent.items() if n > 1} == {rows[0].message_id: 2}
    twice = await OutboxEmail.filter(maybe_duplicate=True).values_list("id", flat=True)
    assert twice == [rows[0].id]


async def test_heartbeat_renews_only_this_worker_s_claims(app):
    mine, theirs = await queue(2)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    claims = outbox.Claims()
    claims.held = {mine.id, theirs.id}
    await OutboxEmail.filter(id=mine.id).update(
        status=OutboxStatus.SENDING, claimed_by=claims.worker, claimed_until=soon
    )
    await OutboxEmail.filter(id=theirs.id).update(
        status=OutboxStatus.SENDING, claimed_by="another worker", claimed_until=soon
    )
    assert await outbox.renew_claims(claims) == 1
    await mine.refresh_from_db()
    await theirs.refresh_from_db()
    assert mine.claimed_until > soon + timedelta(seconds=outbox.CLAIM_SECONDS - 2)
    assert theirs.claimed_until == soon
