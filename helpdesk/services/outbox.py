"""The email outbox: emails are queued in their cause's transaction and delivered by a worker."""

import asyncio
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, select_autoescape
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from helpdesk.config import PROJECT_ROOT
from helpdesk.models import BouncingAddress, OutboxEmail, OutboxStatus, Ticket
from helpdesk.services import attachments, feed
from helpdesk.services.claims import (
    CLAIM_SECONDS,
    Claims,
    WorkTable,
    claim,
    renew,
)
from helpdesk.services.claims import run_worker as claims_worker
from helpdesk.services.reply_address import reply_address
from helpdesk.services.values import is_email

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]

# A worker's SMTP conversation is cut off after SEND_SECONDS (its heartbeat keeps its claims meanwhile).
SEND_SECONDS = 150
FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 3600
CAP_WINDOW = timedelta(hours=1)  # MAIL_TICKET_HOURLY_LIMIT and MAIL_HOURLY_LIMIT count this far back
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")
_templates = Environment(
    loader=FileSystemLoader(PROJECT_ROOT / "templates" / "email"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)


def header_value(value: str) -> str:
    """A header value that cannot start a new header: every line break becomes a space."""
    return _LINE_BREAKS.sub(" ", value).strip()


def render_email(name: str, **context: Any) -> tuple[str, str]:
    """The text and HTML bodies of templates/email/<name>.txt and .html."""
    text = _templates.get_template(f"{name}.txt").render(**context)
    return text, _templates.get_template(f"{name}.html").render(**context)


async def queue_email(
    *, recipient: str, subject: str, body_text: str, body_html: str, ticket: Ticket | None = None
) -> OutboxEmail:
    """Queue one email; call it inside the transaction of the change that causes it."""
    columns = email_columns(
        recipient=recipient, subject=subject, body_text=body_text, body_html=body_html,
        ticket_id=ticket.id if ticket else None, moment=datetime.now(UTC),
    )  # fmt: skip
    return await OutboxEmail.create(**columns)


def email_columns(
    *, recipient: str, subject: str, body_text: str, body_html: str, ticket_id: int | None, moment: datetime
) -> dict[str, Any]:
    """The outbox_email row of one email due now, for a caller that writes its rows itself."""
    return {
        "recipient": header_value(recipient),
        "subject": header_value(subject)[:500],
        "body_text": body_text,
        "body_html": body_html,
        "message_id": f"<{uuid.uuid4().hex}@helpdesk>",
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": moment,
        "claimed_until": None,
        "claimed_by": "",
        "send_started_at": None,
        "maybe_duplicate": False,
        "last_error": "",
        "sent_at": None,
        "created_at": moment,
        "ticket_id": ticket_id,
    }


# A row whose sender's claim lapsed mid-send may have gone out: the claim marks it maybe_duplicate.
OUTBOX = WorkTable(
    "outbox", "outbox_email", OutboxEmail, OutboxStatus.PENDING, OutboxStatus.SENDING,
    also="maybe_duplicate = (maybe_duplicate OR send_started_at IS NOT NULL), send_started_at = NULL",
)  # fmt: skip


async def _claim(moment: datetime, limit: int, worker: str) -> list[OutboxEmail]:
    return await claim(OUTBOX, moment=moment, limit=limit, worker=worker, seconds=CLAIM_SECONDS)


def build_message(row: OutboxEmail, config: Mapping[str, Any]) -> EmailMessage:
    """The MIME message of a queued row: text with an HTML alternative, marked as automatic."""
    message = EmailMessage()
    message["From"] = header_value(config["MAIL_FROM"])
    message["To"] = header_value(row.recipient)
    message["Subject"] = header_value(row.subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = header_value(row.message_id)
    if row.ticket_id and (reply_to := reply_address(row.ticket_id, config)):
        message["Reply-To"] = reply_to  # a reply finds its ticket whatever the mail client keeps
    message["Auto-Submitted"] = "auto-generated"
    # Exchange honours this one instead of Auto-Submitted: no out-of-office replies to the helpdesk.
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
    return message


async def with_attachments(message: EmailMessage, row: OutboxEmail) -> EmailMessage:
    """A public reply's email with its comment's files attached, when they fit within
    MAIL_ATTACHMENTS_MAX_BYTES in all (else its text links to them)."""
    if row.comment_id is None:
        return message
    files, fit = await attachments.for_email(row.comment_id)
    for file in files if fit else []:
        maintype, _, subtype = file.content_type.partition("/")
        data = await attachments.store().read(file.sha256)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=file.filename)
    return message


async def _send(message: EmailMessage, recipient: str, config: Mapping[str, Any]) -> None:
    """Hand one message to the SMTP server, for this one recipient whatever the To header says."""
    async with asyncio.timeout(SEND_SECONDS):
        await aiosmtplib.send(
            message,
            sender=parseaddr(config["MAIL_FROM"])[1],
            recipients=[recipient],
            hostname=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            username=config["SMTP_USER"] or None,
            password=config["SMTP_PASSWORD"] or None,
            start_tls=bool(config["SMTP_STARTTLS"]),
            timeout=float(config["SMTP_TIMEOUT"]),
        )


def _is_permanent(error: Exception) -> bool:
    """A 5xx about the recipient or the message is final; refusals, timeouts and 4xx may pass."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(refusal.code >= 500 for refusal in error.recipients)
    return isinstance(error, aiosmtplib.SMTPDataError) and error.code >= 500


def _ours(row: OutboxEmail) -> Q:
    """The row as this worker claimed it: a row another worker took over since matches nothing."""
    return Q(id=row.id, status=OutboxStatus.SENDING, attempts=row.attempts)


async def _start_send(row: OutboxEmail, worker: str, moment: datetime) -> bool:
    """Mark the row as being with the SMTP server, only while this worker's claim on it is live;
    False when the claim lapsed (another worker may take the row over, or already has)."""
    live = Q(_ours(row), claimed_by=worker, claimed_until__gt=moment)
    return await OutboxEmail.filter(live).update(send_started_at=moment) == 1


async def _set_outcome(row: OutboxEmail, **columns: Any) -> None:
    """Write a send's outcome, and tell the feed (a ticket's emails panel shows it)."""
    async with in_transaction():
        if await OutboxEmail.filter(_ours(row)).update(**columns):
            await feed.publish("email.status", ticket_id=row.ticket_id, data={"status": columns["status"]})


async def _record_sent(row: OutboxEmail, moment: datetime) -> None:
    await _set_outcome(
        row, status=OutboxStatus.SENT, sent_at=moment, claimed_until=None, send_started_at=None, last_error=""
    )


async def _record_failure(
    row: OutboxEmail, error: Exception, moment: datetime, config: Mapping[str, Any]
) -> None:
    """Retry later with exponential backoff, or give up when the error is final or the row too old."""
    too_old = (moment - row.created_at).total_seconds() >= float(config["MAIL_GIVE_UP_AFTER"])
    delay = min(FIRST_RETRY_SECONDS * 2 ** (row.attempts - 1), LONGEST_RETRY_SECONDS)
    await _set_outcome(
        row,
        status=OutboxStatus.FAILED if too_old or _is_permanent(error) else OutboxStatus.PENDING,
        next_attempt_at=moment + timedelta(seconds=delay),
        claimed_until=None,
        send_started_at=None,
        last_error=f"{type(error).__name__}: {error}"[:1000],
    )


async def over_cap(row: OutboxEmail, config: Mapping[str, Any], now: datetime) -> str | None:
    """Why a ticket's email may not leave now: as many about its ticket, or about all tickets, were
    sent within the last hour as the caps allow. None when it may (account emails are not capped)."""
    if row.ticket_id is None:
        return None
    sent = OutboxEmail.filter(status=OutboxStatus.SENT, sent_at__gte=now - CAP_WINDOW)
    per_ticket = int(config.get("MAIL_TICKET_HOURLY_LIMIT", 30))
    if per_ticket and await sent.filter(ticket_id=row.ticket_id).count() >= per_ticket:
        return (
            f"Held: {per_ticket} emails about this ticket were sent in the last hour "
            "(MAIL_TICKET_HOURLY_LIMIT)."
        )
    overall = int(config.get("MAIL_HOURLY_LIMIT", 2000))
    if overall and await sent.filter(ticket_id__isnull=False).count() >= overall:
        return f"Held: {overall} ticket emails were sent in the last hour (MAIL_HOURLY_LIMIT)."
    return None


async def bouncing(row: OutboxEmail) -> str | None:
    """Why the row's recipient is not mailed: a delivery-status notification said its mail bounced,
    and no agent has cleared the address since (services/mail_intake.py)."""
    found = await BouncingAddress.get_or_none(address=row.recipient.lower())
    if found is None:
        return None
    return f"Held: mail to this address bounced ({found.reason or 'undeliverable'}); an agent may clear it."


def _not_an_address(row: OutboxEmail) -> str | None:
    """Why the row's recipient cannot be mailed (not one email address, by the rule every form and
    the API use), or None."""
    return None if is_email(row.recipient) else "Held: the recipient is not an email address."


async def _record_held(row: OutboxEmail, reason: str) -> None:
    """Never send the row, and say why where agents see it (the ticket's emails panel)."""
    log.warning("outbox: email %s held: %s", row.id, reason)
    await _set_outcome(
        row, status=OutboxStatus.HELD, claimed_until=None, send_started_at=None, last_error=reason
    )


async def _deliver(row: OutboxEmail, config: Mapping[str, Any], clock: Clock, worker: str) -> bool:
    """Send one claimed row and record the outcome, each step at its own time; True when the
    server accepted it."""
    started = clock()
    if reason := _not_an_address(row) or await bouncing(row) or await over_cap(row, config, started):
        await _record_held(row, reason)
        return False
    if not await _start_send(row, worker, started):
        return False
    try:
        await _send(await with_attachments(build_message(row, config), row), row.recipient, config)
    except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as error:
        log.warning("outbox: email %s not delivered (attempt %s): %s", row.id, row.attempts, error)
        await _record_failure(row, error, clock(), config)
        return False
    await _record_sent(row, clock())
    return True


def utc_now() -> datetime:
    return datetime.now(UTC)


async def deliver_due(
    config: Mapping[str, Any], *, limit: int = 20, clock: Clock = utc_now, claims: Claims | None = None
) -> int:
    """Claim up to `limit` due emails, send them one at a time, and return how many were delivered.

    One at a time: a worker that dies leaves at most the one email the server was taking in doubt.
    `clock` tells the time of each step (tests pass their own)."""
    claims = claims or Claims()
    rows = await _claim(clock(), limit, claims.worker)
    claims.held.update(row.id for row in rows)
    delivered = 0
    try:
        for row in rows:
            delivered += await _deliver(row, config, clock, claims.worker)
            claims.held.discard(row.id)
    finally:
        claims.held.difference_update(row.id for row in rows)
    return delivered


async def renew_claims(claims: Claims) -> int:
    """Extend the claims this worker still holds (its heartbeat); returns how many rows it renewed."""
    return await renew(OUTBOX, claims)


async def run_worker(config: Mapping[str, Any], *, once: bool = False) -> None:
    """Deliver due emails until cancelled; with `once`, until a round delivers nothing."""

    async def one_round(claims: Claims) -> int:
        return await deliver_due(config, claims=claims)

    await claims_worker(OUTBOX, one_round, once=once)
