"""A ticket's contacts: notification emails, and confirming contact details from a signed link.

Addresses a customer names (other than their own) get nothing about the ticket until their owner
opts in: one content-free invitation with a signed link, the same link that later lets a contact
confirm or correct their own details (never the other contacts': those go to agents as a proposal).
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from itsdangerous import BadData, URLSafeTimedSerializer
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from helpdesk.errors import Invalid, LinkExpired, LinkGone, LinkRefused, LinkUsed
from helpdesk.models import (
    Comment,
    ConsumedToken,
    ContactProposal,
    Event,
    OutboxEmail,
    Ticket,
    TicketAttribute,
    User,
)
from helpdesk.models.tickets import CONFIRMED, CONTACT, DECLINED, PENDING, TRUSTED
from helpdesk.services import feed, history, idempotency, notifications
from helpdesk.services.access import authorise
from helpdesk.services.attachments import human_size, mail_attachment_limit
from helpdesk.services.history import contact_field, record_change
from helpdesk.services.outbox import email_columns, queue_email, render_email
from helpdesk.services.sql import as_datetime, select_rows
from helpdesk.services.values import EMAIL_KEYS, ContactKey, contact_error, is_email

CONFIRM_SALT = "helpdesk.confirm-contacts"
REQUEST_KEY = "notification.ticket.confirm-contacts"
CONFIRMED_KEY = "contacts.confirmed"
RESEND_AFTER = timedelta(minutes=1)  # a repeat request sooner than this stands for the last one
INVITATION_KEY = "notification.contact.invitation"
CHANGED_KEY = "notification.contact.changed"  # the old main email told it was replaced
OPTED_IN_KEY = "contacts.optedIn"
DECLINED_KEY = "contacts.declined"
RECEIVING = (TRUSTED, CONFIRMED)  # the consents that let a contact receive the ticket's emails
# What a contact may correct from their link ("email" is their own address, main or additional;
# the phone and preferred method only the main contact's), and the longest value each may hold.
CORRECTABLE = {"email": 254, ContactKey.PHONE_NUMBER: 64, ContactKey.PREFERRED_CONTACT_METHOD: 100}
MAIN_ONLY = (ContactKey.PHONE_NUMBER, ContactKey.PREFERRED_CONTACT_METHOD)
NOTE_LENGTH = 2000
# Set from the app's configuration when it starts (configure): the cap on a customer's contacts,
# and the settings that sign invitation links (queued with the ticket, inside its transaction).
settings: dict[str, Any] = {"customer_contact_limit": 10, "config": None}


class ContactRow(NamedTuple):
    """One contact of a ticket: what the contacts panel shows, the emails go to, a link reads."""

    id: int
    key: str
    value: str
    enabled: bool
    consent: str = TRUSTED  # whether an address may get the ticket's emails (see models.tickets)
    type: str = CONTACT
    bouncing: str | None = None  # why mail to the address bounced (services/mail_routing.py), if it did
    ticket_id: int = 0


CONTACT_ROWS_SQL = (
    "SELECT a.id, a.key, a.value, a.enabled, a.consent, b.reason, a.ticket_id FROM ticket_attribute a"
    " LEFT JOIN bouncing_address b ON b.address = lower(a.value)"
    " WHERE a.type = ? AND a.ticket_id IN ({ids}){only} ORDER BY a.id"
)


async def contact_rows(
    ticket_ids: list[int], *, keys: tuple[str, ...] = (), enabled_only: bool = False
) -> dict[int, list[ContactRow]]:
    """The contact rows of each of these tickets, oldest first (just these `keys`, just enabled
    ones when asked): the one read of a ticket's contacts that the panel, the emails, the signed
    link and the reports share. No access check: callers pass tickets their actor may see."""
    found: dict[int, list[ContactRow]] = {ticket_id: [] for ticket_id in ticket_ids}
    if not ticket_ids:
        return found
    only = f" AND a.key IN ({', '.join('?' * len(keys))})" if keys else ""
    only += " AND a.enabled = ?" if enabled_only else ""
    sql = CONTACT_ROWS_SQL.format(ids=", ".join("?" * len(ticket_ids)), only=only)
    values = [CONTACT, *ticket_ids, *keys, *([True] if enabled_only else [])]
    for pk, key, value, enabled, consent, bouncing, ticket_id in await select_rows(sql, *values):
        row = ContactRow(pk, key, value, bool(enabled), consent, CONTACT, bouncing, ticket_id)
        found[ticket_id].append(row)
    return found


@dataclass
class ConfirmationLink:
    """What a genuine, unexpired, unused link points at: the ticket, and the holder's own contact
    rows (`contacts`: their address; with the phone and preferred method when they are the main
    contact). `consent` is theirs: pending until they opt in."""

    ticket: Ticket
    address: str
    contacts: list[ContactRow]
    digest: str
    main: bool = False
    consent: str = TRUSTED

    @property
    def invited(self) -> bool:
        """Whether the holder was named by a customer and has not yet opted in."""
        return self.consent == PENDING

    @property
    def own_email(self) -> ContactRow:
        return next(row for row in self.contacts if row.key in EMAIL_KEYS)


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
    answered: bool = False  # some contact has used their link (only then can a proposal be waiting)


def configure(config: Mapping[str, Any]) -> None:
    """Take the cap on customers' contacts and the link settings from the app's configuration."""
    settings.update(customer_contact_limit=int(config["CUSTOMER_CONTACT_LIMIT"]), config=config)


async def email_contacts(ticket: Ticket) -> list[str]:
    """The addresses the ticket's emails go to: enabled contacts that may receive them, each once,
    in the order they were added."""
    return enabled_addresses((await contact_rows([ticket.id]))[ticket.id])


def enabled_addresses(rows: list) -> list[str]:
    """The addresses among a ticket's contact rows that get its emails (enabled, trusted or opted
    in), each once, in the order they were added."""
    receiving = (
        row
        for row in sorted(rows, key=lambda row: row.id)
        if row.type == CONTACT and row.enabled and row.consent in RECEIVING
    )
    return addresses_among([(row.key, row.value) for row in receiving])


def limit_customer_contacts(pairs: list[tuple[str, str]]) -> None:
    """Invalid when a customer names more email contacts than CUSTOMER_CONTACT_LIMIT."""
    limit = settings["customer_contact_limit"]
    if sum(key in EMAIL_KEYS for key, _ in pairs) > limit:
        raise Invalid(
            f"A customer's ticket names at most {limit} email contacts.",
            {"attributes.additionalEmails": [f"at most {limit} addresses with mainEmail"]},
        )


def check_contacts(pairs: list[tuple[str, str]]) -> None:
    """Invalid naming each (key, value) contact pair whose value is not an email address (for an
    email key) or a phone number (for the phone key): one rule, whoever writes the contact."""
    errors: dict[str, list[str]] = {}
    for key, value in pairs:
        if error := contact_error(key, value):
            name = "additionalEmails" if key == ContactKey.ADDITIONAL_EMAIL else key
            errors.setdefault(f"attributes.{name}", []).append(error)
    if errors:
        raise Invalid("Some contact details are not valid.", errors)


def with_consent(pairs: list[tuple[str, str]], actor: User) -> list[tuple[str, str, str]]:
    """Each (key, value) a new ticket names, with its consent: what an agent gives is trusted, and so
    is a customer's own account address; any other address a customer gives waits for an opt-in."""
    own = (actor.email or "").lower()
    return [
        (
            key,
            value,
            PENDING if key in EMAIL_KEYS and not actor.is_staff and value.lower() != own else TRUSTED,
        )
        for key, value in pairs
    ]


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


