"""Email intake: every incoming message is stored raw first (by the LMTP server or the IMAP poller),
then a worker processes it once (services/mail_routing.py decides what it becomes).

Stored before anything else, unique on its Message-ID (or digest): a redelivery, or the same
message by LMTP and by IMAP, is a no-op. Workers claim due rows the way the outbox does (one
statement takes them; a heartbeat keeps the claim; a lapsed claim is taken over), so any number
of workers may run. A message whose processing breaks is retried with backoff, then kept as
failed with the reason for an admin, who may retry it.
"""

import email
import email.policy
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any, NamedTuple

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from helpdesk.errors import Forbidden, NotFound
from helpdesk.models import InboundEmail, InboundStatus, User, ids_in_range
from helpdesk.services import contacts
from helpdesk.services.access import authorise
from helpdesk.services.claims import CLAIM_SECONDS, Claims, WorkTable, claim
from helpdesk.services.claims import run_worker as claims_worker
from helpdesk.services.mail_parse import MailRefused, message_key
from helpdesk.services.mail_routing import Outcome, route
from helpdesk.services.outbox import header_value
from helpdesk.services.sql import as_datetime, select_rows

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5  # then the message is failed and waits for an admin
FIRST_RETRY_SECONDS = 30
LONGEST_RAW = 50 * 1024 * 1024  # bytes of one stored message (MAIL_IN_MAX_BYTES may lower it)
ADMIN_LIMIT = 100


def utc_now() -> datetime:
    return datetime.now(UTC)


async def store(raw: bytes, *, via: str, recipients: list[str] | None = None) -> tuple[InboundEmail, bool]:
    """Store one raw message unless it is stored already; the row, and whether it is new.

    Returns once the row is committed: only then may the LMTP server answer or the poller mark it."""
    key = message_key(raw)
    sender, subject = _sender_and_subject(raw)
    moment = utc_now()
    try:
        row = await InboundEmail.create(
            message_key=key, raw_message=raw, received_via=via, sender=sender, subject=subject,
            envelope_recipients="\n".join(header_value(r)[:254] for r in recipients or []),
            status=InboundStatus.RECEIVED, next_attempt_at=moment, created_at=moment,
        )  # fmt: skip
    except IntegrityError:
        existing = await InboundEmail.get_or_none(message_key=key)
        if existing is None:
            raise
        return existing, False
    return row, True


def _sender_and_subject(raw: bytes) -> tuple[str, str]:
    """The From address and the subject, for the admin page and the per-sender cap; "" when unreadable."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        headers = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.default)
        sender = parseaddr(str(headers.get("From", "")))[1].lower()
        subject = header_value(str(headers.get("Subject", "")))
    except (ValueError, IndexError, TypeError, LookupError, AttributeError):
        return "", ""
    return sender[:254], subject[:500]


# --- Claiming and processing ---------------------------------------------------------------

INBOX = WorkTable(
    "mail intake", "inbound_email", InboundEmail, InboundStatus.RECEIVED, InboundStatus.PROCESSING
)


async def _claim(moment: datetime, limit: int, worker: str) -> list[InboundEmail]:
    return await claim(INBOX, moment=moment, limit=limit, worker=worker, seconds=CLAIM_SECONDS)


def _ours(row: InboundEmail, worker: str) -> Q:
    """The row as this worker claimed it: one another worker took over since matches nothing."""
    return Q(id=row.id, status=InboundStatus.PROCESSING, attempts=row.attempts, claimed_by=worker)


class LostClaim(Exception):
    """Another worker took the message over: this worker's work on it is rolled back."""


async def _process(row: InboundEmail, config: Mapping[str, Any], worker: str) -> None:
    """Route one claimed message and record the outcome in the same transaction."""
    try:
        async with in_transaction():
            outcome = await route(row, config)
            await _finish(row, worker, outcome)
    except MailRefused as refusal:
        async with in_transaction():
            await _finish(row, worker, Outcome(InboundStatus.REFUSED, str(refusal)[:1000]))
    except LostClaim:
        log.warning("mail intake: message %s was taken over by another worker", row.id)
    except Exception as error:  # noqa: BLE001 - whatever breaks, the message is kept with the reason
        log.exception("mail intake: message %s failed (attempt %s)", row.id, row.attempts)
        await _record_failure(row, worker, error)


