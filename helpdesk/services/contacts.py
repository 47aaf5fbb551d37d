"""A ticket's contacts: notification emails, and confirming contact details from a signed link."""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from helpdesk.errors import Invalid, LinkExpired, LinkGone, LinkRefused, LinkUsed, NotFound
from helpdesk.models import (
    Comment,
    ConsumedToken,
    Event,
    OutboxEmail,
    Ticket,
    TicketAttribute,
    TicketHistory,
    User,
)
from helpdesk.models.tickets import CONTACT
from helpdesk.services import feed, idempotency
from helpdesk.services.outbox import email_columns, queue_email, render_email

CONFIRM_SALT = "helpdesk.confirm-contacts"
REQUEST_KEY = "notification.ticket.confirm-contacts"
CONFIRMED_KEY = "contacts.confirmed"
REQUESTED_FIELD = "contacts.confirmationRequested"  # TicketHistory.field of an agent's request
RESEND_AFTER = timedelta(minutes=1)  # a repeat request sooner than this stands for the last one
EMAIL_KEYS = ("mainEmail", "additionalEmail")
# What a customer may correct from the link, and the longest value each may hold.
CORRECTABLE = {"mainEmail": 254, "phoneNumber": 64, "preferredContactMethod": 100}
_ADDRESS = re.compile(r"[^@\s,;:<>()\[\]\"\\]+@[^@\s,;:<>()\[\]\"\\]+\.[^@\s,;:<>()\[\]\"\\]+")


@dataclass
class ConfirmationLink:
    """What a genuine, unexpired, unused link points at."""

    ticket: Ticket
    address: str
    contacts: list[TicketAttribute]
    digest: str


@dataclass
class ConfirmationRequest:
    """The confirm-contacts event a request stands for; `repeated` when it is an earlier request's."""

    event: Event
    repeated: bool


@dataclass
class ContactConfirmation:
    address: str
    confirmed_at: datetime | None


@dataclass
class ConfirmationStatus:
    """What the ticket page shows: when contacts were last asked, and who has confirmed."""

    requested_at: datetime | None
    contacts: list[ContactConfirmation]


def is_address(value: str) -> bool:
    """Whether a contact value is one plain email address (never a list, never a display name)."""
    return _ADDRESS.fullmatch(value) is not None


async def email_contacts(ticket: Ticket) -> list[str]:
    """The ticket's enabled contact addresses, each once, in the order they were added."""
    return enabled_addresses(
        await TicketAttribute.filter(ticket=ticket, type=CONTACT, key__in=EMAIL_KEYS, enabled=True)
    )


def enabled_addresses(rows: list[TicketAttribute]) -> list[str]:
    """The enabled email addresses among a ticket's contact rows, each once, in the order they were added."""
    enabled = (row for row in sorted(rows, key=lambda row: row.id) if row.type == CONTACT and row.enabled)
    return addresses_among([(row.key, row.value) for row in enabled])


def addresses_among(contacts: list[tuple[str, str]]) -> list[str]:
    """The email addresses among (key, value) contact pairs, each once, in their order."""
    addresses: dict[str, str] = {}
    for key, value in contacts:
        if key in EMAIL_KEYS and is_address(value):
            addresses.setdefault(value.lower(), value)
    return list(addresses.values())


def _serializer(config: Mapping[str, Any]) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=CONFIRM_SALT)


def confirmation_url(config: Mapping[str, Any], *, ticket_id: int, address: str) -> str:
    """The link for one address: BASE_URL (never the request's host) and a signed token."""
    token = _serializer(config).dumps({"ticket": ticket_id, "address": address})
    return f"{config['BASE_URL'].rstrip('/')}/confirm/{token}"


def _subject(ticket: Ticket, what: str) -> str:
    return f"[{ticket.human_id}] {ticket.title or 'Your ticket'}: {what}"


@dataclass
class Notification:
    """The outbox rows and the event row that tell a ticket's contacts something."""

    emails: list[dict[str, Any]]
    event: dict[str, Any]


def _notification(
    ticket: Ticket, addresses: list[str], *, key: str, value: str, template: str, subject: str, **context: Any
) -> Notification | None:
    """One email per address and the event recording it; None when nobody is listed."""
    if not addresses:
        return None
    moment = datetime.now(UTC)
    text, html = render_email(template, ticket=ticket, **context)
    same = {"subject": subject, "body_text": text, "body_html": html, "ticket_id": ticket.id}
    emails = [email_columns(recipient=address, moment=moment, **same) for address in addresses]
    event = {
        "key": key, "value": value, "target": ticket.human_id, "ticket_id": ticket.id,
        "created_at": moment, "updated_at": moment,
    }  # fmt: skip
    return Notification(emails, event)