@dataclass(frozen=True)
class Notice:
    """One kind of notification: its event's key and value, its email's template and subject."""

    key: str
    value: str
    template: str
    about: str  # the subject after the ticket's number and title


TICKET_RECEIVED = Notice(
    "notification.ticket.create", "Create ticket notification sent.", "ticket_created", "ticket received"
)
NEW_REPLY = Notice("notification.ticket.reply", "Reply notification sent.", "public_reply", "new reply")


def _notification(
    ticket: Ticket, addresses: list[str], notice: Notice, **context: Any
) -> Notification | None:
    """One email per address and the event recording it; None when nobody is listed."""
    if not addresses:
        return None
    moment = datetime.now(UTC)
    text, html = render_email(notice.template, ticket=ticket, **context)
    subject = _subject(ticket, notice.about)
    same = {"subject": subject, "body_text": text, "body_html": html, "ticket_id": ticket.id}
    emails = [email_columns(recipient=address, moment=moment, **same) for address in addresses]
    event = {
        "key": notice.key, "value": notice.value, "target": ticket.human_id, "ticket_id": ticket.id,
        "created_at": moment, "updated_at": moment,
    }  # fmt: skip
    return Notification(emails, event)


def ticket_created(ticket: Ticket, addresses: list[str]) -> Notification | None:
    """The "ticket received" emails to the given contact addresses of a new ticket."""
    return _notification(ticket, addresses, TICKET_RECEIVED)