async def _finish(row: InboundEmail, worker: str, outcome: Outcome) -> None:
    columns = {
        "status": outcome.status, "outcome": outcome.text, "ticket_id": outcome.ticket_id,
        "comment_id": outcome.comment_id, "claimed_until": None, "last_error": "",
        "processed_at": utc_now(), "body_text": row.body_text, "attachments": row.attachments,
    }  # fmt: skip
    if not await InboundEmail.filter(_ours(row, worker)).update(**columns):
        raise LostClaim


async def _record_failure(row: InboundEmail, worker: str, error: Exception) -> None:
    """Retry later with backoff, or after MAX_ATTEMPTS keep it failed for an admin."""
    delay = FIRST_RETRY_SECONDS * 2 ** (row.attempts - 1)
    final = row.attempts >= MAX_ATTEMPTS
    await InboundEmail.filter(_ours(row, worker)).update(
        status=InboundStatus.FAILED if final else InboundStatus.RECEIVED,
        next_attempt_at=utc_now() + timedelta(seconds=delay),
        claimed_until=None,
        last_error=f"{type(error).__name__}: {error}"[:1000],
    )


async def process_due(config: Mapping[str, Any], *, limit: int = 20, claims: Claims | None = None) -> int:
    """Claim up to `limit` due messages and process them one at a time; how many were claimed."""
    claims = claims or Claims()
    rows = await _claim(utc_now(), limit, claims.worker)
    claims.held.update(row.id for row in rows)
    try:
        for row in rows:
            await _process(row, config, claims.worker)
            claims.held.discard(row.id)
    finally:
        claims.held.difference_update(row.id for row in rows)
    return len(rows)


async def run_worker(config: Mapping[str, Any], *, once: bool = False) -> None:
    """Process stored messages until cancelled; with `once`, until none is due."""
    contacts.configure(config)  # a new ticket's invitations are signed with the app's settings

    async def one_round(claims: Claims) -> int:
        return await process_due(config, claims=claims)

    await claims_worker(INBOX, one_round, once=once)


# --- What admins and agents see ------------------------------------------------------------


class InboundRow(NamedTuple):
    """A stored message as the admin page and the emails panel show it (never the raw bytes)."""

    id: int
    sender: str
    subject: str
    status: str
    attempts: int
    outcome: str
    last_error: str
    created_at: datetime
    ticket_id: int | None
    body_text: str = ""


_COLUMNS = "id, sender, subject, status, attempts, outcome, last_error, created_at, ticket_id, body_text"


def _rows(rows: list[Any]) -> list[InboundRow]:
    return [InboundRow(*row[:7], as_datetime(row[7]), *row[8:]) for row in rows]


async def problems(*, actor: User, limit: int = ADMIN_LIMIT) -> list[InboundRow]:
    """The latest messages that made nothing or wait for a retry, newest first (admins only)."""
    if not actor.admin:
        raise Forbidden("Only admins see the incoming mail.")
    rows = await select_rows(
        f"SELECT {_COLUMNS} FROM inbound_email"  # noqa: S608 - constant columns
        " WHERE status IN (?, ?) OR (status = ? AND last_error <> ?) ORDER BY id DESC LIMIT ?",
        InboundStatus.FAILED.value, InboundStatus.REFUSED.value, InboundStatus.RECEIVED.value, "", limit,
    )  # fmt: skip
    return _rows(rows)


async def retry(*, inbound_id: int, actor: User) -> None:
    """An admin sends a failed or refused message through processing again, now."""
    if not actor.admin:
        raise Forbidden("Only admins retry incoming mail.")
    retried = InboundStatus.FAILED, InboundStatus.REFUSED, InboundStatus.RECEIVED
    query = InboundEmail.filter(id=inbound_id, status__in=retried) if ids_in_range(inbound_id) else None
    if query is None or not await query.update(
        status=InboundStatus.RECEIVED, attempts=0, next_attempt_at=utc_now(), claimed_until=None
    ):
        raise NotFound(f"No message {inbound_id} waiting for a retry.")


async def incoming_of(*, ticket: Any, actor: User, limit: int = 20) -> list[InboundRow]:
    """The ticket's latest incoming messages, newest first (agents only)."""
    authorise(ticket, actor, staff_only=True)
    rows = await select_rows(
        f"SELECT {_COLUMNS} FROM inbound_email WHERE ticket_id = ? ORDER BY id DESC LIMIT ?",  # noqa: S608
        ticket.id, limit,
    )  # fmt: skip
    return _rows(rows)
