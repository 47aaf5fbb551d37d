"""Email intake end to end: messages delivered by LMTP (smtplib.LMTP against the server of
`helpdesk mail-in`, in this process) and by IMAP (a real Dovecot), stored, then processed by the
intake worker."""

import asyncio
import email.policy
import os
import smtplib
import socket
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage

import pytest

from helpdesk import mail_imap, mail_lmtp
from helpdesk.models import (
    AssignmentMode,
    BouncingAddress,
    Comment,
    Group,
    GroupMember,
    InboundEmail,
    InboundStatus,
    OutboxEmail,
    OutboxStatus,
    SlaCalendar,
    SlaPolicy,
    Ticket,
    TicketHistory,
)
from helpdesk.services import mail_intake, mail_routing, outbox, sla, ticket_contacts, tickets, timeline
from helpdesk.services.reply_address import reply_address, ticket_of_address
from tests import imapserver
from tests.factories import make_admin, make_agent, make_customer, make_organisation, make_ticket
from tests.pgserver import free_port

CONTACT = "pat@customer.example"


@pytest.fixture
def config(app) -> dict:
    return dict(app.config) | {
        "MAIL_FROM": "Helpdesk <helpdesk@example.com>",
        "MAIL_IN_ADDRESS": "support@example.com",
        "MAIL_IN_UNKNOWN_SENDERS": "refuse",
        "MAIL_IN_SENDER_HOURLY_LIMIT": 20,
    }


@pytest.fixture
async def lmtp(config):
    """The LMTP server of `helpdesk mail-in`, on a free loopback port for the test."""
    port = free_port()
    server = await mail_lmtp.start_server("127.0.0.1", port, config)
    yield port
    server.close()
    await server.wait_closed()


def _send_lmtp(port: int, message: EmailMessage, recipients: list[str]) -> dict:
    with smtplib.LMTP("127.0.0.1", port) as client:
        return client.send_message(message, to_addrs=recipients)


async def deliver(port: int, message: EmailMessage, recipients: tuple[str, ...] = ("support@example.com",)):
    """Hand the message over by LMTP (the blocking client in a thread: the server runs in this loop)."""
    return await asyncio.to_thread(_send_lmtp, port, message, list(recipients))