def public_reply(
    ticket: Ticket, comment: Comment, addresses: list[str], attachments: Sequence[Any] = ()
) -> Notification | None:
    """The "new reply" emails to the ticket's contact addresses; none for an internal note. The
    email names the comment's `attachments`, attached when within MAIL_ATTACHMENTS_MAX_BYTES in all,
    else as links."""
    if comment.internal:
        return None
    base = _signing_config()["BASE_URL"].rstrip("/") if attachments else ""
    files = [(a.filename, human_size(a.size), f"{base}/attachments/{a.id}") for a in attachments]
    attached = sum(a.size for a in attachments) <= mail_attachment_limit()
    return _notification(ticket, addresses, NEW_REPLY, comment=comment, files=files, attached=attached)


def _signing_config() -> Mapping[str, Any]:
    if settings["config"] is None:
        raise RuntimeError("contacts.configure(config) was not called: invitation links cannot be signed")
    return settings["config"]


def invitations(ticket: Ticket, addresses: list[str]) -> Notification | None:
    """One short invitation per address: the ticket's number and a link to opt in, nothing a
    customer wrote (no title, no description), so the helpdesk carries no one's message to anyone."""
    if not addresses:
        return None
    config, moment = _signing_config(), datetime.now(UTC)
    hours = config.get("CONFIRM_LINK_HOURS", 72)
    emails = []
    for address in addresses:
        link = confirmation_url(config, ticket_id=ticket.id, address=address)
        text, html = render_email("contact_invitation", ticket=ticket, link=link, hours=hours)
        subject = f"[{ticket.human_id}] Do you want emails about this helpdesk ticket?"
        emails.append(
            email_columns(
                recipient=address,
                subject=subject,
                body_text=text,
                body_html=html,
                ticket_id=ticket.id,
                moment=moment,
            )  # fmt: skip
        )
    event = {
        "key": INVITATION_KEY, "value": "Invitation to opt in sent.", "target": ticket.human_id,
        "ticket_id": ticket.id, "created_at": moment, "updated_at": moment,
    }  # fmt: skip
    return Notification(emails, event)


def new_ticket_notifications(
    ticket: Ticket, given: list[tuple[str, str, str]]
) -> tuple[Notification | None, Notification | None]:
    """The "ticket received" emails to the contacts that may receive them, and one invitation to
    each address that waits for its owner to opt in."""
    receiving = addresses_among([(key, value) for key, value, consent in given if consent in RECEIVING])
    waiting = addresses_among([(key, value) for key, value, consent in given if consent == PENDING])
    known = {address.lower() for address in receiving}
    return ticket_created(ticket, receiving), invitations(
        ticket, [a for a in waiting if a.lower() not in known]
    )


def addresses_among(contacts: list[tuple[str, str]]) -> list[str]:
    """The email addresses among (key, value) contact pairs, each once, in their order."""
    addresses: dict[str, str] = {}
    for key, value in contacts:
        if key in EMAIL_KEYS and is_email(value):
            addresses.setdefault(value.lower(), value)
    return list(addresses.values())


async def queue_invitations(ticket: Ticket, addresses: list[str]) -> Event | None:
    """Invite addresses a customer or a contact named to opt in; call inside the change's transaction."""
    notification = invitations(ticket, addresses)
    if notification is None:
        return None
    await OutboxEmail.bulk_create(OutboxEmail(**email) for email in notification.emails)
    return await Event.create(**notification.event)


def mask_address(address: str) -> str:
    """An address shown only in part ("n***@e***.example"): enough to recognise, not to use."""
    local, _, domain = address.partition("@")
    name, dot, top = domain.rpartition(".")
    return f"{local[:1]}***@{(name or top)[:1]}***{dot}{top if name else ''}"


