"""What happened on a ticket: its thread, and for agents changes, comments and events in one timeline,
and its emails.

Each reader takes the ticket `tickets.load` already gave this actor, so a page that shows several
panels reads the ticket once; the `human_id` forms load it themselves for a panel of its own."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from helpdesk.models import Ticket, User
from helpdesk.services import history
from helpdesk.services.access import authorise
from helpdesk.services.contacts import (
    CHANGED_KEY,
    CONFIRMED_KEY,
    DECLINED_KEY,
    INVITATION_KEY,
    OPTED_IN_KEY,
)
from helpdesk.services.sql import as_datetime, select_rows

TIMELINE_LIMIT = 200
EMAILS_LIMIT = 20


class ThreadComment(NamedTuple):
    """A comment as the thread, the timeline and the API show it: its author's name and human ID,
    not their user row."""

    id: int
    created_at: datetime
    internal: bool
    body: str
    author_name: str
    author_hid: str = ""  # as the comment names its author, else the author's user ID
    updated_at: datetime | None = None
    channel: str = "web"  # web, api or email
    email_from: str = ""  # an email's sender
    unverified: bool = False  # an email from none of the ticket's people, waiting for an agent


class Change(NamedTuple):
    """One change to one field of a ticket, as the timeline shows it."""

    id: int
    created_at: datetime
    field: str
    old_value: str | None
    new_value: str | None
    actor_label: str

    @property
    def label(self) -> str:
        """The changed field in the words a person uses ("Main email")."""
        return history.label(self.field)

    @property
    def sentence(self) -> str | None:
        """What the change says on its own ("opened the ticket"), when it is not a field's new value."""
        return history.SENTENCES.get(self.field)

    @property
    def proposal(self) -> bool:
        """A contact's note to the agents (no old value), or an agent's decision on one."""
        return self.field == history.PROPOSAL


class TicketEvent(NamedTuple):
    """Something that happened to a ticket outside its fields (an email sent, a confirmation).

    `delivery`: for a notification, where its emails are now (queued, sent or failed), as the
    emails panel says; empty when it sent none."""

    id: int
    created_at: datetime
    key: str
    value: str
    delivery: str = ""


# The notifications the history names by what they are, with where their emails are now.
NOTIFICATIONS = {
    "notification.ticket.create": "Create ticket notification",
    "notification.ticket.reply": "Reply notification",
    "notification.ticket.confirm-contacts": "Confirm contacts notification",
    INVITATION_KEY: "Invitation to opt in",
    CHANGED_KEY: "Main email change notice",
}
CONTACTS_OWN_ACTS = (CONFIRMED_KEY, OPTED_IN_KEY, DECLINED_KEY)  # events whose value is the contact's address
SAME_NOTIFICATION = timedelta(minutes=1)  # an event and its emails are written in one transaction


class EmailRow(NamedTuple):
    """The columns the emails panel shows: never the bodies, which may be large."""

    id: int
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str
    sent_at: datetime | None
    created_at: datetime
    maybe_duplicate: bool  # resent after a worker died while the server was taking it
    bouncing: bool = False  # mail to the recipient bounced since (services/mail_routing.py)


@dataclass
class TimelineEntry:
    """One thing that happened: `item` is a Change, a ThreadComment or a TicketEvent, named by `kind`."""

    kind: str
    at: datetime
    who: str
    item: Change | ThreadComment | TicketEvent


COMMENTS = (
    "SELECT c.id, c.created_at, c.internal, c.body, c.author_hid, u.name, u.human_id, c.updated_at,"
    " c.channel, c.email_from, c.unverified"
    ' FROM "comment" c'
    ' LEFT JOIN "user" u ON u.id = c.author_id WHERE c.ticket_id = ?'
)


def _comments(rows: list[Any]) -> list[ThreadComment]:
    return [
        ThreadComment(
            pk,
            as_datetime(at),
            bool(internal),
            body,
            name if name is not None else (hid or sender or "Unknown"),
            hid or user_hid or "",
            as_datetime(updated),
            channel,
            sender,
            bool(unverified),
        )
        for pk, at, internal, body, hid, name, user_hid, updated, channel, sender, unverified in rows
    ]


async def thread_of(*, ticket: Ticket, actor: User) -> list[ThreadComment]:
    """The ticket's comments in order, with their authors' names in the same query; customers never
    see internal notes."""
    authorise(ticket, actor)
    if actor.is_staff:
        return _comments(await select_rows(f"{COMMENTS} ORDER BY c.id", ticket.id))
    return _comments(await select_rows(f"{COMMENTS} AND c.internal = ? ORDER BY c.id", ticket.id, False))