def mail(sender: str, subject: str, body: str, message_id: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


async def notified_ticket() -> tuple[Ticket, OutboxEmail]:
    """A ticket whose contact got the "ticket received" email (its Message-ID is on record)."""
    await make_organisation()
    ticket = await make_ticket(contacts=_contacts(CONTACT))
    sent = await OutboxEmail.get(ticket_id=ticket.id, recipient=CONTACT)
    return ticket, sent


async def test_an_email_reply_starts_the_next_response_clock(lmtp, config):
    calendar = await SlaCalendar.create(name="24x7", hours="Mon-Sun 00:00-24:00", time_zone="UTC")
    await SlaPolicy.create(
        name="Default", position=0, calendar=calendar,
        first_response_minutes=60, next_response_minutes=120, resolution_minutes=480,
    )  # fmt: skip
    sla.policies_changed()
    ticket, sent = await notified_ticket()
    await tickets.post_comment(human_id=ticket.human_id, body="Looking", actor=await make_agent())
    assert (await Ticket.get(id=ticket.id)).next_response_due_at is None
    reply = mail(f"Pat <{CONTACT}>", "Re: Phones down", "Any news?", "<r-sla@customer.example>",
                 In_Reply_To=sent.message_id)  # fmt: skip
    await deliver(lmtp, reply)
    await mail_intake.process_due(config)
    comment = await Comment.get(ticket_id=ticket.id, email_from=CONTACT)
    stored = await Ticket.get(id=ticket.id)
    assert stored.next_response_due_at == comment.created_at + timedelta(minutes=120)


def _contacts(address: str):
    from helpdesk.services.tickets import Contacts

    return Contacts(main_email=address)


async def test_a_reply_to_a_notification_becomes_one_public_comment_however_often_it_is_delivered(
    lmtp, config
):
    ticket, sent = await notified_ticket()
    reply = mail(
        f"Pat <{CONTACT}>", f"Re: [{ticket.human_id}] Phones down",
        "Still down.\n\nOn Mon, Helpdesk wrote:\n> x",
        "<reply-1@customer.example>", In_Reply_To=sent.message_id,
    )  # fmt: skip
    assert await deliver(lmtp, reply) == {}
    assert await deliver(lmtp, reply) == {}  # a redelivery
    assert await InboundEmail.all().count() == 1
    await mail_intake.process_due(config)
    await mail_intake.process_due(config)
    comments = await Comment.filter(ticket_id=ticket.id)
    assert [(c.body, c.internal, c.channel, c.email_from) for c in comments] == [
        ("Still down.", False, "email", CONTACT)
    ]
    stored = await InboundEmail.get()
    assert stored.status == InboundStatus.DONE and stored.comment_id == comments[0].id
    assert "On Mon, Helpdesk wrote:" in stored.body_text  # the original is kept whole
    agent = await make_agent()
    thread = await timeline.thread_of(ticket=ticket, actor=agent)
    assert (thread[0].channel, thread[0].author_name) == ("email", CONTACT)


async def test_the_reply_address_and_a_contacts_subject_tag_find_the_ticket(lmtp, config):
    ticket, _ = await notified_ticket()
    address = reply_address(ticket.id, config)
    assert ticket_of_address(address, config) == ticket.id
    assert ticket_of_address(address.replace("+INC-", "+INC-9"), config) is None  # another ticket, forged
    by_address = mail(CONTACT, "no tag here", "by address", "<a-1@customer.example>")
    await deliver(lmtp, by_address, (address,))
    by_tag = mail(CONTACT, f"About [{ticket.human_id}]", "by tag", "<a-2@customer.example>")
    await deliver(lmtp, by_tag)
    await mail_intake.process_due(config)
    assert sorted(await Comment.filter(ticket_id=ticket.id).values_list("body", flat=True)) == [
        "by address", "by tag"
    ]  # fmt: skip


async def test_the_outbox_sets_the_tickets_reply_address_as_reply_to(config):
    ticket, sent = await notified_ticket()
    message = outbox.build_message(sent, config)
    assert message["Reply-To"] == reply_address(ticket.id, config)
    assert ticket_of_address(message["Reply-To"], config) == ticket.id


async def test_a_new_mail_from_a_customer_opens_a_ticket_in_their_organisation(lmtp, config):
    await make_organisation(default_contract_hid="CON-9", default_tenant_hid="7")
    customer = await make_customer(email="cust@customer.example", human_id="USR-5")
    await deliver(lmtp, mail("cust@customer.example", "Printer on fire", "Please help", "<new-1@c.example>"))
    await mail_intake.process_due(config)
    ticket = await Ticket.get()
    assert (ticket.title, ticket.description, ticket.organisation_hid, ticket.contract_hid) == (
        "Printer on fire", "Please help", "ORG-1", "CON-9"
    )  # fmt: skip
    assert ticket.reporter_hid == customer.human_id
    assert await OutboxEmail.filter(ticket_id=ticket.id, recipient="cust@customer.example").count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"X_Autoreply": "yes"},
        {"List_Id": "<dev.lists.example>"},
    ],
)
async def test_automatic_mail_creates_nothing(lmtp, config, headers):
    ticket, sent = await notified_ticket()
    reply = mail(
        CONTACT, "Out of office", "Away", "<ooo@customer.example>", In_Reply_To=sent.message_id, **headers
    )
    await deliver(lmtp, reply)
    await mail_intake.process_due(config)
    stored = await InboundEmail.get()
    assert stored.status == InboundStatus.REFUSED and "automatically" in stored.outcome
    assert await Comment.filter(ticket_id=ticket.id).count() == 0
    assert await OutboxEmail.filter(ticket_id=ticket.id).count() == 1  # no auto-reply


async def test_the_helpdesks_own_mail_creates_nothing(lmtp, config):
    ticket, sent = await notified_ticket()
    await deliver(lmtp, outbox.build_message(sent, config))  # our own email, looped back
    own = mail("helpdesk@example.com", "hello", "loop", "<own@example.com>")
    await deliver(lmtp, own)
    await mail_intake.process_due(config)
    assert [row.status for row in await InboundEmail.all()] == [InboundStatus.REFUSED] * 2
    assert await Comment.all().count() == 0 and await Ticket.all().count() == 1