async def queue_main_email_changed(
    ticket: Ticket, old: TicketAttribute | ContactRow | None, new: str | None
) -> None:
    """Tell the address that was the ticket's main email that it no longer is, without the new
    address in full (inside the change's transaction). Only an address that got the ticket's
    emails is told: a contact that never opted in hears nothing."""
    if old is None or not old.enabled or old.consent not in RECEIVING or not is_email(old.value):
        return
    if new and new.lower() == old.value.lower():
        return
    text, html = render_email("contact_changed", ticket=ticket, masked=mask_address(new) if new else "")
    subject = f"[{ticket.human_id}] The contact address of this ticket changed"
    await queue_email(recipient=old.value, subject=subject, body_text=text, body_html=html, ticket=ticket)
    await Event.create(
        key=CHANGED_KEY, value="Main email change notice sent.", target=ticket.human_id, ticket=ticket
    )


async def request_confirmation(
    *, ticket: Ticket, actor: User, config: Mapping[str, Any], idempotency_key: str | None = None
) -> ConfirmationRequest:
    """Record the request and queue each enabled contact a link to confirm their details. A repeat
    within RESEND_AFTER (a double click, a retry) or with the same idempotency key is the earlier
    request: no event, no email."""
    authorise(ticket, actor, staff_only=True)
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
        await record_change(ticket=ticket, actor=actor, field=history.REQUESTED, new=value)
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
    authorise(ticket, actor, staff_only=True)
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
    rows = [row for row in (await contact_rows([ticket.id]))[ticket.id] if row.enabled]
    own = [row for row in rows if row.key in EMAIL_KEYS and row.value.lower() == address.lower()]
    if not own or not is_email(address):
        raise LinkGone("This address is no longer a contact of the ticket.")
    if all(row.consent == DECLINED for row in own):
        raise LinkGone("You asked us not to email you about this ticket.")
    digest = _digest(token)
    if await ConsumedToken.exists(digest=digest):
        raise LinkUsed("This link has already been used.")
    own.sort(key=lambda row: row.key != ContactKey.MAIN_EMAIL)  # the main email first
    main = own[0].key == ContactKey.MAIN_EMAIL
    details = [row for row in rows if row.key in MAIN_ONLY] if main else []
    consent = next((row.consent for row in own if row.consent in RECEIVING), PENDING)
    return ConfirmationLink(ticket, address, [own[0], *details], digest, main=main, consent=consent)


def _correction_error(link: ConfirmationLink, key: str, value: str) -> str | None:
    """Why one correction cannot be applied, or None when it can."""
    if key not in CORRECTABLE or (key in MAIN_ONLY and not link.main):
        return "cannot be corrected from this link"
    if len(value) > CORRECTABLE[key]:
        return f"at most {CORRECTABLE[key]} characters"
    return contact_error(ContactKey.MAIN_EMAIL if key == "email" else key, value)


def _clean_corrections(link: ConfirmationLink, corrections: Mapping[str, str]) -> dict[str, str]:
    """The non-empty corrections, checked; Invalid names each field that is wrong."""
    cleaned = {key: str(value).strip() for key, value in corrections.items() if str(value or "").strip()}
    errors = {k: [error] for k, v in cleaned.items() if (error := _correction_error(link, k, v))}
    if errors:
        raise Invalid("Some corrections are not valid.", errors)
    return cleaned


def _clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise Invalid("The note is too long.", {"note": [f"at most {NOTE_LENGTH} characters"]})
    return note


async def _apply_corrections(link: ConfirmationLink, changes: dict[str, str]) -> None:
    """Write each changed value of the holder's own details, with a history row naming them. A new
    address of theirs waits for its owner to opt in; the old main address is told."""
    rows = {row.key: row for row in link.contacts}
    own = link.own_email
    changed = False
    for key, value in changes.items():
        row = own if key == "email" else rows.get(key)
        if row is not None and row.value == value:
            continue
        if key == "email":
            await _change_own_email(link, own, value)
        elif row is None:
            await TicketAttribute.create(ticket=link.ticket, key=key, value=value, type=CONTACT)
        else:
            await TicketAttribute.filter(id=row.id).update(value=value, updated_at=datetime.now(UTC))
        await record_change(
            ticket=link.ticket, actor=None, actor_label=link.address,
            field=contact_field(row.key if row else key), old=row.value if row else None, new=value,
        )  # fmt: skip
        changed = True
    if changed:
        await Ticket.filter(id=link.ticket.id).update(version=F("version") + 1, updated_at=datetime.now(UTC))