async def replies_since(*, ticket: Ticket, actor: User, after: int) -> list[ThreadComment]:
    """The comments others added after comment id `after`, as `thread_of` shows them to this actor
    (a reply written against an older thread collides with them: services/tickets.post_comment)."""
    authorise(ticket, actor)
    since = f"{COMMENTS} AND c.id > ? AND (c.author_id IS NULL OR c.author_id <> ?)"
    if not actor.is_staff:
        since += " AND c.internal = ?"
    values = (ticket.id, after, actor.id) + (() if actor.is_staff else (False,))
    return _comments(await select_rows(f"{since} ORDER BY c.id", *values))


async def _latest(columns: str, table: str, ticket: Ticket, limit: int) -> list[Any]:
    """The ticket's newest `limit` rows of `table` (a constant of this module), newest first."""
    sql = f"SELECT {columns} FROM {table} WHERE ticket_id = ? ORDER BY id DESC LIMIT ?"  # noqa: S608
    return await select_rows(sql, ticket.id, limit)


def _event_actor(event: TicketEvent) -> str:
    """A confirmation, an opt-in or a refusal is the contact's own act (its value is their address);
    the rest are the system's."""
    return event.value if event.key in CONTACTS_OWN_ACTS else "System"


async def timeline_of(
    *,
    ticket: Ticket,
    actor: User,
    limit: int = TIMELINE_LIMIT,
    thread: list[ThreadComment] | None = None,
    emails: list[EmailRow] | None = None,
) -> list[TimelineEntry]:
    """The latest `limit` changes, comments (internal ones too) and events, newest first (agents only).

    `thread` is the ticket's whole thread as `thread_of` gave this same agent, when the caller already
    has it: then the comments are not read again. Likewise `emails`, the emails panel's rows: when
    they are all the ticket's emails, the notifications' delivery needs no query of its own."""
    authorise(ticket, actor, staff_only=True)
    changes = await _latest(
        "id, created_at, field, old_value, new_value, actor_label", "ticket_history", ticket, limit
    )
    if thread is None:
        comments = _comments(await select_rows(f"{COMMENTS} ORDER BY c.id DESC LIMIT ?", ticket.id, limit))
    else:
        comments = thread[::-1][:limit]
    events = await _latest("id, created_at, key, value", '"event"', ticket, limit)
    changes = [Change(pk, as_datetime(at), *rest) for pk, at, *rest in changes]
    events = [TicketEvent(pk, as_datetime(at), key, value) for pk, at, key, value in events]
    if emails is not None and len(emails) < EMAILS_LIMIT:
        states = [(e.status, e.created_at) for e in emails]
    else:
        states = await _email_states(ticket, limit)
    events = _with_delivery(events, states)
    entries = [TimelineEntry("change", h.created_at, h.actor_label or "System", h) for h in changes]
    entries += [TimelineEntry("comment", c.created_at, c.author_name, c) for c in comments]
    entries += [TimelineEntry("event", e.created_at, _event_actor(e), e) for e in events]
    entries.sort(key=lambda entry: (entry.at, entry.kind, entry.item.id), reverse=True)
    return entries[:limit]


async def _email_states(ticket: Ticket, limit: int) -> list[tuple[str, datetime]]:
    """The status and time of the ticket's latest `limit` emails, without anything else."""
    rows = await _latest("status, created_at", "outbox_email", ticket, limit)
    return [(status, as_datetime(at)) for status, at in rows]


def _with_delivery(events: list[TicketEvent], emails: list[tuple[str, datetime]]) -> list[TicketEvent]:
    """Each notification event with the state of its emails: each email belongs to the notification
    written nearest to it in time."""
    notifications = [e for e in events if e.key in NOTIFICATIONS]
    statuses: dict[int, set[str]] = {}
    for status, at in emails:
        nearest = min(notifications, key=lambda e: abs(e.created_at - at), default=None)
        if nearest is not None and abs(nearest.created_at - at) <= SAME_NOTIFICATION:
            statuses.setdefault(nearest.id, set()).add(status)
    return [e._replace(delivery=_delivery(statuses[e.id])) if e.id in statuses else e for e in events]


def _delivery(statuses: set[str]) -> str:
    """One word for a notification's emails: failed if any gave up, held if any was over a cap,
    queued while any waits, else sent."""
    for word in ("failed", "held"):
        if word in statuses:
            return word
    return "queued" if statuses & {"pending", "sending"} else "sent"


async def emails_of(*, ticket: Ticket, actor: User, limit: int = EMAILS_LIMIT) -> list[EmailRow]:
    """The ticket's latest `limit` outbox emails, newest first (agents only), without their bodies."""
    authorise(ticket, actor, staff_only=True)
    columns = (
        "id, recipient, subject, status, attempts, last_error, sent_at, created_at, maybe_duplicate,"
        " EXISTS (SELECT 1 FROM bouncing_address b WHERE b.address = lower(outbox_email.recipient))"
    )
    rows = await _latest(columns, "outbox_email", ticket, limit)
    return [
        EmailRow(*row[:6], as_datetime(sent), as_datetime(created), bool(twice), bool(bouncing))
        for *row, sent, created, twice, bouncing in rows
    ]