def bounce_for(sent: OutboxEmail, message_id: str = "<dsn-1@mx.example>") -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"
        "To: helpdesk@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {message_id}\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI could not deliver your message.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; {sent.recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {sent.message_id}\r\n"
        f"To: {sent.recipient}\r\nSubject: {sent.subject}\r\n\r\n--B--\r\n"
    ).encode()


async def test_a_bounce_marks_the_contact_and_holds_its_mail_until_an_agent_clears_it(lmtp, config, client):
    ticket, sent = await notified_ticket()
    await mail_intake.store(bounce_for(sent), via="lmtp")
    await mail_intake.process_due(config)
    assert (await BouncingAddress.get()).address == CONTACT
    assert (await InboundEmail.get()).status == InboundStatus.DONE
    assert await outbox.bouncing(sent) is not None
    agent = await make_agent()
    shown = await ticket_contacts.list_contacts(ticket=ticket, actor=agent)
    assert [(row.value, row.bouncing) for row in shown] == [(CONTACT, (await BouncingAddress.get()).reason)]
    assert [row.bouncing for row in await timeline.emails_of(ticket=ticket, actor=agent)] == [True]
    await mail_routing.clear_bouncing(human_id=ticket.human_id, address=CONTACT, actor=agent)
    assert await BouncingAddress.all().count() == 0
    assert await outbox.bouncing(sent) is None


async def test_a_reply_from_a_stranger_is_an_unverified_note_until_an_agent_accepts_it(lmtp, config):
    ticket, sent = await notified_ticket()
    spoof = mail(
        "mallory@evil.example",
        "Re: it",
        "Send the invoice to me",
        "<spoof@evil>",
        In_Reply_To=sent.message_id,
    )
    await deliver(lmtp, spoof)
    await mail_intake.process_due(config)
    note = await Comment.get(ticket_id=ticket.id)
    assert (note.internal, note.unverified, note.email_from) == (True, True, "mallory@evil.example")
    customer = await make_customer(email="cust2@customer.example")
    assert await timeline.thread_of(ticket=ticket, actor=customer) == []  # customers never see it
    agent = await make_agent()
    await mail_routing.accept_unverified(human_id=ticket.human_id, comment_id=note.id, actor=agent)
    note = await Comment.get(id=note.id)
    assert (note.internal, note.unverified) == (False, False)


async def test_unknown_senders_are_refused_with_the_reason_or_open_a_ticket_by_policy(lmtp, config):
    await deliver(lmtp, mail("who@nowhere.example", "Hi", "text", "<u-1@nowhere>"))
    await mail_intake.process_due(config)
    stored = await InboundEmail.get()
    assert stored.status == InboundStatus.REFUSED and "MAIL_IN_UNKNOWN_SENDERS" in stored.outcome
    admin = await make_admin()
    assert [row.id for row in await mail_intake.problems(actor=admin)] == [stored.id]


async def test_a_message_that_breaks_processing_is_kept_with_the_reason_and_retried(lmtp, config):
    await make_organisation(default_contract_hid="CON-1", default_tenant_hid="1")
    broken = config | {"MAIL_IN_UNKNOWN_SENDERS": "open", "MAIL_IN_UNKNOWN_ORGANISATION": "ORG-1",
                       "MAIL_IN_UNKNOWN_GROUP": "No such group"}  # fmt: skip
    await deliver(lmtp, mail("who@nowhere.example", "Hi", "text", "<u-2@nowhere>"))
    await mail_intake.process_due(broken)
    stored = await InboundEmail.get()
    assert stored.status == InboundStatus.RECEIVED and "No such group" in stored.last_error
    assert stored.attempts == 1 and await Ticket.all().count() == 0
    admin = await make_admin()
    assert [row.id for row in await mail_intake.problems(actor=admin)] == [stored.id]
    await mail_intake.retry(inbound_id=stored.id, actor=admin)  # once the group is fixed
    await mail_intake.process_due(broken | {"MAIL_IN_UNKNOWN_GROUP": ""})
    assert (await InboundEmail.get()).status == InboundStatus.DONE
    assert (await Ticket.get()).title == "Hi"