async def _change_own_email(link: ConfirmationLink, own: ContactRow, value: str) -> None:
    """The holder's address becomes `value`: a new address is invited to opt in before it gets
    anything; the same address in other letters keeps its consent."""
    same = value.lower() == own.value.lower()
    consent = own.consent if same else PENDING
    await TicketAttribute.filter(id=own.id).update(value=value, consent=consent, updated_at=datetime.now(UTC))
    if not same:
        await queue_invitations(link.ticket, [value])
    if own.key == ContactKey.MAIN_EMAIL:
        await queue_main_email_changed(link.ticket, own, value)


async def _propose(link: ConfirmationLink, note: str) -> None:
    """Leave the agents the holder's note about the other contacts, and say so in the history."""
    await ContactProposal.create(ticket=link.ticket, address=link.address, note=note)
    await record_change(
        ticket=link.ticket, actor=None, actor_label=link.address, field=history.PROPOSAL, new=note
    )


async def _consume(link: ConfirmationLink) -> None:
    try:
        await ConsumedToken.create(digest=link.digest, purpose=CONFIRM_SALT)
    except IntegrityError:
        raise LinkUsed("This link has already been used.") from None


async def confirm_contacts(
    *,
    token: str,
    corrections: Mapping[str, str] | None,
    config: Mapping[str, Any],
    note: str | None = None,
    now: datetime | None = None,
) -> Event:
    """Consume a link once: apply the holder's corrections to their own details, leave their note
    about anything else to the agents, and record their confirmation."""
    note = _clean_note(note)
    async with in_transaction():
        link = await read_link(token=token, config=config, now=now)
        if link.invited:
            raise LinkGone("Tell us first whether you want emails about this ticket.")
        changes = _clean_corrections(link, corrections or {})
        await _consume(link)
        await _apply_corrections(link, changes)
        if note:
            await _propose(link, note)
        await notifications.after_contacts_confirmed(ticket=link.ticket, label=link.address)
        return await _answered(link, CONFIRMED_KEY, "contacts.confirmed")


async def answer_invitation(
    *, token: str, accept: bool, config: Mapping[str, Any], now: datetime | None = None
) -> Event:
    """Consume an invitation's link once: the address opts in to the ticket's emails, or declines
    them (and is never emailed about it again)."""
    async with in_transaction():
        link = await read_link(token=token, config=config, now=now)
        if not link.invited:
            raise LinkGone("This address already gets the emails about this ticket.")
        await _consume(link)
        consent = CONFIRMED if accept else DECLINED
        waiting = TicketAttribute.filter(
            ticket=link.ticket, type=CONTACT, key__in=EMAIL_KEYS, consent=PENDING
        )
        ids = [row.id for row in await waiting if row.value.lower() == link.address.lower()]
        await TicketAttribute.filter(id__in=ids).update(consent=consent, updated_at=datetime.now(UTC))
        return await _answered(link, OPTED_IN_KEY if accept else DECLINED_KEY, "contacts.changed")


async def _answered(link: ConfirmationLink, key: str, kind: str) -> Event:
    """Record a link's answer as the ticket's event `key` (what GET /events returns) and tell the
    desk (feed row `kind`), inside the caller's transaction."""
    event = await Event.create(key=key, value=link.address, target=link.ticket.human_id, ticket=link.ticket)
    await feed.publish_ticket(kind, link.ticket)
    return event


async def confirmation_status(
    *, ticket: Ticket, actor: User, contacts: list[Any] | None = None
) -> ConfirmationStatus:
    """When the contacts of a ticket tickets.load gave this actor were last asked to confirm, and
    when each address last did (agents only); `contacts` are its contact rows when the caller has
    already read them."""
    authorise(ticket, actor, staff_only=True)
    events = await select_rows(
        'SELECT key, value, created_at FROM "event" WHERE ticket_id = ? AND key IN (?, ?) ORDER BY id',
        ticket.id, REQUEST_KEY, CONFIRMED_KEY,
    )  # fmt: skip
    requested_at, latest = None, {}
    for key, address, at in events:
        if key == REQUEST_KEY:
            requested_at = as_datetime(at)
        else:
            latest[address.lower()] = as_datetime(at)
    addresses = enabled_addresses(contacts) if contacts is not None else await email_contacts(ticket)
    return ConfirmationStatus(
        requested_at=requested_at,
        contacts=[ContactConfirmation(a, latest.get(a.lower())) for a in addresses],
        answered=bool(latest),
    )
