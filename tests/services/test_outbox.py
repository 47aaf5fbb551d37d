"""The email outbox: queued in its cause's transaction, delivered once over real SMTP, retried."""

import asyncio
import os
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from helpdesk.models import OutboxEmail, OutboxStatus
from helpdesk.services import claims as claiming
from helpdesk.services import outbox
from tests.factories import make_ticket
from tests.pgserver import free_port


async def queue(n: int = 1, **fields) -> list[OutboxEmail]:
    async with in_transaction():
        return [
            await outbox.queue_email(
                **{
                    "recipient": f"person{i}@customer.example",
                    "subject": f"Subject {i}",
                    "body_text": "Plain body",
                    "body_html": "<p>HTML body</p>",
                }
                | fields
            )
            for i in range(n)
        ]


def at(moment: datetime):
    """A clock stopped at `moment`: every step of a delivery round happens then."""
    return lambda: moment


def ticking(start: datetime, step: timedelta):
    """A clock that moves on by `step` each time it is read, and the list of what it said."""
    told: list[datetime] = []

    def clock() -> datetime:
        told.append(start + step * len(told))
        return told[-1]

    return clock, told


def down(config: dict) -> dict:
    """The config pointed at a loopback port where nothing listens."""
    return config | {"SMTP_PORT": free_port()}


async def test_delivered_message_has_parts_and_headers(app, mailbox):
    ticket = await make_ticket(title="Phones down")
    [row] = await queue(ticket=ticket, subject="[INC-1] Phones down\r\nBcc: victim@evil.example")
    assert await outbox.deliver_due(mailbox.config(app.config)) == 1
    [(envelope, message)] = mailbox.received
    assert envelope.rcpt_tos == ["person0@customer.example"]
    assert message["Subject"] == "[INC-1] Phones down Bcc: victim@evil.example"
    assert message["Bcc"] is None
    assert message["From"] == app.config["MAIL_FROM"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == row.message_id
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().strip() == "Plain body"
    assert message.get_body(("html",)).get_content().strip() == "<p>HTML body</p>"
    await row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_until) == (OutboxStatus.SENT, 1, None)
    assert row.sent_at is not None


async def test_header_values_never_carry_line_breaks():
    assert outbox.header_value("a\r\nBcc: x\u2028y\n") == "a Bcc: x y"


async def test_smtp_down_then_up_delivers_each_email_exactly_once(app, mailbox):
    rows = await queue(3)
    config, start = mailbox.config(app.config), datetime.now(UTC)
    assert await outbox.deliver_due(down(config), clock=at(start)) == 0
    assert await outbox.deliver_due(down(config), clock=at(start + timedelta(seconds=31))) == 0
    failed = await OutboxEmail.get(id=rows[0].id)
    assert (failed.status, failed.attempts) == (OutboxStatus.PENDING, 2)
    assert "onnect" in failed.last_error
    assert failed.next_attempt_at == start + timedelta(seconds=31 + 60)
    assert await outbox.deliver_due(config, clock=at(start + timedelta(seconds=60))) == 0
    assert await outbox.deliver_due(config, clock=at(start + timedelta(seconds=91))) == 3
    assert await outbox.deliver_due(config, clock=at(start + timedelta(days=1))) == 0
    assert sorted(m["Message-ID"] for m in mailbox.messages) == sorted(r.message_id for r in rows)


async def test_temporary_refusal_is_retried(app, mailbox):
    [row] = await queue()
    mailbox.defer = 1
    config, start = mailbox.config(app.config), datetime.now(UTC)
    assert await outbox.deliver_due(config, clock=at(start)) == 0
    await row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and "451" in row.last_error
    assert await outbox.deliver_due(config, clock=at(start + timedelta(seconds=30))) == 1
    assert len(mailbox.messages) == 1


async def test_silent_server_times_out_and_is_retried(app, mailbox):
    server = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    config = mailbox.config(app.config) | {
        "SMTP_PORT": server.sockets[0].getsockname()[1],
        "SMTP_TIMEOUT": 0.2,
    }
    [row] = await queue()
    async with server:
        assert await outbox.deliver_due(config) == 0
    await row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and "imeout" in row.last_error


async def test_gives_up_after_the_configured_time(app, mailbox):
    [row] = await queue()
    late = row.created_at + timedelta(seconds=app.config["MAIL_GIVE_UP_AFTER"])
    assert await outbox.deliver_due(down(mailbox.config(app.config)), clock=at(late)) == 0
    await row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and row.last_error
    assert await outbox.deliver_due(mailbox.config(app.config), clock=at(late + timedelta(days=9))) == 0


async def test_rejected_recipient_fails_at_once(app, mailbox):
    [row] = await queue(recipient="nobody@customer.example")
    mailbox.refuse.add("nobody@customer.example")
    assert await outbox.deliver_due(mailbox.config(app.config)) == 0
    await row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and "550" in row.last_error


async def test_row_stuck_in_sending_is_claimable_after_its_lease(app, mailbox):
    [row] = await queue()
    now = datetime.now(UTC)
    await OutboxEmail.filter(id=row.id).update(
        status=OutboxStatus.SENDING, claimed_until=now + timedelta(seconds=5)
    )
    config = mailbox.config(app.config)
    assert await outbox.deliver_due(config, clock=at(now)) == 0
    assert await outbox.deliver_due(config, clock=at(now + timedelta(seconds=6))) == 1
    assert len(mailbox.messages) == 1


