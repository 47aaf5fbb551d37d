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

log = logging.getLogger(__name__)

# A claimed row may be retried by another worker after this long; a send is cut off well before it.
CLAIM_SECONDS = 300
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
        "last_error": "",
        "sent_at": None,
        "created_at": moment,
        "ticket_id": ticket_id,
    }


def _due(now: datetime) -> Q:
    """Pending rows whose time has come, and rows whose sender vanished mid-send."""
    pending = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
    return pending | Q(status=OutboxStatus.SENDING, claimed_until__lt=now)


async def _claim_postgres(now: datetime, limit: int) -> list[OutboxEmail]:
    """Lock due rows, skipping those another worker holds, and mark them ours."""
    async with in_transaction():
        query = OutboxEmail.filter(_due(now)).order_by("next_attempt_at", "id").limit(limit)
        rows = await query.select_for_update(skip_locked=True)
        await OutboxEmail.filter(id__in=[row.id for row in rows]).update(
            status=OutboxStatus.SENDING,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=F("attempts") + 1,
        )
    for row in rows:
        row.attempts += 1
    return rows


async def _claim_sqlite(now: datetime, limit: int) -> list[OutboxEmail]:
    """Claim each due row with one conditional UPDATE; a row another worker took updates nothing."""
    candidates = await OutboxEmail.filter(_due(now)).order_by("next_attempt_at", "id").limit(limit)
    claimed = []
    for row in candidates:
        taken = await OutboxEmail.filter(_due(now), id=row.id, attempts=row.attempts).update(
            status=OutboxStatus.SENDING,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=row.attempts + 1,
        )
        if taken == 1:
            row.attempts += 1
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
    async with asyncio.timeout(CLAIM_SECONDS / 2):
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


async def _record_sent(row: OutboxEmail, now: datetime) -> None:
    await OutboxEmail.filter(id=row.id, status=OutboxStatus.SENDING, attempts=row.attempts).update(
        status=OutboxStatus.SENT, sent_at=now, claimed_until=None, last_error=""
    )


async def _record_failure(
    row: OutboxEmail, error: Exception, now: datetime, config: Mapping[str, Any]
) -> None:
    """Retry later with exponential backoff, or give up when the error is final or the row too old."""
    too_old = (now - row.created_at).total_seconds() >= float(config["MAIL_GIVE_UP_AFTER"])
    delay = min(FIRST_RETRY_SECONDS * 2 ** (row.attempts - 1), LONGEST_RETRY_SECONDS)
    await OutboxEmail.filter(id=row.id, status=OutboxStatus.SENDING, attempts=row.attempts).update(
        status=OutboxStatus.FAILED if too_old or _is_permanent(error) else OutboxStatus.PENDING,
        next_attempt_at=now + timedelta(seconds=delay),
        claimed_until=None,
        last_error=f"{type(error).__name__}: {error}"[:1000],
    )


async def _deliver(row: OutboxEmail, config: Mapping[str, Any], now: datetime) -> bool:
    """Send one claimed row and record the outcome; True when the server accepted it."""
    try:
        await _send(build_message(row, config), row.recipient, config)
    except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as error:
        log.warning("outbox: email %s not delivered (attempt %s): %s", row.id, row.attempts, error)
        await _record_failure(row, error, now, config)
        return False
    await _record_sent(row, now)
    return True


async def deliver_due(config: Mapping[str, Any], *, limit: int = 20, now: datetime | None = None) -> int:
    """Claim up to `limit` due emails, send them, and return how many were delivered."""
    now = now or datetime.now(UTC)
    rows = await _CLAIMS[db.dialect()](now, limit)
    return sum([await _deliver(row, config, now) for row in rows])


async def run_worker(config: Mapping[str, Any], *, once: bool = False) -> None:
    """Deliver due emails until cancelled; with `once`, until a round delivers nothing."""
    while True:
        try:
            delivered = await deliver_due(config)
        except Exception:  # noqa: BLE001 - a database hiccup must not stop the worker for good
            log.exception("outbox: delivery round failed")
            delivered = 0
        if once and not delivered:
            return
        if not delivered:
            await asyncio.sleep(POLL_SECONDS)