def ticket_created(ticket: Ticket, addresses: list[str]) -> Notification | None:
    """The "ticket received" emails to the given contact addresses of a new ticket."""
    return _notification(
        ticket,
        addresses,
        key="notification.ticket.create",
        value="Create ticket notification sent.",
        template="ticket_created",
        subject=_subject(ticket, "ticket received"),
    )


def public_reply(ticket: Ticket, comment: Comment, addresses: list[str]) -> Notification | None:
    """The "new reply" emails to the ticket's contact addresses; none for an internal note."""
    if comment.internal:
        return None
    return _notification(
        ticket,
        addresses,
        key="notification.ticket.reply",
        value="Reply notification sent.",
        template="public_reply",
        subject=_subject(ticket, "new reply"),
        comment=comment,
    )


async def _write(notification: Notification | None) -> Event | None:
    if notification is None:
        return None
    async with in_transaction():
        await OutboxEmail.bulk_create(OutboxEmail(**email) for email in notification.emails)
        return await Event.create(**notification.event)


async def queue_ticket_created(ticket: Ticket) -> Event | None:
    """Tell the ticket's contacts it was opened; call inside the creating transaction."""
    return await _write(ticket_created(ticket, await email_contacts(ticket)))


async def queue_public_reply(ticket: Ticket, comment: Comment) -> Event | None:
    """Send a public reply to the ticket's contacts; internal notes never leave the helpdesk."""
    if comment.internal:
        return None
    return await _write(public_reply(ticket, comment, await email_contacts(ticket)))


async def request_confirmation(
    *, ticket: Ticket, actor: User, config: Mapping[str, Any], idempotency_key: str | None = None
) -> ConfirmationRequest:
    """Record the request and queue each enabled contact a link to confirm their details. A repeat
    within RESEND_AFTER (a double click, a retry) or with the same idempotency key is the earlier
    request: no event, no email."""
    if not actor.is_staff:
        raise NotFound(f"No ticket {ticket.human_id}.")
    retry = idempotency.request(actor, idempotency_key, idempotency.EVENT, ticket.id)
    request = partial(_request_confirmation, ticket, actor, config, retry)
    return await idempotency.once(retry, request, _earlier_request)


async def _earlier_request(event_id: int) -> ConfirmationRequest:
    return ConfirmationRequest(await Event.get(id=event_id), repeated=True)


async def _request_confirmation(
    ticket: Ticket, actor: User, config: Mapping[str, Any], retry: idempotency.Request | None
) -> ConfirmationRequest:
    addresses = await email_contacts(ticket)
    hours = config.get("CONFIRM_LINK_HOURS", 72)
    async with in_transaction():
        if recent := await _recent_request(ticket):
            return ConfirmationRequest(recent, repeated=True)
        for address in addresses:
            link = confirmation_url(config, ticket_id=ticket.id, address=address)
            text, html = render_email("confirm_contacts", ticket=ticket, link=link, hours=hours)
            subject = _subject(ticket, "please confirm your contact details")
            await queue_email(
                recipient=address, subject=subject, body_text=text, body_html=html, ticket=ticket
            )
        value = "Confirm contacts notification sent." if addresses else "No enabled email contact to notify."
        # The event says what the system sent; the history row says which agent asked.
        await TicketHistory.create(
            ticket=ticket, actor=actor, actor_label=actor.name, field=REQUESTED_FIELD, new_value=value
        )
        event = await Event.create(key=REQUEST_KEY, value=value, target=ticket.human_id, ticket=ticket)
        if retry:
            await retry.record(event.id)
        return ConfirmationRequest(event, repeated=False)


async def _recent_request(ticket: Ticket) -> Event | None:
    """The ticket's confirm-contacts event of less than RESEND_AFTER ago, if any (inside the transaction)."""
    await Ticket.filter(id=ticket.id).select_for_update().first()  # one request per ticket at a time
    last = await Event.filter(ticket=ticket, key=REQUEST_KEY).order_by("-id").first()
    return last if last and datetime.now(UTC) - last.created_at < RESEND_AFTER else None


async def latest_confirmation_request(*, ticket: Ticket, actor: User) -> Event | None:
    """The ticket's most recent confirm-contacts event, for staff; None when there is none."""
    if not actor.is_staff:
        raise NotFound(f"No ticket {ticket.human_id}.")
    return await Event.filter(ticket=ticket, key=REQUEST_KEY).order_by("-id").first()


def _digest(token: str) -> str:
    """The key a token is consumed under. The signature's base64 has spare bits, so several spellings
    of one token verify: only the signed part (payload and timestamp) names the token."""
    return hashlib.sha256(token.rpartition(".")[0].encode()).hexdigest()


