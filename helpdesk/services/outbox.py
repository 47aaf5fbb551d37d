"""The email outbox: emails are queued in their cause's transaction and delivered by a worker."""

import asyncio
import logging
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, select_autoescape
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from helpdesk import db
from helpdesk.config import PROJECT_ROOT
from helpdesk.models import OutboxEmail, OutboxStatus, Ticket
from helpdesk.services import feed

log = logging.getLogger(__name__)

# A claim lapses this long after its worker's last heartbeat; then another worker takes the row
# over (within CLAIM_SECONDS + POLL_SECONDS of a crash). A live worker renews its claims every
# HEARTBEAT_SECONDS, however long its SMTP conversation takes (cut off after SEND_SECONDS).
CLAIM_SECONDS = 10
HEARTBEAT_SECONDS = 3
SEND_SECONDS = 150
FIRST_RETRY_SECONDS = 30
LONGEST_RETRY_SECONDS = 3600
POLL_SECONDS = 2.0
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


def _due(now: datetime) -> Q:
    """Pending rows whose time has come, and rows whose sender vanished mid-send."""
    pending = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
    return pending | Q(status=OutboxStatus.SENDING, claimed_until__lt=now)


class Claims:
    """The rows one worker holds, under a name of its own: its heartbeat renews just these."""

    def __init__(self) -> None:
        self.worker = uuid.uuid4().hex
        self.held: set[int] = set()


def _claim_columns(now: datetime, worker: str) -> dict[str, Any]:
    return {
        "status": OutboxStatus.SENDING,
        "claimed_until": now + timedelta(seconds=CLAIM_SECONDS),
        "claimed_by": worker,
        "send_started_at": None,
    }


def _taken_over(rows: list[OutboxEmail]) -> list[OutboxEmail]:
    """The rows whose last sender died while the SMTP server had them: they may have gone out."""
    return [row for row in rows if row.send_started_at is not None]


async def _claim_postgres(now: datetime, limit: int, worker: str) -> list[OutboxEmail]:
    """Lock due rows, skipping those another worker holds, and mark them ours."""
    async with in_transaction():
        query = OutboxEmail.filter(_due(now)).order_by("next_attempt_at", "id").limit(limit)
        rows = await query.select_for_update(skip_locked=True)
        await OutboxEmail.filter(id__in=[row.id for row in rows]).update(
            attempts=F("attempts") + 1, **_claim_columns(now, worker)
        )
        if interrupted := _taken_over(rows):
            await OutboxEmail.filter(id__in=[row.id for row in interrupted]).update(maybe_duplicate=True)
    for row in rows:
        row.attempts += 1
        row.maybe_duplicate = row.maybe_duplicate or row.send_started_at is not None
    return rows


async def _claim_sqlite(now: datetime, limit: int, worker: str) -> list[OutboxEmail]:
    """Claim each due row with one conditional UPDATE; a row another worker took updates nothing."""
    candidates = await OutboxEmail.filter(_due(now)).order_by("next_attempt_at", "id").limit(limit)
    claimed = []
    for row in candidates:
        maybe_duplicate = row.maybe_duplicate or row.send_started_at is not None
        taken = await OutboxEmail.filter(_due(now), id=row.id, attempts=row.attempts).update(
            attempts=row.attempts + 1, maybe_duplicate=maybe_duplicate, **_claim_columns(now, worker)
        )
        if taken == 1:
            row.attempts += 1
            row.maybe_duplicate = maybe_duplicate
            claimed.append(row)
    return claimed


_CLAIMS = {"postgres": _claim_postgres, "sqlite": _claim_sqlite}