async def test_a_ticket_opened_by_email_is_assigned_by_its_groups_rule(lmtp, config):
    await make_organisation(default_contract_hid="CON-1", default_tenant_hid="1")
    agent = await make_agent(name="Priya")
    group = await Group.create(name="Inbox", assignment=AssignmentMode.ROUND_ROBIN)
    await GroupMember.create(group=group, user=agent)
    opened = config | {"MAIL_IN_UNKNOWN_SENDERS": "open", "MAIL_IN_UNKNOWN_ORGANISATION": "ORG-1",
                       "MAIL_IN_UNKNOWN_GROUP": "Inbox"}  # fmt: skip
    await deliver(lmtp, mail("who@nowhere.example", "Printer", "text", "<a-1@nowhere>"))
    await mail_intake.process_due(opened)
    ticket = await Ticket.get()
    assert (ticket.group_id, ticket.assignee_id) == (group.id, agent.id)
    rule = await TicketHistory.get(ticket_id=ticket.id, field="assignee")
    assert (rule.actor_label, rule.new_value) == ("Assignment rule (round robin)", "Priya")


async def test_a_sender_over_the_hourly_cap_makes_nothing_more(lmtp, config):
    ticket, sent = await notified_ticket()
    for n in range(3):
        await deliver(lmtp, mail(CONTACT, "Re", f"reply {n}", f"<r{n}@c>", In_Reply_To=sent.message_id))
    await mail_intake.process_due(config | {"MAIL_IN_SENDER_HOURLY_LIMIT": 2})
    assert await Comment.filter(ticket_id=ticket.id).count() == 2
    assert (
        "MAIL_IN_SENDER_HOURLY_LIMIT"
        in (await InboundEmail.filter(status=InboundStatus.REFUSED).get()).outcome
    )


@pytest.fixture(scope="module")
def dovecot():
    if not imapserver.available():
        pytest.fail("dovecot is not installed: apt-get install dovecot-imapd (see .ci/system-deps)")
    server = imapserver.DovecotServer().start()
    yield server
    server.stop()


async def test_imap_stores_then_marks_and_the_same_message_by_lmtp_and_imap_is_one_comment(
    dovecot, lmtp, config
):
    ticket, sent = await notified_ticket()
    imap_config = config | dovecot.config()
    reply = mail(
        CONTACT, "Re: phones", "Fixed now, thanks", "<both@customer.example>", In_Reply_To=sent.message_id
    )
    client = await mail_imap.connect(imap_config)
    try:
        await client.append(bytes(reply), mailbox="INBOX")
        await deliver(lmtp, reply)
        assert await mail_imap.poll_once(client, imap_config) == 1
        assert await mail_imap.poll_once(client, imap_config) == 0  # marked seen once stored
    finally:
        await client.logout()
    assert await InboundEmail.all().count() == 1
    await mail_intake.process_due(config)
    assert await Comment.filter(ticket_id=ticket.id).values_list("body", flat=True) == ["Fixed now, thanks"]


async def test_the_outbox_holds_email_to_a_bouncing_address(config, mailbox):
    ticket, sent = await notified_ticket()
    await BouncingAddress.create(address=CONTACT, reason="5.1.1")
    await outbox.deliver_due(mailbox.config(config))
    sent = await OutboxEmail.get(id=sent.id)
    assert sent.status == OutboxStatus.HELD and "bounced" in sent.last_error


async def test_starttls_upgrades_the_connection_before_login(dovecot, config):
    """Dovecot refuses a login before TLS (ssl = required): logging in proves the upgrade."""
    starttls = config | dovecot.config() | {"MAIL_IN_IMAP_PORT": dovecot.starttls_port,
                                            "MAIL_IN_IMAP_SECURITY": "starttls"}  # fmt: skip
    client = await mail_imap.connect(starttls)
    try:
        assert client.protocol.transport.get_extra_info("ssl_object") is not None
        assert client.get_state() == "SELECTED"
    finally:
        await client.logout()