def _verify(token: str, config: Mapping[str, Any], now: datetime) -> tuple[int, str]:
    """The (ticket id, address) a genuine, unexpired token was signed over."""
    try:
        payload, signed_at = _serializer(config).loads(token, return_timestamp=True)
    except (BadData, UnicodeError, ValueError):
        raise LinkRefused("This link is incomplete or has been altered.") from None
    if now - signed_at > timedelta(hours=config.get("CONFIRM_LINK_HOURS", 72)):
        raise LinkExpired("This link has expired.")
    if not isinstance(payload, dict) or not isinstance(payload.get("ticket"), int):
        raise LinkRefused("This link is incomplete or has been altered.")
    return payload["ticket"], str(payload.get("address", ""))


async def read_link(
    *, token: str, config: Mapping[str, Any], now: datetime | None = None
) -> ConfirmationLink:
    """What a confirmation link points at, or the reason it cannot be used. Changes nothing."""
    ticket_id, address = _verify(token, config, now or datetime.now(UTC))
    ticket = await Ticket.get_or_none(id=ticket_id, deleted_at=None)
    if ticket is None:
        raise LinkGone("The ticket this link was sent about no longer exists.")
    if address.lower() not in {value.lower() for value in await email_contacts(ticket)}:
        raise LinkGone("This address is no longer a contact of the ticket.")
    digest = _digest(token)
    if await ConsumedToken.exists(digest=digest):
        raise LinkUsed("This link has already been used.")
    contacts = await TicketAttribute.filter(ticket=ticket, type=CONTACT).order_by("id")
    return ConfirmationLink(ticket=ticket, address=address, contacts=contacts, digest=digest)


def _correction_error(key: str, value: str) -> str | None:
    """Why one correction cannot be applied, or None when it can."""
    if key not in CORRECTABLE:
        return "cannot be corrected from this link"
    if len(value) > CORRECTABLE[key]:
        return f"at most {CORRECTABLE[key]} characters"
    if key == "mainEmail" and not is_address(value):
        return "must be one email address"
    return None


def _clean_corrections(corrections: Mapping[str, str]) -> dict[str, str]:
    """The non-empty corrections, checked; Invalid names each field that is wrong."""
    cleaned = {key: str(value).strip() for key, value in corrections.items() if str(value or "").strip()}
    errors = {key: [error] for key, value in cleaned.items() if (error := _correction_error(key, value))}
    if errors:
        raise Invalid("Some corrections are not valid.", errors)
    return cleaned


async def _apply_corrections(link: ConfirmationLink, changes: dict[str, str]) -> None:
    """Write each changed value, with a history row naming the contact who changed it."""
    rows: dict[str, TicketAttribute] = {}
    for row in link.contacts:
        rows.setdefault(row.key, row)
    history = []
    for key, value in changes.items():
        row = rows.get(key)
        if row is not None and row.value == value:
            continue
        if row is None:
            await TicketAttribute.create(ticket=link.ticket, key=key, value=value, type=CONTACT)
        else:
            await TicketAttribute.filter(id=row.id).update(value=value, updated_at=datetime.now(UTC))
        history.append(
            TicketHistory(
                ticket=link.ticket,
                actor=None,
                actor_label=link.address,
                field=f"attributes.{key}",
                old_value=row.value if row else None,
                new_value=value,
            )
        )
    if history:
        await TicketHistory.bulk_create(history)
        await Ticket.filter(id=link.ticket.id).update(version=F("version") + 1, updated_at=datetime.now(UTC))


async def confirm_contacts(
    *,
    token: str,
    corrections: Mapping[str, str] | None,
    config: Mapping[str, Any],
    now: datetime | None = None,
) -> Event:
    """Consume a link once: apply the contact's corrections and record their confirmation."""
    changes = _clean_corrections(corrections or {})
    async with in_transaction():
        link = await read_link(token=token, config=config, now=now)
        try:
            await ConsumedToken.create(digest=link.digest, purpose=CONFIRM_SALT)
        except IntegrityError:
            raise LinkUsed("This link has already been used.") from None
        await _apply_corrections(link, changes)
        event = await Event.create(
            key=CONFIRMED_KEY, value=link.address, target=link.ticket.human_id, ticket=link.ticket
        )
        await feed.publish_ticket("contacts.confirmed", link.ticket)
        return event


async def confirmation_status(
    ticket: Ticket, *, contacts: list[TicketAttribute] | None = None
) -> ConfirmationStatus:
    """When the ticket's contacts were last asked to confirm, and when each address last did.

    `contacts` are the ticket's contact rows when the caller has already read them."""
    events = Event.filter(ticket=ticket, key__in=(REQUEST_KEY, CONFIRMED_KEY)).order_by("id")
    requested_at, latest = None, {}
    for key, address, at in await events.values_list("key", "value", "created_at"):
        if key == REQUEST_KEY:
            requested_at = at
        else:
            latest[address.lower()] = at
    addresses = enabled_addresses(contacts) if contacts is not None else await email_contacts(ticket)
    return ConfirmationStatus(
        requested_at=requested_at,
        contacts=[ContactConfirmation(a, latest.get(a.lower())) for a in addresses],
    )