async def test_concurrent_workers_never_send_twice(app, mailbox):
    rows = await queue(30)
    config = mailbox.config(app.config)
    delivered = await asyncio.gather(*(outbox.deliver_due(config, limit=50) for _ in range(3)))
    assert sum(delivered) == 30
    ids = [m["Message-ID"] for m in mailbox.messages]
    assert sorted(ids) == sorted(r.message_id for r in rows)
    assert await OutboxEmail.filter(status=OutboxStatus.SENT, attempts=1).count() == 30


async def test_worker_once_delivers_everything_due(app, mailbox):
    await queue(25)
    await outbox.run_worker(mailbox.config(app.config), once=True)
    assert len(mailbox.messages) == 25
    assert await OutboxEmail.exclude(status=OutboxStatus.SENT).count() == 0


async def test_queued_email_rolls_back_with_its_cause(app):
    try:
        async with in_transaction():
            await outbox.queue_email(recipient="a@b.example", subject="s", body_text="t", body_html="h")
            raise RuntimeError("the cause failed")
    except RuntimeError:
        pass
    assert await OutboxEmail.all().count() == 0


async def test_two_worker_processes_on_one_database_send_each_email_once(app, mailbox):
    """Two `helpdesk worker --once` processes race for the same rows (SKIP LOCKED / conditional UPDATE)."""
    rows = await queue(300)
    env = os.environ | {
        "HELPDESK_ENV": "test",
        "HELPDESK_DATABASE_URL": app.config["DATABASE_URL"],
        "HELPDESK_SMTP_HOST": "127.0.0.1",
        "HELPDESK_SMTP_PORT": str(mailbox.port),
    }
    workers = [
        await asyncio.create_subprocess_exec(sys.executable, "-m", "helpdesk", "worker", "--once", env=env)
        for _ in range(2)
    ]
    assert [await asyncio.wait_for(worker.wait(), timeout=60) for worker in workers] == [0, 0]
    ids = [m["Message-ID"] for m in mailbox.messages]
    assert len(ids) == 300 and sorted(ids) == sorted(r.message_id for r in rows)
    assert await OutboxEmail.filter(status=OutboxStatus.SENT, attempts=1).count() == 300


async def eventually(check, *, within: float = 30) -> None:
    """Wait until `check()` holds, polling; fail after `within` seconds (a bound, not a measure)."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_each_step_of_each_email_is_stamped_at_its_own_time(app, mailbox):
    first, second = await queue(2)
    clock, told = ticking(datetime.now(UTC), timedelta(seconds=1))
    assert await outbox.deliver_due(mailbox.config(app.config), clock=clock) == 2
    claimed_at, first_started, first_sent, second_started, second_sent = told
    await first.refresh_from_db()
    await second.refresh_from_db()
    assert (first.sent_at, second.sent_at) == (first_sent, second_sent)
    assert first_sent < second_started


async def test_each_failure_is_retried_from_its_own_time(app, mailbox):
    first, second = await queue(2)
    clock, told = ticking(datetime.now(UTC), timedelta(seconds=1))
    assert await outbox.deliver_due(down(mailbox.config(app.config)), clock=clock) == 0
    claimed_at, first_started, first_failed, second_started, second_failed = told
    await first.refresh_from_db()
    await second.refresh_from_db()
    retry = timedelta(seconds=outbox.FIRST_RETRY_SECONDS)
    assert (first.next_attempt_at, second.next_attempt_at) == (first_failed + retry, second_failed + retry)


async def test_an_email_whose_claim_lapsed_before_its_turn_is_not_sent(app, mailbox):
    """The first send outlasted the claims (no heartbeat renewed them): the second email is left
    for whichever worker claims it next, and never handed to the server under a lapsed claim."""
    first, second = await queue(2)
    start = datetime.now(UTC)
    clock, told = ticking(start, timedelta(seconds=claiming.CLAIM_SECONDS / 2))
    assert await outbox.deliver_due(mailbox.config(app.config), clock=clock) == 1
    assert [m["Message-ID"] for m in mailbox.messages] == [first.message_id]
    await second.refresh_from_db()
    assert (second.status, second.send_started_at) == (OutboxStatus.SENDING, None)
    later = start + timedelta(seconds=claiming.CLAIM_SECONDS + claiming.POLL_SECONDS)
    assert await outbox.deliver_due(mailbox.config(app.config), clock=at(later)) == 1
    await second.refresh_from_db()
    assert (second.status, second.attempts, second.maybe_duplicate) == (OutboxStatus.SENT, 2, False)


@pytest.mark.parametrize("change", ["lapsed", "taken over"])
async def test_an_email_this_worker_no_longer_holds_is_skipped(app, mailbox, change):
    """While the server takes the first email, the claim on the second lapses, or another worker
    takes the second over: this worker does not send it."""
    first, second = await queue(2)
    mailbox.hold = 1
    delivering = asyncio.create_task(outbox.deliver_due(mailbox.config(app.config)))

    async def first_with_the_server() -> bool:
        return bool(mailbox.received)

    await eventually(first_with_the_server)
    now = datetime.now(UTC)
    if change == "lapsed":
        await OutboxEmail.filter(id=second.id).update(claimed_until=now - timedelta(seconds=1))
    else:
        await OutboxEmail.filter(id=second.id).update(
            claimed_by="another worker", attempts=2, claimed_until=now + timedelta(seconds=60)
        )
    mailbox.release()
    assert await delivering == 1
    assert [m["Message-ID"] for m in mailbox.messages] == [first.message_id]
    await second.refresh_from_db()
    assert (second.status, second.send_started_at) == (OutboxStatus.SENDING, None)
