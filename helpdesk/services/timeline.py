"""What happened on a ticket: its thread, and for agents changes, comments and events in one timeline,
and its emails.

Each reader takes the ticket `tickets.get_ticket` already gave this actor, so a page that shows several
panels reads the ticket once; the `human_id` forms load it themselves for a panel of its own."""

from dataclasses import dataclass
from datetime import datetime

from helpdesk.errors import NotFound
from helpdesk.models import Comment, Event, OutboxEmail, Ticket, TicketHistory, User
from helpdesk.services.contacts import CONFIRMED_KEY
from helpdesk.services.tickets import ensure_can_see, get_ticket

TIMELINE_LIMIT = 200
EMAILS_LIMIT = 20
# The columns the emails panel shows: never the bodies, which may be large.
EMAIL_COLUMNS = ("id", "recipient", "subject", "status", "attempts", "last_error", "sent_at", "created_at")


@dataclass
class TimelineEntry:
    """One thing that happened: `item` is a TicketHistory, a Comment or an Event, named by `kind`."""

    kind: str
    at: datetime
    who: str
    item: TicketHistory | Comment | Event


def ensure_readable(ticket: Ticket, actor: User) -> None:
    """The get_ticket check again, on a ticket already in hand (no query): deleted tickets and other
    organisations' tickets read as missing, whoever handed the ticket over."""
    if ticket.deleted_at is not None:
        raise NotFound(f"No ticket {ticket.human_id}.")
    ensure_can_see(ticket, actor)


def ensure_staff_readable(ticket: Ticket, actor: User) -> None:
    """To a customer a ticket's internal panels do not exist (DECISIONS 10)."""
    ensure_readable(ticket, actor)
    if not actor.is_staff:
        raise NotFound(f"No ticket {ticket.human_id}.")


async def get_staff_ticket(*, human_id: str, actor: User) -> Ticket:
    """The ticket, for agents only: to a customer its internal panels do not exist (DECISIONS 10)."""
    ticket = await get_ticket(human_id=human_id, actor=actor)
    ensure_staff_readable(ticket, actor)
    return ticket


async def thread_of(*, ticket: Ticket, actor: User) -> list[Comment]:
    """The ticket's comments in order, with their authors in the same query; customers never see
    internal notes."""
    ensure_readable(ticket, actor)
    query = Comment.filter(ticket_id=ticket.id)
    if not actor.is_staff:
        query = query.filter(internal=False)
    return await query.select_related("author").order_by("id")


def _comment_author(comment: Comment) -> str:
    return comment.author.name if comment.author else (comment.author_hid or "Unknown")


def _event_actor(event: Event) -> str:
    """A confirmation is the contact's own act (its value is their address); the rest are the system's."""
    return event.value if event.key == CONFIRMED_KEY else "System"


async def ticket_timeline(*, human_id: str, actor: User, limit: int = TIMELINE_LIMIT) -> list[TimelineEntry]:
    """The latest `limit` changes, comments (internal ones too) and events, newest first, in 4 queries."""
    ticket = await get_staff_ticket(human_id=human_id, actor=actor)
    return await timeline_of(ticket=ticket, actor=actor, limit=limit)


async def timeline_of(
    *, ticket: Ticket, actor: User, limit: int = TIMELINE_LIMIT, thread: list[Comment] | None = None
) -> list[TimelineEntry]:
    """The latest `limit` changes, comments (internal ones too) and events, newest first (agents only).

    `thread` is the ticket's whole thread as `thread_of` gave this same agent, when the caller already
    has it: then the comments are not read again."""
    ensure_staff_readable(ticket, actor)
    changes = await TicketHistory.filter(ticket_id=ticket.id).order_by("-id").limit(limit)
    if thread is None:
        query = Comment.filter(ticket_id=ticket.id).select_related("author")
        comments = await query.order_by("-id").limit(limit)
    else:
        comments = thread[::-1][:limit]
    events = await Event.filter(ticket_id=ticket.id).order_by("-id").limit(limit)
    entries = [TimelineEntry("change", h.created_at, h.actor_label or "System", h) for h in changes]
    entries += [TimelineEntry("comment", c.created_at, _comment_author(c), c) for c in comments]
    entries += [TimelineEntry("event", e.created_at, _event_actor(e), e) for e in events]
    entries.sort(key=lambda entry: (entry.at, entry.kind, entry.item.id), reverse=True)
    return entries[:limit]


async def ticket_emails(*, human_id: str, actor: User, limit: int = EMAILS_LIMIT) -> list[OutboxEmail]:
    """The ticket's latest `limit` outbox emails, newest first (agents only), without their bodies."""
    ticket = await get_staff_ticket(human_id=human_id, actor=actor)
    return await emails_of(ticket=ticket, actor=actor, limit=limit)


async def emails_of(*, ticket: Ticket, actor: User, limit: int = EMAILS_LIMIT) -> list[OutboxEmail]:
    """The ticket's latest `limit` outbox emails, newest first (agents only), without their bodies."""
    ensure_staff_readable(ticket, actor)
    query = OutboxEmail.filter(ticket_id=ticket.id).order_by("-id").limit(limit)
    return await query.only(*EMAIL_COLUMNS)
