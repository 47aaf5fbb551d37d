"""A worker killed mid-send: its emails move to another worker within seconds, at most one twice."""

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise

from helpdesk.models import OutboxEmail, OutboxStatus
from helpdesk.services import claims as claiming
from helpdesk.services import outbox
from tests.services.test_outbox import at, eventually, queue


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
    claims = claiming.Claims()
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
    assert mine.claimed_until > soon + timedelta(seconds=claiming.CLAIM_SECONDS - 2)
    assert theirs.claimed_until == soon


def test_a_live_worker_keeps_its_claims_through_missed_beats_and_a_dead_one_s_move_on_within_15_s():
    """A worker that dies just after a beat leaves claims that lapse CLAIM_SECONDS later; another
    worker's next poll comes within POLL_SECONDS. A live one survives several missed beats."""
    assert claiming.CLAIM_SECONDS + claiming.POLL_SECONDS < 15
    assert claiming.CLAIM_SECONDS >= 5 * claiming.HEARTBEAT_SECONDS


async def test_a_dead_worker_s_rows_are_taken_over_once_its_claims_lapse(app, mailbox):
    """The dead worker's last beat was at `beat`: nothing moves before its claims lapse, everything
    after, and the one the server was taking is marked as maybe sent twice."""
    rows = await queue(3)
    beat = datetime.now(UTC)
    await OutboxEmail.filter(id__in=[row.id for row in rows]).update(
        status=OutboxStatus.SENDING, claimed_by="dead worker", attempts=1,
        claimed_until=beat + timedelta(seconds=claiming.CLAIM_SECONDS),
    )  # fmt: skip
    await OutboxEmail.filter(id=rows[0].id).update(send_started_at=beat)
    config = mailbox.config(app.config)
    assert await outbox.deliver_due(config, clock=at(beat + timedelta(seconds=claiming.CLAIM_SECONDS))) == 0
    lapsed = beat + timedelta(seconds=claiming.CLAIM_SECONDS + claiming.POLL_SECONDS)
    assert await outbox.deliver_due(config, clock=at(lapsed)) == 3
    twice = await OutboxEmail.filter(maybe_duplicate=True).values_list("id", flat=True)
    assert twice == [rows[0].id]


def pending_heartbeats(before: set[asyncio.Task]) -> list[asyncio.Task]:
    """The worker's own tasks still pending; the database driver's tasks (asyncpg releases a pooled
    connection in a shielded task of its own, which can outlive the call by a tick) are not ours."""
    return [
        task
        for task in asyncio.all_tasks() - before
        if not task.done() and task.get_name().startswith("outbox heartbeat")
    ]


async def test_the_heartbeat_ends_with_its_worker(app, mailbox):
    """No heartbeat is left pending (to be destroyed with the event loop) when the worker returns,
    or when it is cancelled as `helpdesk serve` does on shutdown."""
    config = mailbox.config(app.config)
    before = asyncio.all_tasks()
    await queue(2)
    await outbox.run_worker(config, once=True)
    assert pending_heartbeats(before) == []

    await queue(1)
    worker = asyncio.create_task(outbox.run_worker(config))

    async def all_sent() -> bool:
        return len(mailbox.messages) == 3

    await eventually(all_sent)
    worker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await worker
    assert pending_heartbeats(before) == []


async def test_a_failed_beat_is_one_line_and_the_next_one_renews(app, caplog):
    [row] = await queue(1)
    claims = claiming.Claims()
    claims.held = {row.id}
    soon = datetime.now(UTC) + timedelta(seconds=1)
    await OutboxEmail.filter(id=row.id).update(
        status=OutboxStatus.SENDING, claimed_by=claims.worker, claimed_until=soon
    )
    connection = Tortoise.get_connection("default")
    await connection.execute_script("ALTER TABLE outbox_email RENAME TO outbox_email_away")
    try:
        with caplog.at_level(logging.WARNING, logger="helpdesk.services.claims"):
            await claiming.beat(outbox.OUTBOX, claims)
    finally:
        await connection.execute_script("ALTER TABLE outbox_email_away RENAME TO outbox_email")
    [record] = caplog.records
    assert record.getMessage().startswith("outbox: 1 claims not renewed: ")
    assert "\n" not in record.getMessage() and record.exc_info is None
    await claiming.beat(outbox.OUTBOX, claims)
    await row.refresh_from_db()
    assert row.claimed_until > soon


async def test_a_worker_stops_when_its_cancellation_meets_the_answer_it_waits_for(app):
    """Python 3.11's asyncio.wait_for (aiosmtplib's) drops a cancellation that arrives together with
    the answer it waits for. The worker stops all the same: it used to run on for ever, into the
    tests that came after it."""
    answer = asyncio.get_running_loop().create_future()
    rounds = 0

    async def one_round(claims: claiming.Claims) -> int:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            await asyncio.wait_for(answer, 10)
        return 0

    worker = asyncio.create_task(claiming.run_worker(outbox.OUTBOX, one_round))
    try:
        while rounds == 0:
            await asyncio.sleep(0)
        answer.set_result(None)
        worker.cancel()
        await asyncio.wait({worker}, timeout=5)
        assert worker.cancelled(), f"still running after {rounds} rounds"
    finally:
        worker.cancel()