def build_message(row: OutboxEmail, config: Mapping[str, Any]) -> EmailMessage:
    """The MIME message of a queued row: text with an HTML alternative, marked as automatic."""
    message = EmailMessage()
    message["From"] = header_value(config["MAIL_FROM"])
    message["To"] = header_value(row.recipient)
    message["Subject"] = header_value(row.subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = header_value(row.message_id)
    message["Auto-Submitted"] = "auto-generated"
    # Exchange honours this one instead of Auto-Submitted: no out-of-office replies to the helpdesk.
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(row.body_text)
    message.add_alternative(row.body_html, subtype="html")
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


async def _start_send(row: OutboxEmail, worker: str, now: datetime) -> bool:
    """Mark the row as being with the SMTP server; False when our claim lapsed and another worker has it."""
    return await OutboxEmail.filter(_ours(row), claimed_by=worker).update(send_started_at=now) == 1


async def _set_outcome(row: OutboxEmail, **columns: Any) -> None:
    """Write a send's outcome, and tell the feed (a ticket's emails panel shows it)."""
    async with in_transaction():
        if await OutboxEmail.filter(_ours(row)).update(**columns):
            await feed.publish("email.status", ticket_id=row.ticket_id, data={"status": columns["status"]})


async def _record_sent(row: OutboxEmail, now: datetime) -> None:
    await _set_outcome(
        row, status=OutboxStatus.SENT, sent_at=now, claimed_until=None, send_started_at=None, last_error=""
    )


async def _record_failure(
    row: OutboxEmail, error: Exception, now: datetime, config: Mapping[str, Any]
) -> None:
    """Retry later with exponential backoff, or give up when the error is final or the row too old."""
    too_old = (now - row.created_at).total_seconds() >= float(config["MAIL_GIVE_UP_AFTER"])
    delay = min(FIRST_RETRY_SECONDS * 2 ** (row.attempts - 1), LONGEST_RETRY_SECONDS)
    await _set_outcome(
        row,
        status=OutboxStatus.FAILED if too_old or _is_permanent(error) else OutboxStatus.PENDING,
        next_attempt_at=now + timedelta(seconds=delay),
        claimed_until=None,
        send_started_at=None,
        last_error=f"{type(error).__name__}: {error}"[:1000],
    )


async def _deliver(row: OutboxEmail, config: Mapping[str, Any], now: datetime, worker: str) -> bool:
    """Send one claimed row and record the outcome; True when the server accepted it."""
    if not await _start_send(row, worker, now):
        return False
    try:
        await _send(build_message(row, config), row.recipient, config)
    except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as error:
        log.warning("outbox: email %s not delivered (attempt %s): %s", row.id, row.attempts, error)
        await _record_failure(row, error, now, config)
        return False
    await _record_sent(row, now)
    return True


async def deliver_due(
    config: Mapping[str, Any], *, limit: int = 20, now: datetime | None = None, claims: Claims | None = None
) -> int:
    """Claim up to `limit` due emails, send them one at a time, and return how many were delivered.

    One at a time: a worker that dies leaves at most the one email the server was taking in doubt."""
    now, claims = now or datetime.now(UTC), claims or Claims()
    rows = await _CLAIMS[db.dialect()](now, limit, claims.worker)
    claims.held.update(row.id for row in rows)
    delivered = 0
    try:
        for row in rows:
            delivered += await _deliver(row, config, now, claims.worker)
            claims.held.discard(row.id)
    finally:
        claims.held.difference_update(row.id for row in rows)
    return delivered


async def renew_claims(claims: Claims) -> int:
    """Extend the claims this worker still holds (its heartbeat); returns how many rows it renewed."""
    if not claims.held:
        return 0
    until = datetime.now(UTC) + timedelta(seconds=CLAIM_SECONDS)
    return await OutboxEmail.filter(
        id__in=sorted(claims.held), claimed_by=claims.worker, status=OutboxStatus.SENDING
    ).update(claimed_until=until)


async def _heartbeat(claims: Claims) -> None:
    """Renew this worker's claims every HEARTBEAT_SECONDS until cancelled."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            await renew_claims(claims)
        except Exception as error:  # noqa: BLE001 - the next beat tries again; the claims may lapse
            log.warning("outbox: heartbeat failed: %s: %s", type(error).__name__, error)


async def run_worker(config: Mapping[str, Any], *, once: bool = False) -> None:
    """Deliver due emails until cancelled; with `once`, until a round delivers nothing."""
    claims = Claims()
    heartbeat = asyncio.create_task(_heartbeat(claims))
    try:
        await _deliver_rounds(config, claims, once=once)
    finally:
        heartbeat.cancel()


async def _deliver_rounds(config: Mapping[str, Any], claims: Claims, *, once: bool) -> None:
    while True:
        try:
            delivered = await deliver_due(config, claims=claims)
        except Exception as error:  # noqa: BLE001 - a database hiccup must not stop the worker for good
            if db.fault_of(error) is None:
                log.exception("outbox: delivery round failed")
            else:
                db.report_fault(error, "outbox worker")
            delivered = 0
        if once and not delivered:
            return
        if not delivered:
            await asyncio.sleep(POLL_SECONDS)