async def _until(condition, what: str, seconds: float = 30) -> None:
    """Wait for a condition another task brings about (a bound on a hang, not a timed assertion)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
        await asyncio.sleep(0.05)


async def test_the_poller_is_woken_by_idle(dovecot, config):
    """With a poll interval of ten minutes, only IDLE can bring the second message in."""
    imap_config = config | dovecot.config() | {"MAIL_IN_IMAP_POLL_SECONDS": 600}
    sender = await mail_imap.connect(imap_config)
    poller = asyncio.create_task(mail_imap.run_poller(imap_config))
    try:
        await sender.append(bytes(mail(CONTACT, "first", "one", "<idle-1@c>")), mailbox="INBOX")
        await _until(lambda: InboundEmail.exists(message_key="<idle-1@c>"), "the first message stored")
        await sender.append(bytes(mail(CONTACT, "second", "two", "<idle-2@c>")), mailbox="INBOX")
        await _until(lambda: InboundEmail.exists(message_key="<idle-2@c>"), "the second message stored")
    finally:
        poller.cancel()
        await asyncio.gather(poller, return_exceptions=True)
        await sender.logout()


async def test_two_workers_at_once_make_one_comment(lmtp, config):
    ticket, sent = await notified_ticket()
    await deliver(lmtp, mail(CONTACT, "Re", "once", "<twice@c>", In_Reply_To=sent.message_id))
    claimed = await asyncio.gather(mail_intake.process_due(config), mail_intake.process_due(config))
    assert sorted(claimed) == [0, 1]
    assert await Comment.filter(ticket_id=ticket.id).count() == 1


def _lmtp_conversation(port: int, recipients: list[str], raw: bytes) -> list[bytes]:
    """A raw LMTP session: the replies after the final dot, one per recipient (RFC 2033)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        stream = connection.makefile("rb")
        replies = [stream.readline()]
        for line in [b"LHLO test", b"MAIL FROM:<pat@customer.example>"] + [
            f"RCPT TO:<{r}>".encode() for r in recipients
        ]:
            connection.sendall(line + b"\r\n")
            replies.append(stream.readline())
            while replies[-1][3:4] == b"-":
                replies.append(stream.readline())
        connection.sendall(b"DATA\r\n")
        stream.readline()
        connection.sendall(raw.replace(b"\n.", b"\n..") + b".\r\n")  # raw ends with CRLF
        return [stream.readline() for _ in recipients]


async def test_lmtp_answers_each_recipient_after_storing_the_message_once(lmtp, config):
    raw = mail(CONTACT, "Hello", "two recipients", "<multi@c>").as_bytes(policy=email.policy.SMTP)
    recipients = ["support@example.com", "help@example.com"]
    replies = await asyncio.to_thread(_lmtp_conversation, lmtp, recipients, raw)
    assert [reply[:3] for reply in replies] == [b"250", b"250"]
    stored = await InboundEmail.get()
    assert stored.envelope_recipients.splitlines() == recipients and stored.raw_message == raw


async def test_helpdesk_mail_in_receives_stores_and_processes(config, database_url, tmp_path):
    """The real command: `helpdesk mail-in` in its own process, smtplib.LMTP against it."""
    ticket, sent = await notified_ticket()
    port = free_port()
    env = os.environ | {
        "HELPDESK_ENV": "test", "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_SECRET_KEY": config["SECRET_KEY"], "HELPDESK_BASE_URL": config["BASE_URL"],
        "HELPDESK_MAIL_IN_ADDRESS": "support@example.com",
    }  # fmt: skip
    log = (tmp_path / "mail-in.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "helpdesk", "mail-in", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    try:
        await _until(lambda: _listening(port, process), "helpdesk mail-in listening")
        reply = mail(CONTACT, "Re: it", "Sent to the real command", "<cli@c>", In_Reply_To=sent.message_id)
        assert await deliver(port, reply) == {}
        await _until(lambda: Comment.exists(ticket_id=ticket.id), "the reply processed by mail-in")
    finally:
        process.terminate()
        process.wait(10)
        log.close()
    assert await Comment.filter(ticket_id=ticket.id).values_list("body", flat=True) == [
        "Sent to the real command"
    ]


async def _listening(port: int, process: subprocess.Popen) -> bool:
    assert process.poll() is None, "helpdesk mail-in exited"
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


async def test_a_message_over_the_size_limit_is_refused_by_the_lmtp_server_and_not_stored(config):
    port = free_port()
    server = await mail_lmtp.start_server("127.0.0.1", port, config | {"MAIL_IN_MAX_BYTES": 2000})
    try:
        big = mail(CONTACT, "Huge", "x" * 5000, "<huge@c>")
        # smtplib declares the size (SIZE=), so the server refuses at MAIL FROM, before the data
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
            await deliver(port, big)
        assert refused.value.smtp_code == 552
    finally:
        server.close()
        await server.wait_closed()
    assert await InboundEmail.all().count() == 0
